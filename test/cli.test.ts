// The installed command, as a process: `run` starts on a configuration, ships what it receives, and on SIGTERM
// stops receiving, flushes, saves templates and exits 0; a bad configuration stops start-up naming the key;
// `decode` prints the same documents `run` ships.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../collector/src/cli/replay.js';
import { LOGSTASH } from './support/offline.js';
import { BIN, killCollectors, startCollector } from './support/process.js';
import { scrapeMetric, until } from './support/wait.js';

const CAPTURE = `${LOGSTASH}scenario_pcaps/IPFIX_Mikrotik_RouterOS_6_39_2.pcap`;

afterEach(killCollectors);

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
    writeFileSync(join(dir, 'collector.yml'), [
      'inputs:',
      '  udp: { host: 127.0.0.1, port: 0 }',
      '  tcp: { enabled: false }',
      'http: { host: 127.0.0.1, port: 0 }',
      'decoding:',
      `  templateStatePath: ${join(dir, 'templates.json')}`,
      'output:',
      `  file: { directory: ${join(dir, 'flows')}, flushIntervalMs: 50 }`,
    ].join('\n'));
    const collector = await startCollector(join(dir, 'collector.yml'));
    const { udpPort: port, httpPort } = collector;
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);
    await replay({ files: [CAPTURE], host: '127.0.0.1', port, protocol: 'udp', rate: 0, repeat: 1 });
    await until(async () => (await scrapeMetric(httpPort, 'elkfc_records_decoded_total')) === 46, 15_000, 'records');
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
    expect(collector.log()).toContain('stopped');

    const shipped = readdirSync(join(dir, 'flows'))
      .flatMap((f) => readFileSync(join(dir, 'flows', f), 'utf8').split('\n').filter(Boolean))
      .filter((_, i) => i % 2 === 1)
      .map((l) => JSON.parse(l));
    expect(shipped).toHaveLength(46);
    expect(JSON.parse(readFileSync(join(dir, 'templates.json'), 'utf8')).templates.length).toBeGreaterThan(0);

    // decode prints the same documents (the exporter address aside, in host and observer.ip: the pcap's, not the
    // replaying socket's).
    const decoded = spawnSync('node', [BIN, 'decode', CAPTURE], { encoding: 'utf8' });
    expect(decoded.status).toBe(0);
    const printed = decoded.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const withoutHost = (d: { host: string; observer?: object }) => ({ ...d, host: undefined, observer: undefined });
    expect(shipped.map(withoutHost)).toEqual(printed.map(withoutHost));
    expect(decoded.stderr).toContain('decoded 46 documents from 3 messages; 0 malformed packets dropped');
  });
});
