import { open } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Client, estypes } from '@elastic/elasticsearch';
import { installAssets, stampedAssets } from '../../../../elasticsearch/src/install.js';
import { ByteBuffer } from '../../document/bytes.js';
import type { FlowDocument } from '../../document/document.js';
import { buildRegistry } from '../../ie/configured.js';
import { appendBytes, countedFailure, createEncoder, type DocumentEncoder, type EncodedChunk } from '../encoders.js';
import type { Sink, SinkBackpressure, SinkContext } from '../types.js';
import { batchDocuments, pairOffsets, pairText, subBatch, type Batch } from './batch.js';
import { createElasticsearchClient } from './client.js';
import { WriteAheadSpool, type SpoolEntry } from './spool.js';

const SHUTDOWN_GRACE_MS = 10_000;
/** What a `_bulk` answer is cut to: `errors`, and each item's status and error (all the sink reads). */
export const BULK_FILTER_PATH = 'errors,items.*.error,items.*.status';

/** Why a whole request failed: send it again (later), split it (413), or refuse it for good (400). */
export function classifyRequest(error: unknown): { verdict: 'retry' | 'split' | 'refuse'; reason: string } {
  const status = (error as { meta?: { statusCode?: number } }).meta?.statusCode;
  const reason = status ? `HTTP ${status}` : (error as Error).name === 'TimeoutError' ? 'timeout' : `${(error as Error).message}`;
  if (status === 413) return { verdict: 'split', reason };
  // Only a malformed request can never succeed. Everything else is the cluster's state or the operator's to fix
  // (connection errors, timeouts, 401/403 credentials and cluster blocks, 404, 408, 429, 5xx): keep and retry.
  if (status === 400) return { verdict: 'refuse', reason };
  return { verdict: 'retry', reason };
}

/** What one bulk item's answer means. Only mapping and parsing errors (400) can never succeed. */
export function classifyItem(status: number, type: string | undefined): 'indexed' | 'duplicate' | 'retry' | 'refuse' {
  if (status >= 200 && status < 300) return 'indexed';
  if (status === 409) return 'duplicate';
  // 400 is a document the mapping refuses (document_parsing_exception, strict_dynamic_mapping_exception, ...),
  // except a closed index, which the operator can open. 403 (cluster_block_exception: a flood-stage disk
  // watermark or a read-only index; security_exception), 404 (index_not_found with auto-create off), 408, 429
  // and 5xx pass.
  if (status === 400 && type !== 'index_closed_exception') return 'refuse';
  return 'retry';
}

/** A spooled batch waiting to be sent; its body is held in memory for the first few, read back for the rest. */
interface Queued {
  /** Its write-ahead entry; absent only when the spool could not be written (then it is sent from memory). */
  entry?: SpoolEntry;
  batch?: Batch;
  documents: number;
}

type Outcome = { kind: 'done'; again: Batch[] } | { kind: 'failed'; reason: string; wholeBatch: boolean };

/**
 * The Elasticsearch output, on client.bulk() (helpers.bulk drops a whole batch when a request fails and does not
 * retry 5xx items). Documents are batched by count, size and time; every sealed batch is written ahead to the
 * disk spool (WriteAheadSpool) before it is sent, and settled there only when every item is indexed, a duplicate
 * or dead-lettered, so kill -9 loses at most the batch being filled. A bounded number of requests is in flight;
 * what is transient is retried with exponential backoff and jitter, whole requests and single items; items that
 * can never succeed go to the dead-letter file with their reason. Every document has a deterministic _id and is
 * sent with `create`, so a second copy in the same index is refused (409) and counted as a duplicate.
 *
 * Its input is `write(documents)`, serialised here by its encoder (sinks/encoders.ts), or `writeEncoded`: pairs a
 * decode worker serialised with the same encoder, appended and split into batches at pair boundaries.
 */
