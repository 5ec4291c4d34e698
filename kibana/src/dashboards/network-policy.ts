// Network Policy: traffic under NetworkPolicies, from the egress policy of the source Pod to the ingress policy of
// the destination Pod, and - beyond Antrea's Grafana dashboard, which shows Allow only - what each rule action did.
import { dashboard, halfWidthRows, rows, type DashboardEntry, type SavedObject } from '../saved-objects.js';
import { EXCLUDE_PLUMBING, LIMITS, SCOPES, field } from '../scopes.js';
import { qualifiedLabel, sankeySpec } from '../vega.js';
import { pie, timeSeries, vega, type Metric, type Split } from '../visualizations.js';
import { TX_BYTES, packets, records, txBytes, txBytesPerMinute } from './metrics.js';

const ID = 'elk-flow-collector-network-policy';
const policy = (side: 'ingress' | 'egress'): Split => ({ field: field(`${side}NetworkPolicyName`), size: LIMITS.pieSlices, label: `${side === 'ingress' ? 'Ingress' : 'Egress'} policy` });
const action = (side: 'ingress' | 'egress'): Split => ({ field: field(`${side}NetworkPolicyRuleActionStr`), size: 4, label: `${side === 'ingress' ? 'Ingress' : 'Egress'} rule action` });

export const networkPolicy: DashboardEntry = {
  id: ID,
  title: 'Network Policy',
  build: (nav) => {
    const scope = SCOPES.policies;
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
    // A side's panels show the records under a policy of that side only: under the dashboard's scope (either side)
    // the other side's records would make an "N/A" series or slice.
    const sideKuery = (side: 'ingress' | 'egress') => (side === 'ingress' ? SCOPES.ingressPolicy : SCOPES.egressPolicy).kuery;
    const overTime = (side: 'ingress' | 'egress', split: Split, metric: Metric, chart: 'line' | 'histogram', perMinute: boolean) =>
      ({ chart, metric, split: { ...split, size: Math.min(split.size, LIMITS.lineSeries) }, perMinute, stacked: true, kuery: sideKuery(side) });
    const sides = ['ingress', 'egress'] as const;
    const perSide = (make: (side: 'ingress' | 'egress') => SavedObject) => sides.map(make);
    const objects = [
      ...perSide((side) => timeSeries(`${ID}-${side}-throughput`, `Throughput by ${side} policy`, overTime(side, policy(side), txBytesPerMinute, 'line', true))),
      ...perSide((side) => timeSeries(`${ID}-${side}-actions`, `Flow records by ${side} rule action`, overTime(side, action(side), records, 'histogram', false))),
      ...perSide((side) => pie(`${ID}-${side}-action-bytes`, `Bytes by ${side} rule action`, txBytes, action(side), sideKuery(side))),
      ...perSide((side) => pie(`${ID}-${side}-bytes`, `Bytes by ${side} policy`, txBytes, policy(side), sideKuery(side))),
      ...perSide((side) => pie(`${ID}-${side}-packets`, `Packets by ${side} policy`, packets, policy(side), sideKuery(side))),
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
