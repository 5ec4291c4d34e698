import type { Logger } from 'pino';
import type { CollectorConfig } from '../config/schema.js';
import type { DocumentOptions, FlowDocument } from '../document/document.js';
import type { InternalEvents } from '../telemetry/events.js';

/**
 * Where documents go. `write` hands documents over without waiting; the sink batches them and reports what
 * it wrote or lost through InternalEvents. `queued` is what it holds not yet written (the backpressure signal).
 */
export interface Sink {
  readonly name: string;
  write(documents: readonly FlowDocument[]): void;
  readonly queued: number;
  /** False while the sink cannot currently deliver (readiness). */
  ready(): boolean;
  /** Writes everything accepted so far. */
  flush(): Promise<void>;
  /** Flushes and releases resources; nothing may be written afterwards. */
  close(): Promise<void>;
}

export interface SinkContext {
  config: CollectorConfig;
  documentOptions: DocumentOptions;
  events: InternalEvents;
  log: Logger;
}

export type SinkFactory = (context: SinkContext) => Promise<Sink>;
