import type { CollectorConfig } from '../config/schema.js';
import type { ExporterSessionKey, StoredTemplate } from '../session/template-session.js';

/**
 * What the main thread and a decode worker (worker.ts) say to each other. Datagrams travel in batches, never one
 * message each (a postMessage costs tens of microseconds): one ArrayBuffer, transferred, holding records of
 *
 *   u32 message length | f64 received at (ms) | u16 key length | u8 flags | u16 address length | key | address | message
 *
 * (little-endian; flags bit 0: the session expires, i.e. UDP). The worker answers each batch with the documents it
 * made, already serialised for the sink (EncodedChunk), which also acknowledges the batch.
 */

export const HEADER_OCTETS = 4 + 8 + 2 + 1 + 2;

/** What a worker is started with (workerData). */
export interface WorkerSetup {
  /** Marks the thread as a decode worker (the single-file bundle runs one file for both). */
  elkfcDecodeWorker: true;
  index: number;
  workers: number;
  config: CollectorConfig;
  sink: string;
  logLevel: string;
  /** [templates, fields] over every worker, then each worker's own pair (TemplateSession's shared counts). */
  templateCounts: SharedArrayBuffer;
}

export type ToWorker =
  /** `spare`: output buffers of earlier answers, given back once the sink has copied them (no new memory per answer). */
  | { type: 'batch'; buffer: ArrayBuffer; length: number; datagrams: number; spare: ArrayBuffer[] }
  | { type: 'close'; id: number; exporter: ExporterSessionKey }
  | { type: 'housekeeping'; nowMs: number }
  | { type: 'restore'; id: number; templates: StoredTemplate[]; nowMs: number }
  | { type: 'templates'; id: number }
  | { type: 'stats'; id: number }
  | { type: 'flush'; id: number }
  /** Tests only: the worker throws from its event loop, as a bug would. */
  | { type: 'crash' };

/** Counter increments since the last report, and gauges as they are now: name, labels, value. */
export interface MetricsReport {
  counters: [string, Record<string, string | number>, number][];
  gauges: [string, Record<string, string | number>, number][];
}

export type FromWorker =
  | { type: 'ready' }
  /** `batch`: the batch's own buffer, given back to be filled again (no new memory per batch). */
  | { type: 'chunk'; body: ArrayBuffer; length: number; offsets: Uint32Array; documents: number; datagrams: number; octets: number; batch: ArrayBuffer }
  | { type: 'metrics'; report: MetricsReport }
  | { type: 'log'; line: string }
  | { type: 'restored'; id: number; restored: number; refused: number }
  | { type: 'templates'; id: number; templates: StoredTemplate[] }
  | { type: 'stats'; id: number; templates: number; fields: number; pendingSets: number }
  | { type: 'flushed'; id: number }
  | { type: 'closed'; id: number };

/**
 * An exporter session's worker by FNV-1a of its key: the choice among equally loaded workers, and the worker of
 * sessions past those remembered (workers.ts, slotFor).
 */
export function workerFor(key: string, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % workers;
}
