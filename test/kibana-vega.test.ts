// The Vega panels of kibana.ndjson, drawn headless as Kibana would draw them (kibana/preview/render.ts) on the
// documents the collector makes of a demo cluster's IPFIX records: every panel draws, and what it draws equals
// what the documents say, under each dashboard's filters.
import { describe, expect, it } from 'vitest';
import Hjson from 'hjson';
import type * as vega from 'vega';
import { demoDocuments, type FlowSource } from '../kibana/preview/demo-cluster.js';
import { renderDashboards, renderPreviews, vegaPanels } from '../kibana/preview/previews.js';
import { DASHBOARD_WIDTH, gridPanels } from '../kibana/preview/dashboard.js';
import { aggregationRequest } from '../kibana/preview/panels.js';
import { search } from '../kibana/preview/es-search.js';
import { kibanaObjects } from '../kibana/src/dashboards.js';
import { renderVega, sceneRoot } from '../kibana/preview/render.js';

const documents = demoDocuments();
const previews = await renderPreviews(documents);
const PLUMBING = ['kube-system', 'elk-flow-collector', 'flow-aggregator'];

const preview = (suffix: string) => previews.find((p) => p.visualization.id === `elk-flow-collector-${suffix}`)!;
const ipfix = (d: FlowSource) => d.ipfix as Record<string, any>;
const shown = (d: FlowSource) => !PLUMBING.includes(ipfix(d).sourcePodNamespace) && !PLUMBING.includes(ipfix(d).destinationPodNamespace);

/** The items a named mark drew (with their evaluated tooltips). */
function items(scene: any, name: string, out: any[] = []): any[] {
  if (scene?.marktype) {
    if (scene.name === name) out.push(...scene.items);
    for (const item of scene.items) for (const child of item.items ?? []) items(child, name, out);
  }
  return out;
}
const linkItems = (p: { rendered: { view: vega.View } }) => items(sceneRoot(p.rendered.view), 'link');
const links = (p: { rendered: { view: vega.View } }) =>
  new Map(linkItems(p).map((i) => [`${i.datum.source} -> ${i.datum.target}`, i.datum.size as number]));

function sums(docs: FlowSource[], key: (d: FlowSource) => string, field = 'octetDeltaCount'): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of docs) out.set(key(d), (out.get(key(d)) ?? 0) + ipfix(d)[field]);
  return out;
}
const podOf = (d: FlowSource, side: 'source' | 'destination') => `${ipfix(d)[`${side}PodNamespace`]}/${ipfix(d)[`${side}PodName`]}`;

