// The aggregation-based panels (and markdown, and the saved search) drawn headless: the request Kibana's data
// plugin builds from a visState (bucket aggregations nested in their order, the metrics innermost, terms ordered by
// the first metric), under the dashboard's context and the panel's own KQL scope (as its Query DSL, see
// scopes.ts), answered by the in-memory search, and drawn with a Vega spec written here that stands in for Kibana's
// chart of that type (same query, same numbers; not Kibana's pixels).
import type { estypes } from '@elastic/elasticsearch';
import type { SavedObject } from '../src/saved-objects.js';
import { scopeOfKuery } from '../src/scopes.js';
import { search, valueAt } from './es-search.js';
import { roundInterval, type DashboardContext } from './render.js';

type Query = estypes.QueryDslQueryContainer;

interface VisAgg {
  id: string;
  type: string;
  schema: string;
  params: { field?: string; size?: number; customLabel?: string; interval?: string; scaleMetricValues?: boolean };
}
interface VisState {
  type: string;
  params: Record<string, any>;
  aggs: VisAgg[];
}

/** One leaf of the response: the keys of its buckets, outermost first, and its metrics by agg id. */
export interface Row {
  keys: (string | number)[];
  metrics: Record<string, number>;
}

/** What an aggregation-based panel drew: the rows it was drawn from, and the Vega spec that drew them. */
export interface PanelDrawing {
  /** Absent for markdown, which queries nothing. */
  rows?: Row[];
  spec: Record<string, unknown>;
}

