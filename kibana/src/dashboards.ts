// The saved objects of kibana/kibana.ndjson. Built so far: the data view and the Flow Records dashboard; the
// Overview, Flows (Pod-to-Pod, Pod-to-Service, Pod-to-External), Node Throughput and Network Policy dashboards
// are still to come (their navigation links appear as they are added).
import { dashboard, dataView, search, visualization, type SavedObject } from './saved-objects.js';

const T = 'ipfix';

/** Byte counters shown as bytes; rates (bits/s) shown abbreviated. */
const FIELD_FORMATS = Object.fromEntries([
  ...['bytes', 'octetTotalCount', 'octetDeltaCount', 'reverseOctetTotalCount', 'reverseOctetDeltaCount', 'octetDeltaCountFromSourceNode', 'reverseOctetDeltaCountFromSourceNode']
    .map((f) => [`${T}.${f}`, { id: 'bytes' }]),
  ...['throughput', 'reverseThroughput'].map((f) => [`${T}.${f}`, { id: 'number', params: { pattern: '0,0.[0]a' } }]),
]);

interface DashboardEntry {
  id: string;
  title: string;
  build: (navigation: SavedObject) => SavedObject[];
}

function navigation(entries: DashboardEntry[]): SavedObject {
  const links = entries.map((e) => `[${e.title}](#/view/${e.id})`).join(' · ');
  return visualization('elk-flow-collector-navigation', 'Flow dashboards', {
    type: 'markdown',
    params: { markdown: links, openLinksInNewTab: false, fontSize: 12 },
    aggs: [],
  }, false);
}

const countOverTime = (id: string, title: string) =>
  visualization(id, title, {
    type: 'histogram',
    params: {
      type: 'histogram',
      addTooltip: true,
      addLegend: false,
      legendPosition: 'right',
      times: [],
      addTimeMarker: false,
      grid: { categoryLines: false },
      categoryAxes: [{ id: 'CategoryAxis-1', type: 'category', position: 'bottom', show: true, scale: { type: 'linear' }, labels: { show: true, filter: true, truncate: 100 }, title: {} }],
      valueAxes: [{ id: 'ValueAxis-1', name: 'LeftAxis-1', type: 'value', position: 'left', show: true, scale: { type: 'linear', mode: 'normal' }, labels: { show: true, rotate: 0, filter: false, truncate: 100 }, title: { text: 'Flow records' } }],
      seriesParams: [{ show: true, type: 'histogram', mode: 'stacked', data: { label: 'Flow records', id: '1' }, valueAxis: 'ValueAxis-1' }],
      labels: { show: false },
    },
    aggs: [
      { id: '1', enabled: true, type: 'count', params: {}, schema: 'metric' },
      { id: '2', enabled: true, type: 'date_histogram', params: { field: '@timestamp', interval: 'auto', min_doc_count: 1, extended_bounds: {} }, schema: 'segment' },
    ],
  });

const recordCount = (id: string) =>
  visualization(id, 'Flow records', {
    type: 'metric',
    params: { addTooltip: true, addLegend: false, type: 'metric', metric: { percentageMode: false, useRanges: false, colorSchema: 'Green to Red', metricColorMode: 'None', colorsRange: [{ from: 0, to: 10000 }], labels: { show: true }, invertColors: false, style: { bgFill: '#000', bgColor: false, labelColor: false, subText: '', fontSize: 48 } } },
    aggs: [{ id: '1', enabled: true, type: 'count', params: {}, schema: 'metric' }],
  });

const flowRecords: DashboardEntry = {
  id: 'elk-flow-collector-flow-records',
  title: 'Flow Records',
  build: (nav) => {
    const table = search('elk-flow-collector-flow-records-search', 'Flow records', [
      `${T}.sourcePodNamespace`, `${T}.sourcePodName`, `${T}.sourceIP`, `${T}.destinationPodNamespace`, `${T}.destinationPodName`,
      `${T}.destinationIP`, `${T}.destinationServicePortName`, `${T}.protocolName`, `${T}.bytes`, `${T}.packets`, `${T}.flowTypeStr`,
      `${T}.ingressNetworkPolicyRuleActionStr`, `${T}.egressNetworkPolicyRuleActionStr`,
    ]);
    const count = recordCount('elk-flow-collector-flow-records-count');
    const histogram = countOverTime('elk-flow-collector-flow-records-histogram', 'Flow records over time');
    const board = dashboard(flowRecords.id, flowRecords.title, 'The raw flow records over time, with filters.', [
      { object: nav, x: 0, y: 0, w: 48, h: 3 },
      { object: count, x: 0, y: 3, w: 12, h: 10 },
      { object: histogram, x: 12, y: 3, w: 36, h: 10 },
      { object: table, x: 0, y: 13, w: 48, h: 24 },
    ], [
      { field: `${T}.sourcePodNamespace`, title: 'Source namespace' },
      { field: `${T}.sourcePodName`, title: 'Source Pod' },
      { field: `${T}.destinationPodNamespace`, title: 'Destination namespace' },
      { field: `${T}.destinationPodName`, title: 'Destination Pod' },
      { field: `${T}.flowTypeStr`, title: 'Flow type' },
    ], []);
    return [table, count, histogram, board];
  },
};

const DASHBOARDS: DashboardEntry[] = [flowRecords];

/** Every saved object, dependencies first (data view, navigation, panels, then each dashboard). */
export function kibanaObjects(): SavedObject[] {
  const nav = navigation(DASHBOARDS);
  return [dataView(FIELD_FORMATS), nav, ...DASHBOARDS.flatMap((d) => d.build(nav))];
}

/** kibana.ndjson: one saved object per line, as Kibana's Saved Objects export writes it. */
export function kibanaNdjson(): string {
  return kibanaObjects().map((o) => JSON.stringify(o)).join('\n') + '\n';
}