describe('Vega panels', () => {
  it('the demo cluster went through the collector: 30 exports of 18 Flow Aggregator records', () => {
    expect(documents).toHaveLength(540);
    expect(ipfix(documents[0])).toMatchObject({ sourcePodName: 'loadgen-84c2f', flowTypeStr: 'Inter-Node', destinationServicePortName: 'shop/frontend:http' });
  });

  it('parse as HJSON and query through Kibana\'s %context% and %timefield%, with no query of their own', () => {
    const panels = vegaPanels();
    expect(panels.length).toBe(11);
    for (const panel of panels) {
      const spec = Hjson.parse(panel.specText);
      expect(spec.$schema).toBe('https://vega.github.io/schema/vega/v5.json');
      const requests = spec.data.filter((d: any) => d.url);
      expect(requests.length, panel.visualization.id).toBeGreaterThan(0);
      for (const { url } of requests) {
        expect(url).toMatchObject({ index: 'flow-*', '%context%': true, '%timefield%': '@timestamp' });
        expect(url.body.query).toBeUndefined();
      }
    }
  });

  it('every panel draws marks', () => {
    for (const p of previews) {
      const id = p.visualization.id;
      if (id.includes('heatmap')) expect(p.rendered.marks.cell, id).toBeGreaterThan(0);
      else for (const mark of ['link', 'sourceNode', 'targetNode']) expect(p.rendered.marks[mark], `${id} ${mark}`).toBeGreaterThan(0);
      expect(p.rendered.png.subarray(1, 4).toString()).toBe('PNG');
      expect(p.rendered.svg).toMatch(/<path /);
    }
  });

  it('Pod-to-Pod: one link per Pod pair, bytes equal to the documents\' delta sums, plumbing left out', () => {
    const scoped = documents.filter((d) => [1, 2].includes(ipfix(d).flowType) && ipfix(d).flowKeyPodToPod && shown(d));
    const expected = sums(scoped, (d) => `${podOf(d, 'source')} -> ${podOf(d, 'destination')}`);
    expect(links(preview('pod-to-pod-sankey-tx'))).toEqual(expected);
    const reverse = sums(scoped, (d) => `${podOf(d, 'source')} -> ${podOf(d, 'destination')}`, 'reverseOctetDeltaCount');
    expect(links(preview('pod-to-pod-sankey-rx'))).toEqual(new Map([...reverse].filter(([, v]) => v > 0)));
    expect([...expected.keys()].join()).not.toMatch(/kube-system|flow-aggregator|elk-flow-collector/);
  });

  it('Pod-to-Service: destinations are Service port names and the tooltips carry the IP addresses', () => {
    const p = preview('pod-to-service-sankey-tx');
    const scoped = documents.filter((d) => ipfix(d).flowKeyPodToService && shown(d));
    expect(links(p)).toEqual(sums(scoped, (d) => `${podOf(d, 'source')} -> ${ipfix(d).destinationServicePortName}`));
    const cart = linkItems(p).find((i) => i.datum.source === 'shop/frontend-7d9f4' && i.datum.target === 'shop/cart:grpc');
    expect(cart.tooltip).toMatchObject({ 'Source IPs': '10.244.1.11', 'Destination IPs': '10.244.2.21', 'Destination Pods': 'cart-5c6b8' });
  });

  it('Pod-to-External: destinations are IP addresses', () => {
    const scoped = documents.filter((d) => ipfix(d).flowType === 3 && shown(d));
    const drawn = links(preview('pod-to-external-sankey-tx'));
    expect(drawn).toEqual(sums(scoped, (d) => `${podOf(d, 'source')} -> ${ipfix(d).destinationIP}`));
    expect([...drawn.keys()].map((k) => k.split(' -> ')[1]).sort()).toEqual(['151.101.1.69', '203.0.113.10', '93.184.216.34']);
  });

  it('Network Policy: egress policy to ingress policy, the Pod-to-Pod traffic and the rule actions on hover', () => {
    const p = preview('network-policy-sankey');
    const byKey = new Map(linkItems(p).map((i) => [`${i.datum.source} -> ${i.datum.target}`, i]));
    expect([...byKey.keys()].sort()).toEqual([
      'no egress policy -> shop/allow-frontend', 'no egress policy -> shop/db-access',
      'restrict-egress -> no ingress policy', 'shop/frontend-egress -> no ingress policy', 'shop/frontend-egress -> shop/allow-cart',
    ]);
    const db = byKey.get('no egress policy -> shop/db-access')!.tooltip;
    expect(db['Pod-to-Pod traffic']).toBe('cart-5c6b8 → postgres-0, catalog-9f7a2 → postgres-0, loadgen-84c2f → postgres-0');
    expect(db['Ingress rule actions']).toBe('Allow, Drop');
    expect(byKey.get('restrict-egress -> no ingress policy')!.tooltip['Egress rule actions']).toBe('Allow, Reject');
  });

  it('Node heatmap: Tx bytes/min per source Node and minute, the unit of the Node lines; shorter buckets merged into minutes', async () => {
    const scoped = documents.filter((d) => [1, 2].includes(ipfix(d).flowType) && shown(d));
    const minute = (d: FlowSource) => Math.floor(Date.parse(d['@timestamp']) / 60_000) * 60_000;
    const expected = sums(scoped, (d) => `${ipfix(d).sourceNodeName} ${minute(d)}`);
    const check = (cells: any[], within: (key: string) => boolean) => {
      const wanted = new Map([...expected].filter(([k]) => within(k)));
      expect(cells).toHaveLength(wanted.size);
      for (const cell of cells) {
        expect(cell.datum.cellMs).toBe(60_000);
        expect(cell.datum.rate).toBeCloseTo(wanted.get(`${cell.datum.name} ${cell.datum.cell}`)!, 6);
      }
    };
    check(items(sceneRoot(preview('node-throughput-heatmap-tx').rendered.view), 'cell'), () => true);
    expect(preview('node-throughput-heatmap-tx').rendered.svg).toContain('Tx bytes/min');
    // The last 15 minutes: Kibana's buckets are 30 s, each minute's records in one of two; drawn per minute still.
    const panel = vegaPanels().find((p) => p.visualization.id === 'elk-flow-collector-node-throughput-heatmap-tx')!;
    const min = panel.context.timeRange.max - 15 * 60_000;
    const request = (await import('../kibana/preview/render.js')).kibanaRequest;
    const spec = Hjson.parse(panel.specText);
    const context = { ...panel.context, timeRange: { min, max: panel.context.timeRange.max } };
    expect((request(spec.data[0].url, context).aggs as any).scope.aggs.time.date_histogram.fixed_interval).toBe('30s');
    const short = await renderVega(panel.specText, documents, context);
    check(items(sceneRoot(short.view), 'cell'), (k) => Number(k.split(' ')[1]) >= Math.floor(min / 60_000) * 60_000);
    short.view.finalize();
  });

  it('Node Sankey: a Node without a name is shown by the addresses of its Pods; named Nodes stay whole', async () => {
    const panel = vegaPanels().find((p) => p.visualization.id === 'elk-flow-collector-node-throughput-sankey-tx')!;
    const scoped = documents.filter((d) => [1, 2].includes(ipfix(d).flowType) && shown(d));
    // The exporter did not know k8s-node-3's name on the destination side.
    const unnamed = scoped.map((d) => (ipfix(d).destinationNodeName === 'k8s-node-3' ? { ...d, ipfix: { ...ipfix(d), destinationNodeName: '' } } : d));
    const drawn = await renderVega(panel.specText, unnamed, panel.context);
    const got = new Map<string, number>();
    for (const i of items(sceneRoot(drawn.view), 'link')) got.set(`${i.datum.source} -> ${i.datum.target}`, (got.get(`${i.datum.source} -> ${i.datum.target}`) ?? 0) + i.datum.size);
    const expected = sums(unnamed, (d) => `${ipfix(d).sourceNodeName} -> ${ipfix(d).destinationNodeName || ipfix(d).destinationIP}`);
    expect(got).toEqual(expected);
    expect([...got.keys()]).toContain('k8s-node-2 -> 10.244.3.40');
    expect([...got.keys()].some((k) => k.endsWith('-> unknown') || k.endsWith('-> '))).toBe(false);
    drawn.view.finalize();
  });

  it('draws the 50 largest links, as Elasticsearch picks them, and a message when there is nothing to draw', async () => {
    const template = documents.find((d) => ipfix(d).flowType === 2 && shown(d))!;
    const many = Array.from({ length: 60 }, (_, i) => ({ ...template, ipfix: { ...ipfix(template), sourcePodName: `client-${i}`, octetDeltaCount: 1000 + i } }));
    const panel = vegaPanels().find((p) => p.visualization.id === 'elk-flow-collector-pod-to-pod-sankey-tx')!;
    const drawn = await renderVega(panel.specText, many, panel.context);
    const sizes = items(sceneRoot(drawn.view), 'link').map((i) => i.datum.size as number);
    expect(sizes).toHaveLength(50);
    expect(Math.min(...sizes)).toBe(1010);
    const empty = await renderVega(panel.specText, [], panel.context);
    expect(empty.marks.link).toBe(0);
    expect(empty.svg).toContain('No flows in this time range');
  });
});

