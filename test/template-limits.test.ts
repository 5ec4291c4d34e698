// Template floods: whatever templates exporters send, the session holds at most decoding.maxTemplateFields fields
// (the measure of template memory), everything refused is counted and logged at a bounded rate, and the saved
// template state stays within a bound that a restart can read.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowPipeline } from '../collector/src/pipeline/flow-pipeline.js';
import { templateFileBound, TemplatePersistence } from '../collector/src/session/persistence.js';
import { TEMPLATE_LIMIT_DEFAULTS, type TemplateLimits } from '../collector/src/session/template-session.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { counter, udpExporter } from './support/offline.js';
import { killCollectors, startCollector } from './support/process.js';

afterEach(killCollectors);

/** An IPFIX message of the given sets. */
function message(sets: Buffer[], domain = 1): Buffer {
  const body = Buffer.concat(sets);
  const header = Buffer.alloc(16);
  header.writeUInt16BE(10, 0);
  header.writeUInt16BE(16 + body.length, 2);
  header.writeUInt32BE(1_700_000_000, 4);
  header.writeUInt32BE(domain, 12);
  return Buffer.concat([header, body]);
}

/** A template set of one template: `fields` enterprise elements (unknown ones, each its own name) of 4 octets. */
function templateSet(templateId: number, fields: number): Buffer {
  const set = Buffer.alloc(8 + fields * 8);
  set.writeUInt16BE(2, 0);
  set.writeUInt16BE(set.length, 2);
  set.writeUInt16BE(templateId, 4);
  set.writeUInt16BE(fields, 6);
  for (let i = 0; i < fields; i++) {
    set.writeUInt16BE(0x8000 | (i + 1), 8 + i * 8);
    set.writeUInt16BE(4, 10 + i * 8);
    set.writeUInt32BE(99_999, 12 + i * 8);
  }
  return set;
}

function dataSet(templateId: number, fields: number): Buffer {
  const set = Buffer.alloc(4 + fields * 4, 0xab);
  set.writeUInt16BE(templateId, 0);
  set.writeUInt16BE(set.length, 2);
  return set;
}

function pipelineWith(limits: TemplateLimits = TEMPLATE_LIMIT_DEFAULTS) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  // The clock stands still: a flood that takes longer than the 10 s log interval on a loaded machine still logs once.
  const events = new InternalEvents(createMetrics(), pino({ level: 'info' }, stream), 10_000, () => 0);
  const pipeline = new FlowPipeline({
    registry: ElementRegistry.builtin(),
    document: { target: 'ipfix', type: 'ipfix', timestampSource: 'export' },
    includeFlowsetId: true,
    templateTimeoutMs: 1_800_000,
    pending: { maxSets: 1000, maxBytes: 1 << 20, maxAgeMs: 60_000 },
    templates: limits,
    enrichment: undefined,
  }, events);
  return { pipeline, events, lines, refused: (limit: string) => counter(events.metrics, 'elkfc_templates_refused_total', { limit }) };
}

/** A distinct exporter per index (a flood from spoofed or many sources). */
const exporterNo = (i: number) => udpExporter(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 4739);

