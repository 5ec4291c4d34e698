// Backpressure that counts the spool: the running collector with the Elasticsearch output while the cluster is
// down. Past the spool's high-water mark TCP exporters are paused (they keep their records and send them once
// the cluster is back); UDP records that cannot be kept (the spool full) are counted and logged at ERROR.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../collector/src/cli/replay.js';
import { loadConfig } from '../collector/src/config/load.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { aggregatorCapture } from './support/antrea-encoder.js';
import { startFakeElasticsearch, type FakeElasticsearch } from './support/fake-elasticsearch.js';
import { counter } from './support/offline.js';
import { until } from './support/wait.js';

const RECORDS = 3000;


let running: Collector | undefined;
let es: FakeElasticsearch | undefined;
afterEach(async () => {
  await running?.stop();
  await es?.close();
  running = es = undefined;
});

async function start(dir: string, url: string) {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => { lines.push(JSON.parse(String(chunk))); done(); } }));
  const config = loadConfig(undefined, {
    ELASTICSEARCH_URL: url,
    ELKFC_INPUTS_UDP_HOST: '127.0.0.1', ELKFC_INPUTS_UDP_PORT: '0',
    ELKFC_INPUTS_TCP_HOST: '127.0.0.1', ELKFC_INPUTS_TCP_PORT: '0',
    ELKFC_HTTP_ENABLED: 'false',
    ELKFC_DECODING_TEMPLATE_STATE_PATH: join(dir, 'templates.json'),
    ELKFC_ELASTICSEARCH_SPOOL_DIRECTORY: join(dir, 'spool'),
    ELKFC_ELASTICSEARCH_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
    ELKFC_ELASTICSEARCH_SPOOL_MAX_BYTES: String(2 * 1024 * 1024),
    ELKFC_ELASTICSEARCH_SPOOL_HIGH_WATER_PERCENT: '50',
    ELKFC_ELASTICSEARCH_BATCH_MAX_DOCUMENTS: '60',
    ELKFC_ELASTICSEARCH_BATCH_MAX_WAIT_MS: '20',
    ELKFC_ELASTICSEARCH_RETRY_INITIAL_BACKOFF_MS: '20',
    ELKFC_ELASTICSEARCH_RETRY_MAX_BACKOFF_MS: '100',
  });
  const collector = (running = new Collector(config, log));
  await collector.start();
  return { collector, lines };
}

const each = (server: FakeElasticsearch) => [...server.copies.values()].every((n) => n === 1);

describe('backpressure from the spool', () => {
  it('pauses TCP exporters past the high-water mark and resumes them when the spool drains: every record arrives once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-bp-'));
    es = await startFakeElasticsearch();
    es.faults.down = true;
    const { collector } = await start(dir, es.url);
    const m = collector.events.metrics;
    const sending = replay({ files: aggregatorCapture(dir, RECORDS, 5), host: '127.0.0.1', port: collector.inputAddress('tcp')!.port, protocol: 'tcp', rate: 0, repeat: 1 });
    await until(async () => (await counter(m, 'elkfc_inputs_paused')) === 1, 15_000, 'TCP paused');
    // What was read before the pause is written ahead (a decode worker starts with its first exporter: half a second).
    await until(async () => (await counter(m, 'elkfc_es_spool_bytes')) >= 1024 * 1024, 15_000, 'what was read before the pause spooled');
    await new Promise((r) => setTimeout(r, 300));
    const spoolBytes = await counter(m, 'elkfc_es_spool_bytes');
    expect(spoolBytes).toBeLessThan(2 * 1024 * 1024);
    // Paused: nothing more is read, while the sender holds the rest; nothing dropped.
    const decoded = await counter(m, 'elkfc_records_decoded_total');
    await new Promise((r) => setTimeout(r, 500));
    expect(await counter(m, 'elkfc_records_decoded_total')).toBe(decoded);
    expect(decoded).toBeLessThan(RECORDS);
    expect(await counter(m, 'elkfc_inputs_paused')).toBe(1);
    es.faults.down = false;
    await sending;
    await until(() => es!.documents.size === RECORDS, 30_000, 'everything indexed');
    expect(each(es)).toBe(true);
    expect(await counter(m, 'elkfc_es_documents_spool_dropped_total')).toBe(0);
    await until(async () => (await counter(m, 'elkfc_inputs_paused')) === 0, 5000, 'TCP resumed');
  });

  it('drops UDP records once the spool is full, counts them and logs at ERROR: indexed + dropped = sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-bp-'));
    es = await startFakeElasticsearch();
    es.faults.down = true;
    const { collector, lines } = await start(dir, es.url);
    const m = collector.events.metrics;
    await replay({ files: aggregatorCapture(dir, RECORDS, 5), host: '127.0.0.1', port: collector.inputAddress('udp')!.port, protocol: 'udp', rate: 1000, repeat: 1 });
    // What the collector received (the kernel may drop datagrams on a loaded machine: another metric's business).
    let received = -1;
    for (let now = 0; now !== received; now = await counter(m, 'elkfc_records_decoded_total')) {
      received = now;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(received).toBeGreaterThan(RECORDS / 2);
    await until(async () => (await counter(m, 'elkfc_es_documents_spooled_total')) + (await counter(m, 'elkfc_es_documents_spool_dropped_total')) === received, 15_000, 'everything spooled or dropped');
    const dropped = await counter(m, 'elkfc_es_documents_spool_dropped_total');
    expect(dropped).toBeGreaterThan(0);
    expect(lines.some((l) => l.level === 50 && l.msg.startsWith('spool full'))).toBe(true);
    es.faults.down = false;
    await until(() => es!.documents.size === received - dropped, 30_000, 'everything spooled indexed');
    expect(each(es)).toBe(true);
  });
});
