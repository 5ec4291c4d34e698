// npm run bench: the figures the README reports, against the targets. Exits 1 when a target is missed.
import { cpus } from 'node:os';
import { startFakeElasticsearch } from '../test/support/fake-elasticsearch.js';
import { benchDecode } from './decode.js';
import { benchUdp } from './udp.js';

const DECODE_TARGET = 150_000;
const UDP_TARGET = 50_000;

console.error(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}`);
console.error('decode + enrich + serialise (Antrea Flow Aggregator records, one core)...');
const decode = benchDecode(Number(process.env.BENCH_SECONDS ?? 10));
console.error('UDP into the running collector (null sink)...');
const udp = await benchUdp([25_000, 50_000, 75_000, 100_000, 125_000], Number(process.env.BENCH_UDP_SECONDS ?? 10));
console.error('UDP into the collector, shipped with its Elasticsearch output to a local server that answers _bulk...');
const es = await startFakeElasticsearch();
es.faults.idsOnly = true;
const shipped = await benchUdp([50_000, 75_000], Number(process.env.BENCH_UDP_SECONDS ?? 10), { elasticsearchUrl: es.url, indexed: () => es.received.size });
await es.close();
const ES_TARGET = 50_000;

const rows = [
  ['decode + enrich + serialise, one core', `${Math.round(decode.recordsPerSec).toLocaleString('en')} records/s`, `≥ ${DECODE_TARGET.toLocaleString('en')}`, decode.recordsPerSec >= DECODE_TARGET],
  ['UDP sustained with zero loss', `${udp.best.toLocaleString('en')} records/s`, `≥ ${UDP_TARGET.toLocaleString('en')}`, udp.best >= UDP_TARGET],
  ['collector peak memory (VmHWM)', `${udp.peakRssMiB.toFixed(0)} MiB`, '', true],
  ['shipped to Elasticsearch (local _bulk server), zero loss', `${shipped.best.toLocaleString('en')} documents/s`, `≥ ${ES_TARGET.toLocaleString('en')}`, shipped.best >= ES_TARGET],
  ['collector peak memory, shipping (VmHWM)', `${shipped.peakRssMiB.toFixed(0)} MiB`, '', true],
] as const;
console.log('| measure | result | target | met |\n| --- | --- | --- | --- |');
for (const [name, value, target, met] of rows) console.log(`| ${name} | ${value} | ${target} | ${target ? (met ? 'yes' : 'NO') : ''} |`);
console.log(`\nrecords of ${decode.octetsPerRecord.toFixed(0)} JSON octets, ${decode.messageOctets}-octet messages of 3 records`);
process.exit(rows.every(([, , , met]) => met) ? 0 : 1);
