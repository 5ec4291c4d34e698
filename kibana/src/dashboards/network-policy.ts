// Network Policy: traffic under NetworkPolicies, from the egress policy of the source Pod to the ingress policy of
// the destination Pod, and - beyond Antrea's Grafana dashboard, which shows Allow only - what each rule action did.
import { dashboard, halfWidthRows, rows, type DashboardEntry } from '../saved-objects.js';
import { EXCLUDE_PLUMBING, LIMITS, SCOPES, field } from '../scopes.js';
import { qualifiedLabel, sankeySpec } from '../vega.js';
import { pie, timeSeries, vega, type Metric, type Split } from '../visualizations.js';
import { TX_BYTES, records, txBytes, txBytesPerSecond } from './metrics.js';

const ID = 'elk-flow-collector-network-policy';
const policy = (side: 'ingress' | 'egress'): Split => ({ field: field(`${side}NetworkPolicyName`), size: LIMITS.pieSlices, label: `${side === 'ingress' ? 'Ingress' : 'Egress'} policy` });
const action = (side: 'ingress' | 'egress'): Split => ({ field: field(`${side}NetworkPolicyRuleActionStr`), size: 4, label: `${side === 'ingress' ? 'Ingress' : 'Egress'} rule action` });
const packets: Metric = { type: 'sum', field: field('packetDeltaCount'), label: 'Packets' };

export const networkPolicy: DashboardEntry = {
  id: ID,
  title: 'Network Policy',
  build: (nav) => {
    const scope = SCOPES.policies;
    const kuery = scope.kuery;
    const sankey = vega(`${ID}-sankey`, 'Egress policy to ingress policy', sankeySpec({
      description: 'Bytes from the egress policy of the source Pod to the ingress policy of the destination Pod; hover a link for the Pod-to-Pod traffic.',
      scope: scope.dsl,
      source: { title: 'Egress policy', fields: [field('egressNetworkPolicyNamespace'), field('egressNetworkPolicyName')], label: qualifiedLabel(0, 1, 'no egress policy') },
      target: { title: 'Ingress policy', fields: [field('ingressNetworkPolicyNamespace'), field('ingressNetworkPolicyName')], label: qualifiedLabel(0, 1, 'no ingress policy') },
      bytesField: TX_BYTES,
      details: [
        { title: 'Pod-to-Pod traffic', fields: [field('sourcePodName'), field('destinationPodName')], size: 5 },
        { title: 'Egress rule actions', fields: [field('egressNetworkPolicyRuleActionStr')], size: 4 },
        { title: 'Ingress rule actions', fields: [field('ingressNetworkPolicyRuleActionStr')], size: 4 },
      ],
      maxLinks: LIMITS.sankeyLinks,
    }));
    const overTime = (split: Split, metric: Metric, chart: 'line' | 'histogram', perSecond: boolean) =>
      ({ chart, metric, split: { ...split, size: Math.min(split.size, LIMITS.lineSeries) }, perSecond, stacked: true, kuery });
    const objects = [
      timeSeries(`${ID}-ingress-throughput`, 'Throughput by ingress policy', overTime(policy('ingress'), txBytesPerSecond, 'line', true)),
      timeSeries(`${ID}-egress-throughput`, 'Throughput by egress policy', overTime(policy('egress'), txBytesPerSecond, 'line', true)),
      timeSeries(`${ID}-ingress-actions`, 'Flow records by ingress rule action', overTime(action('ingress'), records, 'histogram', false)),
      timeSeries(`${ID}-egress-actions`, 'Flow records by egress rule action', overTime(action('egress'), records, 'histogram', false)),
      pie(`${ID}-ingress-action-bytes`, 'Bytes by ingress rule action', txBytes, action('ingress'), kuery),
      pie(`${ID}-egress-action-bytes`, 'Bytes by egress rule action', txBytes, action('egress'), kuery),
      pie(`${ID}-ingress-bytes`, 'Bytes by ingress policy', txBytes, policy('ingress'), kuery),
      pie(`${ID}-egress-bytes`, 'Bytes by egress policy', txBytes, policy('egress'), kuery),
      pie(`${ID}-ingress-packets`, 'Packets by ingress policy', packets, policy('ingress'), kuery),
      pie(`${ID}-egress-packets`, 'Packets by egress policy', packets, policy('egress'), kuery),
    ];
    const board = dashboard(ID, 'Network Policy', 'Traffic under NetworkPolicies: egress to ingress policy, throughput, and what the rules did (Allow, Drop, Reject).', rows([
      { h: 3, panels: [[nav, 48]] },
      { h: 20, panels: [[sankey, 48]] },
      ...halfWidthRows(objects, 12),
    ]), [
      { field: field('egressNetworkPolicyNamespace'), title: 'Egress policy namespace' },
      { field: field('egressNetworkPolicyName'), title: 'Egress policy' },
      { field: field('ingressNetworkPolicyNamespace'), title: 'Ingress policy namespace' },
      { field: field('ingressNetworkPolicyName'), title: 'Ingress policy' },
      { field: field('ingressNetworkPolicyRuleActionStr'), title: 'Ingress rule action' },
      { field: field('egressNetworkPolicyRuleActionStr'), title: 'Egress rule action' },
    ], EXCLUDE_PLUMBING);
    return [sankey, ...objects, board];
  },
};
