// Flow Records: every record, unfiltered (the only dashboard that keeps the collector's own plumbing).
import { dashboard, rows, search, type DashboardEntry } from '../saved-objects.js';
import { field } from '../scopes.js';
import { metrics, timeSeries } from '../visualizations.js';
import { records } from './metrics.js';

const ID = 'elk-flow-collector-flow-records';

export const flowRecords: DashboardEntry = {
  id: ID,
  title: 'Flow Records',
  build: (nav) => {
    const table = search(`${ID}-search`, 'Flow records', [
      'sourcePodNamespace', 'sourcePodName', 'sourceIP', 'destinationPodNamespace', 'destinationPodName', 'destinationIP',
      'destinationServicePortName', 'protocolName', 'bytes', 'packets', 'flowTypeStr', 'ingressNetworkPolicyRuleActionStr',
      'egressNetworkPolicyRuleActionStr',
    ].map(field));
    const count = metrics(`${ID}-count`, 'Flow records', [records], '');
    const histogram = timeSeries(`${ID}-histogram`, 'Flow records over time', { chart: 'histogram', metric: records, perMinute: false, stacked: true, kuery: '' });
    const board = dashboard(ID, 'Flow Records', 'The raw flow records over time, with filters.', rows([
      { h: 3, panels: [[nav, 48]] },
      { h: 10, panels: [[count, 12], [histogram, 36]] },
      { h: 24, panels: [[table, 48]] },
    ]), [
      { field: field('sourcePodNamespace'), title: 'Source namespace' },
      { field: field('sourcePodName'), title: 'Source Pod' },
      { field: field('destinationPodNamespace'), title: 'Destination namespace' },
      { field: field('destinationPodName'), title: 'Destination Pod' },
      { field: field('flowTypeStr'), title: 'Flow type' },
    ], []);
    return [table, count, histogram, board];
  },
};
