import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exporterKey } from '../collector/src/inputs/types.js';
import { TemplatePersistence } from '../collector/src/session/persistence.js';
import { SequenceTracker } from '../collector/src/session/sequence.js';
import type { ExporterSessionKey } from '../collector/src/session/template-session.js';
import { dataMessage, templateMessage, type LayoutField } from './support/antrea-encoder.js';
import { counter, decodeAll, testPipeline, udpExporter } from './support/offline.js';

const layoutA: LayoutField[] = [
  { name: 'sourceIPv4Address', enterprise: 0, id: 8, type: 'ipv4' },
  { name: 'sourcePodName', enterprise: 56506, id: 101, type: 'string' },
];
const layoutB: LayoutField[] = [
  { name: 'destinationTransportPort', enterprise: 0, id: 11, type: 'u16' },
  { name: 'octetDeltaCount', enterprise: 0, id: 1, type: 'u64' },
];
const h = (sequence: number, domain = 1) => ({ exportTimeSecs: 1_700_000_000, sequence, domain });
const fieldsOf = (docs: ReturnType<typeof decodeAll>) => docs.map((d) => d.fields);

describe('template state per exporter session and observation domain', () => {
  it('two exporters with the same domain and template id never corrupt each other', () => {
    const { pipeline } = testPipeline({ enrichment: undefined });
    const one = udpExporter('10.0.0.1', 4000);
    const two = udpExporter('10.0.0.2', 4000);
    decodeAll(pipeline, [templateMessage(h(0), 256, layoutA)], one);
    decodeAll(pipeline, [templateMessage(h(0), 256, layoutB)], two);
    const a = decodeAll(pipeline, [dataMessage(h(0), 256, layoutA, [{ sourceIPv4Address: '1.1.1.1', sourcePodName: 'p' }])], one);
    const b = decodeAll(pipeline, [dataMessage(h(0), 256, layoutB, [{ destinationTransportPort: 53, octetDeltaCount: 99 }])], two);
    expect(fieldsOf(a)).toMatchObject([{ sourceIPv4Address: '1.1.1.1', sourcePodName: 'p' }]);
    expect(fieldsOf(b)).toMatchObject([{ destinationTransportPort: 53, octetDeltaCount: 99 }]);
    expect(a[0].host).toBe('10.0.0.1');
  });

  it('compiles a template once for every exporter that sends it, and apart from any that differs', () => {
    const { pipeline } = testPipeline({ enrichment: undefined });
    const exporters = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((a) => udpExporter(a, 4739));
    for (const e of exporters) decodeAll(pipeline, [templateMessage(h(0), 256, layoutA)], e);
    decodeAll(pipeline, [templateMessage(h(0, 2), 256, layoutB)], exporters[0]);
    const [one, two, three] = exporters.map((e) => pipeline.session.template(e, 1, 256));
    expect(one).toBeDefined();
    expect(two).toBe(one);
    expect(three).toBe(one);
    expect(pipeline.session.template(exporters[0], 2, 256)).not.toBe(one);
    const docs = exporters.flatMap((e, i) => decodeAll(pipeline, [dataMessage(h(1), 256, layoutA, [{ sourceIPv4Address: `1.1.1.${i}`, sourcePodName: `p${i}` }])], e));
    expect(docs.map((d) => [d.host, d.fields.sourcePodName])).toEqual([['10.0.0.1', 'p0'], ['10.0.0.2', 'p1'], ['10.0.0.3', 'p2']]);
  });

  it('keys by source port too, and by observation domain', () => {
    const { pipeline } = testPipeline({ enrichment: undefined });
    decodeAll(pipeline, [templateMessage(h(0, 1), 256, layoutA)], udpExporter('10.0.0.1', 4000));
    decodeAll(pipeline, [templateMessage(h(0, 2), 256, layoutB)], udpExporter('10.0.0.1', 4000));
    const other = decodeAll(pipeline, [dataMessage(h(0, 1), 256, layoutA, [{ sourcePodName: 'x' }])], udpExporter('10.0.0.1', 4001));
    expect(other).toEqual([]); // held: that session has no template
    const d2 = decodeAll(pipeline, [dataMessage(h(0, 2), 256, layoutB, [{ destinationTransportPort: 1 }])], udpExporter('10.0.0.1', 4000));
    expect(fieldsOf(d2)).toMatchObject([{ destinationTransportPort: 1 }]);
  });

  it('withdraws a template (RFC 7011 §8.1) and all templates with id 2', async () => {
    const { pipeline, metrics } = testPipeline({ enrichment: undefined });
    const withdrawal = (id: number) => {
      const m = Buffer.alloc(24);
      m.writeUInt16BE(10, 0); m.writeUInt16BE(24, 2); m.writeUInt32BE(1, 12);
      m.writeUInt16BE(2, 16); m.writeUInt16BE(8, 18); m.writeUInt16BE(id, 20); m.writeUInt16BE(0, 22);
      return m;
    };
    decodeAll(pipeline, [templateMessage(h(0), 256, layoutA), templateMessage(h(0), 257, layoutB)]);
    expect(pipeline.session.stats().templates).toBe(2);
    decodeAll(pipeline, [withdrawal(256)]);
    expect(pipeline.session.stats().templates).toBe(1);
    decodeAll(pipeline, [withdrawal(2)]);
    expect(pipeline.session.stats().templates).toBe(0);
    expect(await counter(metrics, 'elkfc_templates_withdrawn_total')).toBe(2);
  });

  it('expires UDP templates after the timeout, keeps TCP ones until the connection closes', async () => {
    const { pipeline, metrics } = testPipeline({ enrichment: undefined, templateTimeoutMs: 1000 });
    const tcp: ExporterSessionKey = { key: 'tcp:10.0.0.9:5555', address: '10.0.0.9', expires: false };
    decodeAll(pipeline, [templateMessage(h(0), 256, layoutA)], udpExporter(), 0);
    decodeAll(pipeline, [templateMessage(h(0), 256, layoutA)], tcp, 0);
    pipeline.housekeeping(500);
    expect(pipeline.session.stats().templates).toBe(2);
    pipeline.housekeeping(1501);
    expect(pipeline.session.stats().templates).toBe(1);
    expect(await counter(metrics, 'elkfc_templates_expired_total')).toBe(1);
    pipeline.closeExporter(tcp);
    expect(pipeline.session.stats().templates).toBe(0);
  });

  it('holds data that arrives before its template and decodes it when the template comes', async () => {
    const { pipeline, metrics } = testPipeline({ enrichment: undefined });
    const early = decodeAll(pipeline, [
      dataMessage(h(0), 256, layoutA, [{ sourcePodName: 'first' }]),
      dataMessage(h(1), 256, layoutA, [{ sourcePodName: 'second' }]),
    ]);
    expect(early).toEqual([]);
    expect(pipeline.session.stats().pendingSets).toBe(2);
    const late = decodeAll(pipeline, [templateMessage(h(2), 256, layoutA)]);
    expect(late.map((d) => d.fields.sourcePodName)).toEqual(['first', 'second']);
    expect(pipeline.session.stats().pendingSets).toBe(0);
    expect(await counter(metrics, 'elkfc_pending_sets_held_total')).toBe(2);
  });

  it('bounds held data by count, bytes and age, and counts what it drops', async () => {
    const { pipeline, metrics } = testPipeline({ enrichment: undefined, pending: { maxSets: 2, maxBytes: 1 << 20, maxAgeMs: 1000 } });
    decodeAll(pipeline, [0, 1, 2].map((i) => dataMessage(h(i), 256, layoutA, [{ sourcePodName: `n${i}` }])), udpExporter(), 0);
    expect(pipeline.session.stats().pendingSets).toBe(2);
    expect(await counter(metrics, 'elkfc_pending_sets_expired_total', { reason: 'bound' })).toBe(1);
    pipeline.housekeeping(2000);
    expect(pipeline.session.stats().pendingSets).toBe(0);
    expect(await counter(metrics, 'elkfc_pending_sets_expired_total', { reason: 'age' })).toBe(2);

    const small = testPipeline({ enrichment: undefined, pending: { maxSets: 100, maxBytes: 30, maxAgeMs: 1000 } });
    decodeAll(small.pipeline, [0, 1].map((i) => dataMessage(h(i), 256, layoutA, [{ sourcePodName: 'x'.repeat(20) }])));
    expect(small.pipeline.session.stats().pendingSets).toBe(1);
  });

  it('counts records lost in transit from IPFIX sequence numbers', async () => {
    const { pipeline, metrics } = testPipeline({ enrichment: undefined });
    const rec = [{ sourcePodName: 'a' }, { sourcePodName: 'b' }];
    decodeAll(pipeline, [
      templateMessage(h(0), 256, layoutA),
      dataMessage(h(0), 256, layoutA, rec), // records 0-1
      dataMessage(h(2), 256, layoutA, rec), // 2-3
      dataMessage(h(9), 256, layoutA, rec), // 4-8 lost
      dataMessage(h(3), 256, layoutA, rec), // reordered or restarted: no loss counted
      dataMessage(h(11), 256, layoutA, rec), // follows 9-10: it was a reordering, nothing more lost
    ]);
    expect(await counter(metrics, 'elkfc_sequence_lost_total', { version: '10' })).toBe(5);
    expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'backwards', version: '10' })).toBe(1);
    expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'gap' })).toBe(0);
  });

  it('resynchronises after an exporter reset, and counts IPFIX records modulo 2^32', async () => {
    const { pipeline, metrics } = testPipeline({ enrichment: undefined });
    const rec = [{ sourcePodName: 'a' }, { sourcePodName: 'b' }];
    decodeAll(pipeline, [
      templateMessage(h(0xfffffffe), 256, layoutA),
      dataMessage(h(0xfffffffe), 256, layoutA, rec), // records 2^32-2, 2^32-1
      dataMessage(h(0), 256, layoutA, rec), // wraps to 0: in order
      dataMessage(h(2), 256, layoutA, rec),
      templateMessage(h(0), 256, layoutA), // the exporter restarted
      dataMessage(h(0), 256, layoutA, rec),
      dataMessage(h(2), 256, layoutA, rec), // follows the restart: nothing lost
    ]);
    expect(await counter(metrics, 'elkfc_sequence_lost_total')).toBe(0);
    expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'backwards' })).toBe(1);
  });

  it('sequence tracker: late messages, resets and wrap-around are never loss', () => {
    const run = (steps: [number, number][], reliable = false) => {
      const tracker = new SequenceTracker();
      return steps.map(([sequence, advance]) => {
        const o = tracker.observe('udp:x', 1, sequence, advance, reliable);
        return o.kind === 'in_order' ? 0 : o.kind === 'lost' ? o.count : `${o.inconsistency}:${o.count}`;
      });
    };
    // Two late packets (v9 counts packets): only the real gap at 13 counts.
    expect(run([[10, 1], [13, 1], [11, 1], [12, 1], [14, 1]])).toEqual([0, 2, 'backwards:3', 0, 0]);
    // A reset: one backwards step, then the new count goes on, also once it passes the old one.
    expect(run([[1000, 1], [0, 500], [500, 500], [1000, 500], [1500, 1]])).toEqual([0, 'backwards:1001', 0, 0, 0]);
    // softflowd's IPFIX counts (records up to and including the message's): 504+32 expected, 528 came.
    expect(run([[504, 32], [528, 24], [560, 32], [592, 8]])).toEqual([0, 'backwards:8', 8, 0]);
    expect(run([[504, 32], [528, 24], [560, 32], [592, 8]], true)).toEqual([0, 'backwards:8', 'gap:8', 0]);
    expect(run([[0xffffffff, 2], [1, 1]])).toEqual([0, 0]);
  });

  // Every stream input (TCP, and TLS over TCP) makes its sessions the same way: none of them can lose in transit.
  it.each(['tcp', 'tls'])('over %s, a sequence gap is the exporter\'s inconsistency, never loss in transit', async (transport) => {
    const { pipeline, metrics } = testPipeline({ enrichment: undefined });
    const tcp: ExporterSessionKey = { key: exporterKey(transport, '10.0.0.9', 5555), address: '10.0.0.9', expires: false };
    const rec = [{ sourcePodName: 'a' }, { sourcePodName: 'b' }];
    decodeAll(pipeline, [
      templateMessage(h(0), 256, layoutA),
      dataMessage(h(0), 256, layoutA, rec),
      dataMessage(h(9), 256, layoutA, rec), // 7 ahead
      dataMessage(h(4), 256, layoutA, rec), // behind
    ], tcp);
    expect(await counter(metrics, 'elkfc_sequence_lost_total')).toBe(0);
    expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'gap', version: '10' })).toBe(1);
    expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'backwards', version: '10' })).toBe(1);
  });

  it('persists UDP templates, so that a restarted collector decodes at once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'elkfc-')), 'templates.json');
    const before = testPipeline({ enrichment: undefined });
    decodeAll(before.pipeline, [templateMessage(h(0), 256, layoutA)], udpExporter(), 1000);
    const store = new TemplatePersistence(path);
    expect(await store.save(before.pipeline.session, 1000)).toBe(true);
    expect(await store.save(before.pipeline.session, 1000)).toBe(false); // unchanged: not rewritten

    const after = testPipeline({ enrichment: undefined });
    expect((await new TemplatePersistence(path).load(after.pipeline.session, 2000)).restored).toBe(1);
    const docs = decodeAll(after.pipeline, [dataMessage(h(0), 256, layoutA, [{ sourcePodName: 'back' }])], udpExporter(), 2000);
    expect(docs.map((d) => [d.host, d.fields.sourcePodName])).toEqual([['192.0.2.1', 'back']]);

    const expired = testPipeline({ enrichment: undefined, templateTimeoutMs: 500 });
    expect((await new TemplatePersistence(path).load(expired.pipeline.session, 2000)).restored).toBe(0);
  });
});
