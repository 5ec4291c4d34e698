// Vega specs for the panels Kibana's aggregation-based charts cannot draw: Sankey diagrams and the Node heatmap.
// Each queries Elasticsearch through Kibana's Vega `url` object with %context% (dashboard query, filters and
// controls apply) and %timefield% (the time picker applies); the panel's own scope is a `filter` aggregation,
// because Kibana refuses a `query` next to %context%. The layout is computed in Vega itself (stack transforms and
// linkpath), as Vega has no Sankey transform.
import type { estypes } from '@elastic/elasticsearch';

export const FLOW_INDEX = 'flow-*';

/** Kibana's date_histogram extensions: an interval from the time picker and bounds that cover its whole range. */
interface KibanaDateHistogram extends Omit<estypes.AggregationsDateHistogramAggregation, 'extended_bounds' | 'interval'> {
  interval: { '%autointerval%': true | number };
  extended_bounds: { min: { '%timefilter%': 'min' }; max: { '%timefilter%': 'max' } };
}
type Aggregation = estypes.AggregationsAggregationContainer | { date_histogram: KibanaDateHistogram; aggs?: Record<string, Aggregation> };

export interface KibanaEsUrl {
  index: string;
  '%context%': true;
  '%timefield%': string;
  body: { size: 0; aggs: Record<string, Aggregation> };
}

export interface VegaData extends Record<string, unknown> {
  name: string;
  url?: KibanaEsUrl;
  format?: { property: string };
}
export type VegaSpec = Record<string, unknown> & { data: VegaData[] };

/** The ES request of a panel: its scope as a filter aggregation around `aggs`, under the dashboard's context. */
function esUrl(scope: estypes.QueryDslQueryContainer, aggs: Record<string, Aggregation>): KibanaEsUrl {
  return { index: FLOW_INDEX, '%context%': true, '%timefield%': '@timestamp', body: { size: 0, aggs: { scope: { filter: scope, aggs } as Aggregation } } };
}

/** One side of a Sankey: the fields whose values make a node, and the Vega expression that labels it from `k`. */
export interface SankeySide {
  title: string;
  fields: string[];
  /** Expression over `k`, the node's slice of the multi_terms key (an array, one value per field). */
  label: string;
}

/** A detail shown in a link's tooltip: the top values of a field, or of a field pair ("a → b"). */
export interface SankeyDetail {
  title: string;
  fields: [string] | [string, string];
  size: number;
}

export interface SankeyOptions {
  description: string;
  scope: estypes.QueryDslQueryContainer;
  source: SankeySide;
  target: SankeySide;
  /** The summed byte counter (a delta counter, so that sums over time are traffic, not a sum of running totals). */
  bytesField: string;
  details: SankeyDetail[];
  /** The most links drawn (the largest by bytes). */
  maxLinks: number;
  /**
   * Where a side's one field can be empty (a Node name the exporter did not know), the fields that name its nodes
   * instead (the IP addresses): a link with an empty side is split by these, `size` pairs at most.
   */
  fallback?: { source: string; target: string; size: number };
}

/** Labels `namespace/name`, leaving out an empty or 'N/A' namespace; `none` when the name itself is empty or 'N/A'. */
export function qualifiedLabel(namespaceIndex: number, nameIndex: number, none: string): string {
  const ns = `k[${namespaceIndex}]`;
  const name = `k[${nameIndex}]`;
  return `(${name} === '' || ${name} === 'N/A') ? '${none}' : ((${ns} === '' || ${ns} === 'N/A') ? '' : ${ns} + '/') + ${name}`;
}

const detailName = (i: number) => `detail${i}`;

function detailAggregation(detail: SankeyDetail, bytesField: string): estypes.AggregationsAggregationContainer {
  const bytes = { bytes: { sum: { field: bytesField } } };
  if (detail.fields.length === 1) return { terms: { field: detail.fields[0], size: detail.size, order: { bytes: 'desc' } }, aggs: bytes };
  return { multi_terms: { terms: detail.fields.map((field) => ({ field })), size: detail.size, order: { bytes: 'desc' } }, aggs: bytes };
}

/** The text of a detail in a tooltip: the bucket keys joined; pairs shown as "a → b". */
function detailText(detail: SankeyDetail, i: number): string {
  const buckets = `datum.${detailName(i)}.buckets`;
  if (detail.fields.length === 1) return `join(pluck(${buckets}, 'key'), ', ')`;
  return `replace(join(pluck(${buckets}, 'key_as_string'), ', '), regexp('\\\\|', 'g'), ' → ')`;
}

