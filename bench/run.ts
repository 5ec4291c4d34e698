// npm run bench: the figures the README reports, against issue #11's targets, on realistic Antrea records
// (bench/cluster.ts). Exits 1 when a target is missed. BENCH_SECONDS (in-process trials) and BENCH_UDP_SECONDS
// (per UDP step) shorten or lengthen it; BENCH_ONLY=decode|stages|udp|peers runs one part.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { applyV8Flags } from '../collector/src/cli/v8-flags.js';
import { loadConfig } from '../collector/src/config/load.js';
import { workerCount } from '../collector/src/pipeline/workers.js';
import { startFakeElasticsearch } from '../test/support/fake-elasticsearch.js';
import { benchDecode } from './decode.js';
import { benchPeer, installedPeers, type PeerResult } from './peers.js';
import { formatSpread } from './proc.js';
import { benchStages } from './stages.js';
import { BENCH_EXPORTERS, benchUdp, type UdpRun } from './udp.js';

// The in-process rows run with the collector process's V8 settings (the UDP rows run the collector itself).
applyV8Flags();

const TARGETS = { decodeMicros: 8, outputMicros: 10, udpRate: 100_000, peakRssMiB: 256 };
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const udpSeconds = Number(process.env.BENCH_UDP_SECONDS ?? 10);
const only = process.env.BENCH_ONLY;
const log = (line: string) => console.error(line);

const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
log(`${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model}), net.core.rmem_max ${rmemMax}`);
if (rmemMax < 32 << 20) log('  warning: net.core.rmem_max is below 32 MiB: the UDP figures are not comparable (sysctl -w net.core.rmem_max=33554432)');

const rows: [string, string, string, boolean | undefined][] = [];
const row = (name: string, value: string, target = '', met?: boolean) => rows.push([name, value, target, met]);
const micros = (n: number) => `${n.toFixed(1)} µs`;

if (!only || only === 'decode') {
  for (const exporter of ['aggregator', 'agent'] as const) {
    log(`decode + enrich + _id + serialise, one thread, ${exporter} records...`);
    const d = benchDecode(exporter, seconds);
    log(`  ${formatSpread(d.cpuMicrosPerRecord)} µs CPU per record, ${Math.round(d.recordsPerSec.median).toLocaleString('en')} records/s, `
      + `${d.octetsPerRecord.toFixed(0)} JSON octets per record, ${d.recordsPerMessage.toFixed(2)} records per message`);
    row(`decode + enrich + serialise, CPU per record (median, min–max of 5), ${exporter === 'aggregator' ? 'Flow Aggregator' : 'agent'} records `
      + `(${d.octetsPerRecord.toFixed(0)} B of JSON each, ${d.recordsPerMessage.toFixed(2)} per message)`,
      `${formatSpread(d.cpuMicrosPerRecord)} µs`, exporter === 'aggregator' ? `≤ ${TARGETS.decodeMicros} µs` : '',
      exporter === 'aggregator' ? d.cpuMicrosPerRecord.median <= TARGETS.decodeMicros : undefined);
  }
  log('the same without the ECS fields (document.ecs: false), Flow Aggregator records...');
  const logstashShape = benchDecode('aggregator', seconds, 5, { ecs: false });
  log(`  ${formatSpread(logstashShape.cpuMicrosPerRecord)} µs CPU per record, ${logstashShape.octetsPerRecord.toFixed(0)} JSON octets per record`);
  row(`  the same with document.ecs: false (${logstashShape.octetsPerRecord.toFixed(0)} B each): what the ECS fields cost is the difference`,
    `${formatSpread(logstashShape.cpuMicrosPerRecord)} µs`);
  // Where the time goes, by difference: the same records decoded only, then decoded and enriched (nothing serialised).
  log('decode only, then decode + enrich (no serialisation), Flow Aggregator records...');
  const decodeOnly = benchDecode('aggregator', seconds, 5, { ecs: false, enrich: false, serialise: false });
  const enriched = benchDecode('aggregator', seconds, 5, { ecs: false, serialise: false });
  log(`  ${formatSpread(decodeOnly.cpuMicrosPerRecord)} µs, ${formatSpread(enriched.cpuMicrosPerRecord)} µs`);
  row('  of which decoding alone (templates compiled, one object per record)', `${formatSpread(decodeOnly.cpuMicrosPerRecord)} µs`);
  row('  decoding and enrichment (nothing serialised): enrichment is the difference', `${formatSpread(enriched.cpuMicrosPerRecord)} µs`);
}

if (!only || only === 'stages') {
  // The serialising taken apart: each part of the same documents written alone, in turn, round after round.
  log('each part of the documents written alone, Flow Aggregator records...');
  for (const [stage, cpu] of benchStages()) {
    log(`  ${stage}: ${formatSpread(cpu, 2)} µs`);
    row(`  written alone, Flow Aggregator documents: ${stage} (median, min–max of 10 rounds)`, `${formatSpread(cpu, 2)} µs`);
  }
}