export const visState = (o: SavedObject) => JSON.parse(o.attributes.visState as string) as VisState;
const kueryOf = (o: SavedObject) => (JSON.parse((o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query?: { query: string } }).query?.query ?? '';

/** The dashboard's query (its filters, the time picker) with the panel's own scope. */
function panelQuery(context: DashboardContext, kuery: string): Query {
  const range = { range: { '@timestamp': { gte: context.timeRange.min, lte: context.timeRange.max, format: 'epoch_millis' } } };
  return { bool: { must: [...context.must, range, scopeOfKuery(kuery).dsl], must_not: context.mustNot } };
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const intervalMs = (text: string) => Number.parseInt(text, 10) * UNIT_MS[text.replace(/^\d+/, '') as keyof typeof UNIT_MS];

/**
 * The date_histogram interval Kibana picks for a legacy chart, and the requested one: `auto` aims at
 * histogram:barTarget (50) buckets; a fixed interval ('m') that would make more than histogram:maxBars (100) is
 * lengthened to fit, never shortened.
 */
function histogramInterval(agg: VisAgg, context: DashboardContext): { fixed: string; ms: number; requestedMs: number } {
  const range = context.timeRange.max - context.timeRange.min;
  if (agg.params.interval === 'auto') {
    const fixed = roundInterval(range / 50);
    return { fixed, ms: intervalMs(fixed), requestedMs: intervalMs(fixed) };
  }
  const requested = `1${agg.params.interval}`;
  const scaled = roundInterval(range / 100);
  const fixed = intervalMs(scaled) > intervalMs(requested) ? scaled : requested;
  return { fixed, ms: intervalMs(fixed), requestedMs: intervalMs(requested) };
}

function metricAgg(agg: VisAgg): Record<string, unknown> | undefined {
  if (agg.type === 'count') return undefined;
  return { [agg.type]: { field: agg.params.field } };
}

/** The _search body of a visState, and how to read its response into rows (metrics scaled as Kibana scales them). */
export function aggregationRequest(vis: VisState, kuery: string, context: DashboardContext) {
  const metrics = vis.aggs.filter((a) => a.schema === 'metric');
  const buckets = vis.aggs.filter((a) => a.schema !== 'metric');
  const first = metrics[0];
  const leaf: Record<string, unknown> = {};
  for (const m of metrics) {
    const agg = metricAgg(m);
    if (agg) leaf[m.id] = agg;
  }
  let scale = 1;
  let aggs: Record<string, unknown> = leaf;
  for (const b of [...buckets].reverse()) {
    let body: Record<string, unknown>;
    if (b.type === 'terms') {
      body = { terms: { field: b.params.field, size: b.params.size, order: first.type === 'count' ? { _count: 'desc' } : { [first.id]: 'desc' } } };
    } else if (b.type === 'date_histogram') {
      const interval = histogramInterval(b, context);
      // scaleMetricValues: sums of a lengthened interval shown per requested interval (per minute for 'm').
      if (b.params.scaleMetricValues) scale = interval.requestedMs / interval.ms;
      body = { date_histogram: { field: b.params.field, fixed_interval: interval.fixed, min_doc_count: 1 } };
    } else {
      throw new Error(`preview: bucket aggregation ${b.type} is not drawn`);
    }
    // Terms ordered by a metric carry that metric as their own sub-aggregation too, as Kibana's terms order helper adds it.
    const orderBy = b.type === 'terms' ? metricAgg(first) : undefined;
    aggs = { [b.id]: { ...body, aggs: orderBy ? { ...aggs, [first.id]: orderBy } : aggs } };
  }
  const request = { size: 0 as const, query: panelQuery(context, kuery), aggs: aggs as Record<string, Record<string, unknown>> };
  const read = (response: { aggregations: Record<string, any>; hits: { total: { value: number } } }): Row[] => {
    const out: Row[] = [];
    const walk = (node: Record<string, any>, level: number, keys: (string | number)[], docCount: number) => {
      if (level === buckets.length) {
        const values: Record<string, number> = {};
        for (const m of metrics) {
          const raw = m.type === 'count' ? docCount : Number(node[m.id].value ?? 0);
          values[m.id] = m.type === 'sum' || m.type === 'count' ? raw * scale : raw;
        }
        out.push({ keys, metrics: values });
        return;
      }
      for (const bucket of node[buckets[level].id].buckets) walk(bucket, level + 1, [...keys, bucket.key], bucket.doc_count);
    };
    walk(response.aggregations, 0, [], response.hits.total.value);
    return out;
  };
  return { request, read };
}

// --- drawing -----------------------------------------------------------------------------------------------------

const TEXT = '#343741';
const SUBDUED = '#69707d';
const number = (expr: string) => `format(${expr}, '.3~s')`;

function legend(): Record<string, unknown> {
  return { fill: 'color', orient: 'right', labelLimit: 150, labelFontSize: 10, symbolSize: 60, rowPadding: 2 };
}

/** Lines, stacked areas or stacked bars over time, one series per value of the split (or one series). */
function xySpec(rows: Row[], vis: VisState, width: number, height: number): Record<string, unknown> {
  const series = vis.aggs.some((a) => a.type === 'terms');
  const values = rows.map((r) => ({ series: series ? String(r.keys[0]) : vis.aggs[0].params.customLabel, t: r.keys[series ? 1 : 0], v: r.metrics['1'] }));
  const stacked = vis.params.seriesParams?.[0]?.mode === 'stacked';
  const kind = vis.type;
  const transform = stacked ? [{ type: 'stack', groupby: ['t'], field: 'v', sort: { field: 'series' }, as: ['y0', 'y1'] }] : [{ type: 'formula', as: 'y0', expr: '0' }, { type: 'formula', as: 'y1', expr: 'datum.v' }];
  const mark = kind === 'histogram'
    ? { type: 'rect', from: { data: 'rows' }, encode: { update: { x: { scale: 'x', field: 't' }, width: { signal: "max(1, width / max(1, length(data('times'))) - 1)" }, y: { scale: 'y', field: 'y0' }, y2: { scale: 'y', field: 'y1' }, fill: { scale: 'color', field: 'series' } } } }
    : {
      type: 'group',
      from: { facet: { name: 'one', data: 'rows', groupby: 'series' } },
      marks: [{
        type: kind === 'area' ? 'area' : 'line',
        from: { data: 'one' },
        sort: { field: 'datum.t' },
        encode: { update: {
          x: { scale: 'x', field: 't' }, y: { scale: 'y', field: 'y1' }, ...(kind === 'area' ? { y2: { scale: 'y', field: 'y0' }, fillOpacity: { value: 0.6 } } : { strokeWidth: { value: 1.5 } }),
          [kind === 'area' ? 'fill' : 'stroke']: { scale: 'color', field: 'series' },
        } },
      }],
    };
  return {
    width, height, padding: 4,
    data: [
      { name: 'rows', values, transform },
      { name: 'times', source: 'rows', transform: [{ type: 'aggregate', groupby: ['t'] }] },
    ],
    scales: [
      { name: 'x', type: 'time', range: 'width', domain: { data: 'rows', field: 't' } },
      { name: 'y', type: 'linear', range: 'height', domain: { data: 'rows', field: 'y1' }, zero: true, nice: true },
      { name: 'color', type: 'ordinal', range: { scheme: 'tableau10' }, domain: { data: 'rows', field: 'series', sort: true } },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', labelOverlap: true, labelFontSize: 10, format: '%H:%M' },
      { orient: 'left', scale: 'y', format: '.3~s', labelFontSize: 10, grid: true, gridOpacity: 0.3, title: vis.params.valueAxes?.[0]?.title?.text, titleFontSize: 10 },
    ],
    legends: series ? [legend()] : [],
    marks: [mark],
  };
}

/** Horizontal bars of the top values. */
function barsSpec(rows: Row[], width: number, height: number): Record<string, unknown> {
  const values = rows.map((r) => ({ category: String(r.keys[0]), v: r.metrics['1'] }));
  return {
    width, height, padding: 4,
    data: [{ name: 'rows', values }],
    scales: [
      { name: 'y', type: 'band', range: 'height', domain: { data: 'rows', field: 'category', sort: { field: 'v', op: 'max', order: 'descending' } }, padding: 0.15 },
      { name: 'x', type: 'linear', range: 'width', domain: { data: 'rows', field: 'v' }, zero: true, nice: true },
    ],
    axes: [
      { orient: 'left', scale: 'y', labelLimit: 140, labelFontSize: 10 },
      { orient: 'bottom', scale: 'x', format: '.3~s', labelFontSize: 10, grid: true, gridOpacity: 0.3 },
    ],
    marks: [{ type: 'rect', from: { data: 'rows' }, encode: { update: { y: { scale: 'y', field: 'category' }, height: { scale: 'y', band: 1 }, x: { scale: 'x', value: 0 }, x2: { scale: 'x', field: 'v' }, fill: { value: '#54b399' } } } }],
  };
}

/** A donut of the top values, with a legend naming each slice and its share. */
function pieSpec(rows: Row[], width: number, height: number): Record<string, unknown> {
  const values = rows.map((r) => ({ category: String(r.keys[0]), v: r.metrics['1'] }));
  return {
    width, height, padding: 4,
    data: [{ name: 'rows', values, transform: [
      { type: 'joinaggregate', fields: ['v'], ops: ['sum'], as: ['total'] },
      { type: 'formula', as: 'label', expr: `datum.category + '  ' + format(datum.v / datum.total, '.1%')` },
      { type: 'pie', field: 'v', sort: true },
    ] }],
    scales: [{ name: 'color', type: 'ordinal', range: { scheme: 'tableau20' }, domain: { data: 'rows', field: 'label' } }],
    legends: [{ ...legend(), fill: 'color' }],
    marks: [{
      type: 'arc', from: { data: 'rows' },
      encode: { update: {
        x: { signal: 'width / 2' }, y: { signal: 'height / 2' }, startAngle: { field: 'startAngle' }, endAngle: { field: 'endAngle' },
        outerRadius: { signal: 'min(width, height) / 2 - 4' }, innerRadius: { signal: '(min(width, height) / 2 - 4) * 0.3' },
        fill: { scale: 'color', field: 'label' }, stroke: { value: 'white' },
      } },
    }],
  };
}

/** Big numbers, one per metric, each with its label under it. */
function metricSpec(rows: Row[], vis: VisState, width: number, height: number): Record<string, unknown> {
  const metrics = vis.aggs.filter((a) => a.schema === 'metric');
  const values = metrics.map((m, i) => ({ i, label: m.params.customLabel ?? m.type, v: rows[0]?.metrics[m.id] ?? 0, bytes: /octet/i.test(m.params.field ?? '') }));
  return {
    width, height, padding: 4,
    signals: [{ name: 'cell', update: `width / ${metrics.length}` }],
    data: [{ name: 'rows', values }],
    marks: [
      { type: 'text', from: { data: 'rows' }, encode: { update: { x: { signal: 'cell * (datum.i + 0.5)' }, y: { signal: 'height / 2' }, align: { value: 'center' }, fontSize: { value: 28 }, fontWeight: { value: 'bold' }, fill: { value: TEXT }, text: { signal: `${number('datum.v')} + (datum.bytes ? 'B' : '')` } } } },
      { type: 'text', from: { data: 'rows' }, encode: { update: { x: { signal: 'cell * (datum.i + 0.5)' }, y: { signal: 'height / 2 + 22' }, align: { value: 'center' }, fontSize: { value: 11 }, fill: { value: SUBDUED }, text: { field: 'label' } } } },
    ],
  };
}

/** Markdown as Kibana renders the navigation: its links, in a row. */
function markdownSpec(markdown: string, width: number, height: number): Record<string, unknown> {
  const parts = [...markdown.matchAll(/\[([^\]]+)\]\([^)]+\)/g)].map((m) => m[1]);
  return {
    width, height, padding: 4,
    data: [{ name: 'links', values: parts.map((text, i) => ({ text, i })) }],
    marks: [{ type: 'text', from: { data: 'links' }, encode: { update: {
      x: { signal: `datum.i * width / ${Math.max(1, parts.length)}` }, y: { signal: 'height / 2' }, baseline: { value: 'middle' },
      fontSize: { value: 12 }, fill: { value: '#0061a6' }, text: { field: 'text' },
    } } }],
  };
}

