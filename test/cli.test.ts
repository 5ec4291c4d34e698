// The installed command, as a process: `run` starts on a configuration, ships what it receives, and on SIGTERM
// stops receiving, flushes, saves templates and exits 0; a bad configuration stops start-up naming the key;
// `decode` prints the same documents `run` ships.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../collector/src/cli/replay.js';
import { LOGSTASH } from './support/offline.js';

const BIN = new URL('../bin/elk-flow-collector.js', import.meta.url).pathname;
const CAPTURE = `${LOGSTASH}scenario_pcaps/IPFIX_Mikrotik_RouterOS_6_39_2.pcap`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('elk-flow-collector command', () => {
  it('refuses a bad configuration, naming the key, with exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-cli-'));
    writeFileSync(join(dir, 'bad.yml'), 'decoding:\n  templateTimeoutSecs: soon\n');
    const result = spawnSync('node', [BIN, 'run', '--config', join(dir, 'bad.yml')], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('decoding.templateTimeoutSecs');
    expect(result.stderr).toContain('bad.yml');
  });

  it('runs, ships what it receives, and shuts down gracefully on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-cli-'));
    const [port, httpPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'collector.yml'), [
      'inputs:',
      `  udp: { host: 127.0.0.1, port: ${port} }`,
      '  tcp: { enabled: false }',
      `http: { host: 127.0.0.1, port: ${httpPort} }`,
      'decoding:',
      `  templateStatePath: ${join(dir, 'templates.json')}`,
      'output:',
      `  file: { directory: ${join(dir, 'flows')}, flushIntervalMs: 50 }`,
    ].join('\n'));
    const child = spawn('node', [BIN, 'run', '--config', join(dir, 'collector.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!stderr.includes('health and metrics server listening')) {
      if (Date.now() > deadline) throw new Error(`collector did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);
    await replay({ files: [CAPTURE], host: '127.0.0.1', port, protocol: 'udp', rate: 0, repeat: 1 });
    while (!(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).includes('elkfc_records_decoded_total{version="10"} 46')) {
      if (Date.now() > deadline) throw new Error('records did not arrive');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('stopped');

    const shipped = readdirSync(join(dir, 'flows'))
      .flatMap((f) => readFileSync(join(dir, 'flows', f), 'utf8').split('\n').filter(Boolean))
      .filter((_, i) => i % 2 === 1)
      .map((l) => JSON.parse(l));
    expect(shipped).toHaveLength(46);
    expect(JSON.parse(readFileSync(join(dir, 'templates.json'), 'utf8')).templates.length).toBeGreaterThan(0);

    // decode prints the same documents (the exporter address aside: the pcap's, not the replaying socket's).
    const decoded = spawnSync('node', [BIN, 'decode', CAPTURE], { encoding: 'utf8' });
    expect(decoded.status).toBe(0);
    const printed = decoded.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const withoutHost = (d: { host: string }) => ({ ...d, host: undefined });
    expect(shipped.map(withoutHost)).toEqual(printed.map(withoutHost));
    expect(decoded.stderr).toContain('decoded 46 documents from 3 messages; 0 malformed packets dropped');
  });
});
