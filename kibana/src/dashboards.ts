// The saved objects of kibana/kibana.ndjson: the flow-* data view, the navigation shared by every dashboard, and
// the dashboards, one file each under dashboards/ and one line each in DASHBOARDS.
import { dataView, type DashboardEntry, type SavedObject } from './saved-objects.js';
import { flowRecords } from './dashboards/flow-records.js';
import { podToExternal, podToPod, podToService } from './dashboards/flows.js';
import { networkPolicy } from './dashboards/network-policy.js';
import { nodeThroughput } from './dashboards/node-throughput.js';
import { overview } from './dashboards/overview.js';
import { field } from './scopes.js';
import { markdown } from './visualizations.js';

/** In navigation order. */
export const DASHBOARDS: DashboardEntry[] = [overview, podToPod, podToService, podToExternal, flowRecords, nodeThroughput, networkPolicy];

/** The dashboard Kibana opens on once setup has imported it, and its route (the space's defaultRoute setting). */
export const HOME_DASHBOARD_ID = overview.id;
export const DEFAULT_ROUTE = `/app/dashboards#/view/${HOME_DASHBOARD_ID}`;

/** Byte counters shown as bytes; rates (bits/s) shown abbreviated. */
const FIELD_FORMATS = Object.fromEntries([
  ...['bytes', 'octetTotalCount', 'octetDeltaCount', 'reverseOctetTotalCount', 'reverseOctetDeltaCount', 'octetDeltaCountFromSourceNode', 'reverseOctetDeltaCountFromSourceNode']
    .map((f) => [field(f), { id: 'bytes' }]),
  ...['throughput', 'reverseThroughput'].map((f) => [field(f), { id: 'number', params: { pattern: '0,0.[0]a' } }]),
]);

function navigation(entries: DashboardEntry[]): SavedObject {
  return markdown('elk-flow-collector-navigation', 'Flow dashboards', entries.map((e) => `[${e.title}](#/view/${e.id})`).join(' · '));
}

/** Every saved object, dependencies first (data view, navigation, panels, then each dashboard). */
export function kibanaObjects(): SavedObject[] {
  const nav = navigation(DASHBOARDS);
  return [dataView(FIELD_FORMATS), nav, ...DASHBOARDS.flatMap((d) => d.build(nav))];
}

/** kibana.ndjson: one saved object per line, as Kibana's Saved Objects export writes it. */
export function kibanaNdjson(): string {
  return kibanaObjects().map((o) => JSON.stringify(o)).join('\n') + '\n';
}
