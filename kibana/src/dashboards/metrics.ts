// The measures the dashboards share. Traffic is summed from delta counters (bytes since the previous record of the
// flow), so that a sum over any time range is the traffic in it; the running totals (octetTotalCount, `bytes`)
// only appear where a panel shows a flow's cumulative bytes.
import { field } from '../scopes.js';
import type { Metric } from '../visualizations.js';

export const TX_BYTES = field('octetDeltaCount');
export const RX_BYTES = field('reverseOctetDeltaCount');

export const txBytes: Metric = { type: 'sum', field: TX_BYTES, label: 'Bytes (Tx)' };
export const rxBytes: Metric = { type: 'sum', field: RX_BYTES, label: 'Reverse bytes (Rx)' };
export const txBytesPerMinute: Metric = { type: 'sum', field: TX_BYTES, label: 'Tx bytes/min' };
export const rxBytesPerMinute: Metric = { type: 'sum', field: RX_BYTES, label: 'Rx bytes/min' };
export const packets: Metric = { type: 'sum', field: field('packetDeltaCount'), label: 'Packets' };
export const records: Metric = { type: 'count', label: 'Flow records' };
