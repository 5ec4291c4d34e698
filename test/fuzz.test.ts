// Bad input never crashes the collector and never disturbs another exporter: thousands of mutated real packets
// from one exporter, interleaved with a clean exporter whose every record must still decode exactly.
import { describe, expect, it } from 'vitest';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { counter, testPipeline, udpExporter } from './support/offline.js';
import { mutate, random, seedPackets } from './fuzz/mutate.js';

const CASES = 5000;

describe('fuzzing with mutated real packets', () => {
  it(`${CASES} cases: no throw, no internal error, the clean exporter unaffected`, async () => {
    const { pipeline, metrics } = testPipeline({ pending: { maxSets: 100, maxBytes: 1 << 20, maxAgeMs: 60_000 } });
    const seeds = seedPackets();
    const next = random(0x5eed);
    const fuzzed = udpExporter('198.51.100.66', 2055);
    const clean = udpExporter('198.51.100.1', 4739);
    const layout = aggregatorLayout(4);
    const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 1 });
    pipeline.process(templateMessage(header(0), 300, layout), clean, 0);
    let cleanRecords = 0;
    for (let i = 0; i < CASES; i++) {
      const seed = seeds[Math.floor(next() * seeds.length)];
      // Same domain and template ids as the clean exporter on purpose: state must stay apart.
      expect(() => pipeline.process(mutate(seed, next), fuzzed, i)).not.toThrow();
      if (i % 10 === 0) {
        const docs = pipeline.process(dataMessage(header(cleanRecords), 300, layout, [aggregatorRecord(i)]), clean, i);
        expect(docs).toHaveLength(1);
        expect(docs[0].fields.sourcePodName).toBe(`client-${i % 50}`);
        expect(docs[0].fields.octetTotalCount).toBe(10_000 + i * 100);
        cleanRecords++;
      }
    }
    expect(await counter(metrics, 'elkfc_decode_errors_total', { kind: 'internal_error' })).toBe(0);
    expect(await counter(metrics, 'elkfc_decode_errors_total')).toBeGreaterThan(CASES / 10);
  });
});