// A label expression is written over `k`; Vega has no lambdas, so `k` is substituted textually.
const labelOf = (side: SankeySide, key: string) => side.label.replaceAll(/\bk\[/g, `${key}[`);

/**
 * A link with an empty side becomes one link per fallback pair (its `fallback` buckets), each side named by its
 * own field where that is set and by the fallback field (an IP address) where it is empty; other links stay whole.
 */
function fallbackTransforms(source: SankeySide, target: SankeySide): Record<string, unknown>[] {
  return [
    { type: 'formula', as: 'parts', expr: "(datum.key[0] === '' || datum.key[1] === '') ? datum.fallback.buckets : [{key: datum.key, bytes: datum.bytes}]" },
    { type: 'flatten', fields: ['parts'], as: ['part'] },
    { type: 'formula', as: 'source', expr: `datum.key[0] === '' ? datum.part.key[0] : ${labelOf(source, 'datum.key')}` },
    { type: 'formula', as: 'target', expr: `datum.key[1] === '' ? datum.part.key[1] : ${labelOf(target, 'slice(datum.key, 1)')}` },
    { type: 'formula', as: 'size', expr: 'datum.part.bytes.value' },
  ];
}

const bytesText = (expr: string) => `format(${expr}, '.3~s') + 'B'`;

/**
 * A two-column Sankey diagram: source nodes left, target nodes right, one link per (source, target) pair among the
 * `maxLinks` largest by bytes (multi_terms ordered by the sum, so the limit is applied by Elasticsearch).
 */
export function sankeySpec(o: SankeyOptions): VegaSpec {
  const keyFields = [...o.source.fields, ...o.target.fields];
  const aggs: Record<string, Aggregation> = {
    links: {
      multi_terms: { terms: keyFields.map((field) => ({ field })), size: o.maxLinks, order: { bytes: 'desc' } },
      aggs: {
        bytes: { sum: { field: o.bytesField } },
        ...Object.fromEntries(o.details.map((d, i) => [detailName(i), detailAggregation(d, o.bytesField)])),
        ...(o.fallback ? { fallback: detailAggregation({ title: '', fields: [o.fallback.source, o.fallback.target], size: o.fallback.size }, o.bytesField) } : {}),
      },
    },
  };
  if (o.fallback && (o.source.fields.length !== 1 || o.target.fields.length !== 1)) throw new Error('a Sankey fallback needs one field per side');
  const sourceKey = `slice(datum.key, 0, ${o.source.fields.length})`;
  const targetKey = `slice(datum.key, ${o.source.fields.length})`;

  const tooltipEntries = [
    `'${o.source.title}': datum.source`,
    `'${o.target.title}': datum.target`,
    `'Bytes': ${bytesText('datum.size')}`,
    ...o.details.map((d, i) => `'${d.title}': ${detailText(d, i)}`),
  ];
  const nodes = (side: 'source' | 'target') => ({
    name: `${side}Nodes`,
    source: 'links',
    transform: [
      { type: 'aggregate', groupby: [side], fields: ['size'], ops: ['sum'], as: ['size'] },
      { type: 'formula', as: 'name', expr: `datum.${side}` },
      // Largest node first; ties broken by name so that the stack and the rank agree.
      { type: 'stack', field: 'size', sort: { field: ['size', 'name'], order: ['descending', 'ascending'] }, as: ['stack0', 'stack1'] },
      { type: 'window', sort: { field: ['size', 'name'], order: ['descending', 'ascending'] }, ops: ['row_number'], as: ['rank'] },
      { type: 'joinaggregate', fields: ['size'], ops: ['sum'], as: ['total'] },
      // A gap between nodes, proportional to the total so that it scales with the data.
      { type: 'formula', as: 'y0', expr: 'datum.stack0 + (datum.rank - 1) * datum.total * gapRatio' },
      { type: 'formula', as: 'y1', expr: 'datum.y0 + datum.size' },
    ],
  });
  const nodeMarks = (side: 'source' | 'target') => {
    const left = side === 'source';
    return [
      {
        type: 'rect',
        name: `${side}Node`,
        from: { data: `${side}Nodes` },
        encode: {
          update: {
            x: left ? { value: 0 } : { signal: 'width - nodeWidth' },
            width: { signal: 'nodeWidth' },
            y: { scale: 'y', field: 'y0' },
            y2: { scale: 'y', field: 'y1' },
            fill: left ? { scale: 'color', field: 'name' } : { value: '#98a2b3' },
            tooltip: { signal: `{'${left ? o.source.title : o.target.title}': datum.name, 'Bytes': ${bytesText('datum.size')}}` },
          },
        },
      },
      {
        type: 'text',
        from: { data: `${side}Nodes` },
        interactive: false,
        encode: {
          update: {
            x: left ? { signal: 'nodeWidth + 4' } : { signal: 'width - nodeWidth - 4' },
            y: { signal: "scale('y', (datum.y0 + datum.y1) / 2)" },
            align: { value: left ? 'left' : 'right' },
            baseline: { value: 'middle' },
            fontSize: { value: 11 },
            fill: { value: '#343741' },
            limit: { signal: 'width / 2 - nodeWidth - 8' },
            text: { signal: `datum.name + '  ' + ${bytesText('datum.size')}` },
          },
        },
      },
    ];
  };
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    description: o.description,
    padding: 8,
    signals: [
      { name: 'nodeWidth', value: 12 },
      { name: 'gapRatio', value: 0.02 },
      {
        name: 'focus',
        value: null,
        on: [
          { events: '@sourceNode:mouseover, @targetNode:mouseover', update: 'datum.name' },
          { events: '@sourceNode:mouseout, @targetNode:mouseout', update: 'null' },
        ],
      },
    ],
    data: [
      {
        name: 'buckets',
        url: esUrl(o.scope, aggs),
        format: { property: 'aggregations.scope.links.buckets' },
      },
      {
        name: 'links',
        source: 'buckets',
        transform: [
          ...(o.fallback ? fallbackTransforms(o.source, o.target) : [
            { type: 'formula', as: 'source', expr: labelOf(o.source, sourceKey) },
            { type: 'formula', as: 'target', expr: labelOf(o.target, targetKey) },
            { type: 'formula', as: 'size', expr: 'datum.bytes.value' },
          ]),
          { type: 'filter', expr: 'datum.size > 0' },
          { type: 'stack', groupby: ['source'], field: 'size', sort: { field: ['size', 'target'], order: ['descending', 'ascending'] }, as: ['sourceOffset0', 'sourceOffset1'] },
          { type: 'stack', groupby: ['target'], field: 'size', sort: { field: ['size', 'source'], order: ['descending', 'ascending'] }, as: ['targetOffset0', 'targetOffset1'] },
        ],
      },
      nodes('source'),
      nodes('target'),
      {
        name: 'paths',
        source: 'links',
        transform: [
          { type: 'lookup', from: 'sourceNodes', key: 'name', fields: ['source'], values: ['y0'], as: ['sourceNodeY0'] },
          { type: 'lookup', from: 'targetNodes', key: 'name', fields: ['target'], values: ['y0'], as: ['targetNodeY0'] },
          {
            type: 'linkpath',
            orient: 'horizontal',
            shape: 'diagonal',
            sourceX: { expr: 'nodeWidth' },
            sourceY: { expr: "scale('y', datum.sourceNodeY0 + datum.sourceOffset0 + datum.size / 2)" },
            targetX: { expr: 'width - nodeWidth' },
            targetY: { expr: "scale('y', datum.targetNodeY0 + datum.targetOffset0 + datum.size / 2)" },
          },
        ],
      },
    ],
    scales: [
      {
        name: 'y',
        type: 'linear',
        range: [0, { signal: 'height' }],
        domain: { fields: [{ data: 'sourceNodes', field: 'y1' }, { data: 'targetNodes', field: 'y1' }] },
        zero: true,
        nice: false,
      },
      { name: 'color', type: 'ordinal', range: { scheme: 'tableau20' }, domain: { data: 'sourceNodes', field: 'name', sort: true } },
    ],
    marks: [
      {
        type: 'path',
        name: 'link',
        from: { data: 'paths' },
        // Thick curved strokes have bounds far larger than what they draw; clipping keeps autosize from shrinking the chart.
        clip: true,
        encode: {
          update: {
            path: { field: 'path' },
            stroke: { scale: 'color', field: 'source' },
            strokeWidth: { signal: "max(1, scale('y', datum.size))" },
            strokeOpacity: { signal: 'focus === null ? 0.4 : (datum.source === focus || datum.target === focus ? 0.8 : 0.1)' },
            tooltip: { signal: `{${tooltipEntries.join(', ')}}` },
          },
          hover: { strokeOpacity: { value: 0.9 } },
        },
      },
      ...nodeMarks('source'),
      ...nodeMarks('target'),
      {
        type: 'text',
        interactive: false,
        encode: {
          update: {
            x: { signal: 'width / 2' },
            y: { signal: 'height / 2' },
            align: { value: 'center' },
            fill: { value: '#69707d' },
            text: { value: 'No flows in this time range' },
            opacity: { signal: "length(data('links')) > 0 ? 0 : 1" },
          },
        },
      },
    ],
  };
}

