// Aggregation-based ("legacy") visualizations: the panel types that Kibana 8.8 through 9.x import and render
// without Lens state. Each builder writes the visState Kibana's editor would save for that chart.
import { visualization, type SavedObject } from './saved-objects.js';
import { vegaSpecText, type VegaSpec } from './vega.js';

/** A metric aggregation: what a chart measures. */
export interface Metric {
  type: 'count' | 'sum' | 'max' | 'avg' | 'cardinality';
  field?: string;
  label: string;
}

/** A terms split: one series (or slice, or bar) per value, the `size` largest by the chart's first metric. */
export interface Split {
  field: string;
  size: number;
  label: string;
}

const metricAgg = (id: string, m: Metric) => ({
  id,
  enabled: true,
  type: m.type,
  params: { ...(m.field ? { field: m.field } : {}), customLabel: m.label },
  schema: 'metric',
});

const termsAgg = (id: string, split: Split, schema: 'segment' | 'group') => ({
  id,
  enabled: true,
  type: 'terms',
  params: {
    field: split.field,
    orderBy: '1',
    order: 'desc',
    size: split.size,
    otherBucket: false,
    otherBucketLabel: 'Other',
    missingBucket: false,
    missingBucketLabel: 'Missing',
    customLabel: split.label,
  },
  schema,
});

/**
 * The date axis. perMinute: the interval is "minute" and sums are scaled to it, so a sum of bytes reads as bytes/min.
 * Not per second: Kibana shortens a bucket to as little as range/100 (30 s for the last hour), and an exporter
 * sends a flow's delta about once a minute (the Flow Aggregator's active timeout), so a rate over buckets shorter
 * than that is too high wherever a bucket holds a record and zero where it holds none. With "minute" a bucket is
 * never shorter than a minute: Kibana only lengthens it (scaling the sums back to per minute).
 */
const dateAgg = (id: string, perMinute: boolean) => ({
  id,
  enabled: true,
  type: 'date_histogram',
  params: {
    field: '@timestamp',
    useNormalizedEsInterval: true,
    scaleMetricValues: perMinute,
    interval: perMinute ? 'm' : 'auto',
    drop_partials: false,
    min_doc_count: 1,
    extended_bounds: {},
  },
  schema: 'segment',
});

function xyParams(type: 'line' | 'area' | 'histogram' | 'horizontal_bar', valueTitle: string, stacked: boolean) {
  const horizontal = type === 'horizontal_bar';
  return {
    type,
    addTooltip: true,
    addLegend: true,
    legendPosition: 'right',
    truncateLegend: true,
    maxLegendLines: 1,
    times: [],
    addTimeMarker: false,
    grid: { categoryLines: false, valueAxis: 'ValueAxis-1' },
    categoryAxes: [{
      id: 'CategoryAxis-1', type: 'category', position: horizontal ? 'left' : 'bottom', show: true, scale: { type: 'linear' },
      labels: { show: true, filter: !horizontal, truncate: horizontal ? 200 : 100 }, title: {},
    }],
    valueAxes: [{
      id: 'ValueAxis-1', name: 'LeftAxis-1', type: 'value', position: horizontal ? 'bottom' : 'left', show: true,
      scale: { type: 'linear', mode: 'normal' }, labels: { show: true, rotate: 0, filter: horizontal, truncate: 100 }, title: { text: valueTitle },
    }],
    seriesParams: [{
      show: true,
      type: type === 'area' ? 'area' : type === 'line' ? 'line' : 'histogram',
      mode: stacked ? 'stacked' : 'normal',
      data: { label: valueTitle, id: '1' },
      valueAxis: 'ValueAxis-1',
      drawLinesBetweenPoints: true,
      lineWidth: 2,
      showCircles: false,
      interpolate: 'linear',
    }],
    labels: { show: false },
    thresholdLine: { show: false, value: 10, width: 1, style: 'full', color: '#E7664C' },
    // What Kibana 8's editor saves for a chart it draws with its XY renderer.
    palette: { type: 'palette', name: 'default' },
    isVislibVis: true,
    detailedTooltip: true,
    fittingFunction: 'linear',
    legendSize: 'auto',
  };
}

export interface TimeSeriesOptions {
  chart: 'line' | 'area' | 'histogram';
  metric: Metric;
  split?: Split;
  /** Sums scaled to per minute (see dateAgg). */
  perMinute: boolean;
  stacked: boolean;
  kuery: string;
}

/** A chart over time, optionally one series per value of a field (terms first, so the top N is over the whole range). */
export function timeSeries(id: string, title: string, o: TimeSeriesOptions): SavedObject {
  const aggs = [metricAgg('1', o.metric), ...(o.split ? [termsAgg('3', o.split, 'group')] : []), dateAgg('2', o.perMinute)];
  return visualization(id, title, { type: o.chart, params: xyParams(o.chart, o.metric.label, o.stacked), aggs }, { kuery: o.kuery });
}

/** Horizontal bars of the top values of a field. */
export function topBars(id: string, title: string, metric: Metric, split: Split, kuery: string): SavedObject {
  return visualization(id, title, {
    type: 'horizontal_bar',
    params: { ...xyParams('horizontal_bar', metric.label, false), addLegend: false },
    aggs: [metricAgg('1', metric), termsAgg('2', split, 'segment')],
  }, { kuery });
}

/** A donut of the top values of a field. */
export function pie(id: string, title: string, metric: Metric, split: Split, kuery: string): SavedObject {
  return visualization(id, title, {
    type: 'pie',
    params: {
      type: 'pie', addTooltip: true, addLegend: true, legendDisplay: 'show', legendPosition: 'right', legendSize: 'auto', isDonut: true,
      emptySizeRatio: 0.3, nestedLegend: false, truncateLegend: true, maxLegendLines: 1, distinctColors: true,
      palette: { type: 'palette', name: 'default' },
      labels: { show: false, values: true, last_level: true, truncate: 100, valuesFormat: 'percent', percentDecimals: 2, position: 'default' },
    },
    aggs: [metricAgg('1', metric), termsAgg('2', split, 'segment')],
  }, { kuery });
}

/** Big numbers, one per metric. */
export function metrics(id: string, title: string, list: Metric[], kuery: string): SavedObject {
  return visualization(id, title, {
    type: 'metric',
    params: {
      addTooltip: true, addLegend: false, type: 'metric',
      metric: {
        percentageMode: false, useRanges: false, colorSchema: 'Green to Red', metricColorMode: 'None', colorsRange: [{ from: 0, to: 10000 }],
        labels: { show: true }, invertColors: false, style: { bgFill: '#000', bgColor: false, labelColor: false, subText: '', fontSize: 36 },
      },
    },
    aggs: list.map((m, i) => metricAgg(String(i + 1), m)),
  }, { kuery });
}

export function markdown(id: string, title: string, text: string): SavedObject {
  return visualization(id, title, { type: 'markdown', params: { markdown: text, openLinksInNewTab: false, fontSize: 12 }, aggs: [] }, { indexed: false });
}

/** A Vega visualization; it queries Elasticsearch itself (see vega.ts), so it has no data view. */
export function vega(id: string, title: string, spec: VegaSpec): SavedObject {
  return visualization(id, title, { type: 'vega', params: { spec: vegaSpecText(spec) }, aggs: [] }, { indexed: false });
}
