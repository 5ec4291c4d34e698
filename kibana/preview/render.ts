// Renders a dashboard's Vega panel headless, as Kibana would draw it: the spec parsed as HJSON, its `url` requests
// rewritten the way Kibana's Vega plugin rewrites them (dashboard filters and time range for %context% and
// %timefield%, intervals for %autointerval%, bounds for %timefilter%), answered from documents in memory, and the
// response handed to Vega as inline values with the spec's format, as Kibana does. Vega draws SVG; resvg turns it
// into PNG with a bundled font, so the image does not depend on the machine's fonts.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import Hjson from 'hjson';
import * as vega from 'vega';
import type { estypes } from '@elastic/elasticsearch';
import type { KibanaEsUrl, VegaSpec } from '../src/vega.js';
import { search } from './es-search.js';

type Query = estypes.QueryDslQueryContainer;

/** What a dashboard hands its panels: its filters (negated ones as must_not) and the time picker's range. */
export interface DashboardContext {
  must: Query[];
  mustNot: Query[];
  timeRange: { min: number; max: number };
}

/** The context of a dashboard saved object: the filters in its searchSourceJSON, enabled ones only. */
export function dashboardContext(dashboard: { attributes: { kibanaSavedObjectMeta: { searchSourceJSON: string } } }, timeRange: DashboardContext['timeRange']): DashboardContext {
  const source = JSON.parse(dashboard.attributes.kibanaSavedObjectMeta.searchSourceJSON) as { filter?: { meta: { negate: boolean; disabled: boolean }; query: Query }[] };
  const filters = (source.filter ?? []).filter((f) => !f.meta.disabled);
  return { must: filters.filter((f) => !f.meta.negate).map((f) => f.query), mustNot: filters.filter((f) => f.meta.negate).map((f) => f.query), timeRange };
}

/** Kibana's rounding of (range / buckets) to a readable fixed interval (see its Vega plugin's es_query_parser). */
export function roundInterval(ms: number): string {
  const steps: [number, string][] = [
    [500, '100ms'], [5_000, '1s'], [7_500, '5s'], [15_000, '10s'], [45_000, '30s'], [180_000, '1m'], [450_000, '5m'],
    [1_200_000, '10m'], [2_700_000, '30m'], [7_200_000, '1h'], [21_600_000, '3h'], [86_400_000, '12h'],
  ];
  const found = steps.find(([limit]) => ms <= limit);
  if (!found) throw new Error('preview: time ranges longer than a day are not rendered');
  return found[1];
}

function injectContextVars(node: unknown, context: DashboardContext, parentKey?: string): unknown {
  if (Array.isArray(node)) return node.map((n) => injectContextVars(n, context));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const v = value as Record<string, unknown>;
    if (key === 'interval' && parentKey === 'date_histogram' && v && typeof v === 'object' && '%autointerval%' in v) {
      const buckets = v['%autointerval%'] === true ? 50 : Number(v['%autointerval%']);
      out.fixed_interval = roundInterval((context.timeRange.max - context.timeRange.min) / buckets);
    } else if (v && typeof v === 'object' && '%timefilter%' in v) {
      out[key] = v['%timefilter%'] === 'min' ? context.timeRange.min : context.timeRange.max;
    } else {
      out[key] = injectContextVars(value, context, key);
    }
  }
  return out;
}

/** The _search body Kibana sends for a Vega `url` object. */
export function kibanaRequest(url: KibanaEsUrl, context: DashboardContext) {
  if ('query' in url.body) throw new Error('Kibana refuses a query next to %context%');
  const range = { range: { [url['%timefield%']]: { gte: context.timeRange.min, lte: context.timeRange.max, format: 'epoch_millis' } } };
  return {
    size: url.body.size,
    query: { bool: { must: [...context.must, range], must_not: context.mustNot, filter: [], should: [] } },
    aggs: injectContextVars(url.body.aggs, context) as Record<string, Record<string, unknown>>,
  };
}

export interface Rendered {
  spec: VegaSpec;
  svg: string;
  png: Buffer;
  /** Items drawn per named mark. */
  marks: Record<string, number>;
  view: vega.View;
}