export interface HeatmapOptions {
  description: string;
  scope: estypes.QueryDslQueryContainer;
  /** The field whose values are the heatmap's rows. */
  rowField: string;
  rowTitle: string;
  /** The summed byte counter; cells show it as bytes per minute, as the dashboards' lines do. */
  bytesField: string;
  legendTitle: string;
  maxRows: number;
}

/**
 * A heatmap of bytes per minute per row and time cell. The bucket width is read off consecutive bucket keys (the
 * interval Kibana picks is not in the response); extended_bounds keeps the buckets contiguous over the picked range.
 * Buckets shorter than a minute are merged into minutes: an exporter sends a flow's delta about once a minute, so a
 * shorter bucket holds a minute of traffic or none, and its rate would be wrong both ways (see dateAgg in
 * visualizations.ts, which keeps the lines at a minute or more for the same reason).
 */
export function heatmapSpec(o: HeatmapOptions): VegaSpec {
  const aggs: Record<string, Aggregation> = {
    time: {
      date_histogram: {
        field: '@timestamp',
        interval: { '%autointerval%': 40 },
        extended_bounds: { min: { '%timefilter%': 'min' }, max: { '%timefilter%': 'max' } },
        min_doc_count: 0,
      },
      aggs: { rows: { terms: { field: o.rowField, size: o.maxRows, order: { bytes: 'desc' } }, aggs: { bytes: { sum: { field: o.bytesField } } } } },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    description: o.description,
    padding: 8,
    data: [
      {
        name: 'buckets',
        url: esUrl(o.scope, aggs),
        format: { property: 'aggregations.scope.time.buckets' },
        transform: [
          { type: 'window', sort: { field: 'key' }, ops: ['lead', 'lag'], fields: ['key', 'key'], as: ['nextKey', 'previousKey'] },
          { type: 'formula', as: 'seconds', expr: '(datum.nextKey != null ? datum.nextKey - datum.key : datum.key - datum.previousKey) / 1000' },
          { type: 'filter', expr: 'isFinite(datum.seconds) && datum.seconds > 0' },
          { type: 'formula', as: 'cellMs', expr: 'max(datum.seconds, 60) * 1000' },
          { type: 'formula', as: 'cell', expr: 'floor(datum.key / datum.cellMs) * datum.cellMs' },
          { type: 'formula', as: 'end', expr: 'datum.cell + datum.cellMs' },
        ],
      },
      {
        name: 'cells',
        source: 'buckets',
        transform: [
          { type: 'flatten', fields: ['rows.buckets'], as: ['row'] },
          { type: 'formula', as: 'name', expr: 'datum.row.key' },
          { type: 'formula', as: 'rowBytes', expr: 'datum.row.bytes.value' },
          { type: 'aggregate', groupby: ['cell', 'cellMs', 'end', 'name'], fields: ['rowBytes'], ops: ['sum'], as: ['bytes'] },
          { type: 'formula', as: 'rate', expr: 'datum.bytes / (datum.cellMs / 60000)' },
        ],
      },
    ],
    scales: [
      { name: 'x', type: 'time', range: 'width', domain: { fields: [{ data: 'buckets', field: 'cell' }, { data: 'buckets', field: 'end' }] } },
      { name: 'y', type: 'band', range: 'height', domain: { data: 'cells', field: 'name', sort: true }, padding: 0.05 },
      { name: 'color', type: 'linear', range: { scheme: 'blues' }, domain: { data: 'cells', field: 'rate' }, zero: true, nice: true },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', labelOverlap: true, grid: false },
      { orient: 'left', scale: 'y', title: o.rowTitle, labelLimit: 160 },
    ],
    legends: [{ fill: 'color', type: 'gradient', title: o.legendTitle, format: '.3~s', gradientLength: { signal: 'max(60, height - 40)' } }],
    marks: [
      {
        type: 'rect',
        name: 'cell',
        from: { data: 'cells' },
        encode: {
          update: {
            x: { scale: 'x', field: 'cell' },
            x2: { scale: 'x', field: 'end' },
            y: { scale: 'y', field: 'name' },
            height: { scale: 'y', band: 1 },
            fill: { scale: 'color', field: 'rate' },
            tooltip: { signal: `{'${o.rowTitle}': datum.name, 'Time': timeFormat(datum.cell, '%Y-%m-%d %H:%M:%S'), '${o.legendTitle}': format(datum.rate, '.3~s') + 'B/min'}` },
          },
        },
      },
    ],
  };
}

/** The spec as Kibana stores it: HJSON (plain JSON is valid HJSON), with a comment saying where it comes from. */
export function vegaSpecText(spec: VegaSpec): string {
  return `// Generated by elk-flow-collector (kibana/src/vega.ts). Edits made here are lost on the next import.\n${JSON.stringify(spec, null, 2)}\n`;
}
