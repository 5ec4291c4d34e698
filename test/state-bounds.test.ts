// Per-exporter state outside the template session stays bounded however many exporters (or spoofed sources) there are.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ThroughputTracker } from '../collector/src/enrich/throughput.js';
import { SequenceTracker } from '../collector/src/session/sequence.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';

describe('bounded per-exporter state', () => {
  it('sequence state: past its bound the oldest session is forgotten (it resynchronises: no loss counted)', () => {
    const tracker = new SequenceTracker(3);
    for (const exporter of ['a', 'b', 'c']) tracker.observe(exporter, 1, 100, 10);
    expect(tracker.observe('a', 1, 115, 10)).toEqual({ kind: 'lost', count: 5 }); // known: the gap counts
    tracker.observe('d', 1, 0, 10); // a fourth: 'a' (the oldest) goes
    expect(tracker.observe('a', 1, 200, 10)).toEqual({ kind: 'in_order' });
    expect(tracker.observe('c', 1, 112, 10)).toEqual({ kind: 'lost', count: 2 }); // 'b' went for 'a'; 'c' is still known
    expect(tracker.observe('b', 1, 500, 10)).toEqual({ kind: 'in_order' });
  });

  it('throughput state: a key an exporter makes arbitrarily long is kept as a short hash', () => {
    const tracker = new ThroughputTracker(10, 3_600_000);
    const long = `10.0.0.1|${'x'.repeat(60_000)}:1->${'y'.repeat(4000)}:80 TCP`;
    expect(tracker.interval(long, 0, 10_000, 0)).toBe(10);
    expect(tracker.interval(long, 0, 25_000, 0)).toBe(15);
    expect(tracker.interval(`${long}z`, 0, 25_000, 0)).toBe(25); // a different flow
    const keys = [...(tracker as unknown as { lastEndMs: Map<string, unknown> }).lastEndMs.keys()];
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key.length).toBeLessThanOrEqual(256);
  });

  it('log rate-limit state: at most 10,000 keys, however many exporters report sequence gaps', () => {
    const events = new InternalEvents(createMetrics(), pino({ level: 'silent' }));
    for (let i = 0; i < 25_000; i++) events.sequenceLoss(`udp:10.0.${i >> 8}.${i & 255}:4739`, 0, 10, 1);
    expect((events as unknown as { lastLog: Map<string, unknown> }).lastLog.size).toBeLessThanOrEqual(10_000);
  });
});