describe('whole-dashboard previews', async () => {
  const objects = kibanaObjects();
  const dashboards = await renderDashboards(documents, objects);
  const board = (title: string) => dashboards.find((d) => d.dashboard.attributes.title === title)!;
  const panel = (title: string, panelTitle: string) => board(title).panels.find((p) => p.object.attributes.title === panelTitle)!;
  /** An aggregation panel's rows as a map from its first bucket key to its first metric. */
  const byKey = (title: string, panelTitle: string) => new Map(panel(title, panelTitle).rows!.map((r) => [String(r.keys[0]), r.metrics['1']]));

  it('draws every dashboard, every panel in its grid position, in one PNG each', () => {
    expect(dashboards.map((d) => d.file)).toEqual([
      'overview', 'pod-to-pod', 'pod-to-service', 'pod-to-external', 'flow-records', 'node-throughput', 'network-policy',
    ].map((f) => `docs/previews/${f}.png`));
    for (const d of dashboards) {
      const grid = gridPanels(d.dashboard, objects);
      expect(d.panels.map((p) => p.object.id)).toEqual(grid.map((g) => g.object.id));
      const column = d.panels[0].box.width / grid[0].grid.w;
      for (const [i, p] of d.panels.entries()) {
        // Left edge and width follow the 48-column grid; rows follow the grid's y.
        expect(p.box.x, p.object.id).toBeCloseTo(d.panels[0].box.x + grid[i].grid.x * ((DASHBOARD_WIDTH - 2 * d.panels[0].box.x + 8) / 48), 6);
        expect(p.box.y - d.panels[0].box.y, p.object.id).toBe(grid[i].grid.y * 20);
        expect(p.svg, p.object.id).toMatch(/^<svg/);
        // Every panel drew something: marks beyond the background.
        expect(p.svg.length, p.object.id).toBeGreaterThan(500);
        if (p.rows) expect(p.rows.length, `${p.object.id} rows`).toBeGreaterThan(0);
      }
      expect(column).toBeGreaterThan(0);
      expect(d.png.subarray(1, 4).toString()).toBe('PNG');
      for (const p of d.panels) expect(d.svg).toContain(String(p.object.attributes.title).replace(/&/g, '&amp;'));
    }
  });

  it('Overview: totals, packets by Pod and by IP equal the documents, without records that lack the Pod', () => {
    const shownDocs = documents.filter((d) => ipfix(d).flowType && shown(d));
    const totals = panel('Overview', 'Totals').rows![0].metrics;
    expect(totals['2']).toBe(shownDocs.length);
    expect(totals['3']).toBe(shownDocs.reduce((a, d) => a + ipfix(d).octetDeltaCount, 0));
    expect(totals['5']).toBe(shownDocs.reduce((a, d) => a + ipfix(d).packetDeltaCount, 0));
    const withDestinationPod = shownDocs.filter((d) => ipfix(d).flowType !== 3);
    expect(byKey('Overview', 'Packets by destination Pod')).toEqual(sums(withDestinationPod, (d) => ipfix(d).destinationPodName, 'packetDeltaCount'));
    expect(byKey('Overview', 'Packets by destination Pod').has('')).toBe(false);
    expect(byKey('Overview', 'Top destination Pods by bytes').has('')).toBe(false);
    expect(byKey('Overview', 'Bytes by destination namespace').has('')).toBe(false);
    expect(byKey('Overview', 'Packets by source Pod')).toEqual(sums(shownDocs, (d) => ipfix(d).sourcePodName, 'packetDeltaCount'));
    // IPs include the external destinations.
    expect(byKey('Overview', 'Packets by destination IP')).toEqual(sums(shownDocs, (d) => ipfix(d).destinationIP, 'packetDeltaCount'));
    expect(byKey('Overview', 'Packets by destination IP').has('93.184.216.34')).toBe(true);
  });

  it('Network Policy: a side\'s panels have no "N/A" series or slice', () => {
    for (const side of ['ingress', 'egress']) {
      for (const title of [`Throughput by ${side} policy`, `Flow records by ${side} rule action`, `Bytes by ${side} policy`, `Bytes by ${side} rule action`, `Packets by ${side} policy`]) {
        const keys = panel('Network Policy', title).rows!.map((r) => String(r.keys[0]));
        expect(keys.length, title).toBeGreaterThan(0);
        expect(keys, title).not.toContain('N/A');
        expect(keys, title).not.toContain('No Action');
      }
    }
    const underIngress = documents.filter((d) => shown(d) && ipfix(d).ingressNetworkPolicyName !== 'N/A');
    expect(byKey('Network Policy', 'Bytes by ingress policy')).toEqual(sums(underIngress, (d) => ipfix(d).ingressNetworkPolicyName));
  });

  it('time series: Rx by source Pod sums the reverse delta counters per minute, never over buckets shorter than a minute', () => {
    const rows = panel('Pod-to-Pod Flows', 'Rx by source Pod').rows!;
    const scoped = documents.filter((d) => [1, 2].includes(ipfix(d).flowType) && ipfix(d).flowKeyPodToPod && shown(d));
    const minute = (d: FlowSource) => Math.floor(Date.parse(d['@timestamp']) / 60_000) * 60_000;
    const expected = sums(scoped, (d) => `${ipfix(d).sourcePodName} ${minute(d)}`, 'reverseOctetDeltaCount');
    expect(rows).toHaveLength(expected.size);
    for (const r of rows) expect(r.metrics['1']).toBe(expected.get(`${r.keys[0]} ${r.keys[1]}`));
    // Over a day Kibana lengthens the buckets (to 10 minutes here) and scales the sums back to per minute.
    const vis = JSON.parse(panel('Pod-to-Pod Flows', 'Rx by source Pod').object.attributes.visState as string);
    const day = { must: [], mustNot: [], timeRange: { min: Date.parse(documents[0]['@timestamp']) - 12 * 3_600_000, max: Date.parse(documents[0]['@timestamp']) + 12 * 3_600_000 - 1 } };
    const { request, read } = aggregationRequest(vis, 'ipfix.flowType:(1 or 2) and ipfix.flowKeyPodToPod:*', day);
    expect(JSON.stringify(request.aggs)).toContain('"fixed_interval":"10m"');
    const daily = read(search(request, documents) as never);
    const total = (list: { metrics: Record<string, number> }[]) => list.reduce((a, r) => a + r.metrics['1'], 0);
    expect(total(daily) * 10).toBeCloseTo([...sums(documents.filter((d) => [1, 2].includes(ipfix(d).flowType) && ipfix(d).flowKeyPodToPod), () => 'all', 'reverseOctetDeltaCount').values()][0], 3);
  });
});
