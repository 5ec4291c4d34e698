import type { Logger } from 'pino';
import type { CollectorConfig } from '../config/schema.js';
import type { DocumentOptions, FlowDocument } from '../document/document.js';
import type { InternalEvents } from '../telemetry/events.js';
import type { EncodedChunk } from './encoders.js';

/** What a sink with a durable backlog (a spool) says about it: pause what can wait (TCP), or take nothing more. */
export interface SinkBackpressure {
  /** Past its high-water mark: TCP exporters are paused until it is below again. */
  pause: boolean;
  /** Full: what arrives now is dropped (counted by the sink). */
  full: boolean;
  /** Octets it can take before its high-water mark: documents on their way (at the decode workers) must fit in it. */
  roomBytes: number;
}

/**
 * Where documents go. `write` hands documents over without waiting; the sink batches them and reports what
 * it wrote or lost through InternalEvents. `queued` is what it holds not yet written (the backpressure signal).
 */
export interface Sink {
  readonly name: string;
  /** Documents to serialise (with the sink's encoder, sinks/encoders.ts) and write. */
  write(documents: readonly FlowDocument[]): void;
  /** Documents a decode worker already serialised with this sink's encoder: the same bytes `write` makes. */
  writeEncoded(chunk: EncodedChunk): void;
  readonly queued: number;
  /**
   * Octets it holds in memory not yet written (sinks that serialise on arrival know them exactly): bounds memory
   * where a count of documents cannot, since one document can be a few hundred octets or over 100 kB.
   */
  readonly queuedBytes?: number;
  /** False while the sink cannot take documents (readiness: "can accept", not "delivers right now"). */
  ready(): boolean;
  /** Sinks with a durable backlog: how full it is. Without: only `queued` counts. */
  backpressure?(): SinkBackpressure;
  /** What the sink wants shown in /readyz's body (the state of the destination, the backlog). */
  status?(): Record<string, unknown>;
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
