// Overview: what the Antrea records hold at a glance, with the legacy Overview's filters and per-Pod panels.
import { dashboard, halfWidthRows, rows, type DashboardEntry } from '../saved-objects.js';
import { EXCLUDE_PLUMBING, LIMITS, SCOPES, field } from '../scopes.js';
import { metrics, pie, timeSeries, topBars, type Split } from '../visualizations.js';
import { packets, records, rxBytes, txBytes, txBytesPerMinute } from './metrics.js';

const ID = 'elk-flow-collector-overview';
const top = (name: string, label: string, size: number = LIMITS.bars): Split => ({ field: field(name), size, label });

export const overview: DashboardEntry = {
  id: ID,
  title: 'Overview',
  build: (nav) => {
    const kuery = SCOPES.antrea.kuery;
    const totals = metrics(`${ID}-totals`, 'Totals', [
      { type: 'cardinality', field: field('flowKey'), label: 'Flows' },
      records,
      txBytes,
      rxBytes,
      packets,
    ], kuery);
    const traffic = timeSeries(`${ID}-traffic`, 'Traffic by flow type', {
      chart: 'area', metric: txBytesPerMinute, split: top('flowTypeStr', 'Flow type', 4), perMinute: true, stacked: true, kuery,
    });
    // Pod panels count only records that have the Pod: To-External records have no destination Pod, From-External
    // ones no source Pod, and would otherwise show as an empty Pod.
    const src = SCOPES.podSource.kuery;
    const dst = SCOPES.podDestination.kuery;
    const objects = [
      topBars(`${ID}-top-source-pods`, 'Top source Pods by bytes', txBytes, top('sourcePodName', 'Source Pod'), src),
      topBars(`${ID}-top-destination-pods`, 'Top destination Pods by bytes', txBytes, top('destinationPodName', 'Destination Pod'), dst),
      pie(`${ID}-source-pod-packets`, 'Packets by source Pod', packets, top('sourcePodName', 'Source Pod', LIMITS.pieSlices), src),
      pie(`${ID}-destination-pod-packets`, 'Packets by destination Pod', packets, top('destinationPodName', 'Destination Pod', LIMITS.pieSlices), dst),
      pie(`${ID}-source-namespaces`, 'Bytes by source namespace', txBytes, top('sourcePodNamespace', 'Source namespace', LIMITS.pieSlices), src),
      pie(`${ID}-destination-namespaces`, 'Bytes by destination namespace', txBytes, top('destinationPodNamespace', 'Destination namespace', LIMITS.pieSlices), dst),
      pie(`${ID}-source-ips`, 'Bytes by source IP', txBytes, top('sourceIP', 'Source IP', LIMITS.pieSlices), kuery),
      pie(`${ID}-destination-ips`, 'Bytes by destination IP', txBytes, top('destinationIP', 'Destination IP', LIMITS.pieSlices), kuery),
      pie(`${ID}-source-ip-packets`, 'Packets by source IP', packets, top('sourceIP', 'Source IP', LIMITS.pieSlices), kuery),
      pie(`${ID}-destination-ip-packets`, 'Packets by destination IP', packets, top('destinationIP', 'Destination IP', LIMITS.pieSlices), kuery),
      pie(`${ID}-flow-types`, 'Bytes by flow type', txBytes, top('flowTypeStr', 'Flow type'), kuery),
      pie(`${ID}-protocols`, 'Bytes by protocol', txBytes, top('protocolName', 'Protocol'), kuery),
      pie(`${ID}-ingress-actions`, 'Flow records by ingress rule action', records, top('ingressNetworkPolicyRuleActionStr', 'Ingress rule action'), kuery),
      pie(`${ID}-egress-actions`, 'Flow records by egress rule action', records, top('egressNetworkPolicyRuleActionStr', 'Egress rule action'), kuery),
      topBars(`${ID}-source-pod-records`, 'Flow records per source Pod', records, top('sourcePodName', 'Source Pod'), src),
      topBars(`${ID}-destination-pod-records`, 'Flow records per destination Pod', records, top('destinationPodName', 'Destination Pod'), dst),
    ];
    const board = dashboard(ID, 'Overview', 'Pod-based flow records at a glance: totals, traffic over time, top Pods and namespaces, flow types, protocols and rule actions.', rows([
      { h: 3, panels: [[nav, 48]] },
      { h: 8, panels: [[totals, 48]] },
      { h: 12, panels: [[traffic, 48]] },
      ...halfWidthRows(objects, 12),
    ]), [
      { field: field('sourcePodNamespace'), title: 'Source namespace' },
      { field: field('sourcePodName'), title: 'Source Pod' },
      { field: field('destinationPodNamespace'), title: 'Destination namespace' },
      { field: field('destinationPodName'), title: 'Destination Pod' },
      { field: field('sourceNodeName'), title: 'Source Node' },
      { field: field('destinationNodeName'), title: 'Destination Node' },
      { field: field('destinationServicePortName'), title: 'Destination Service' },
      { field: field('flowTypeStr'), title: 'Flow type' },
      { field: field('flowKey'), title: 'Flow' },
    ], EXCLUDE_PLUMBING);
    return [totals, traffic, ...objects, board];
  },
};
