// Builders for the Kibana saved objects kibana.ndjson holds: every JSON-in-a-string attribute is written from a
// value here (never by hand), and every reference an object needs is declared with it.
export const CORE_MIGRATION_VERSION = '8.8.0';
/** typeMigrationVersion per type: what Kibana 8.8 knows, so that 8.8+ and 9.x migrate the objects on import. */
export const TYPE_MIGRATION_VERSION = { 'index-pattern': '8.0.0', search: '8.0.0', visualization: '8.5.0', dashboard: '8.7.0' } as const;
export type SavedObjectType = keyof typeof TYPE_MIGRATION_VERSION;

export interface Reference {
  name: string;
  type: SavedObjectType;
  id: string;
}

export interface SavedObject {
  id: string;
  type: SavedObjectType;
  attributes: Record<string, unknown>;
  references: Reference[];
  coreMigrationVersion: string;
  typeMigrationVersion: string;
  managed: boolean;
}

export const DATA_VIEW_ID = 'elk-flow-collector-flows';

function savedObject(type: SavedObjectType, id: string, attributes: Record<string, unknown>, references: Reference[]): SavedObject {
  return { id, type, attributes, references, coreMigrationVersion: CORE_MIGRATION_VERSION, typeMigrationVersion: TYPE_MIGRATION_VERSION[type], managed: false };
}

/** A filter that leaves out documents whose field is one of `values` (the collector's own plumbing). */
export interface ExcludeFilter {
  field: string;
  values: string[];
}

