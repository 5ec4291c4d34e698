// The first hour with the command, as a process: the README's start command stops cleanly on SIGTERM and Ctrl-C
// (exit 0, its ports free, no process left), every command explains itself, and every usage or environment
// mistake is one line on stderr that names the option, key or file, with exit code 2.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../collector/src/cli/commands.js';
import { replay } from '../collector/src/cli/replay.js';
import { LOGSTASH } from './support/offline.js';
import { BIN, killCollectors, startProcess } from './support/process.js';
import { until } from './support/wait.js';

const ROOT = new URL('..', import.meta.url).pathname;
const IPFIX = `${LOGSTASH}scenario_pcaps/IPFIX_Mikrotik_RouterOS_6_39_2.pcap`;
const V9 = `${LOGSTASH}scenario_pcaps/Netflow_9_Cisco_ASA.pcap`;

afterEach(killCollectors);

const tmp = () => mkdtempSync(join(tmpdir(), 'elkfc-first-hour-'));

/** A configuration on free loopback ports, everything written under dir. */
function loopbackConfig(dir: string, extra: string[] = []): string {
  const path = join(dir, 'collector.yml');
  writeFileSync(path, [
    'inputs:',
    '  udp: { host: 127.0.0.1, port: 0 }',
    '  tcp: { host: 127.0.0.1, port: 0 }',
    'http: { host: 127.0.0.1, port: 0 }',
    `decoding: { templateStatePath: ${join(dir, 'templates.json')} }`,
    `output: { file: { directory: ${join(dir, 'flows')}, flushIntervalMs: 50 } }`,
    ...extra,
  ].join('\n'));
  return path;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT) {
  return spawnSync('node', [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, ...env }, timeout: 30_000 });
}

/**
 * Exit 2 and exactly one line on stderr besides the log lines before it (a port found in use after the first
 * listener bound, say), which contains every expected piece; no stack trace.
 */
function expectOneLine(result: ReturnType<typeof cli>, ...pieces: string[]) {
  expect(result.status, result.stderr).toBe(2);
  const lines = result.stderr.split('\n').filter((l) => l && !l.startsWith('{"level":"info"'));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^elk-flow-collector: /);
  for (const piece of pieces) expect(lines[0]).toContain(piece);
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function portsFree(udp: number, tcp: number, http: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(udp, '127.0.0.1', () => s.close(() => resolve()));
  });
  for (const port of [tcp, http]) {
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  }
}

