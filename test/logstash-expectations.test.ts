// The Logstash netflow codec's own test suite, as data (../shared/fixtures/logstash-codec-netflow): with the
// codec's definition files loaded, target `netflow` and enrichment off, every scenario must decode to the
// same events. Deliberate differences are listed in DIFFERENCES below, each with its reason.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeDocument, type DocumentOptions } from '../collector/src/document/document.js';
import { counter, decodeAll, LOGSTASH, logstashRegistry, readDat, testPipeline } from './support/offline.js';

interface Scenario {
  context: string;
  describe_variant: string;
  files: string[];
  expected_event_count: number | null;
  field_assertions: { event_index: number; field: string; expected: unknown }[];
  expected_events_json: Record<string, unknown>[];
  json_compare: { event_index: number; equals_expected_events_json_index: number }[];
}

const scenarios: Scenario[] = JSON.parse(readFileSync(`${LOGSTASH}expected_from_netflow_spec.json`, 'utf8'));
const documentOptions: DocumentOptions = { target: 'netflow', type: 'netflow', timestampSource: 'export', ecs: false };
const registry = logstashRegistry();

/**
 * Where we differ from the codec on purpose.
 * 1. `*_switched` (v5/v9 uptime-relative times): the codec is one second late. In v9 it adds 1,000,000 µs to
 *    every time; in v5 its `seconds--` is a no-op in Ruby, so whenever the sub-second part borrows it is off by
 *    one second. We compute uptime-relative times exactly; the test checks that the codec's value is ours plus
 *    exactly that second.
 * 2. Sub-millisecond digits: the spec asserts both the Logstash 7 form `.000Z` and the Logstash 8 form
 *    `.000127768Z` of dateTimeMicroseconds/Nanoseconds. We print nine digits, as Logstash 8 does (mapped
 *    `date_nanos`): the Logstash 8 form must be ours exactly, the Logstash 7 form ours cut to milliseconds.
 */
function switchedOffsetMs(expected: string, ours: string): number {
  return Date.parse(expected) - Date.parse(ours);
}

/**
 * 3. The codec's "invalid" v5 captures: their headers announce 55582 and 163 records, the packets hold 30 complete
 *    ones. The codec decodes none; we decode the 30 (as tshark does) and count the mismatch.
 */
const V5_COUNT_MISMATCH: Record<string, number> = {
  'netflow5_test_invalid01.dat': 1,
  'netflow5_test_invalid02.dat': 1,
};

function expectedValue(raw: unknown): unknown {
  if (raw && typeof raw === 'object' && 'ruby_expr' in raw) return String((raw as { ruby_expr: string }).ruby_expr).replace(/^'|'$/g, '');
  return raw;
}

function checkField(name: string, version: number, ours: unknown, expected: unknown): void {
  if (name.endsWith('_switched') && typeof ours === 'string' && typeof expected === 'string') {
    const offset = switchedOffsetMs(expected, ours);
    if (version === 9) expect(offset, name).toBe(1000);
    else expect([0, 1000], name).toContain(offset);
    return;
  }
  if (typeof expected === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+#\{\w+\}Z$/.test(expected)) {
    return; // a Ruby interpolation in the spec, not a value
  }
  if (typeof expected === 'string' && typeof ours === 'string' && /\.\d{3}Z$/.test(expected) && /\.\d{9}Z$/.test(ours)) {
    expect(`${ours.slice(0, -7)}Z`, name).toBe(expected); // the Logstash 7 millisecond form (difference 2)
    return;
  }
  expect(ours, name).toEqual(expected);
}

describe('Logstash netflow codec expectations', () => {
  for (const scenario of scenarios) {
    const includeFlowsetId = scenario.describe_variant.includes('include_flowset_id');
    it(`${scenario.context}${scenario.describe_variant ? ` (${scenario.describe_variant})` : ''}`, async () => {
      const { pipeline, metrics } = testPipeline({ registry, enrichment: undefined, includeFlowsetId, document: documentOptions });
      const docs = decodeAll(pipeline, scenario.files.map(readDat));
      const events = docs.map((d) => JSON.parse(serializeDocument(d, documentOptions)));
      if (scenario.expected_event_count !== null) expect(events).toHaveLength(scenario.expected_event_count);
      for (const assertion of scenario.field_assertions) {
        const name = /^\[netflow\]\[(.+)\]$/.exec(assertion.field)![1];
        const event = events[assertion.event_index];
        expect(event, `event ${assertion.event_index}`).toBeDefined();
        checkField(name, event.netflow.version, event.netflow[name], expectedValue(assertion.expected));
      }
      for (const compare of scenario.json_compare) {
        const want = scenario.expected_events_json[compare.equals_expected_events_json_index] as { '@timestamp': string; netflow: Record<string, unknown> };
        const got = events[compare.event_index];
        expect(got['@timestamp']).toBe(want['@timestamp']);
        expect(got['@version']).toBe('1');
        // Every field Logstash emitted is ours too; we never emit fewer.
        for (const [name, value] of Object.entries(want.netflow)) checkField(name, want.netflow.version as number, got.netflow[name], value);
        // Fields the codec skipped that we keep: only unknown elements, kept as hex under ie_<enterprise>_<id>.
        const extra = Object.keys(got.netflow).filter((k) => !(k in want.netflow));
        for (const name of extra) expect(name).toMatch(/^ie_\d+_\d+$/);
      }
      // The codec's own spec asserts no more than "does not raise" for some captures; decodeAll above would throw.
      expect(await counter(metrics, 'elkfc_decode_errors_total')).toBe(0);
      expect(await counter(metrics, 'elkfc_header_inconsistencies_total', { kind: 'v5_record_count' })).toBe(V5_COUNT_MISMATCH[scenario.files[0]] ?? 0);
    });
  }

  it('decodes the 30 complete records of the v5 captures whose header count is wrong, and counts it', async () => {
    for (const file of ['netflow5_test_invalid01.dat', 'netflow5_test_invalid02.dat']) {
      const { pipeline, metrics } = testPipeline({ registry, enrichment: undefined });
      const docs = decodeAll(pipeline, [readDat(file)]);
      expect(docs).toHaveLength(30);
      expect(docs.every((d) => typeof d.fields.ipv4_src_addr === 'string' && typeof d.fields.in_pkts === 'number')).toBe(true);
      expect(await counter(metrics, 'elkfc_header_inconsistencies_total', { kind: 'v5_record_count' })).toBe(1);
      expect(await counter(metrics, 'elkfc_decode_errors_total')).toBe(0);
    }
  });

  it('still drops a v5 packet without one complete record', async () => {
    const { pipeline, metrics } = testPipeline({ registry, enrichment: undefined });
    expect(decodeAll(pipeline, [readDat('netflow5_test_invalid01.dat').subarray(0, 24 + 47)])).toEqual([]);
    expect(await counter(metrics, 'elkfc_decode_errors_total', { kind: 'bad_record_count' })).toBe(1);
  });
});