/** The root of a view's scenegraph (vega's types leave `root` out). */
export const sceneRoot = (view: vega.View): unknown => (view.scenegraph() as unknown as { root: unknown }).root;

function countMarks(node: any, counts: Record<string, number>) {
  if (node?.marktype) {
    if (node.name) counts[node.name] = (counts[node.name] ?? 0) + node.items.length;
    for (const item of node.items) for (const child of item.items ?? []) countMarks(child, counts);
  }
  return counts;
}

const require = createRequire(import.meta.url);
const FONT = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
export const PREVIEW_SIZE = { width: 960, height: 420 };

/** Answers a _search body: the in-memory search over documents, or a real cluster (test/real-cluster.test.ts). */
export type Searcher = (body: ReturnType<typeof kibanaRequest>) => unknown;

/** Parses, queries and draws one Vega panel as SVG, `size` pixels (the spec's own size if it has one). */
export async function drawVega(specText: string, documents: Record<string, unknown>[], context: DashboardContext, size = PREVIEW_SIZE, searcher: Searcher = (body) => search(body, documents)) {
  const spec = Hjson.parse(specText) as VegaSpec;
  const runtime = structuredClone(spec);
  for (const data of runtime.data) {
    if (!data.url) continue;
    data.values = await searcher(kibanaRequest(data.url, context));
    delete data.url;
  }
  runtime.width ??= size.width;
  runtime.height ??= size.height;
  return { spec, ...(await drawSpec(runtime)) };
}

/** Draws a Vega spec with inline data as SVG, fitted (axes and legends included) to its width and height. */
export async function drawSpec(spec: Record<string, unknown>): Promise<{ svg: string; view: vega.View }> {
  spec.autosize ??= { type: 'fit', contains: 'padding' };
  spec.background ??= 'white';
  const view = new vega.View(vega.parse(spec as vega.Spec), { renderer: 'none' });
  await view.runAsync();
  return { svg: await view.toSVG(), view };
}

/** An SVG as PNG, drawn with the bundled font, carrying the digest of the SVG (see withText). */
export function svgToPng(svg: string): Buffer {
  const png = new Resvg(svg, {
    font: { fontFiles: [FONT], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    fitTo: { mode: 'original' },
  }).render().asPng();
  return withText(png, SVG_DIGEST_KEY, sha256(svg));
}

/** Parses, queries and draws one Vega panel. The caller finalizes `view` (or lets it be collected). */
export async function renderVega(specText: string, documents: Record<string, unknown>[], context: DashboardContext, searcher: Searcher = (body) => search(body, documents)): Promise<Rendered> {
  const { spec, svg, view } = await drawVega(specText, documents, context, PREVIEW_SIZE, searcher);
  return { spec, svg, png: svgToPng(svg), marks: countMarks(sceneRoot(view), {}), view };
}

/** What a preview PNG records of the SVG it was drawn from. */
export const SVG_DIGEST_KEY = 'svg-sha256';
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// PNG chunks carry a CRC-32 (ISO-HDLC); Node 20.0 has no zlib.crc32, so it is computed here.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The PNG with a tEXt chunk after its header. Previews carry the hash of the SVG they were rasterised from, so the
 * staleness test compares what Vega drew, not pixels that depend on the rasteriser's build.
 */
function withText(png: Buffer, keyword: string, text: string): Buffer {
  const data = Buffer.from(`${keyword}\0${text}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const headerEnd = 8 + 25; // signature + IHDR chunk
  return Buffer.concat([png.subarray(0, headerEnd), chunk, png.subarray(headerEnd)]);
}

/** The text of a PNG's tEXt chunk with this keyword, if any. */
export function pngText(png: Buffer, keyword: string): string | undefined {
  for (let at = 8; at + 8 <= png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'tEXt') {
      const [key, value] = png.toString('latin1', at + 8, at + 8 + length).split('\0');
      if (key === keyword) return value;
    }
    at += 12 + length;
  }
  return undefined;
}
