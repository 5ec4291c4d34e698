// The long fuzz run: `npm run fuzz` (FUZZ_CASES, default 1,000,000; FUZZ_SEED to vary or replay).
// Exits non-zero, printing the seed and the packet in hex, on the first internal error or throw.
import { testPipeline } from '../support/offline.js';
import { mutate, random, seedPackets } from './mutate.js';

const cases = Number(process.env.FUZZ_CASES ?? 1_000_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const { pipeline, events } = testPipeline({ pending: { maxSets: 1000, maxBytes: 1 << 22, maxAgeMs: 60_000 } });
const seeds = seedPackets();
const next = random(seed);
const exporter = { key: 'udp:198.51.100.66:2055', address: '198.51.100.66', expires: true };
const started = Date.now();
for (let i = 0; i < cases; i++) {
  const packet = mutate(seeds[Math.floor(next() * seeds.length)], next);
  try {
    pipeline.process(packet, exporter, i);
  } catch (error) {
    console.error(`throw at case ${i} (seed ${seed}): ${(error as Error).stack}\n${packet.toString('hex')}`);
    process.exit(1);
  }
  if (i % 1000 === 0) pipeline.housekeeping(i);
}
const internal = (await events.metrics.decodeErrors.get()).values.find((v) => v.labels.kind === 'internal_error')?.value ?? 0;
console.log(`${cases} cases (seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s; internal errors: ${internal}`);
process.exit(internal === 0 ? 0 : 1);