let ours: UdpRun | undefined;
if (!only || only === 'udp') {
  const rates = [50_000, 75_000, 100_000, 125_000];
  log(`UDP into the running collector from ${BENCH_EXPORTERS} exporter${BENCH_EXPORTERS === 1 ? '' : 's'} (BENCH_EXPORTERS), decoding.workers ${process.env.BENCH_WORKERS ?? 'default'} (BENCH_WORKERS), null sink (it still serialises every document)...`);
  ours = await benchUdp('null', rates, udpSeconds, { log });
  const atTarget = ours.steps.find((s) => s.rate === TARGETS.udpRate);
  row('UDP, null sink: highest step with zero loss', `${ours.best.toLocaleString('en')} records/s`, `≥ ${TARGETS.udpRate.toLocaleString('en')}`, ours.best >= TARGETS.udpRate);
  row('  collector CPU per record at each step (in brackets, the kernel\'s part: receive) and the share of the step its main thread waited for a CPU', ours.steps.map((s) => `${s.rate / 1000}k: ${micros(s.cpuMicrosPerRecord)} (${micros(s.systemMicrosPerRecord)}), waiting ${(100 * s.mainThreadWaiting).toFixed(1)} %${s.lost ? `, lost ${((100 * s.lost) / s.sent).toFixed(1)} %` : ''}`).join('; '), '');
  row('  collector peak memory (VmHWM)', `${ours.peakRssMiB.toFixed(0)} MiB`, `≤ ${TARGETS.peakRssMiB} MiB`, ours.peakRssMiB <= TARGETS.peakRssMiB && atTarget !== undefined);
  // Decode workers beside the main thread: four exporters (so that both workers get some), 50,000 records/s in all.
  for (const workers of [0, 'auto'] as const) {
    log(`UDP, null sink, 4 exporters, decoding.workers ${workers}...`);
    const run = await benchUdp('null', [50_000], udpSeconds, { log, workers, exporters: 4 });
    const [step] = run.steps;
    row(`UDP, null sink, 4 exporters, decoding.workers ${workers}${workers === 'auto' ? ` (${workerCount(loadConfig(undefined, { ELKFC_DECODING_WORKERS: 'auto' }))} here)` : ''}, 50,000 records/s`,
      `${step.lost ? `lost ${((100 * step.lost) / step.sent).toFixed(1)} %` : 'no loss'}, ${micros(step.cpuMicrosPerRecord)} CPU per record, ${step.cores.toFixed(2)} cores, ${run.peakRssMiB.toFixed(0)} MiB`, '');
  }
  for (const output of ['file', 'elasticsearch'] as const) {
    log(`UDP into the collector, ${output} output${output === 'elasticsearch' ? ' to a local _bulk stand-in (in this process, not counted)' : ''}...`);
    const es = output === 'elasticsearch' ? await startFakeElasticsearch() : undefined;
    if (es) es.faults.idsOnly = true;
    const run = await benchUdp(output, [50_000, 100_000], udpSeconds, { log, elasticsearchUrl: es?.url, indexed: es ? () => es.received.size : undefined });
    await es?.close();
    const worst = Math.max(...run.steps.map((s) => s.cpuMicrosPerRecord));
    row(`UDP, ${output} output: highest step with zero loss`, `${run.best.toLocaleString('en')} records/s`, `≥ ${TARGETS.udpRate.toLocaleString('en')}`, run.best >= TARGETS.udpRate);
    row(`  collector CPU per record (${output} output's own included; in brackets, the kernel's part) and the share of the step its main thread waited for a CPU`,
      run.steps.map((s) => `${s.rate / 1000}k: ${micros(s.cpuMicrosPerRecord)} (${micros(s.systemMicrosPerRecord)}), waiting ${(100 * s.mainThreadWaiting).toFixed(1)} %`).join(', '),
      `≤ ${TARGETS.outputMicros} µs`, worst <= TARGETS.outputMicros);
    if (run.fileSystemMicrosPerRecord !== undefined) {
      log(`  the file system alone: ${micros(run.fileSystemMicrosPerRecord)} CPU per record (${run.fileOctetsPerRecord!.toFixed(0)} octets each, bare 4 MiB writes)`);
      row(`  of which the file system's own cost: the same octets (${run.fileOctetsPerRecord!.toFixed(0)} per record) written by a bare loop of 4 MiB writes into the same directory`,
        `${micros(run.fileSystemMicrosPerRecord)} CPU per record`, '');
    }
    row('  collector peak memory (VmHWM)', `${run.peakRssMiB.toFixed(0)} MiB`, `≤ ${TARGETS.peakRssMiB} MiB`, run.peakRssMiB <= TARGETS.peakRssMiB);
  }
}

if (!only || only === 'peers') {
  const peers = installedPeers();
  if (peers.length === 0) log('nfcapd (Debian nfdump) and nfacctd (Debian pmacct) are not installed: no comparison');
  const rate = 50_000;
  const reference = ours?.steps.find((s) => s.rate === rate);
  for (const name of peers) {
    log(`${name} on the same stream, ${rate.toLocaleString('en')} records/s...`);
    const peer: PeerResult = await benchPeer(name, 47400, rate, udpSeconds, 'aggregator');
    log(`  ${micros(peer.cpuMicrosPerRecord)} CPU per record, lost ${peer.lostRecords} of ${peer.sent}${peer.outputOctetsPerRecord ? `, ${peer.outputOctetsPerRecord.toFixed(0)} output octets per record` : ''}`);
    const ratio = reference ? ` — ours ${(reference.cpuMicrosPerRecord / peer.cpuMicrosPerRecord).toFixed(1)}× its CPU` : '';
    row(`${name} ${peer.version}, same stream at ${rate / 1000}k records/s: CPU per record`, `${micros(peer.cpuMicrosPerRecord)}${ratio}`, '');
  }
}

console.log('| measure | result | target | met |\n| --- | --- | --- | --- |');
for (const [name, value, target, met] of rows) console.log(`| ${name} | ${value} | ${target} | ${met === undefined ? '' : met ? 'yes' : 'NO'} |`);
process.exit(rows.every(([, , , met]) => met !== false) ? 0 : 1);
