// The command as a process with Elasticsearch configured: `setup` installs and reports, idempotently; `run`
// killed with SIGKILL while the cluster is down loses nothing it had sealed (the spool survives), and the next
// start ships it, each record exactly once.
import { spawn } from 'node:child_process';
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

  it('run, killed with SIGKILL while the cluster is down, ships every record once after a restart', async () => {
    const es = await startFakeElasticsearch();
    servers.push(es);
    es.faults.down = true;
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-kill-'));
    writeFileSync(join(dir, 'collector.yml'), [
      // Port 0: the collector picks free ports and logs them (no race with other tests for a port).
      'inputs: { udp: { host: 127.0.0.1, port: 0 }, tcp: { enabled: false } }',
      'http: { host: 127.0.0.1, port: 0 }',
      `decoding: { templateStatePath: ${join(dir, 'templates.json')} }`,
      `elasticsearch: { urls: ['${es.url}'], spoolDirectory: ${join(dir, 'spool')}, deadLetterPath: ${join(dir, 'dead.ndjson')},`,
      '  batchMaxWaitMs: 50, retryInitialBackoffMs: 20, retryMaxBackoffMs: 200 }',
      'logging: { level: info }',
    ].join('\n'));
    const layout = aggregatorLayout(4);
    const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 9 });
    const files = [join(dir, 'a-template.dat')];
    writeFileSync(files[0], templateMessage(header(0), 300, layout));
    for (let i = 0; i < 900; i += 3) {
      const file = join(dir, `b-${String(i).padStart(4, '0')}.dat`);
      writeFileSync(file, dataMessage(header(i), 300, layout, [i, i + 1, i + 2].map((n) => aggregatorRecord(n, { sourcePodName: `pod-${n}` }))));
      files.push(file);
    }
    const start = () => startCollector(join(dir, 'collector.yml'));

    const { child: first, udpPort, httpPort } = await start();
    await replay({ files, host: '127.0.0.1', port: udpPort, protocol: 'udp', rate: 5000, repeat: 1 });
    await until(async () => (await scrapeMetric(httpPort, 'elkfc_es_documents_spooled_total')) === 900, 20_000, 'everything spooled');
    expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(503);
    first.kill('SIGKILL');
    await new Promise((r) => first.on('exit', r));

    es.faults.down = false;
    const { child: second } = await start();
    await until(() => es.documents.size === 900, 20_000, 'everything indexed');
    second.kill('SIGTERM');
    expect(await new Promise((r) => second.on('exit', r))).toBe(0);
    const pods = [...es.documents.values()].map((d) => (d.document.ipfix as { sourcePodName: string }).sourcePodName);
    expect(new Set(pods).size).toBe(900);
  });
});
