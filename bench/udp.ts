// The running collector (the installed command) under a steady UDP stream of realistic Antrea records from
// another process, step by step in rate: per step the records it decoded and lost, its own CPU time per record
// (from /proc, so a stand-in cluster in another process is not counted), the kernel's receive drops, and its peak
// memory. A step loses when what was sent is more than what the sink took.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrapeMetric } from '../test/support/wait.js';
import type { Exporter } from './cluster.js';
import { cpuSeconds, mainThreadWaitSeconds, peakRssMiB, systemCpuSeconds, udpDrops } from './proc.js';

const BIN = new URL('../bin/elk-flow-collector.js', import.meta.url).pathname;
const SENDER = new URL('./sender.ts', import.meta.url).pathname;

export interface StepResult {
  rate: number;
  sent: number;
  delivered: number;
  lost: number;
  kernelDrops: number;
  cpuMicrosPerRecord: number;
  /** Of which in the kernel (system calls: receive, and for the outputs the file system's and the socket's writes). */
  systemMicrosPerRecord: number;
  /** Share of one core the process used during the step. */
  cores: number;
  /** Share of one core the sender used while it sent: the rest of the machine was the collector's. */
  senderCores: number;
  /** Share of the step the process's main thread was ready to run but waited for a CPU (NaN: not known). */
  mainThreadWaiting: number;
}

export type Output = 'null' | 'file' | 'elasticsearch';

export interface UdpRun {
  steps: StepResult[];
  peakRssMiB: number;
  /** The highest step with nothing lost. */
  best: number;
  /**
   * File output only: what the file system alone costs per record, its octets written by a bare loop of 4 MiB
   * writes into the same directory (kernel CPU: page cache, ext4), to tell it from the collector's own work.
   */
  fileSystemMicrosPerRecord?: number;
  /** File output only: octets per record in its files (the `_bulk` pair). */
  fileOctetsPerRecord?: number;
}

/**
 * Waits until the file system has done with what a step wrote and deleted (write-back, the journal, the discards of
 * an ext4 mounted with `discard`), so that its kernel threads do not take the next step's CPU on a 2-core machine.
 */
export function settleFileSystem(): void {
  spawnSync('sync');
}

/** CPU µs per record of writing `octetsPerRecord` per record into a file in `dir` with bare 4 MiB writes. */
function fileSystemCost(dir: string, octetsPerRecord: number): number {
  const chunk = Buffer.alloc(4 << 20, 0x61);
  const path = join(dir, 'baseline.bin');
  const fd = openSync(path, 'w');
  const started = process.cpuUsage();
  const chunks = 256; // 1 GiB: as much as a step writes
  for (let i = 0; i < chunks; i++) writeSync(fd, chunk);
  const used = process.cpuUsage(started);
  closeSync(fd);
  rmSync(path);
  return (used.user + used.system) / ((chunks * chunk.length) / octetsPerRecord);
}

/**
 * Exporters the sender plays (BENCH_EXPORTERS, default 1, the one Flow Aggregator of a cluster): each its own
 * source port, so that the collector's decode workers (one exporter session each) can share the stream.
 */
export const BENCH_EXPORTERS = Math.max(1, Number(process.env.BENCH_EXPORTERS ?? 1));

