// Every dashboard of kibana.ndjson drawn whole on the demo cluster, and every Vega panel alone, under the filters
// of the dashboard that shows it. scripts/generate.ts writes the dashboards to docs/previews/ (shown in the
// README); test/kibana-vega.test.ts checks what the panels draw.
import { kibanaObjects } from '../src/dashboards.js';
import type { SavedObject } from '../src/saved-objects.js';
import { DEMO_ROUNDS, DEMO_START_SECS, demoDocuments, type FlowSource } from './demo-cluster.js';
import { drawDashboard, type DrawnDashboard } from './dashboard.js';
import { dashboardContext, renderVega, type DashboardContext, type Rendered } from './render.js';

export const PREVIEW_DIR = 'docs/previews';
/** The demo cluster's half hour. */
export const DEMO_TIME_RANGE = { min: DEMO_START_SECS * 1000, max: (DEMO_START_SECS + (DEMO_ROUNDS + 1) * 60) * 1000 };

export interface VegaPanel {
  visualization: SavedObject;
  dashboard: SavedObject;
  specText: string;
  context: DashboardContext;
}

/** The Vega panels, each with the (first) dashboard that shows it. */
export function vegaPanels(objects = kibanaObjects()): VegaPanel[] {
  const dashboards = objects.filter((o) => o.type === 'dashboard');
  return objects.flatMap((visualization) => {
    if (visualization.type !== 'visualization') return [];
    const vis = JSON.parse(visualization.attributes.visState as string) as { type: string; params: { spec?: string } };
    if (vis.type !== 'vega') return [];
    const dashboard = dashboards.find((d) => d.references.some((r) => r.id === visualization.id));
    if (!dashboard) throw new Error(`${visualization.id} is on no dashboard`);
    return [{
      visualization,
      dashboard,
      specText: vis.params.spec!,
      context: dashboardContext(dashboard as never, DEMO_TIME_RANGE),
    }];
  });
}

export async function renderPreviews(documents: FlowSource[] = demoDocuments()): Promise<(VegaPanel & { rendered: Rendered })[]> {
  const out = [];
  for (const panel of vegaPanels()) out.push({ ...panel, rendered: await renderVega(panel.specText, documents, panel.context) });
  return out;
}

/** docs/previews/<file> of a dashboard's whole preview. */
export const dashboardPreviewFile = (dashboard: SavedObject) => `${PREVIEW_DIR}/${dashboard.id.replace(/^elk-flow-collector-/, '')}.png`;

/** Every dashboard drawn whole on the demo cluster, in navigation order. */
export async function renderDashboards(documents: FlowSource[] = demoDocuments(), objects = kibanaObjects()): Promise<(DrawnDashboard & { file: string })[]> {
  const out = [];
  for (const dashboard of objects.filter((o) => o.type === 'dashboard')) {
    out.push({ ...(await drawDashboard(dashboard, objects, documents, DEMO_TIME_RANGE)), file: dashboardPreviewFile(dashboard) });
  }
  return out;
}
