// A whole dashboard drawn headless: its controls, then every panel in its grid position (Kibana's 48 columns, rows
// of 20 px), each panel drawn from the demo cluster under the dashboard's filters: Vega panels by their own spec
// (render.ts), the others by panels.ts. The panels' SVGs are nested in one SVG, rasterised once.
import type { SavedObject } from '../src/saved-objects.js';
import { drawPanel, type Row } from './panels.js';
import { dashboardContext, drawSpec, drawVega, svgToPng, type DashboardContext } from './render.js';

export const DASHBOARD_WIDTH = 1440;
const COLUMNS = 48;
const ROW_PX = 20;
const GUTTER = 8;
const PAD = 12;
const HEADER_PX = 44;
const CONTROLS_PX = 52;
const TITLE_PX = 22;

interface GridPanel {
  gridData: { x: number; y: number; w: number; h: number; i: string };
  panelRefName: string;
  panelIndex: string;
}

export interface DrawnPanel {
  object: SavedObject;
  /** Pixels in the dashboard image. */
  box: { x: number; y: number; width: number; height: number };
  /** Aggregation-based panels: the rows they were drawn from. */
  rows?: Row[];
  svg: string;
}

export interface DrawnDashboard {
  dashboard: SavedObject;
  panels: DrawnPanel[];
  svg: string;
  png: Buffer;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const withoutDeclaration = (svg: string) => svg.replace(/^<\?xml[^>]*>\s*/, '');

/** The panels of a dashboard with the objects they show, in grid order. */
export function gridPanels(dashboard: SavedObject, objects: SavedObject[]): { object: SavedObject; grid: GridPanel['gridData'] }[] {
  const panels = JSON.parse(dashboard.attributes.panelsJSON as string) as GridPanel[];
  return panels.map((p) => {
    const ref = dashboard.references.find((r) => r.name === `${p.panelIndex}:${p.panelRefName}`);
    const object = objects.find((o) => o.id === ref?.id && o.type === ref?.type);
    if (!object) throw new Error(`${dashboard.id}: panel ${p.panelIndex} refers to nothing`);
    return { object, grid: p.gridData };
  });
}

async function drawOne(object: SavedObject, documents: Record<string, unknown>[], context: DashboardContext, width: number, height: number): Promise<Omit<DrawnPanel, 'box' | 'object'>> {
  const vis = object.type === 'visualization' ? (JSON.parse(object.attributes.visState as string) as { type: string; params: { spec?: string } }) : undefined;
  if (vis?.type === 'vega') {
    const { svg, view } = await drawVega(vis.params.spec!, documents, context, { width, height });
    view.finalize();
    return { svg };
  }
  const drawing = drawPanel(object, documents, context, width, height);
  const { svg, view } = await drawSpec(drawing.spec);
  view.finalize();
  return { svg, rows: drawing.rows };
}

/** Draws one dashboard over `documents` for the time range. */
export async function drawDashboard(dashboard: SavedObject, objects: SavedObject[], documents: Record<string, unknown>[], timeRange: DashboardContext['timeRange']): Promise<DrawnDashboard> {
  const context = dashboardContext(dashboard as never, timeRange);
  const column = (DASHBOARD_WIDTH - 2 * PAD + GUTTER) / COLUMNS;
  const top = HEADER_PX + CONTROLS_PX;
  const panels: DrawnPanel[] = [];
  for (const { object, grid } of gridPanels(dashboard, objects)) {
    const box = { x: PAD + grid.x * column, y: top + grid.y * ROW_PX, width: grid.w * column - GUTTER, height: grid.h * ROW_PX - GUTTER };
    const drawn = await drawOne(object, documents, context, Math.floor(box.width - 8), Math.floor(box.height - TITLE_PX - 6));
    panels.push({ object, box, ...drawn });
  }
  const height = Math.max(...panels.map((p) => p.box.y + p.box.height)) + PAD;
  const controls = Object.values(JSON.parse((dashboard.attributes.controlGroupInput as { panelsJSON: string }).panelsJSON) as Record<string, { order: number; explicitInput: { title: string } }>)
    .sort((a, b) => a.order - b.order);
  const controlWidth = (DASHBOARD_WIDTH - 2 * PAD) / Math.max(1, controls.length);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${DASHBOARD_WIDTH}" height="${height}" viewBox="0 0 ${DASHBOARD_WIDTH} ${height}" font-family="DejaVu Sans">`,
    `<rect width="${DASHBOARD_WIDTH}" height="${height}" fill="#f7f8fc"/>`,
    `<text x="${PAD}" y="30" font-size="20" font-weight="bold" fill="#1a1c21">${escape(String(dashboard.attributes.title))}</text>`,
    `<text x="${DASHBOARD_WIDTH - PAD}" y="30" font-size="11" fill="#69707d" text-anchor="end">demo cluster, ${new Date(timeRange.min).toISOString().slice(0, 16).replace('T', ' ')} to ${new Date(timeRange.max).toISOString().slice(11, 16)} UTC</text>`,
    ...controls.map((c, i) => {
      const x = PAD + i * controlWidth;
      return `<g transform="translate(${x.toFixed(1)},${HEADER_PX})"><rect width="${(controlWidth - 6).toFixed(1)}" height="32" rx="4" fill="white" stroke="#d3dae6"/>` +
        `<text x="8" y="20" font-size="11" fill="#343741">${escape(c.explicitInput.title)}</text><text x="${(controlWidth - 14).toFixed(1)}" y="20" font-size="11" fill="#98a2b3" text-anchor="end">Any ▾</text></g>`;
    }),
    ...panels.map((p) =>
      `<g transform="translate(${p.box.x.toFixed(1)},${p.box.y.toFixed(1)})">` +
      `<rect width="${p.box.width.toFixed(1)}" height="${p.box.height.toFixed(1)}" rx="4" fill="white" stroke="#d3dae6"/>` +
      `<text x="8" y="16" font-size="12" font-weight="bold" fill="#1a1c21">${escape(String(p.object.attributes.title))}</text>` +
      `<g transform="translate(4,${TITLE_PX})">${withoutDeclaration(p.svg)}</g></g>`),
    '</svg>',
  ];
  const svg = parts.join('\n');
  return { dashboard, panels, svg, png: svgToPng(svg) };
}