/** A saved search as Discover's table shows it on a dashboard: its columns, newest records first. */
function tableSpec(object: SavedObject, documents: Record<string, unknown>[], context: DashboardContext, width: number, height: number): PanelDrawing {
  const columns = object.attributes.columns as string[];
  const query = panelQuery(context, '');
  const rowsShown = Math.max(1, Math.floor((height - 18) / 16));
  const hits = search({ size: rowsShown, query, sort: [{ '@timestamp': 'desc' }] }, documents).hits.hits as { _source: Record<string, unknown> }[];
  const cells = hits.flatMap((h, r) => columns.map((c, i) => ({ r, i, text: String(valueAt(h._source, c) ?? '-') })));
  const header = columns.map((c, i) => ({ i, text: c.replace(/^ipfix\./, '') }));
  const cell = { x: { signal: `datum.i * width / ${columns.length}` }, fontSize: { value: 9 }, limit: { signal: `width / ${columns.length} - 4` } };
  return {
    rows: hits.map((h) => ({ keys: columns.map((c) => String(valueAt(h._source, c) ?? '')), metrics: {} })),
    spec: {
      width, height, padding: 4,
      data: [{ name: 'header', values: header }, { name: 'cells', values: cells }],
      marks: [
        { type: 'text', from: { data: 'header' }, encode: { update: { ...cell, y: { value: 10 }, fontWeight: { value: 'bold' }, fill: { value: TEXT }, text: { field: 'text' } } } },
        { type: 'text', from: { data: 'cells' }, encode: { update: { ...cell, y: { signal: '28 + datum.r * 16' }, fill: { value: TEXT }, text: { field: 'text' } } } },
      ],
    },
  };
}

/** The drawing of a non-Vega panel of `width` x `height` pixels. */
export function drawPanel(object: SavedObject, documents: Record<string, unknown>[], context: DashboardContext, width: number, height: number): PanelDrawing {
  if (object.type === 'search') return tableSpec(object, documents, context, width, height);
  const vis = visState(object);
  if (vis.type === 'markdown') return { spec: markdownSpec(String(vis.params.markdown), width, height) };
  const { request, read } = aggregationRequest(vis, kueryOf(object), context);
  const rows = read(search(request, documents) as never);
  switch (vis.type) {
    case 'line': case 'area': case 'histogram': return { rows, spec: xySpec(rows, vis, width, height) };
    case 'horizontal_bar': return { rows, spec: barsSpec(rows, width, height) };
    case 'pie': return { rows, spec: pieSpec(rows, width, height) };
    case 'metric': return { rows, spec: metricSpec(rows, vis, width, height) };
    default: throw new Error(`preview: visualization type ${vis.type} is not drawn`);
  }
}
