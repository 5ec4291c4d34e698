// The command as a process with Elasticsearch configured: `setup` installs and reports, idempotently; `run`
// killed with SIGKILL at chosen moments (an outage, a slow cluster with requests under way, mid-batch) loses
// nothing but the batch being filled (every sealed batch is written ahead to the spool), and the next start ships
// it, each record exactly once by _id.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../collector/src/cli/replay.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { startFakeElasticsearch, type FakeElasticsearch } from './support/fake-elasticsearch.js';
import { BIN, killCollectors, startCollector } from './support/process.js';
import { scrapeMetric, until } from './support/wait.js';

const servers: FakeElasticsearch[] = [];
afterEach(async () => {
  killCollectors();
  for (const s of servers.splice(0)) await s.close();
});

/** Runs the command without blocking this process, whose event loop serves the fake cluster. */
function command(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('elk-flow-collector with Elasticsearch', () => {
  it('setup installs the assets, then finds them unchanged', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    const env = { ...process.env, ELASTICSEARCH_URL: es.url };
    const first = await command(['setup'], env);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('created: index template elk-flow-collector-data-stream');
    const second = await command(['setup'], env);
    expect(second.stdout.trim().split('\n').every((l) => l.startsWith('unchanged:'))).toBe(true);
    const down = await command(['setup'], { ...env, ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('Elasticsearch at http://127.0.0.1:9');
  });

  /** A collector configuration in `dir` and 900 records in 300 UDP messages (plus the template) to replay. */
  function scenario(es: FakeElasticsearch, elasticsearch: string) {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-kill-'));
    writeFileSync(join(dir, 'collector.yml'), [
      // Port 0: the collector picks free ports and logs them (no race with other tests for a port).
      'inputs: { udp: { host: 127.0.0.1, port: 0 }, tcp: { enabled: false } }',
      'http: { host: 127.0.0.1, port: 0 }',
      `decoding: { templateStatePath: ${join(dir, 'templates.json')} }`,
      `elasticsearch: { urls: ['${es.url}'], spoolDirectory: ${join(dir, 'spool')}, deadLetterPath: ${join(dir, 'dead.ndjson')},`,
      `  retryInitialBackoffMs: 20, retryMaxBackoffMs: 200, ${elasticsearch} }`,
      'logging: { level: info }',
    ].join('\n'));
    const layout = aggregatorLayout(4);
    const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 9 });
    const files = [join(dir, 'a-template.dat')];
    writeFileSync(files[0], templateMessage(header(0), 300, layout));
    for (let i = 0; i < 1050; i += 3) {
      const file = join(dir, `b-${String(i).padStart(4, '0')}.dat`);
      writeFileSync(file, dataMessage(header(i), 300, layout, [i, i + 1, i + 2].map((n) => aggregatorRecord(n, { sourcePodName: `pod-${n}` }))));
      files.push(file);
    }
    return {
      start: () => startCollector(join(dir, 'collector.yml')),
      /** The template and the messages of records [from, to). */
      messages: (from: number, to: number) => [files[0], ...files.slice(1 + from / 3, 1 + to / 3)],
    };
  }

  const pods = (es: FakeElasticsearch) => [...es.documents.values()].map((d) => (d.document.ipfix as { sourcePodName: string }).sourcePodName);

  async function kill9(child: ChildProcess): Promise<void> {
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
  }

  /** A second process ships what the first left in the spool; every record arrives once (one copy, by _id). */
  async function restartAndShip(es: FakeElasticsearch, start: () => ReturnType<typeof startCollector>, expected: number) {
    const { child, httpPort } = await start();
    await until(() => es.documents.size === expected, 20_000, 'everything indexed');
    await until(async () => (await scrapeMetric(httpPort, 'elkfc_es_spool_documents')) === 0, 10_000, 'spool settled');
    const duplicates = await scrapeMetric(httpPort, 'elkfc_es_documents_duplicate_total');
    const lostInCrash = await scrapeMetric(httpPort, 'elkfc_es_batches_lost_in_crash_total');
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    expect(new Set(pods(es)).size).toBe(expected);
    expect([...es.copies.values()].filter((n) => n !== 1)).toEqual([]);
    return { duplicates, lostInCrash };
  }

  it('run, killed with SIGKILL during an outage, stays ready while spooling and ships every record once after a restart', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    const { start, messages } = scenario(es, 'batchMaxWaitMs: 50');
    const { child: first, udpPort, httpPort } = await start();
    await replay({ files: messages(0, 900), host: '127.0.0.1', port: udpPort, protocol: 'udp', rate: 5000, repeat: 1 });
    await until(async () => (await scrapeMetric(httpPort, 'elkfc_es_documents_spooled_total')) === 900, 20_000, 'everything spooled');
    const readyz = async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).json() as Promise<{ details: { elasticsearch: string } }>;
    await until(async () => (await readyz()).details.elasticsearch === 'unavailable', 10_000, 'the outage seen');
    expect(await scrapeMetric(httpPort, 'elkfc_es_available')).toBe(0);
    // Readiness is "can accept": the spool takes the records, so the collector stays in its Service.
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', details: { sink: 'elasticsearch', elasticsearch: 'unavailable', spoolDocuments: 900 } });
    await kill9(first);
    es.faults.down = false;
    expect(await restartAndShip(es, start, 900)).toMatchObject({ lostInCrash: 0 });
  });

  it('run, killed with SIGKILL while the cluster is slow (requests under way, some indexed), ships every record once', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.delayMs = 8000; // indexed, answered 8 s later: the usual prelude to an OOM kill
    const { start, messages } = scenario(es, 'batchMaxWaitMs: 50, batchMaxDocuments: 150, maxInFlightRequests: 2');
    const { child: first, udpPort, httpPort } = await start();
    await replay({ files: messages(0, 900), host: '127.0.0.1', port: udpPort, protocol: 'udp', rate: 5000, repeat: 1 });
    await until(async () => (await scrapeMetric(httpPort, 'elkfc_es_documents_spooled_total')) === 900, 20_000, 'everything written ahead');
    await until(() => es.documents.size > 0, 10_000, 'requests under way');
    expect(await scrapeMetric(httpPort, 'elkfc_es_documents_indexed_total')).toBe(0); // none answered yet
    await kill9(first);
    es.faults.delayMs = 0;
    // What the slow requests had indexed is sent again and refused as duplicates: still one copy each.
    const { duplicates, lostInCrash } = await restartAndShip(es, start, 900);
    expect(duplicates).toBeGreaterThan(0);
    expect(lostInCrash).toBe(0);
  });

  it('run, killed with SIGKILL mid-batch, loses only the batch being filled (at most batchMaxDocuments records, batchMaxWaitMs of them)', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    // 300 records a batch, sealed when full or after 60 s: 1,050 records are three full batches and 150 in memory.
    const { start, messages } = scenario(es, 'batchMaxWaitMs: 60000, batchMaxDocuments: 300');
    const { child: first, udpPort, httpPort } = await start();
    await replay({ files: messages(0, 1050), host: '127.0.0.1', port: udpPort, protocol: 'udp', rate: 5000, repeat: 1 });
    await until(async () => (await scrapeMetric(httpPort, 'elkfc_records_decoded_total')) === 1050, 20_000, 'everything decoded');
    await until(async () => (await scrapeMetric(httpPort, 'elkfc_es_documents_spooled_total')) === 900, 20_000, 'three batches written ahead');
    expect(await scrapeMetric(httpPort, 'elkfc_queue_depth').catch(() => 0)).toBeLessThanOrEqual(300);
    await kill9(first);
    es.faults.down = false;
    // The loss shows: the next start finds the batch that was being filled, and counts it.
    expect(await restartAndShip(es, start, 900)).toEqual({ duplicates: 0, lostInCrash: 1 });
    // The lost ones are exactly the batch being filled: the last 150 records received.
    expect(new Set(pods(es))).toEqual(new Set(Array.from({ length: 900 }, (_, i) => `pod-${i}`)));
  });
});