describe('the README start command (npm start)', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops on ${signal} with exit 0, nothing left running and its ports free`, async () => {
      const dir = tmp();
      // npm start forwards the options after --; the collector must be npm's child itself (exec), or a SIGTERM
      // to npm would leave it orphaned.
      const collector = await startProcess(['npm', 'start', '--silent', '--', '--config', loopbackConfig(dir)], { cwd: ROOT, detached: true });
      const started = collector.log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; pid: number });
      const pid = started[0].pid;
      const tcpPort = (started.find((e) => e.msg === 'TCP input listening') as unknown as { address: AddressInfo }).address.port;
      expect(pid).not.toBe(collector.child.pid);
      // SIGTERM as a process manager sends it (to npm); Ctrl-C as a terminal does (to the whole process group).
      if (signal === 'SIGTERM') collector.child.kill(signal);
      else process.kill(-collector.child.pid!, signal);
      expect(await collector.exited).toBe(0);
      await until(async () => !pidAlive(pid), 5000, 'the collector process to end');
      await portsFree(collector.udpPort, tcpPort, collector.httpPort);
      const log = collector.log();
      expect(log.indexOf('"msg":"stopping')).toBeGreaterThan(0);
      expect(log.indexOf('"msg":"stopped"')).toBeGreaterThan(log.indexOf('"msg":"stopping'));
    });
  }
});

describe('the log', () => {
  it('says where it listens and ships, then who connects, their first template, and when they leave', async () => {
    const dir = tmp();
    const collector = await startProcess(['node', BIN, 'run', '--config', loopbackConfig(dir)]);
    const entries = () => collector.log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    await until(async () => entries().some((e) => String(e.msg).startsWith('collector started')), 10_000, 'the start-up line');
    const startLine = entries().find((e) => String(e.msg).startsWith('collector started'))!;
    expect(startLine.level).toBe('info');
    expect(startLine.msg).toContain(`udp 127.0.0.1:${collector.udpPort}`);
    expect(startLine.msg).toContain(`file sink → ${join(dir, 'flows')}`);
    const tcpPort = (entries().find((e) => e.msg === 'TCP input listening')!.address as AddressInfo).port;
    await replay({ files: [IPFIX], host: '127.0.0.1', port: tcpPort, protocol: 'tcp', rate: 0, repeat: 1 });
    await until(async () => entries().some((e) => String(e.msg).startsWith('exporter disconnected')), 10_000, 'the disconnect line');
    const messages = entries().map((e) => String(e.msg));
    const connected = messages.findIndex((m) => /^exporter connected: tcp:127\.0\.0\.1:\d+$/.test(m));
    const template = messages.findIndex((m) => /^first template from tcp:127\.0\.0\.1:\d+ \(domain \d+, template \d+\)$/.test(m));
    const gone = messages.findIndex((m) => /^exporter disconnected: tcp:127\.0\.0\.1:\d+$/.test(m));
    expect(connected).toBeGreaterThan(0);
    expect(template).toBeGreaterThan(connected);
    expect(gone).toBeGreaterThan(template);
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
  });

  it('is readable text with logging.format text, levels as words', async () => {
    const dir = tmp();
    const child = spawn('node', [BIN, 'run', '--config', loopbackConfig(dir, ['logging: { format: text }'])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stderr.on('data', (chunk) => (text += chunk));
    await until(async () => text.includes('collector started'), 15_000, 'the start-up line');
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    const line = text.split('\n').find((l) => l.includes('collector started'))!;
    expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: collector started: receiving on udp 127\.0\.0\.1:\d+, tcp 127\.0\.0\.1:\d+; file sink → /);
    expect(text).not.toContain('{"level"');
    expect(text.indexOf('INFO: stopping')).toBeLessThan(text.indexOf('INFO: stopped'));
  });
});

describe('every command explains itself', () => {
  it('--version prints the package version', () => {
    const result = cli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('--help lists the commands and where the configuration is documented', () => {
    const result = cli(['--help']);
    expect(result.status).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(result.stdout).toContain(`  ${name} `);
    expect(result.stdout).toContain('docs/configuration.md');
  });

  for (const [name, spec] of Object.entries(COMMANDS)) {
    it(`${name} --help shows its usage and every option`, () => {
      const result = cli([name, '--help']);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: elk-flow-collector ${name} `));
      for (const option of Object.keys(spec.options)) expect(result.stdout).toContain(`--${option}`);
    });
  }
});

