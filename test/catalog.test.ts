// The field catalog is the contract the Elasticsearch mapping and the dashboards are checked against: every
// field of every document we produce must be in it, with a value its type can index.
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fieldCatalog, type CatalogField, type FieldType } from '../collector/src/document/catalog.js';
import { serializeDocument } from '../collector/src/document/document.js';
import { agentLayout, aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { decodeAll, testPipeline } from './support/offline.js';

const catalog = new Map(fieldCatalog().map((f) => [f.path, f]));
const RANGES: Partial<Record<FieldType, [number, number]>> = {
  byte: [-128, 127], short: [-32768, 32767], integer: [-(2 ** 31), 2 ** 31 - 1], long: [-(2 ** 63), 2 ** 63], unsigned_long: [0, 2 ** 64],
};

function fits(field: CatalogField, value: unknown): boolean {
  switch (field.type) {
    case 'keyword': return typeof value === 'string';
    case 'ip': return typeof value === 'string' && isIP(value) !== 0;
    // strict_date_optional_time parses up to nine fraction digits; a `date` keeps milliseconds (ECS's event.start
    // of a nanosecond flow time), a `date_nanos` all nine.
    case 'date': return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(\d{6})?Z$/.test(value);
    case 'date_nanos': return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(value);
    case 'boolean': return typeof value === 'boolean';
    case 'float': case 'double': return typeof value === 'number';
    case 'flattened': return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'object': return typeof value === 'object' && value !== null && Object.keys(value).every((k) => field.properties?.[k] !== undefined);
    default: {
      const [min, max] = RANGES[field.type]!;
      return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
    }
  }
}

function check(document: Record<string, unknown>, problems: string[]): void {
  const { ipfix, ...envelope } = document as { ipfix: Record<string, unknown> };
  // The ECS objects at the root (event, source, ...) are catalogued by their leaves.
  const nested = (k: string, v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !catalog.has(k);
  const entries = [
    ...Object.entries(envelope).flatMap(([k, v]) => (nested(k, v) ? Object.entries(v as object).map(([c, x]) => [`${k}.${c}`, x] as const) : [[k, v] as const])),
    ...Object.entries(ipfix).map(([k, v]) => [`ipfix.${k}`, v] as const),
  ];
  for (const [path, value] of entries) {
    const field = catalog.get(path);
    const values = Array.isArray(value) ? value : [value]; // a repeated element: each value has the field's type
    if (!field) {
      if (!(/^ipfix\.ie_\d+_\d+$/.test(path) && typeof value === 'string')) problems.push(`${path} not in the catalog`);
    } else if (!values.every((v) => fits(field, v))) {
      problems.push(`${path}: ${JSON.stringify(value)} is no ${field.type}`);
    }
  }
}

describe('field catalog', () => {
  it('covers every field of every golden document with a fitting type', () => {
    const problems: string[] = [];
    const golden = new URL('./golden/', import.meta.url).pathname;
    for (const file of readdirSync(golden)) {
      for (const line of readFileSync(golden + file, 'utf8').split('\n').filter(Boolean)) check(JSON.parse(line), problems);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  it('covers every field of enriched Antrea records with ECS, both layouts and families', () => {
    const problems: string[] = [];
    for (const layout of [agentLayout(4), agentLayout(6), aggregatorLayout(4), aggregatorLayout(6)]) {
      const { pipeline } = testPipeline({ document: { target: 'ipfix', type: 'ipfix', timestampSource: 'export', ecs: true } });
      const header = { exportTimeSecs: 1_700_000_000, sequence: 0, domain: 1 };
      const records = [aggregatorRecord(1), aggregatorRecord(2, { flowType: 3, destinationPodName: '' })];
      const docs = decodeAll(pipeline, [templateMessage(header, 300, layout), dataMessage(header, 300, layout, records)]);
      for (const d of docs) check(JSON.parse(serializeDocument(d, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' })), problems);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  it('notices a field that is not in the catalog or does not fit its type', () => {
    const problems: string[] = [];
    check({ host: '10.0.0.1', ipfix: { sourceIP: 'pod-a', flowType: 70000, madeUp: 1, ie_1_2: 'ab' } }, problems);
    expect(problems).toEqual(['ipfix.sourceIP: "pod-a" is no ip', 'ipfix.flowType: 70000 is no short', 'ipfix.madeUp not in the catalog']);
  });

  it('has one entry per path, typed', () => {
    const paths = fieldCatalog().map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(catalog.get('ipfix.sourcePodLabels')?.type).toBe('flattened');
    expect(catalog.get('ipfix.sourceIP')?.type).toBe('ip');
    expect(catalog.get('ipfix.throughput')).toMatchObject({ type: 'unsigned_long', unit: 'bits/s' });
  });
});