export class ElasticsearchSink implements Sink {
  readonly name = 'elasticsearch';
  /** Sized for a whole batch (see the constructor). */
  private current: ByteBuffer;
  private currentOffsets: number[] = [];
  /** The spool's fill number of the batch being filled (how a crash that lost it is found at the next start). */
  private currentFill = 0;
  private sealTimer: NodeJS.Timeout | undefined;
  private readonly queue: Queued[] = [];
  /** Sealed documents being written to the spool, and queued documents whose body is held in memory. */
  private appendingDocuments = 0;
  private heldBatches = 0;
  private heldDocuments = 0;
  private appends: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  private inFlightDocuments = 0;
  private failures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private templatesReady = false;
  /** Computed once: building the 900-field mapping and its stamp takes milliseconds. */
  private assets: ReturnType<typeof stampedAssets> | undefined;
  private closing = false;
  private idle: (() => void)[] = [];
  private available: boolean | undefined;
  private lastError: string | undefined;
  private changedAt = new Date().toISOString();
  private spoolError: string | undefined;
  private readonly encoder: DocumentEncoder;

  constructor(
    private readonly context: SinkContext,
    private readonly client: Client,
    private readonly spool: WriteAheadSpool,
  ) {
    this.encoder = createEncoder('elasticsearch', context.config, context.documentOptions, countedFailure(context.events));
    // Room for a whole batch and the document that takes it past batchMaxBytes: a buffer that grew by doubling to
    // 10 MiB copied 15 MiB and allocated 31 MiB per batch, fresh memory the kernel had to fault in page by page.
    this.current = new ByteBuffer(context.config.elasticsearch.batchMaxBytes + (1 << 20));
  }

  private get settings() {
    return this.context.config.elasticsearch;
  }

  /**
   * False (and counted as loss) when the spool is full: nothing more can be kept. TCP inputs were paused at the
   * high-water mark; this is what UDP sent meanwhile.
   */
  private accepting(documents: number): boolean {
    if (this.closing) throw new Error('elasticsearch sink is closed');
    if (this.spool.sizeBytes < this.settings.spoolMaxBytes) return true;
    this.context.events.esSpoolFull(documents, this.spool.sizeBytes);
    return false;
  }

  write(documents: readonly FlowDocument[]): void {
    if (!this.accepting(documents.length)) return;
    const out = this.current; // seal() takes its bytes but keeps the same ByteBuffer
    for (const document of documents) {
      const start = out.length;
      if (!this.encoder.encode(document, out)) continue; // dropped and counted by the encoder
      if (this.currentOffsets.length === 0) this.currentFill = this.spool.openFill();
      this.currentOffsets.push(start);
      if (this.currentOffsets.length >= this.settings.batchMaxDocuments || out.length >= this.settings.batchMaxBytes) this.seal();
    }
    this.armSealTimer();
  }

  /** The same batches `write` makes, from pairs serialised elsewhere: runs of whole pairs are copied at once. */
  writeEncoded(chunk: EncodedChunk): void {
    if (chunk.documents === 0 || !this.accepting(chunk.documents)) return;
    const out = this.current;
    const { batchMaxDocuments, batchMaxBytes } = this.settings;
    for (let i = 0; i < chunk.documents; ) {
      if (this.currentOffsets.length === 0) this.currentFill = this.spool.openFill();
      const start = i;
      const shift = out.length - chunk.offsets[start];
      let full = false;
      while (i < chunk.documents && !full) {
        this.currentOffsets.push(chunk.offsets[i] + shift);
        i++;
        full = this.currentOffsets.length >= batchMaxDocuments || chunk.offsets[i] + shift >= batchMaxBytes;
      }
      appendBytes(out, chunk.body, chunk.offsets[start], chunk.offsets[i]);
      if (full) this.seal();
    }
    this.armSealTimer();
  }

  private armSealTimer(): void {
    if (this.currentOffsets.length > 0 && !this.sealTimer) {
      this.sealTimer = setTimeout(() => this.seal(), this.settings.batchMaxWaitMs);
    }
  }

  /** Documents held in memory: the batch being filled, batches being written ahead, held bodies, requests. */
  get queued(): number {
    return this.currentOffsets.length + this.appendingDocuments + this.heldDocuments + this.inFlightDocuments;
  }

  backpressure(): SinkBackpressure {
    const bytes = this.spool.sizeBytes;
    const highWater = (this.settings.spoolMaxBytes * this.settings.spoolHighWaterPercent) / 100;
    return { pause: bytes >= highWater, full: bytes >= this.settings.spoolMaxBytes, roomBytes: highWater - bytes };
  }

  /** Ready means "can accept": the spool takes documents (while Elasticsearch is down too). */
  ready(): boolean {
    return this.spoolError === undefined && !this.backpressure().full;
  }