describe('every mistake gets one line naming what to fix, and exit code 2', () => {
  it('command-line mistakes name the option or argument', () => {
    expectOneLine(cli(['run', '--config']), '--config needs a value');
    expectOneLine(cli(['run', 'extra']), 'unexpected argument extra');
    expectOneLine(cli(['run', '--colour']), 'unknown option --colour');
    expectOneLine(cli(['launch']), 'unknown command launch');
    expectOneLine(cli(['decode']), 'decode: needs at least one capture FILE');
    expectOneLine(cli(['replay', IPFIX]), 'needs --to HOST:PORT');
    expectOneLine(cli(['replay', IPFIX, '--to', 'localhost']), '--to takes HOST:PORT');
    expectOneLine(cli(['replay', IPFIX, '--to', '127.0.0.1:1', '--protocol', 'sctp']), '--protocol is udp or tcp');
  });

  it('capture files that are missing or not pcap name the file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'notes.pcap'), 'not a capture at all');
    expectOneLine(cli(['decode', join(dir, 'missing.pcap')]), join(dir, 'missing.pcap'), 'no such file');
    expectOneLine(cli(['decode', join(dir, 'notes.pcap')]), join(dir, 'notes.pcap'), 'not a pcap file');
    expectOneLine(cli(['replay', join(dir, 'notes.pcap'), '--to', '127.0.0.1:9']), join(dir, 'notes.pcap'), 'not a pcap file');
  });

  it('replay --protocol tcp with a NetFlow v9 capture names the file and the fix', () => {
    expectOneLine(cli(['replay', V9, '--to', '127.0.0.1:9', '--protocol', 'tcp']), V9, 'version 9', '--protocol udp');
  });

  it('replay to a port where nothing listens is one line too, exit 1 (a runtime failure)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    for (const protocol of ['tcp', 'udp']) {
      const result = cli(['replay', IPFIX, '--to', `127.0.0.1:${port}`, '--protocol', protocol, '--rate', '20', '--repeat', '20']);
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr.trim()).toBe(`elk-flow-collector: replay: ${protocol.toUpperCase()} 127.0.0.1:${port}: ECONNREFUSED (is a collector listening there?)`);
    }
  });

  it('a port in use names its key and port, for UDP, TCP and HTTP', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
    const udpPort = udp.address().port;
    const tcpPort = (tcp.address() as AddressInfo).port;
    try {
      const dir = tmp();
      const config = loopbackConfig(dir);
      expectOneLine(cli(['run', '--config', config], { ELKFC_INPUTS_UDP_PORT: String(udpPort) }), 'inputs.udp.port', `port ${udpPort} is already in use`);
      expectOneLine(cli(['run', '--config', config], { ELKFC_INPUTS_TCP_PORT: String(tcpPort) }), 'inputs.tcp.port', `port ${tcpPort} is already in use`);
      expectOneLine(cli(['run', '--config', config], { ELKFC_HTTP_PORT: String(tcpPort) }), 'http.port', `port ${tcpPort} is already in use`);
    } finally {
      udp.close();
      tcp.close();
    }
  });

  it('a data directory that cannot be written names its key and path', () => {
    // A regular file where a directory must be: unwritable even for root, which CI may run as.
    const dir = tmp();
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const config = loopbackConfig(dir);
    expectOneLine(cli(['run', '--config', config], { ELKFC_OUTPUT_FILE_DIRECTORY: join(blocker, 'flows') }), 'output.file.directory', join(blocker, 'flows'));
    expectOneLine(cli(['run', '--config', config], { ELKFC_DECODING_TEMPLATE_STATE_PATH: join(blocker, 'templates.json') }), 'decoding.templateStatePath', blocker);
    const es = { ELASTICSEARCH_URL: 'http://127.0.0.1:9' };
    expectOneLine(cli(['run', '--config', config], { ...es, ELKFC_ELASTICSEARCH_SPOOL_DIRECTORY: join(blocker, 'spool') }), 'elasticsearch.spoolDirectory', join(blocker, 'spool'));
    mkdirSync(join(dir, 'spool'));
    expectOneLine(
      cli(['run', '--config', config], { ...es, ELKFC_ELASTICSEARCH_SPOOL_DIRECTORY: join(dir, 'spool'), ELKFC_ELASTICSEARCH_DEAD_LETTER_PATH: join(blocker, 'dead.ndjson') }),
      'elasticsearch.deadLetterPath', blocker,
    );
  });

  it('a bad environment variable names the variable, not the defaults', () => {
    expectOneLine(cli(['run'], { ELKFC_ELASTICSEARCH_URLS: 'http://es-0:9200,not a url' }), 'elasticsearch.urls.1 (from ELKFC_ELASTICSEARCH_URLS)');
    expectOneLine(cli(['run'], { ELKFC_INPUTS_UPD_PORT: '1' }), 'ELKFC_INPUTS_UPD_PORT names no configuration key');
  });
});
