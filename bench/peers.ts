// The same UDP stream, in the same run, into collectors written in C that users compare us with, where Debian's
// packages put them: nfcapd (nfdump; binary files, no Antrea fields) and nfacctd (pmacct; JSON lines through its
// print plugin, a child process). Each is measured as ours is (bench/udp.ts): CPU per record from /proc (children
// included), loss from the kernel's drop counter on its port.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exporter } from './cluster.js';
import { cpuSecondsWithChildren, udpDrops } from './proc.js';
import { send, settleFileSystem } from './udp.js';

export interface PeerResult {
  name: string;
  version: string;
  rate: number;
  sent: number;
  lostRecords: number;
  cpuMicrosPerRecord: number;
  outputOctetsPerRecord?: number;
}

const PEERS = {
  nfcapd: { binary: '/usr/bin/nfcapd', versionArgs: ['-V'] },
  nfacctd: { binary: '/usr/sbin/nfacctd', versionArgs: ['-V'] },
} as const;

export type PeerName = keyof typeof PEERS;

export const installedPeers = (): PeerName[] => (Object.keys(PEERS) as PeerName[]).filter((name) => existsSync(PEERS[name].binary));

function start(name: PeerName, port: number, dir: string): ChildProcess {
  if (name === 'nfcapd') {
    // -B: the same 32 MiB receive buffer as ours; files rotate every 60 s, longer than a step.
    return spawn(PEERS.nfcapd.binary, ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-B', String(32 << 20), '-t', '60'], { stdio: 'ignore', detached: true });
  }
  const config = join(dir, 'nfacctd.conf');
  writeFileSync(config, [
    'daemonize: false',
    'nfacctd_ip: 127.0.0.1',
    `nfacctd_port: ${port}`,
    `nfacctd_pipe_size: ${32 << 20}`, // the socket's receive buffer, as ours
    'plugins: print[json]',
    'print_output[json]: json',
    `print_output_file[json]: ${join(dir, 'flows.json')}`,
    'print_output_file_append[json]: true',
    'print_refresh_time[json]: 2',
    // Fine enough that every report of a connection is its own line, as a flow collector's output should be.
    'aggregate[json]: src_host, dst_host, src_port, dst_port, proto, tcpflags, timestamp_start, timestamp_end',
    'timestamps_secs: true',
    '',
  ].join('\n'));
  return spawn(PEERS.nfacctd.binary, ['-f', config], { stdio: 'ignore', detached: true });
}

function version(name: PeerName): string {
  let text: string;
  try {
    text = execFileSync(PEERS[name].binary, PEERS[name].versionArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // Both print their version and exit non-zero.
    const e = error as { stdout?: string; stderr?: string };
    text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  return /\d+\.\d+\.\d+/.exec(text)?.[0] ?? 'unknown';
}

/** Runs `name` on `port` for one step at `rate` records/s; loss is what the kernel dropped (in records, at the stream's records per message). */
export async function benchPeer(name: PeerName, port: number, rate: number, seconds: number, exporter: Exporter): Promise<PeerResult> {
  const dir = mkdtempSync(join(tmpdir(), `elkfc-bench-${name}-`));
  const peer = start(name, port, dir);
  try {
    await new Promise((r) => setTimeout(r, 1500)); // bind and settle
    if (peer.exitCode !== null) throw new Error(`${name} exited at start (${peer.exitCode})`);
    const dropsBefore = udpDrops(port);
    const cpuBefore = cpuSecondsWithChildren(peer.pid!);
    const { records: sent, messages } = await send(port, rate, seconds, exporter);
    await new Promise((r) => setTimeout(r, 3000)); // drain; nfacctd's plugin writes on its 2 s refresh
    const cpu = cpuSecondsWithChildren(peer.pid!) - cpuBefore;
    const lostRecords = Math.round(((udpDrops(port) - dropsBefore) * sent) / messages);
    const received = Math.max(1, sent - lostRecords);
    const output = name === 'nfacctd' && existsSync(join(dir, 'flows.json')) ? readFileSync(join(dir, 'flows.json')) : undefined;
    return {
      name, version: version(name), rate, sent, lostRecords, cpuMicrosPerRecord: (cpu * 1e6) / received,
      outputOctetsPerRecord: output ? output.length / Math.max(1, output.toString('latin1').split('\n').length - 1) : undefined,
    };
  } finally {
    // nfacctd's plugins may outlive a SIGTERM to the core for a while: the step is over, so end them all.
    // It runs in a process group of its own (detached), so this reaches the plugins too.
    const exited = peer.exitCode === null ? new Promise((resolve) => peer.on('exit', resolve)) : undefined;
    process.kill(-peer.pid!, 'SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    settleFileSystem();
  }
}