/** Runs the sender at `rate` records/s for `seconds` against `port`; resolves with what it says it sent, and its CPU. */
export async function send(port: number, rate: number, seconds: number, exporter: Exporter, exporters = BENCH_EXPORTERS): Promise<{ records: number; messages: number; cores: number }> {
  const sender = spawn('node', ['--import', 'tsx', SENDER, String(port), String(rate), String(seconds), exporter, String(exporters)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  sender.stdout!.on('data', (c) => (output += c));
  await new Promise((resolve) => sender.on('exit', resolve));
  return JSON.parse(output) as { records: number; messages: number; cores: number };
}

/**
 * Measures one process that receives on `port`: during a step, its CPU and the kernel's drops on the port;
 * `delivered` says how many records reached its output so far.
 */
export async function measureStep(process: ChildProcess, port: number, rate: number, seconds: number, exporter: Exporter,
  delivered: () => Promise<number>, drainMs: number, exporters = BENCH_EXPORTERS): Promise<StepResult> {
  const before = await delivered();
  const dropsBefore = udpDrops(port);
  const cpuBefore = cpuSeconds(process.pid!);
  const systemBefore = systemCpuSeconds(process.pid!);
  const waitBefore = mainThreadWaitSeconds(process.pid!);
  const started = performance.now();
  const { records: sent, cores: senderCores } = await send(port, rate, seconds, exporter, exporters);
  await new Promise((r) => setTimeout(r, drainMs)); // let the process drain its buffers
  const cpu = cpuSeconds(process.pid!) - cpuBefore;
  const system = systemCpuSeconds(process.pid!) - systemBefore;
  const waited = mainThreadWaitSeconds(process.pid!) - waitBefore;
  const elapsed = (performance.now() - started) / 1000;
  const got = (await delivered()) - before;
  return {
    rate, sent, delivered: got, lost: Math.max(0, sent - got), kernelDrops: udpDrops(port) - dropsBefore,
    cpuMicrosPerRecord: got > 0 ? (cpu * 1e6) / got : NaN, systemMicrosPerRecord: got > 0 ? (system * 1e6) / got : NaN, cores: cpu / elapsed, senderCores,
    mainThreadWaiting: waited / elapsed,
  };
}

export async function benchUdp(output: Output, rates: number[], seconds: number, options: {
  exporter?: Exporter; elasticsearchUrl?: string; indexed?: () => number; log?: (line: string) => void;
  /** decoding.workers of the collector (default BENCH_WORKERS, else the collector's default); exporters the sender plays. */
  workers?: number | 'auto'; exporters?: number;
} = {}): Promise<UdpRun> {
  const workers = options.workers ?? process.env.BENCH_WORKERS;
  const exporter = options.exporter ?? 'aggregator';
  const dir = mkdtempSync(join(tmpdir(), 'elkfc-bench-'));
  const port = 47390;
  const httpPort = 47391;
  const outputConfig = {
    null: `output: { sink: 'null' }`,
    file: `output: { sink: file, file: { directory: ${join(dir, 'flows')}, maxTotalBytes: 4294967296 } }`,
    elasticsearch: `output: { sink: elasticsearch }\nelasticsearch: { urls: ['${options.elasticsearchUrl}'], spoolDirectory: ${join(dir, 'spool')}, deadLetterPath: ${join(dir, 'dead.ndjson')} }`,
  }[output];
  writeFileSync(join(dir, 'collector.yml'), [
    `inputs: { udp: { host: 127.0.0.1, port: ${port} }, tcp: { enabled: false } }`,
    `http: { host: 127.0.0.1, port: ${httpPort} }`,
    `decoding: { templateStatePath: null${workers !== undefined ? `, workers: ${workers}` : ''} }`,
    outputConfig,
    `logging: { level: warn }`,
  ].join('\n'));
  // COLLECTOR_NODE_OPTIONS (e.g. --cpu-prof, --trace-gc) to look inside the collector under load.
  const nodeOptions = process.env.COLLECTOR_NODE_OPTIONS?.split(' ').filter(Boolean) ?? [];
  const collector = spawn('node', [...nodeOptions, BIN, 'run', '--config', join(dir, 'collector.yml')], { stdio: ['ignore', 'inherit', 'inherit'], cwd: dir });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (i > 150) throw new Error('collector did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const delivered = options.indexed
      ? async () => options.indexed!()
      : () => scrapeMetric(httpPort, output === 'null' ? 'elkfc_records_decoded_total' : 'elkfc_sink_documents_written_total');
    const steps: StepResult[] = [];
    let best = 0;
    for (const rate of rates) {
      const step = await measureStep(collector, port, rate, seconds, exporter, delivered, output === 'elasticsearch' ? 4000 : 2000, options.exporters);
      steps.push(step);
      options.log?.(`  ${output}: ${rate.toLocaleString('en')} records/s for ${seconds} s: sent ${step.sent}, delivered ${step.delivered}, lost ${step.lost} `
        + `(kernel drops ${step.kernelDrops} datagrams), ${step.cpuMicrosPerRecord.toFixed(1)} µs CPU per record (${step.systemMicrosPerRecord.toFixed(1)} in the kernel), ${step.cores.toFixed(2)} cores (sender ${step.senderCores.toFixed(2)}), `
        + `main thread waiting for a CPU ${(100 * step.mainThreadWaiting).toFixed(1)} % of the step`);
      if (step.lost > 0) break;
      best = rate;
    }
    const run: UdpRun = { steps, peakRssMiB: peakRssMiB(collector.pid!), best };
    if (output === 'file') {
      const flows = join(dir, 'flows');
      // What is on disk, and what the sink deleted to stay within maxTotalBytes (a fast run writes more than 4 GiB).
      const octets = readdirSync(flows).reduce((n, name) => n + statSync(join(flows, name)).size, 0)
        + await scrapeMetric(httpPort, 'elkfc_sink_discarded_bytes_total');
      run.fileOctetsPerRecord = octets / steps.reduce((n, s) => n + s.delivered, 0);
      run.fileSystemMicrosPerRecord = fileSystemCost(dir, run.fileOctetsPerRecord);
    }
    return run;
  } finally {
    collector.kill('SIGTERM');
    await new Promise((resolve) => collector.on('exit', resolve));
    rmSync(dir, { recursive: true, force: true }); // a step writes a GiB or so of flows
    settleFileSystem();
  }
}
