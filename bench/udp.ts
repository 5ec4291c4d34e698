// The running collector (the installed command, null sink: it still serialises every document) under a steady
// UDP stream of Antrea records from another process: the highest record rate it holds with zero loss, and its
// peak memory. Loss is what was sent minus what was decoded; the collector's sequence counter must agree.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrapeMetric } from '../test/support/wait.js';

const BIN = new URL('../bin/elk-flow-collector.js', import.meta.url).pathname;

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

export interface UdpStep {
  rate: number;
  sent: number;
  decoded: number;
  lost: number;
  sequenceLost: number;
}

/**
 * `null`: the collector serialises and discards. An Elasticsearch URL: the collector ships to it with its
 * Elasticsearch output, and `indexed` (read at the server) counts what arrived.
 */
export interface UdpTarget {
  elasticsearchUrl?: string;
  indexed?: () => number;
}

export async function benchUdp(rates: number[], seconds: number, target: UdpTarget = {}): Promise<{ steps: UdpStep[]; peakRssMiB: number; best: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'elkfc-bench-'));
  const port = 47390;
  const httpPort = 47391;
  writeFileSync(join(dir, 'collector.yml'), [
    `inputs: { udp: { host: 127.0.0.1, port: ${port} }, tcp: { enabled: false } }`,
    `http: { host: 127.0.0.1, port: ${httpPort} }`,
    `decoding: { templateStatePath: null }`,
    target.elasticsearchUrl
      ? `output: { sink: elasticsearch }\nelasticsearch: { urls: ['${target.elasticsearchUrl}'], spoolDirectory: ${join(dir, 'spool')}, maxInFlightRequests: 4, batchMaxDocuments: 2000, batchMaxBytes: 5242880 }`
      : `output: { sink: 'null' }`,
    `logging: { level: warn }`,
  ].join('\n'));
  // COLLECTOR_NODE_OPTIONS (e.g. --cpu-prof, --trace-gc) to look inside the collector under load.
  const nodeOptions = process.env.COLLECTOR_NODE_OPTIONS?.split(' ').filter(Boolean) ?? [];
  const collector = spawn('node', [...nodeOptions, BIN, 'run', '--config', join(dir, 'collector.yml')], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    for (let i = 0; ; i++) {
      try {
        await fetch(`http://127.0.0.1:${httpPort}/readyz`);
        break;
      } catch {
        if (i > 100) throw new Error('collector did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const steps: UdpStep[] = [];
    let best = 0;
    for (const rate of rates) {
      const before = target.indexed ? target.indexed() : await scrapeMetric(httpPort, 'elkfc_records_decoded_total');
      const sequenceBefore = await scrapeMetric(httpPort, 'elkfc_sequence_lost_total');
      const sender = spawn('node', ['--import', 'tsx', new URL('./sender.ts', import.meta.url).pathname, String(port), String(rate), String(seconds)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      sender.stdout.on('data', (c) => (output += c));
      await new Promise((resolve) => sender.on('exit', resolve));
      await new Promise((r) => setTimeout(r, target.indexed ? 3000 : 1500)); // let the collector drain its buffers
      const { records } = JSON.parse(output) as { records: number };
      const decoded = (target.indexed ? target.indexed() : await scrapeMetric(httpPort, 'elkfc_records_decoded_total')) - before;
      const sequenceLost = (await scrapeMetric(httpPort, 'elkfc_sequence_lost_total')) - sequenceBefore;
      const step = { rate, sent: records, decoded, lost: records - decoded, sequenceLost };
      steps.push(step);
      console.error(`  ${rate} records/s for ${seconds} s: sent ${records}, ${target.indexed ? 'indexed' : 'decoded'} ${decoded}, ${target.indexed ? 'not indexed 3 s after the sender stopped' : 'lost'} ${step.lost} (collector counted ${sequenceLost} by sequence numbers)`);
      if (step.lost > 0) break;
      best = rate;
    }
    return { steps, peakRssMiB: peakRssMiB(collector.pid!), best };
  } finally {
    collector.kill('SIGTERM');
  }
}
