// The Elasticsearch output against a local server that answers as Elasticsearch does, with faults injected.
// Every test asserts that every record reaches the server exactly once (by _id) or the dead-letter file.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { ByteBuffer } from '../collector/src/document/bytes.js';
import type { FlowDocument } from '../collector/src/document/document.js';
import { createEncoder } from '../collector/src/sinks/encoders.js';
import { BULK_FILTER_PATH, createElasticsearchSink } from '../collector/src/sinks/elasticsearch/sink.js';
import type { Sink } from '../collector/src/sinks/types.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { filterPath, startFakeElasticsearch, type FakeElasticsearch } from './support/fake-elasticsearch.js';
import { counter, decodeAll, testPipeline } from './support/offline.js';
import { until } from './support/wait.js';

function documents(count: number, first = 0): FlowDocument[] {
  const { pipeline } = testPipeline();
  const layout = aggregatorLayout(4);
  const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 3 });
  const messages = [templateMessage(header(0), 300, layout)];
  for (let i = first; i < first + count; i += 3) {
    const n = Math.min(3, first + count - i);
    messages.push(dataMessage(header(i), 300, layout, Array.from({ length: n }, (_, j) => aggregatorRecord(i + j, { sourcePodName: `pod-${i + j}` }))));
  }
  return decodeAll(pipeline, messages);
}

interface Harness {
  sink: Sink;
  metrics: ReturnType<typeof createMetrics>;
  dir: string;
}

const open: Sink[] = [];
const servers: FakeElasticsearch[] = [];
afterEach(async () => {
  for (const sink of open.splice(0)) await sink.close().catch(() => {});
  for (const server of servers.splice(0)) await server.close();
});

async function harness(es: FakeElasticsearch, env: Record<string, string> = {}, dir = mkdtempSync(join(tmpdir(), 'elkfc-es-'))): Promise<Harness> {
  const config = loadConfig(undefined, {
    ELASTICSEARCH_URL: es.url,
    ELKFC_ELASTICSEARCH_SPOOL_DIRECTORY: join(dir, 'spool'),
    ELKFC_ELASTICSEARCH_DEAD_LETTER_PATH: join(dir, 'dead-letter.ndjson'),
    ELKFC_ELASTICSEARCH_BATCH_MAX_DOCUMENTS: '200',
    ELKFC_ELASTICSEARCH_BATCH_MAX_WAIT_MS: '20',
    ELKFC_ELASTICSEARCH_RETRY_INITIAL_BACKOFF_MS: '10',
    ELKFC_ELASTICSEARCH_RETRY_MAX_BACKOFF_MS: '100',
    ELKFC_ELASTICSEARCH_REQUEST_TIMEOUT_MS: '500',
    ...env,
  });
  const metrics = createMetrics();
  const events = new InternalEvents(metrics, pino({ level: 'silent' }));
  const sink = await createElasticsearchSink({ config, documentOptions: { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }, events, log: pino({ level: process.env.DEBUG_ES ? 'debug' : 'silent' }) });
  open.push(sink);
  return { sink, metrics, dir };
}

