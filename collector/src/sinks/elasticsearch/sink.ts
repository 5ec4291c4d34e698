import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Client, estypes } from '@elastic/elasticsearch';
import { installAssets, stampedAssets } from '../../../../elasticsearch/src/install.js';
import { ByteBuffer } from '../../document/bytes.js';
import { documentId, type FlowDocument } from '../../document/document.js';
import { buildRegistry } from '../../ie/configured.js';
import { dailyIndex, writeBulkCreate } from '../bulk.js';
import type { Sink, SinkContext } from '../types.js';
import { batchDocuments, pairText, subBatch, type Batch } from './batch.js';
import { createElasticsearchClient } from './client.js';
import { DiskSpool } from './spool.js';

const SHUTDOWN_GRACE_MS = 10_000;

/** Why a whole request failed, and whether sending it again can help. */
function classify(error: unknown): { retry: boolean; split: boolean; reason: string } {
  const status = (error as { meta?: { statusCode?: number } }).meta?.statusCode;
  const reason = status ? `HTTP ${status}` : (error as Error).name === 'TimeoutError' ? 'timeout' : `${(error as Error).message}`;
  if (status === 413) return { retry: true, split: true, reason };
  // 401/403: credentials or privileges, the operator's to fix; keep the documents meanwhile.
  // No status: the connection failed or timed out; the cluster may well have indexed part of it (ids dedupe).
  if (!status || status === 429 || status >= 500 || status === 401 || status === 403) return { retry: true, split: false, reason };
  return { retry: false, split: false, reason };
}

/**
 * The Elasticsearch output, on client.bulk() (helpers.bulk drops a whole batch when a request fails and does not
 * retry 5xx items). Documents are batched by count, size and time; a bounded number of requests is in flight;
 * failures are retried with exponential backoff and jitter, whole requests on connection errors, timeouts, 429
 * and 5xx, single items on 429 and 5xx. Items that can never succeed go to the dead-letter file with their reason.
 * While the cluster is down or slow, sealed batches beyond maxMemoryBatches wait in a disk spool, which survives
 * restarts. Every document has a deterministic _id and is sent with `create`, so a second copy is refused (409)
 * and counted as a duplicate, never indexed twice.
 */
