// The Elasticsearch output against a local server that answers as Elasticsearch does, with faults injected.
// Every test asserts that every record reaches the server exactly once (by _id) or the dead-letter file.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import type { FlowDocument } from '../collector/src/document/document.js';
import { createElasticsearchSink } from '../collector/src/sinks/elasticsearch/sink.js';
import type { Sink } from '../collector/src/sinks/types.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { startFakeElasticsearch, type FakeElasticsearch } from './support/fake-elasticsearch.js';
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
  expect(pods.length + dead.length).toBe(count);
  expect(new Set([...pods, ...dead])).toEqual(new Set(Array.from({ length: count }, (_, i) => `pod-${i}`)));
}

const settled = (es: FakeElasticsearch, dir: string, count: number) => () => es.documents.size + deadLetters(dir).length >= count;

describe('Elasticsearch output', () => {
  it('installs its templates first, then indexes every document into the data stream with a deterministic _id', async () => {
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
    expect(new Set([...es.documents.values()].map((d) => d.index))).toEqual(new Set(['flow-antrea']));
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

  it('writes daily indices flow-YYYY.MM.dd when asked', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const { sink, dir } = await harness(es, { ELKFC_ELASTICSEARCH_INDEX_MODE: 'daily' });
    sink.write(documents(10));
    await until(settled(es, dir, 10));
    expect(new Set([...es.documents.values()].map((d) => d.index))).toEqual(new Set(['flow-2023.11.14']));
  });

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

  it('spools to disk while the cluster is down, reports not ready, and ships everything when it is back', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    const { sink, metrics, dir } = await harness(es, { ELKFC_ELASTICSEARCH_MAX_MEMORY_BATCHES: '2' });
    for (let i = 0; i < 10; i++) sink.write(documents(200, i * 200));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_spooled_total')) >= 1000);
    await until(() => !sink.ready());
    expect(readdirSync(join(dir, 'spool')).length).toBeGreaterThan(0);
    expect(es.documents.size).toBe(0);
    es.faults.down = false;
    await until(settled(es, dir, 2000), 30_000);
    expectExactlyOnce(es, dir, 2000);
    await until(() => sink.ready() && readdirSync(join(dir, 'spool')).length === 0);
    expect(await counter(metrics, 'elkfc_es_spool_bytes')).toBe(0);
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

  it('bounds the spool: past spoolMaxBytes the oldest batch is deleted and counted as loss', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    const { sink, metrics } = await harness(es, { ELKFC_ELASTICSEARCH_MAX_MEMORY_BATCHES: '1', ELKFC_ELASTICSEARCH_SPOOL_MAX_BYTES: String(1024 * 1024) });
    for (let i = 0; i < 20; i++) sink.write(documents(200, i * 200));
    await until(async () => (await counter(metrics, 'elkfc_es_documents_spool_dropped_total')) > 0);
    const dropped = await counter(metrics, 'elkfc_es_documents_spool_dropped_total');
    expect(dropped % 200).toBe(0);
  });
});
