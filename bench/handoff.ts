// The main thread's cost per datagram handed to the decode workers (the receive itself excluded): the collector
// in this process, null sink, and datagrams handed to it as its UDP input hands them over, at a steady rate. The
// main thread's CPU time (its own task in /proc, not the workers') during the run, less that of the pacing loop
// alone, per datagram; it includes taking the workers' answers. With decoding.workers 0 the same figure is the
// whole decode on the main thread, for comparison. Datagrams the workers cannot keep up with are dropped
// (counted; printed), which is cheaper than handing them over.
// Usage: node --import tsx bench/handoff.ts [DATAGRAMS_PER_SEC=75000] [SECONDS=3] [WORKERS=2] [EXPORTERS=4]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadConfig } from '../collector/src/config/load.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import type { ExporterSessionKey } from '../collector/src/session/template-session.js';
import { counter } from '../test/support/offline.js';
import { ipfixStream, makeCluster } from './cluster.js';

const [rate = 75_000, seconds = 3, workers = 2, exporterCount = 4] = process.argv.slice(2).map(Number);
const stream = ipfixStream(makeCluster(42), 'aggregator', 30_000, 42);
const exporters: ExporterSessionKey[] = Array.from({ length: exporterCount }, (_, i) => ({ key: `udp:127.0.0.1:${40000 + i}`, address: '127.0.0.1', expires: true }));

/** CPU seconds of the main thread alone (its task's utime + stime in /proc; Linux), not the workers'. */
function mainThreadCpuSeconds(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ 100)
}

/** Runs `deliver` `rate` times a second for `seconds`, paced by a 1 ms timer (the thread sleeps between); its main-thread CPU µs. */
async function paced(deliver: (i: number) => void): Promise<{ cpuMicros: number; handMicros: number; count: number }> {
  const before = mainThreadCpuSeconds();
  const started = performance.now();
  let count = 0;
  let handMicros = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) * rate) / 1000);
    const t = performance.now();
    while (count < due) deliver(count++);
    handMicros += (performance.now() - t) * 1000;
    await new Promise((r) => setTimeout(r, 1));
  }
  await collector.workers?.flush(); // the answers are main-thread work too
  return { cpuMicros: (mainThreadCpuSeconds() - before) * 1e6, handMicros, count };
}

const config = loadConfig(undefined, {
  ELKFC_INPUTS_UDP_ENABLED: 'false', ELKFC_INPUTS_TCP_ENABLED: 'false', ELKFC_HTTP_ENABLED: 'false',
  ELKFC_OUTPUT_SINK: '"null"', ELKFC_DECODING_TEMPLATE_STATE_PATH: 'null', ELKFC_DECODING_WORKERS: String(workers),
});
const collector = new Collector(config, pino({ level: 'warn' }));
await collector.start();
const handlers = collector as unknown as { submit(m: Buffer, e: ExporterSessionKey, t: number): void; deliver(d: unknown[]): void; pipeline: Collector['pipeline'] };
const hand = workers > 0
  ? (m: Buffer, e: ExporterSessionKey) => handlers.submit(m, e, Date.now())
  : (m: Buffer, e: ExporterSessionKey) => handlers.deliver(handlers.pipeline.process(m, e, Date.now()));
for (const e of exporters) for (const t of stream.templates) hand(t, e);
// Copies as the UDP input's datagrams are: one Buffer each, made before the measurement.
const datagrams = Array.from({ length: 4096 }, (_, i) => Buffer.from(stream.messages[i % stream.messages.length]));
const idle = await paced(() => {});
const processBefore = process.cpuUsage();
const busy = await paced((i) => hand(datagrams[i & 4095], exporters[i % exporterCount]));
const processCpu = process.cpuUsage(processBefore);
const decoded = await counter(collector.events.metrics, 'elkfc_records_decoded_total');
const dropped = await counter(collector.events.metrics, 'elkfc_packets_dropped_total');
await collector.stop();
const perDatagram = (busy.cpuMicros - idle.cpuMicros) / busy.count;
console.log(JSON.stringify({
  workers, exporters: exporterCount, datagramsPerSec: rate, seconds, datagrams: busy.count, recordsDecoded: decoded, datagramsDropped: dropped,
  mainThreadMicrosPerDatagram: Number(perDatagram.toFixed(2)),
  // The hand-over calls alone (wall time inside them): submit, or with 0 workers the whole decode.
  handOverMicrosPerDatagram: Number((busy.handMicros / busy.count).toFixed(2)), pacingLoopCpuMs: Math.round(idle.cpuMicros / 1000),
  // Every thread (main and workers) less the pacing loop's: the whole cost per record decoded.
  processMicrosPerRecord: Number(((processCpu.user + processCpu.system - idle.cpuMicros) / Math.max(1, decoded)).toFixed(1)),
}));
process.exit(0);