function deadLetters(dir: string): { reason: string; document: { ipfix: { sourcePodName: string } } }[] {
  const path = join(dir, 'dead-letter.ndjson');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** Every one of `count` records is in the server exactly once, or in the dead-letter file. */
function expectExactlyOnce(es: FakeElasticsearch, dir: string, count: number): void {
  const pods = [...es.documents.values()].map((d) => (d.document.ipfix as { sourcePodName: string }).sourcePodName);
  const dead = deadLetters(dir).map((d) => d.document.ipfix.sourcePodName);
  expect(new Set(pods).size).toBe(pods.length);
  expect([...es.copies.values()].filter((n) => n !== 1)).toEqual([]); // no second copy in another index either
  expect(pods.length + dead.length).toBe(count);
  expect(new Set([...pods, ...dead])).toEqual(new Set(Array.from({ length: count }, (_, i) => `pod-${i}`)));
}

const settled = (es: FakeElasticsearch, dir: string, count: number) => () => es.documents.size + deadLetters(dir).length >= count;

describe('Elasticsearch output', () => {
  it('cuts documents serialised elsewhere (a decode worker) into the same batches as the documents themselves', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const docs = documents(200);
    const sealed = async (maxDocuments: number, feed: (sink: Sink) => void) => {
      const { sink } = await harness(es, {
        ELKFC_ELASTICSEARCH_BATCH_MAX_DOCUMENTS: String(maxDocuments), ELKFC_ELASTICSEARCH_BATCH_MAX_BYTES: '65536', ELKFC_ELASTICSEARCH_BATCH_MAX_WAIT_MS: '60000',
      });
      const batches: { body: string; offsets: number[] }[] = [];
      (sink as unknown as { writeAhead(batch: { body: Buffer; offsets: number[] }): Promise<void> }).writeAhead = async (batch) => {
        batches.push({ body: batch.body.toString('utf8'), offsets: batch.offsets });
      };
      feed(sink);
      await sink.flush();
      return batches;
    };
    const encoder = createEncoder('elasticsearch', loadConfig(undefined, {}), { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }, (_d, error) => { throw error; });
    const chunk = (from: number, to: number) => {
      const out = new ByteBuffer();
      const offsets: number[] = [];
      for (let i = from; i < to; i++) {
        offsets.push(out.pos);
        encoder.encode(docs[i], out);
      }
      offsets.push(out.pos);
      return { body: out.take(), offsets, documents: to - from };
    };
    // 200 documents of about 3 kB: batches cut by count (7), then by octets (65536 reached at the 22nd).
    for (const [maxDocuments, size] of [[7, 7], [40, 22]]) {
      const direct = await sealed(maxDocuments, (sink) => sink.write(docs));
      const encoded = await sealed(maxDocuments, (sink) => {
        for (let i = 0; i < docs.length; i += 45) sink.writeEncoded(chunk(i, Math.min(docs.length, i + 45)));
      });
      expect(direct[0].offsets.length - 1).toBe(size);
      expect(encoded).toEqual(direct);
    }
  });

  for (const failing of [false, true]) {
    it(`fills batch buffers again once their batches are indexed, every document arriving whole${failing ? ', through failed requests and retried items' : ''}`, async () => {
      const es = await startFakeElasticsearch();
      servers.push(es);
      let refusedItems = 0;
      if (failing) {
        // Whole requests refused (the batch is sent again from its buffer) and items refused once (sent again as copies).
        es.faults.wholeStatus = { status: 503, remaining: 3 };
        es.faults.itemStatus = (_id, doc, attempt) => {
          if (attempt > 1 || !(doc.ipfix as { sourcePodName: string }).sourcePodName.endsWith('7')) return undefined;
          refusedItems++;
          return 429;
        };
      }
      const batchMaxBytes = 1 << 20;
      const { sink, metrics } = await harness(es, {
        ELKFC_ELASTICSEARCH_BATCH_MAX_BYTES: String(batchMaxBytes), ELKFC_ELASTICSEARCH_BATCH_MAX_DOCUMENTS: '100000',
        // Failing: batches go on being sealed (into buffers given back) while a refused one waits for its retry.
        ...(failing ? { ELKFC_ELASTICSEARCH_RETRY_INITIAL_BACKOFF_MS: '300' } : {}),
      });
      const docs = documents(9000);
      const options = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const };
      const encoder = createEncoder('elasticsearch', loadConfig(undefined, {}), options, () => {});
      const out = new ByteBuffer(1 << 16);
      const expected = new Map(docs.map((d) => {
        out.pos = 0;
        encoder.encode(d, out);
        const [action, document] = out.buffer.toString('utf8', 0, out.pos).trimEnd().split('\n');
        return [JSON.parse(action).create._id as string, JSON.parse(document)];
      }));
      // A batch buffer is the batch's capacity (batchMaxBytes and a document's slack): count the new ones.
      const fresh = vi.spyOn(Buffer, 'allocUnsafe');
      for (let i = 0; i < docs.length; i += 600) {
        sink.write(docs.slice(i, i + 600));
        if (failing) await new Promise((resolve) => setTimeout(resolve, 40));
        else await until(async () => (await counter(metrics, 'elkfc_es_documents_indexed_total')) >= Math.max(0, i - 1200));
      }
      await sink.flush();
      const batchBuffers = fresh.mock.calls.filter(([size]) => size === batchMaxBytes + (1 << 20)).length;
      fresh.mockRestore();
      expect(es.documents.size).toBe(docs.length);
      for (const [id, { document }] of es.documents) expect(document).toEqual(expected.get(id));
      if (failing) {
        expect(es.faults.wholeStatus?.remaining).toBe(0);
        expect(refusedItems).toBeGreaterThan(100);
        return;
      }
      // Some 30 batches of 1 MiB; without reuse each took a fresh buffer (a few are new while several are under way).
      expect(es.bulkRequests).toBeGreaterThan(20);
      expect(batchBuffers).toBeLessThan(es.bulkRequests / 2);
    });
  }

  it('drops a document it cannot serialise, counted as an internal error, and ships the others in whole pairs', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const { sink, metrics, dir } = await harness(es);
    const docs = documents(20);
    // Values whose JSON cannot be written stand for a bug of ours in a document: the first of a batch and one inside it.
    for (const i of [0, 7]) docs[i].fields.sourcePodLabels = { toJSON: () => { throw new Error('unserialisable'); } };
    sink.write(docs);
    await until(async () => (await counter(metrics, 'elkfc_es_documents_indexed_total')) === 18);
    const pods = new Set([...es.documents.values()].map((d) => (d.document.ipfix as { sourcePodName: string }).sourcePodName));
    expect(pods).toEqual(new Set(docs.filter((_, i) => i !== 0 && i !== 7).map((d) => d.fields.sourcePodName)));
    expect(deadLetters(dir)).toEqual([]);
    expect(await counter(metrics, 'elkfc_decode_errors_total', { kind: 'internal_error' })).toBe(2);
  });

  it('installs its templates first, then indexes every document into its daily index with a deterministic _id', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const { sink, metrics, dir } = await harness(es);
    const docs = documents(1000);
    sink.write(docs);
    await until(async () => (await counter(metrics, 'elkfc_es_documents_indexed_total')) === 1000);
    expectExactlyOnce(es, dir, 1000);
    expect([...es.assets.keys()].sort()).toEqual([
      '_component_template/elk-flow-collector-mappings', '_component_template/elk-flow-collector-settings',
      '_ilm/policy/elk-flow-collector', '_ilm/policy/elk-flow-collector-daily',
      '_index_template/elk-flow-collector-daily', '_index_template/elk-flow-collector-data-stream',
    ]);
    expect(new Set([...es.documents.values()].map((d) => d.index))).toEqual(new Set(['flow-2023.11.14']));
    // The same records again (an exporter resending, a replayed spool): refused as duplicates, not indexed twice.
    sink.write(documents(1000));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_duplicate_total')) === 1000);
    expect(es.documents.size).toBe(1000);
  });

  it('with installTemplates off, holds documents until setup has installed the templates', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const { sink, metrics, dir } = await harness(es, { ELKFC_ELASTICSEARCH_INSTALL_TEMPLATES: 'false' });
    sink.write(documents(50));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_spooled_total')) === 50);
    expect(es.documents.size).toBe(0);
    expect(es.assets.size).toBe(0);
    // What `setup` does: install them; the held documents then go.
    const { installAssets, stampedAssets } = await import('../elasticsearch/src/install.js');
    const { createElasticsearchClient } = await import('../collector/src/sinks/elasticsearch/client.js');
    const { ElementRegistry } = await import('../collector/src/ie/registry.js');
    const config = loadConfig(undefined, { ELASTICSEARCH_URL: es.url });
    const client = createElasticsearchClient(config);
    await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
    await client.close();
    await until(settled(es, dir, 50));
    expectExactlyOnce(es, dir, 50);
  });

  it('writes to the data stream when asked', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const { sink, dir } = await harness(es, { ELKFC_ELASTICSEARCH_INDEX_MODE: 'dataStream' });
    sink.write(documents(10));
    await until(settled(es, dir, 10));
    expect(new Set([...es.documents.values()].map((d) => d.index))).toEqual(new Set(['flow-antrea']));
  });

  // A request that timed out after the cluster indexed it, a rollover while the collector waits to retry, then
  // the retry: in the default daily mode every copy names the same index (the record's export day) and the second
  // is refused; in a data stream the retry lands in the new write index, where the _id is not known.
  for (const [mode, copies] of [['daily', 1], ['dataStream', 2]] as const) {
    it(`a retry straddling a rollover of the data stream's write index: ${mode} mode indexes ${copies === 1 ? 'one copy' : 'a second copy'}`, async () => {
      const es = await startFakeElasticsearch();
      servers.push(es);
      es.faults.delayMs = 2500;
      es.faults.delayRemaining = 1;
      const { sink, metrics, dir } = await harness(es, { ELKFC_ELASTICSEARCH_INDEX_MODE: mode, ELKFC_ELASTICSEARCH_MAX_IN_FLIGHT_REQUESTS: '1' });
      sink.write(documents(150));
      await until(() => es.documents.size === 150, 15_000, 'the first (timed-out) request indexed');
      es.rollover('flow-antrea');
      await until(async () => (await counter(metrics, 'elkfc_es_documents_retried_total')) >= 150);
      await until(async () => (await counter(metrics, 'elkfc_es_documents_indexed_total')) + (await counter(metrics, 'elkfc_es_documents_duplicate_total')) >= 150);
      expect(new Set(es.copies.values())).toEqual(new Set([copies]));
      if (mode === 'daily') expectExactlyOnce(es, dir, 150);
    });
  }

  for (const status of [429, 503]) {
    it(`retries whole requests answered ${status}`, async () => {
      const es = await startFakeElasticsearch();
      servers.push(es);
      es.faults.wholeStatus = { status, remaining: 5 };
      const { sink, metrics, dir } = await harness(es);
      sink.write(documents(600));
      await until(settled(es, dir, 600));
      expectExactlyOnce(es, dir, 600);
      expect(await counter(metrics, 'elkfc_es_documents_retried_total')).toBeGreaterThan(0);
      expect(deadLetters(dir)).toEqual([]);
    });
  }

  for (const status of [403, 408, 404]) {
    it(`retries whole requests answered ${status} (cluster block, timeout, wrong path: never dead-lettered)`, async () => {
      const es = await startFakeElasticsearch();
      servers.push(es);
      es.faults.wholeStatus = { status, remaining: 3 };
      const { sink, metrics, dir } = await harness(es);
      sink.write(documents(300));
      await until(settled(es, dir, 300));
      expectExactlyOnce(es, dir, 300);
      expect(await counter(metrics, 'elkfc_es_documents_retried_total')).toBeGreaterThan(0);
      expect(deadLetters(dir)).toEqual([]);
    });
  }

  it('retries items answered 403 cluster_block_exception (flood-stage watermark), 408 and 404, with backoff, until they pass', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    let blocked = true;
    es.faults.itemStatus = (_id, doc) => {
      const n = Number((doc.ipfix as { sourcePodName: string }).sourcePodName.slice(4));
      if (blocked) return 403; // the whole cluster read-only: every item refused
      return n % 5 === 0 && n % 2 === 0 ? 408 : n % 5 === 0 ? 404 : undefined;
    };
    const { sink, metrics, dir } = await harness(es);
    sink.write(documents(400));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_retried_total')) >= 400);
    expect(sink.ready()).toBe(true); // still accepting: the records wait in the spool
    expect((sink.status?.() as { elasticsearch: string; lastError: string })).toMatchObject({ elasticsearch: 'unavailable', lastError: 'item 403 cluster_block_exception' });
    expect(await counter(metrics, 'elkfc_es_available')).toBe(0);
    blocked = false; // the operator freed disk space, the block is lifted
    es.faults.itemStatus = ((previous) => (id: string, doc: Record<string, unknown>, attempt: number) => (attempt > 4 ? undefined : previous(id, doc, attempt)))(es.faults.itemStatus);
    await until(settled(es, dir, 400));
    expectExactlyOnce(es, dir, 400);
    expect(deadLetters(dir)).toEqual([]);
    await until(async () => (await counter(metrics, 'elkfc_es_available')) === 1, 5000, 'available again'); // after the answer is read
  });

  it('dead-letters a whole request answered 400 (a body that can never succeed), with the reason', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.wholeStatus = { status: 400, remaining: 1 };
    const { sink, dir } = await harness(es);
    sink.write(documents(100));
    await until(settled(es, dir, 100));
    expectExactlyOnce(es, dir, 100);
    expect(deadLetters(dir).map((d) => d.reason)).toEqual(Array(100).fill('HTTP 400: request refused'));
  });

  it('splits a batch answered 413 in halves, and dead-letters a single document still too large', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.wholeStatus = { status: 413, remaining: 1 + 2 + 1 }; // 4 documents, then 2 + 2, then the first single
    const { sink, dir } = await harness(es);
    sink.write(documents(4));
    await until(settled(es, dir, 4));
    expectExactlyOnce(es, dir, 4);
    expect(deadLetters(dir).map((d) => d.reason)).toEqual(['HTTP 413: request refused']);
  });

  it('retries the items answered 429 or 503 of a partly failed request, and only those', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.itemStatus = (_id, doc, attempt) => {
      const n = Number((doc.ipfix as { sourcePodName: string }).sourcePodName.slice(4));
      return attempt <= 2 && n % 7 === 0 ? (n % 2 ? 429 : 503) : undefined;
    };
    const { sink, metrics, dir } = await harness(es);
    sink.write(documents(700));
    await until(settled(es, dir, 700));
    expectExactlyOnce(es, dir, 700);
    expect(await counter(metrics, 'elkfc_es_documents_retried_total')).toBe(2 * 100);
    expect(deadLetters(dir)).toEqual([]);
  });

  it('dead-letters documents refused for good (mapping errors) with the reason, without blocking the rest', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.itemStatus = (_id, doc) => ((doc.ipfix as { sourcePodName: string }).sourcePodName.endsWith('3') ? 400 : undefined);
    const { sink, metrics, dir } = await harness(es);
    sink.write(documents(300));
    await until(settled(es, dir, 300));
    // The file is written before the metric counts it: wait for both.
    await until(async () => (await counter(metrics, 'elkfc_es_documents_dead_lettered_total')) === 30);
    expectExactlyOnce(es, dir, 300);
    const dead = deadLetters(dir);
    expect(dead).toHaveLength(30);
    expect(dead[0].reason).toBe('400 document_parsing_exception: fault injected');
    // The answers were cut to errors, statuses and item errors, as Logstash and Beats ask: the reasons came through.
    expect(es.lastBulkFilterPath).toBe(BULK_FILTER_PATH);
  });

  it('the stand-in cuts answers as Elasticsearch\'s filter_path does (its documented example, and the _bulk answer)', () => {
    const search = { took: 3, timed_out: false, hits: { total: { value: 1 }, hits: [{ _index: 'twitter', _id: '0', _score: 1.6375021, _source: { user: 'kimchy' } }] } };
    expect(filterPath(search, 'took,hits.hits._id,hits.hits._score')).toEqual({ took: 3, hits: { hits: [{ _id: '0', _score: 1.6375021 }] } });
    const bulk = {
      took: 30, errors: true, items: [
        { create: { _index: 'flow-2026.12.02', _id: 'a', _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: 0, _primary_term: 1, status: 201 } },
        { create: { _index: 'flow-2026.12.02', _id: 'b', status: 409, error: { type: 'version_conflict_engine_exception', reason: 'document already exists' } } },
      ],
    };
    expect(filterPath(bulk, BULK_FILTER_PATH)).toEqual({
      errors: true, items: [{ create: { status: 201 } }, { create: { status: 409, error: bulk.items[1].create.error } }],
    });
  });

  it('retries after a timeout; what the timed-out request indexed is not indexed twice', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    // Longer than the client's timeout (500 ms, which undici enforces to about a second).
    es.faults.delayMs = 2500;
    es.faults.delayRemaining = 2;
    const { sink, metrics, dir } = await harness(es);
    sink.write(documents(400));
    await until(settled(es, dir, 400));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_duplicate_total')) > 0);
    expectExactlyOnce(es, dir, 400);
    expect([...es.received.values()].some((n) => n > 1)).toBe(true);
  });

  it('writes every batch ahead to the spool before sending it, and deletes it once settled', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.delayBeforeMs = 300; // slow (within the 500 ms timeout): the request is under way, nothing indexed yet
    const { sink, metrics, dir } = await harness(es);
    sink.write(documents(200));
    await until(() => es.bulkRequests > 0);
    // Sent, not yet answered: the batch is on disk, every record of it.
    expect(await counter(metrics, 'elkfc_es_documents_spooled_total')).toBe(200);
    const spooled = readdirSync(join(dir, 'spool')).map((f) => readFileSync(join(dir, 'spool', f), 'latin1')).join('');
    for (let i = 0; i < 200; i++) expect(spooled).toContain(`"sourcePodName":"pod-${i}"`);
    await until(settled(es, dir, 200));
    expectExactlyOnce(es, dir, 200);
    await until(async () => (await counter(metrics, 'elkfc_es_spool_documents')) === 0);
    expect(await metrics.registry.getSingleMetricAsString('elkfc_es_spool_write_seconds')).toMatch(/_count\{kind="batches"\} [1-9]/);
  });

  it('spools to disk while the cluster is down, stays ready (it accepts), and ships everything when it is back', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    const { sink, metrics, dir } = await harness(es, { ELKFC_ELASTICSEARCH_MAX_MEMORY_BATCHES: '2' });
    for (let i = 0; i < 10; i++) sink.write(documents(200, i * 200));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_spooled_total')) >= 2000);
    await until(() => (sink.status?.() as { elasticsearch: string }).elasticsearch === 'unavailable');
    expect(await counter(metrics, 'elkfc_es_available')).toBe(0);
    expect(sink.ready()).toBe(true);
    expect(sink.status?.()).toMatchObject({ elasticsearch: 'unavailable', spoolDocuments: 2000 });
    expect(await counter(metrics, 'elkfc_es_spool_documents')).toBe(2000);
    expect(es.documents.size).toBe(0);
    es.faults.down = false;
    await until(settled(es, dir, 2000), 30_000);
    expectExactlyOnce(es, dir, 2000);
    await until(async () => (await counter(metrics, 'elkfc_es_spool_documents')) === 0);
    expect(sink.status?.()).toMatchObject({ elasticsearch: 'available', spoolDocuments: 0 });
  });

  it('survives a restart: what was not indexed is spooled at shutdown and shipped by the next process', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-es-'));
    const first = await harness(es, {}, dir);
    first.sink.write(documents(500));
    await until(settled(es, dir, 500));
    es.faults.down = true;
    first.sink.write(documents(1000, 500));
    await first.sink.close();
    open.splice(open.indexOf(first.sink), 1);
    expect(readdirSync(join(dir, 'spool')).length).toBeGreaterThan(0);
    es.faults.down = false;
    const second = await harness(es, {}, dir);
    second.sink.write(documents(500, 1500));
    await until(settled(es, dir, 2000), 30_000);
    expectExactlyOnce(es, dir, 2000);
  });

  it('waits quietly while the cluster is down (no busy loop over spooled batches being sent)', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    const { sink, metrics } = await harness(es, { ELKFC_ELASTICSEARCH_RETRY_MAX_BACKOFF_MS: '200' });
    sink.write(documents(100));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_spooled_total')) === 100);
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const used = process.cpuUsage(before);
    // A spin (re-reading the spool while its only batch is in flight) took a whole core here.
    expect((used.user + used.system) / 1e6).toBeLessThan(0.3);
  });

  it('bounds the spool: past the high-water mark it asks for a pause, past spoolMaxBytes it drops new documents and counts them', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    const { sink, metrics, dir } = await harness(es, { ELKFC_ELASTICSEARCH_MAX_MEMORY_BATCHES: '1', ELKFC_ELASTICSEARCH_SPOOL_MAX_BYTES: String(1024 * 1024) });
    expect(sink.backpressure?.()).toMatchObject({ pause: false, full: false });
    for (let i = 0; i < 20; i++) {
      sink.write(documents(100, i * 100));
      await new Promise((r) => setTimeout(r, 30)); // the batch is sealed after batchMaxWaitMs      await until(async () => (await counter(metrics, 'elkfc_es_documents_spooled_total')) + (await counter(metrics, 'elkfc_es_documents_spool_dropped_total')) >= (i + 1) * 100);
      if (sink.backpressure?.().pause) expect(sink.ready()).toBe(sink.backpressure?.().full === false);
    }
    expect(sink.backpressure?.()).toMatchObject({ pause: true, full: true, roomBytes: expect.any(Number) });
    expect(sink.ready()).toBe(false);
    const spooled = await counter(metrics, 'elkfc_es_documents_spooled_total');
    const dropped = await counter(metrics, 'elkfc_es_documents_spool_dropped_total');
    expect(dropped).toBeGreaterThan(0);
    expect(spooled + dropped).toBe(2000);
    // Nothing spooled was deleted: all of it arrives once the cluster is back; what was dropped is in the metric.
    es.faults.down = false;
    await until(() => es.documents.size === spooled, 30_000);
    expect([...es.copies.values()].every((n) => n === 1)).toBe(true);
    expect(deadLetters(dir)).toEqual([]);
  });
});