describe('template limits', () => {
  it('a flood of 10,000 templates of 1,000 fields holds nothing: every one is refused, counted, logged once', async () => {
    const { pipeline, lines, refused } = pipelineWith();
    for (let i = 0; i < 10_000; i++) pipeline.process(message([templateSet(256 + (i % 60_000), 1000)]), exporterNo(i), 0);
    expect(pipeline.session.stats()).toMatchObject({ templates: 0, fields: 0 });
    expect(await refused('fields_per_template')).toBe(10_000);
    const logged = lines.filter((l) => String(l.msg).startsWith('template refused'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, limit: 'fields_per_template', templateId: 256 });
  });

  it('a flood of 10,000 templates of 500 fields from 10,000 exporters holds at most maxTemplateFields fields', async () => {
    const { pipeline, refused } = pipelineWith();
    for (let i = 0; i < 10_000; i++) pipeline.process(message([templateSet(256, 500)]), exporterNo(i), 0);
    const stats = pipeline.session.stats();
    // 250,000 fields: about 100 MB of heap once every template has decoded and written records (400 octets a field).
    expect(stats.fields).toBe(TEMPLATE_LIMIT_DEFAULTS.maxTemplateFields);
    expect(stats.templates).toBe(500);
    expect(await refused('template_fields')).toBe(9_500);
    // The exporters whose templates were kept still decode.
    const docs = pipeline.process(message([dataSet(256, 500)]), exporterNo(0), 0);
    expect(docs).toHaveLength(1);
    expect(docs[0].fields.ie_99999_1).toBe('abababab');
  });

  it('refuses past the per-exporter and the total template counts; a refused replacement withdraws the old template', async () => {
    const { pipeline, refused } = pipelineWith({ ...TEMPLATE_LIMIT_DEFAULTS, maxTemplatesPerExporter: 100, maxTemplates: 250 });
    // One exporter, 300 templates over three domains: 100 kept.
    for (let i = 0; i < 300; i++) pipeline.process(message([templateSet(256 + i, 2)], i % 3), exporterNo(0), 0);
    expect(pipeline.session.stats()).toMatchObject({ templates: 100, fields: 200 });
    expect(await refused('templates_per_exporter')).toBe(200);
    // 200 more exporters, one template each: 150 kept, in total 250.
    for (let i = 1; i <= 200; i++) pipeline.process(message([templateSet(256, 2)]), exporterNo(i), 0);
    expect(pipeline.session.stats().templates).toBe(250);
    expect(await refused('templates')).toBe(50);
    // Exporter 1 redefines its template beyond maxFieldsPerTemplate: refused, and the old one is gone.
    pipeline.process(message([templateSet(256, 600)]), exporterNo(1), 0);
    expect(pipeline.process(message([dataSet(256, 2)]), exporterNo(1), 0)).toHaveLength(0);
    expect(pipeline.session.stats().templates).toBe(249);
    // Withdrawn templates give their room back.
    for (let i = 0; i < 300; i++) pipeline.process(message([templateSet(256 + i, 0)], i % 3), exporterNo(0), 0);
    expect(pipeline.session.stats()).toMatchObject({ templates: 149, exporters: 149 });
  });

  it('saves a maximal state within the file bound, and restores it within the limits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-templates-'));
    const path = join(dir, 'templates.json');
    const bound = templateFileBound(TEMPLATE_LIMIT_DEFAULTS);
    const now = Date.now();
    const { pipeline } = pipelineWith();
    // Maximal: every field used, with the longest keys (IPv6 exporters, 32-bit domains, enterprise numbers).
    for (let i = 0; i < 2000; i++) {
      const exporter = { key: `udp:2001:db8:ffff:ffff:ffff:ffff:ffff:${i.toString(16)}:65535`, address: `2001:db8:ffff:ffff:ffff:ffff:ffff:${i.toString(16)}`, expires: true };
      pipeline.process(message([templateSet(256, 125)], 0xffffffff), exporter, now);
    }
    expect(pipeline.session.stats().fields).toBe(TEMPLATE_LIMIT_DEFAULTS.maxTemplateFields);
    await new TemplatePersistence(path, bound).save(pipeline.session, now);
    const size = statSync(path).size;
    expect(size).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThan(32 * 1024 * 1024);

    const restarted = pipelineWith();
    expect(await new TemplatePersistence(path, bound).load(restarted.pipeline.session, now)).toEqual({ restored: 2000, refused: 0 });
    expect(restarted.pipeline.session.stats().fields).toBe(TEMPLATE_LIMIT_DEFAULTS.maxTemplateFields);

    // Restarted with smaller limits: what does not fit is left out and counted.
    const smaller = pipelineWith({ ...TEMPLATE_LIMIT_DEFAULTS, maxTemplateFields: 1000 });
    expect(await new TemplatePersistence(path, Infinity).load(smaller.pipeline.session, now)).toEqual({ restored: 8, refused: 1992 });
    expect(smaller.pipeline.session.stats().fields).toBe(1000);

    // A file larger than the limits allow (not written by this collector under them) is not read at all.
    const big = join(dir, 'big.json');
    writeFileSync(big, Buffer.alloc(1024 * 1024 + 1, 0x20));
    const result = await new TemplatePersistence(big, 1024 * 1024).load(pipelineWith().pipeline.session, 0);
    expect(result.restored).toBe(0);
    expect(result.problem).toMatch(/more than the template limits allow/);

    // The collector itself restarted on that state (it was 991 MiB with an unbounded one): its peak memory.
    if (!existsSync('/proc/self/status')) return;
    // JSON is YAML.
    writeFileSync(join(dir, 'collector.yml'), JSON.stringify({
      inputs: { udp: { host: '127.0.0.1', port: 0 }, tcp: { enabled: false } },
      http: { host: '127.0.0.1', port: 0 },
      decoding: { templateStatePath: path },
      output: { file: { directory: join(dir, 'flows') } },
    }));
    const collector = await startCollector(join(dir, 'collector.yml'));
    expect(collector.log()).toContain('"restored":2000');
    const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${collector.child.pid}/status`, 'utf8'))![1]);
    expect(peakKiB).toBeLessThan(512 * 1024); // half the manifests' 1 GiB limit
  }, 60_000);
});