  status(): Record<string, unknown> {
    return {
      elasticsearch: this.available === undefined ? 'unknown' : this.available ? 'available' : 'unavailable',
      since: this.changedAt,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.spoolError ? { spoolError: this.spoolError } : {}),
      spoolDocuments: this.spool.documents,
      spoolBytes: this.spool.sizeBytes,
      spoolMaxBytes: this.settings.spoolMaxBytes,
      pausing: this.backpressure().pause,
    };
  }

  async flush(): Promise<void> {
    this.seal();
    await this.appends;
    await new Promise<void>((resolve) => {
      if (this.queue.length === 0 && this.inFlight === 0) resolve();
      else this.idle.push(resolve);
    });
  }

  /**
   * Graceful: seal (the last batch is written ahead), let the cluster take what it can within a grace period
   * (not waiting on a failing cluster); what is not indexed stays in the spool for the next start.
   */
  async close(): Promise<void> {
    this.seal();
    await this.appends;
    const grace = Date.now() + SHUTDOWN_GRACE_MS;
    while ((this.queue.length > 0 || this.inFlight > 0) && this.failures === 0 && Date.now() < grace) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.closing = true;
    clearTimeout(this.retryTimer);
    // Requests under way are in the spool whatever they answer: waiting for them (while the cluster answers,
    // within the grace) only saves sending them again.
    while (this.inFlight > 0 && this.failures === 0 && Date.now() < grace) await new Promise((r) => setTimeout(r, 20));
    await this.appends;
    await this.spool.close();
    await this.client.close();
  }

  private seal(): void {
    clearTimeout(this.sealTimer);
    this.sealTimer = undefined;
    if (this.currentOffsets.length === 0) return;
    // A small batch (sealed by batchMaxWaitMs) is copied out: held in memory for a retry, it would pin a whole
    // batch's buffer. A large one takes the buffer with it.
    const body = this.current.length < this.current.buffer.length / 4 ? this.current.takeCopy() : this.current.take();
    const batch: Batch = { body, offsets: [...this.currentOffsets, body.length] };
    this.currentOffsets = [];
    void this.writeAhead(batch, false, this.currentFill);
  }

  /** Durable before sent: the batch goes to the spool, then to the queue. */
  private writeAhead(batch: Batch, front: boolean, fill = 0): Promise<void> {
    const documents = batchDocuments(batch);
    this.appendingDocuments += documents;
    const done = this.spool.append(batch.body, documents, fill).then(
      (entry) => {
        this.spoolError = undefined;
        this.context.events.esSpooled(documents, this.spool.sizeBytes, this.spool.documents);
        return entry;
      },
      (error: Error) => {
        // The disk failed: better sent without a copy on disk than lost. Not ready until the spool works again.
        // (While closing, the spool is closed: the batch this retry came from is still in it, unsettled.)
        if (this.closing) return undefined;
        if (this.spoolError === undefined) this.context.log.error({ err: error, directory: this.settings.spoolDirectory }, 'spool cannot be written; sending from memory, a crash now loses these batches');
        this.spoolError = error.message;
        return undefined;
      },
    ).then((entry) => {
      this.appendingDocuments -= documents;
      this.enqueue({ entry, batch, documents }, front);
    });
    this.appends = this.appends.then(() => done);
    return done;
  }

  private enqueue(item: Queued, front: boolean): void {
    if (item.batch && item.entry && this.heldBatches >= this.settings.maxMemoryBatches) {
      // Its buffer is filled again (ByteBuffer.giveBack): with fresh 11 MiB buffers per batch the output cost
      // about 15 µs more per record (35–41 against 22.5–25.6 µs at 30,000 records/s) and V8 mark-compacted 41 times
      // in a 10 s run instead of 4. Copies (small batches, bodies read back, retried items) are ignored there.
      this.current.giveBack(item.batch.body);
      item.batch = undefined; // read back later
    }
    if (item.batch) {
      this.heldBatches++;
      this.heldDocuments += item.documents;
    }
    if (front) this.queue.unshift(item);
    else this.queue.push(item);
    this.pump();
  }

  /** Starts shipping what waits in the spool (after a restart), without waiting for new documents. */
  resume(entries: SpoolEntry[]): void {
    for (const entry of entries) this.queue.push({ entry, documents: entry.documents });
    this.pump();
  }

  private pump(): void {
    if (this.closing) return;
    const now = Date.now();
    if (now < this.retryAt) {
      if (!this.retryTimer) this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.pump(); }, this.retryAt - now);
      return;
    }
    while (this.inFlight < this.settings.maxInFlightRequests && this.queue.length > 0) this.start(this.queue.shift()!);
    if (this.inFlight === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private start(item: Queued): void {
    if (item.batch) {
      this.heldBatches--;
      this.heldDocuments -= item.documents;
    }
    this.inFlight++;
    this.inFlightDocuments += item.documents;
    void this.run(item)
      .catch((error) => this.context.log.error({ err: error }, 'Elasticsearch output: unexpected error'))
      .finally(() => {
        this.inFlight--;
        this.inFlightDocuments -= item.documents;
        this.pump();
      });
  }

  private async run(item: Queued): Promise<void> {
    let batch = item.batch;
    if (!batch) {
      try {
        const body = await this.spool.read(item.entry!);
        batch = { body, offsets: pairOffsets(body) };
      } catch (error) {
        // Cannot happen short of someone editing the spool: counted as loss and never tried again.
        this.context.events.sinkFailed(this.name, item.documents, error as Error);
        this.spool.settle(item.entry!);
        return;
      }
    }
    const outcome = await this.send(batch);
    if (outcome.kind === 'failed') {
      this.failures++;
      const wait = this.backoff();
      this.retryAt = Date.now() + wait;
      this.unavailable(outcome.reason);
      if (outcome.wholeBatch) this.context.events.esRequestFailed(item.documents, outcome.reason, wait);
      else this.context.events.esItemsRetried(item.documents, outcome.reason);
      this.enqueue({ ...item, batch }, true); // its entry stays in the spool; sent again first
      return;
    }
    // Items to send again are written ahead as batches of their own (copies) before this batch is settled.
    for (const again of outcome.again) await this.writeAhead(again, true);
    if (item.entry) this.spool.settle(item.entry);
    this.current.giveBack(batch.body);
    this.context.events.esSpoolLevel(this.spool.sizeBytes, this.spool.documents);
  }

  private backoff(): number {
    const base = Math.min(this.settings.retryMaxBackoffMs, this.settings.retryInitialBackoffMs * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(base / 2 + Math.random() * (base / 2)); // "equal jitter": never zero, spread over [base/2, base]
  }

  private async send(batch: Batch): Promise<Outcome> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    if (!this.templatesReady) {
      // Before the first document: the templates must be there and current, or documents would be mapped
      // dynamically. Installed here when allowed; otherwise their absence holds documents (spooled) until setup runs.
      try {
        const install = this.settings.installTemplates;
        this.assets ??= stampedAssets(this.context.config, buildRegistry(this.context.config));
        const report = await installAssets(this.client, this.assets, !install);
        const changes = report.filter((x) => x.action !== 'unchanged');
        if (!install && changes.length > 0) {
          this.context.log.error({ missing: changes.map((c) => `${c.kind} ${c.name}`) }, 'Elasticsearch templates missing or outdated and installTemplates is off: run elk-flow-collector setup; documents wait in the spool');
          return { kind: 'failed', reason: 'templates not installed', wholeBatch: true };
        }
        for (const r of changes) this.context.log.info(r, 'Elasticsearch asset installed');
        this.templatesReady = true;
      } catch (error) {
        return { kind: 'failed', reason: classifyRequest(error).reason, wholeBatch: true };
      }
    }
    let response: estypes.BulkResponse;
    try {
      // The body is already NDJSON bytes; the client passes a Buffer through untouched. The answer is cut to what
      // is read below, as Logstash and Beats ask: per item its status and error (about 25 octets instead of 200).
      response = await this.client.bulk({ operations: batch.body as unknown as estypes.BulkOperationContainer[], filter_path: BULK_FILTER_PATH });
    } catch (error) {
      const { verdict, reason } = classifyRequest(error);
      this.context.events.esRequestSeconds('failed', seconds());
      const all = Array.from({ length: batchDocuments(batch) }, (_, i) => i);
      if (verdict === 'split' && all.length > 1) {
        const half = Math.ceil(all.length / 2);
        return { kind: 'done', again: [subBatch(batch, all.slice(0, half)), subBatch(batch, all.slice(half))] };
      }
      if (verdict === 'retry') return { kind: 'failed', reason, wholeBatch: true };
      await this.deadLetter(batch, all, () => `${reason}: request refused`);
      return { kind: 'done', again: [] };
    }
    let indexed = 0;
    let duplicates = 0;
    const retry: number[] = [];
    const refused: number[] = [];
    const reasons = new Map<number, string>();
    response.items.forEach((item, i) => {
      const result = item.create ?? item.index;
      const status = result?.status ?? 0;
      switch (classifyItem(status, result?.error?.type)) {
        case 'indexed': indexed++; break;
        case 'duplicate': duplicates++; break;
        case 'retry': retry.push(i); reasons.set(i, `item ${status} ${result?.error?.type ?? ''}`.trim()); break;
        case 'refuse':
          refused.push(i);
          reasons.set(i, `${status} ${result?.error?.type ?? ''}: ${result?.error?.reason ?? ''}`.trim());
      }
    });
    this.context.events.esIndexed(indexed, duplicates, seconds(), response.errors ? 'partial' : 'ok');
    // Every item refused for a passing reason (a cluster block, 429s everywhere): as a failed request, with backoff.
    if (retry.length === response.items.length && retry.length > 0) return { kind: 'failed', reason: reasons.get(retry[0])!, wholeBatch: false };
    this.failures = 0;
    this.isAvailable();
    if (refused.length > 0) await this.deadLetter(batch, refused, (i) => reasons.get(i)!);
    if (retry.length === 0) return { kind: 'done', again: [] };
    this.context.events.esItemsRetried(retry.length, reasons.get(retry[0])!);
    // Items refused for load: back off before sending them, without holding up other batches for long.
    this.retryAt = Math.max(this.retryAt, Date.now() + this.settings.retryInitialBackoffMs);
    return { kind: 'done', again: [subBatch(batch, retry)] };
  }

  private unavailable(reason: string): void {
    this.lastError = reason;
    if (this.available === false) return;
    this.available = false;
    this.changedAt = new Date().toISOString();
    this.context.events.esAvailability(false, reason, this.spool.documents);
  }

  private isAvailable(): void {
    this.retryAt = 0;
    if (this.available === true) return;
    const was = this.available;
    this.available = true;
    this.changedAt = new Date().toISOString();
    if (was === false) this.context.events.esAvailability(true, this.lastError ?? '', this.spool.documents);
    else this.context.events.metrics.esAvailable.set(1);
  }

  private async deadLetter(batch: Batch, indexes: number[], reason: (i: number) => string): Promise<void> {
    const path = this.settings.deadLetterPath;
    const lines = indexes.map((i) => {
      const { action, document } = pairText(batch, i);
      return `{"reason":${JSON.stringify(reason(i))},"action":${action},"document":${document}}\n`;
    });
    try {
      await mkdir(dirname(path), { recursive: true });
      // Durable before the batch is settled in the spool, as the spool itself is.
      const file = await open(path, 'a');
      try {
        await file.write(lines.join(''));
        if (this.settings.spoolFsync) await file.datasync();
      } finally {
        await file.close();
      }
      this.context.events.esDeadLettered(indexes.length, reason(indexes[0]), path);
    } catch (error) {
      this.context.events.sinkFailed(this.name, indexes.length, error as Error);
    }
  }
}

export async function createElasticsearchSink(context: SinkContext): Promise<Sink> {
  const es = context.config.elasticsearch;
  const client = createElasticsearchClient(context.config);
  const spool = new WriteAheadSpool({
    directory: es.spoolDirectory,
    // A segment is freed only when all of it is settled: keep several within the bound.
    segmentMaxBytes: Math.max(64 * 1024, Math.min(es.spoolSegmentBytes, Math.floor(es.spoolMaxBytes / 8))),
    fsync: es.spoolFsync,
    onWrite: (octets, seconds, batches) => context.events.esSpoolWritten(octets, seconds, batches),
  });
  const recovered = await spool.open();
  context.events.esSpoolLevel(spool.sizeBytes, spool.documents);
  if (spool.lostFills.length > 0) context.events.esLostInCrash(spool.lostFills.length, es.batchMaxDocuments, es.batchMaxWaitMs);
  const sink = new ElasticsearchSink(context, client, spool);
  if (recovered.length > 0) {
    context.log.info({ batches: recovered.length, documents: spool.documents, bytes: spool.sizeBytes }, 'shipping batches spooled by a previous run');
    sink.resume(recovered);
  }
  return sink;
}