export class ElasticsearchSink implements Sink {
  readonly name = 'elasticsearch';
  private current = new ByteBuffer(1 << 20);
  private currentOffsets: number[] = [];
  private sealTimer: NodeJS.Timeout | undefined;
  private readonly memory: Batch[] = [];
  private inFlight = 0;
  private inFlightDocuments = 0;
  private failures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private templatesReady = false;
  /** Computed once: building the 900-field mapping and its stamp takes milliseconds. */
  private assets: ReturnType<typeof stampedAssets> | undefined;
  private takingFromSpool = false;
  private pendingSpoolWrites: Promise<void> = Promise.resolve();
  private closing = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly context: SinkContext,
    private readonly client: Client,
    private readonly spool: DiskSpool,
  ) {}

  private get settings() {
    return this.context.config.elasticsearch;
  }

  write(documents: readonly FlowDocument[]): void {
    const out = this.current; // seal() takes its bytes but keeps the same ByteBuffer
    const dataStream = this.settings.indexMode === 'dataStream' ? this.settings.dataStream : undefined;
    for (const document of documents) {
      this.currentOffsets.push(out.length);
      const index = dataStream ?? dailyIndex(this.settings.dailyIndexPrefix, document.timestamp);
      writeBulkCreate(document, index, this.context.documentOptions, out, documentId(document));
      if (this.currentOffsets.length >= this.settings.batchMaxDocuments || out.length >= this.settings.batchMaxBytes) this.seal();
    }
    if (this.currentOffsets.length > 0 && !this.sealTimer) {
      this.sealTimer = setTimeout(() => this.seal(), this.settings.batchMaxWaitMs);
    }
  }

  get queued(): number {
    return this.currentOffsets.length + this.memory.reduce((n, b) => n + batchDocuments(b), 0) + this.inFlightDocuments;
  }

  /** Not ready while the cluster cannot be reached and documents are piling up on disk. */
  ready(): boolean {
    return !(this.failures > 0 && this.spool.batches > 0);
  }

  async flush(): Promise<void> {
    this.seal();
    await this.pendingSpoolWrites;
    await new Promise<void>((resolve) => {
      if (this.memory.length === 0 && this.inFlight === 0) resolve();
      else this.idle.push(resolve);
    });
  }

  /**
   * Graceful: seal, let the cluster take what it can within a grace period (not waiting on a failing cluster),
   * then put everything not yet indexed in the spool for the next start.
   */
  async close(): Promise<void> {
    this.seal();
    await this.pendingSpoolWrites;
    const grace = Date.now() + SHUTDOWN_GRACE_MS;
    while ((this.memory.length > 0 || this.inFlight > 0) && this.failures === 0 && Date.now() < grace) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.closing = true;
    clearTimeout(this.retryTimer);
    while (this.memory.length > 0) await this.toSpool(this.memory.shift()!);
    await this.pendingSpoolWrites;
    // Requests still under way settle into the spool too (see send); wait for them briefly.
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.client.close();
  }

  private seal(): void {
    clearTimeout(this.sealTimer);
    this.sealTimer = undefined;
    if (this.currentOffsets.length === 0) return;
    const body = this.current.take();
    const batch: Batch = { body, offsets: [...this.currentOffsets, body.length] };
    this.currentOffsets = [];
    this.enqueue(batch);
  }

  private enqueue(batch: Batch, front = false): void {
    // While the cluster is failing, batches go straight to disk: a crash then loses at most the batch being filled.
    if (!this.closing && this.failures === 0 && this.memory.length < this.settings.maxMemoryBatches) {
      if (front) this.memory.unshift(batch);
      else this.memory.push(batch);
    } else {
      // Once on disk it can be sent: pump again then (the pump below may run before the write has finished).
      this.pendingSpoolWrites = this.pendingSpoolWrites.then(() => this.toSpool(batch)).then(() => this.pump());
    }
    this.pump();
  }

  private async toSpool(batch: Batch): Promise<void> {
    if (batch.spoolFile) {
      // Already on disk: it just waits there again.
      this.spool.release(batch.spoolFile);
      return;
    }
    try {
      await this.spool.append(batch);
      this.context.events.esSpooled(batchDocuments(batch), this.spool.sizeBytes);
    } catch (error) {
      this.context.events.sinkFailed(this.name, batchDocuments(batch), error as Error);
    }
  }

  /** Starts shipping what waits in the spool (after a restart), without waiting for new documents. */
  resume(): void {
    this.pump();
  }

  private pump(): void {
    if (this.closing) return;
    const now = Date.now();
    if (now < this.retryAt) {
      if (!this.retryTimer) this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.pump(); }, this.retryAt - now);
      return;
    }
    while (this.inFlight < this.settings.maxInFlightRequests) {
      const batch = this.memory.shift();
      if (batch) {
        this.start(batch);
        continue;
      }
      if (this.spool.batches > 0 && !this.takingFromSpool) {
        this.takingFromSpool = true;
        void this.spool.take().then((spooled) => {
          this.takingFromSpool = false;
          // Nothing free (every spooled batch is being sent): the next settle, release or append pumps again.
          if (spooled) {
            this.start(spooled);
            this.pump();
          }
        }, (error) => {
          this.takingFromSpool = false;
          this.context.log.error({ err: error }, 'spool could not be read');
        });
      }
      break;
    }
    if (this.inFlight === 0 && this.memory.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private start(batch: Batch): void {
    this.inFlight++;
    this.inFlightDocuments += batchDocuments(batch);
    void this.send(batch).finally(() => {
      this.inFlight--;
      this.inFlightDocuments -= batchDocuments(batch);
      this.pump();
    });
  }

  private backoff(): number {
    const base = Math.min(this.settings.retryMaxBackoffMs, this.settings.retryInitialBackoffMs * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(base / 2 + Math.random() * (base / 2)); // "equal jitter": never zero, spread over [base/2, base]
  }

  private async send(batch: Batch): Promise<void> {
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
          return this.requestFailed(batch, 'templates not installed', seconds());
        }
        for (const r of changes) this.context.log.info(r, 'Elasticsearch asset installed');
        this.templatesReady = true;
      } catch (error) {
        return this.requestFailed(batch, classify(error).reason, seconds());
      }
    }
    let response: estypes.BulkResponse;
    try {
      // The body is already NDJSON bytes; the client passes a Buffer through untouched.
      response = await this.client.bulk({ operations: batch.body as unknown as estypes.BulkOperationContainer[] });
    } catch (error) {
      const verdict = classify(error);
      const all = Array.from({ length: batchDocuments(batch) }, (_, i) => i);
      if (verdict.split && all.length > 1) {
        const half = Math.ceil(all.length / 2);
        await this.settle(batch, [subBatch(batch, all.slice(0, half)), subBatch(batch, all.slice(half))]);
        return;
      }
      if (verdict.retry) return this.requestFailed(batch, verdict.reason, seconds());
      await this.deadLetter(batch, all, () => verdict.reason);
      await this.settle(batch, []);
      return;
    }
    this.failures = 0;
    this.retryAt = 0;
    let indexed = 0;
    let duplicates = 0;
    const retry: number[] = [];
    const refused: number[] = [];
    const reasons = new Map<number, string>();
    response.items.forEach((item, i) => {
      const result = item.create ?? item.index;
      const status = result?.status ?? 0;
      if (status >= 200 && status < 300) indexed++;
      else if (status === 409) duplicates++;
      else if (status === 429 || status >= 500) retry.push(i);
      else {
        refused.push(i);
        reasons.set(i, `${status} ${result?.error?.type ?? ''}: ${result?.error?.reason ?? ''}`.trim());
      }
    });
    this.context.events.esIndexed(indexed, duplicates, seconds(), response.errors ? 'partial' : 'ok');
    if (refused.length > 0) await this.deadLetter(batch, refused, (i) => reasons.get(i)!);
    const again: Batch[] = [];
    if (retry.length > 0) {
      const status = response.items[retry[0]].create?.status ?? response.items[retry[0]].index?.status;
      this.context.events.esItemsRetried(retry.length, `item status ${status}`);
      // Items refused for load: back off before sending them, without holding up other batches for long.
      again.push({ ...subBatch(batch, retry), notBefore: Date.now() + this.settings.retryInitialBackoffMs });
    }
    await this.settle(batch, again);
  }

  /** The batch is done with: what must go again is queued (before the batch's spool file is deleted). */
  private async settle(batch: Batch, again: Batch[]): Promise<void> {
    for (const b of again) {
      if (b.notBefore) this.retryAt = Math.max(this.retryAt, b.notBefore);
      this.enqueue(b, true); // while closing (or failing) this writes it to the spool
    }
    await this.pendingSpoolWrites;
    if (batch.spoolFile) {
      await this.spool.settle(batch.spoolFile);
      this.context.events.metrics.esSpoolBytes.set(this.spool.sizeBytes);
    }
  }

  private async requestFailed(batch: Batch, reason: string, seconds: number): Promise<void> {
    this.failures++;
    const wait = this.backoff();
    this.retryAt = Date.now() + wait;
    this.context.events.esRequestFailed(batchDocuments(batch), reason, wait, seconds);
    if (batch.spoolFile) this.spool.release(batch.spoolFile);
    else this.enqueue(batch, true); // failures > 0 now: this puts it in the spool
  }

  private async deadLetter(batch: Batch, indexes: number[], reason: (i: number) => string): Promise<void> {
    const path = this.settings.deadLetterPath;
    const lines = indexes.map((i) => {
      const { action, document } = pairText(batch, i);
      return `{"reason":${JSON.stringify(reason(i))},"action":${action},"document":${document}}\n`;
    });
    try {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, lines.join(''));
      this.context.events.esDeadLettered(indexes.length, reason(indexes[0]), path);
    } catch (error) {
      this.context.events.sinkFailed(this.name, indexes.length, error as Error);
    }
  }
}

export async function createElasticsearchSink(context: SinkContext): Promise<Sink> {
  const client = createElasticsearchClient(context.config);
  const spool = new DiskSpool(context.config.elasticsearch.spoolDirectory, context.config.elasticsearch.spoolMaxBytes, (file, documents) =>
    context.events.esSpoolDropped(documents, file),
  );
  await spool.open();
  context.events.metrics.esSpoolBytes.set(spool.sizeBytes);
  const sink = new ElasticsearchSink(context, client, spool);
  if (spool.batches > 0) {
    context.log.info({ batches: spool.batches, bytes: spool.sizeBytes }, 'shipping batches spooled by a previous run');
    sink.resume();
  }
  return sink;
}
