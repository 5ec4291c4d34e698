// Node Throughput: traffic within and between Nodes, aggregated per Node.
import { dashboard, rows, type DashboardEntry } from '../saved-objects.js';
import { EXCLUDE_PLUMBING, LIMITS, SCOPES, field } from '../scopes.js';
import { heatmapSpec, sankeySpec, type SankeySide } from '../vega.js';
import { timeSeries, vega, type Split } from '../visualizations.js';
import { RX_BYTES, TX_BYTES, rxBytesPerMinute, txBytesPerMinute } from './metrics.js';

const ID = 'elk-flow-collector-node-throughput';
const node = (side: 'source' | 'destination'): SankeySide => ({
  title: side === 'source' ? 'Source Node' : 'Destination Node',
  fields: [field(`${side}NodeName`)],
  label: "k[0] === '' ? 'unknown' : k[0]",
});

export const nodeThroughput: DashboardEntry = {
  id: ID,
  title: 'Node Throughput',
  build: (nav) => {
    const scope = SCOPES.nodes;
    const sankey = (direction: 'tx' | 'rx') => vega(`${ID}-sankey-${direction}`, `Node to Node: ${direction === 'tx' ? 'bytes (Tx)' : 'reverse bytes (Rx)'}`, sankeySpec({
      description: `Inter-Node and intra-Node ${direction === 'tx' ? 'bytes' : 'reverse bytes'} from source Node to destination Node.`,
      scope: scope.dsl,
      source: node('source'),
      target: node('destination'),
      bytesField: direction === 'tx' ? TX_BYTES : RX_BYTES,
      details: [{ title: 'Pod-to-Pod traffic', fields: [field('sourcePodName'), field('destinationPodName')], size: 5 }],
      maxLinks: LIMITS.sankeyLinks,
      // A Node the exporter did not name is shown by the Pod addresses on it, as the legacy dashboard did.
      fallback: { source: field('sourceIP'), target: field('destinationIP'), size: 10 },
    }));
    const heatmap = (direction: 'tx' | 'rx') => {
      const Dir = direction === 'tx' ? 'Tx' : 'Rx';
      return vega(`${ID}-heatmap-${direction}`, `${Dir} bytes/min by source Node`, heatmapSpec({
        description: `${Dir} bytes per minute of the traffic each Node's Pods started, over time (the unit of the lines above).`,
        scope: scope.dsl,
        rowField: field('sourceNodeName'),
        rowTitle: 'Source Node',
        bytesField: direction === 'tx' ? TX_BYTES : RX_BYTES,
        legendTitle: `${Dir} bytes/min`,
        maxRows: LIMITS.lineSeries,
      }));
    };
    const byNode: Split = { field: field('sourceNodeName'), size: LIMITS.lineSeries, label: 'Source Node' };
    const line = (metric = txBytesPerMinute) => ({ chart: 'line' as const, metric, split: byNode, perMinute: true, stacked: true, kuery: scope.kuery });
    const objects = [
      sankey('tx'), sankey('rx'),
      timeSeries(`${ID}-tx`, 'Tx by source Node', line()),
      timeSeries(`${ID}-rx`, 'Rx by source Node', line(rxBytesPerMinute)),
      heatmap('tx'), heatmap('rx'),
    ];
    const board = dashboard(ID, 'Node Throughput', 'Inter-Node and intra-Node traffic aggregated per Node.', rows([
      { h: 3, panels: [[nav, 48]] },
      { h: 18, panels: [[objects[0], 24], [objects[1], 24]] },
      { h: 13, panels: [[objects[2], 24], [objects[3], 24]] },
      { h: 14, panels: [[objects[4], 24], [objects[5], 24]] },
    ]), [
      { field: field('sourceNodeName'), title: 'Source Node' },
      { field: field('destinationNodeName'), title: 'Destination Node' },
      { field: field('flowTypeStr'), title: 'Flow type' },
    ], EXCLUDE_PLUMBING);
    return [...objects, board];
  },
};