function searchSource(indexed: boolean, excludes: ExcludeFilter[] = [], kuery = ''): { json: string; references: Reference[] } {
  const references: Reference[] = [];
  const filter = excludes.map((exclude, i) => {
    const indexRefName = `kibanaSavedObjectMeta.searchSourceJSON.filter[${i}].meta.index`;
    references.push({ name: indexRefName, type: 'index-pattern', id: DATA_VIEW_ID });
    return {
      meta: { alias: null, negate: true, disabled: false, type: 'phrases', key: exclude.field, params: exclude.values, indexRefName },
      query: { bool: { minimum_should_match: 1, should: exclude.values.map((v) => ({ match_phrase: { [exclude.field]: v } })) } },
      $state: { store: 'appState' },
    };
  });
  const source: Record<string, unknown> = { query: { query: kuery, language: 'kuery' }, filter };
  if (indexed) {
    source.indexRefName = 'kibanaSavedObjectMeta.searchSourceJSON.index';
    references.push({ name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern', id: DATA_VIEW_ID });
  }
  return { json: JSON.stringify(source), references };
}

/** The data view for flow-* (data stream and daily indices), with byte and bit-rate formats. */
export function dataView(fieldFormats: Record<string, { id: string; params?: Record<string, unknown> }>): SavedObject {
  return savedObject('index-pattern', DATA_VIEW_ID, {
    title: 'flow-*',
    name: 'Flows (elk-flow-collector)',
    timeFieldName: '@timestamp',
    fieldFormatMap: JSON.stringify(fieldFormats),
    fields: '[]',
    runtimeFieldMap: '{}',
    sourceFilters: '[]',
    typeMeta: '{}',
    allowNoIndex: true,
  }, []);
}

export function search(id: string, title: string, columns: string[]): SavedObject {
  const source = searchSource(true);
  return savedObject('search', id, {
    title,
    description: '',
    columns,
    sort: [['@timestamp', 'desc']],
    grid: {},
    hideChart: false,
    isTextBasedQuery: false,
    kibanaSavedObjectMeta: { searchSourceJSON: source.json },
  }, source.references);
}

export interface VisualizationOptions {
  /** false for panels that query nothing through the data view (markdown, Vega). */
  indexed?: boolean;
  /** A KQL query scoping the panel (Pod-to-Pod records, ...), combined by Kibana with the dashboard's own. */
  kuery?: string;
}

/** A legacy ("aggregation-based") visualization, or a markdown or Vega one: these import into Kibana 8 and 9 alike. */
export function visualization(id: string, title: string, visState: { type: string; params: Record<string, unknown>; aggs: unknown[] }, options: VisualizationOptions = {}): SavedObject {
  const source = searchSource(options.indexed ?? true, [], options.kuery);
  return savedObject('visualization', id, {
    title,
    description: '',
    version: 1,
    uiStateJSON: '{}',
    visState: JSON.stringify({ title, ...visState }),
    kibanaSavedObjectMeta: { searchSourceJSON: source.json },
  }, source.references);
}

export interface Panel {
  object: SavedObject;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface OptionsListControl {
  field: string;
  title: string;
}

/**
 * A dashboard: panels by reference, the dashboard's own options-list controls (not the deprecated input-control
 * visualization), and filters that leave out the collector's own plumbing.
 */
export function dashboard(id: string, title: string, description: string, panels: Panel[], controls: OptionsListControl[], excludes: ExcludeFilter[]): SavedObject {
  const source = searchSource(false, excludes);
  const references: Reference[] = [...source.references];
  const panelsJSON = panels.map((panel, i) => {
    const panelIndex = String(i + 1);
    references.push({ name: `${panelIndex}:panel_${panelIndex}`, type: panel.object.type, id: panel.object.id });
    return {
      version: CORE_MIGRATION_VERSION,
      type: panel.object.type,
      gridData: { x: panel.x, y: panel.y, w: panel.w, h: panel.h, i: panelIndex },
      panelIndex,
      embeddableConfig: { enhancements: {} },
      panelRefName: `panel_${panelIndex}`,
    };
  });
  const controlPanels: Record<string, unknown> = {};
  controls.forEach((control, order) => {
    const controlId = `${id}-control-${order}`;
    references.push({ name: `controlGroup_${controlId}:optionsListDataView`, type: 'index-pattern', id: DATA_VIEW_ID });
    controlPanels[controlId] = {
      order,
      width: 'medium',
      grow: true,
      type: 'optionsListControl',
      explicitInput: { id: controlId, fieldName: control.field, title: control.title, enhancements: {} },
    };
  });
  return savedObject('dashboard', id, {
    title,
    description,
    panelsJSON: JSON.stringify(panelsJSON),
    optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
    timeRestore: false,
    kibanaSavedObjectMeta: { searchSourceJSON: source.json },
    controlGroupInput: {
      controlStyle: 'oneLine',
      chainingSystem: 'HIERARCHICAL',
      panelsJSON: JSON.stringify(controlPanels),
      ignoreParentSettingsJSON: JSON.stringify({ ignoreFilters: false, ignoreQuery: false, ignoreTimerange: false, ignoreValidations: false }),
    },
  }, references);
}

/** A row of a dashboard: its height and its panels as [object, width] pairs, left to right. */
export interface Row {
  h: number;
  panels: [SavedObject, number][];
}

/** Rows of two half-width panels, in the order given. */
export function halfWidthRows(objects: SavedObject[], h: number): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < objects.length; i += 2) out.push({ h, panels: objects.slice(i, i + 2).map((o): [SavedObject, number] => [o, 24]) });
  return out;
}

/** Lays panels out in rows on Kibana's 48-column grid, top to bottom. */
export function rows(layout: Row[]): Panel[] {
  const panels: Panel[] = [];
  let y = 0;
  for (const row of layout) {
    let x = 0;
    for (const [object, w] of row.panels) {
      panels.push({ object, x, y, w, h: row.h });
      x += w;
    }
    if (x > 48) throw new Error(`a dashboard row is ${x} columns wide; Kibana's grid has 48`);
    y += row.h;
  }
  return panels;
}

/** A dashboard and what it needs: `build` returns its panels' objects and, last, the dashboard itself. */
export interface DashboardEntry {
  id: string;
  title: string;
  build: (navigation: SavedObject) => SavedObject[];
}
