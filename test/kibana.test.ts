// kibana/kibana.ndjson, checked offline as closely as Kibana would: every line a saved object whose attributes
// follow the schema Kibana's server applies to its type (unknown attributes rejected), every JSON-in-a-string
// parses, every reference resolves inside the file, and every field a panel, column, control or format uses is
// in the index mapping with a type that supports what is done with it.
import { readFileSync } from 'node:fs';
import Hjson from 'hjson';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { estypes } from '@elastic/elasticsearch';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { flowMappings } from '../elasticsearch/src/assets.js';

const lines = readFileSync(new URL('../kibana/kibana.ndjson', import.meta.url), 'utf8').split('\n').filter(Boolean);
const objects = lines.map((l) => JSON.parse(l) as { id: string; type: string; attributes: any; references: { name: string; type: string; id: string }[]; coreMigrationVersion: string; typeMigrationVersion: string });

const searchSourceMeta = z.object({ searchSourceJSON: z.string() }).strict();
// Mirrors of the attribute schemas of Kibana 8.8's saved-object types (dashboard v1, search 8.8.0); strict like theirs.
const SCHEMAS: Record<string, z.ZodType> = {
  dashboard: z.object({
    title: z.string(), description: z.string(), kibanaSavedObjectMeta: z.object({ searchSourceJSON: z.string().optional() }).strict(),
    timeRestore: z.boolean().optional(), timeFrom: z.string().optional(), timeTo: z.string().optional(),
    refreshInterval: z.object({ pause: z.boolean(), value: z.number() }).optional(),
    controlGroupInput: z.object({ panelsJSON: z.string().optional(), controlStyle: z.string().optional(), chainingSystem: z.string().optional(), ignoreParentSettingsJSON: z.string().optional() }).optional(),
    panelsJSON: z.string(), optionsJSON: z.string(), hits: z.number().optional(), version: z.number().optional(),
  }).strict(),
  search: z.object({
    title: z.string(), description: z.string(), columns: z.array(z.string()), sort: z.array(z.array(z.string()).max(2)),
    grid: z.object({}).passthrough(), hideChart: z.boolean(), kibanaSavedObjectMeta: searchSourceMeta, isTextBasedQuery: z.boolean(),
    rowHeight: z.number().optional(), timeRestore: z.boolean().optional(), hits: z.number().optional(), version: z.number().optional(),
  }).strict(),
  visualization: z.object({
    title: z.string(), description: z.string(), version: z.number(), uiStateJSON: z.string(), visState: z.string(),
    kibanaSavedObjectMeta: searchSourceMeta, savedSearchRefName: z.string().optional(),
  }).strict(),
  'index-pattern': z.object({
    title: z.string(), name: z.string(), timeFieldName: z.string(), fieldFormatMap: z.string(), fields: z.string(),
    runtimeFieldMap: z.string(), sourceFilters: z.string(), typeMeta: z.string(), allowNoIndex: z.boolean(),
  }).strict(),
};

function mappedTypes(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (properties: Record<string, estypes.MappingProperty>, prefix: string) => {
    for (const [name, p] of Object.entries(properties)) {
      const path = prefix + name;
      const type = p.type === 'alias' ? undefined : p.type;
      if (type && type !== 'object') out.set(path, type);
      const nested = (p as estypes.MappingObjectProperty).properties;
      if (nested) walk(nested, `${path}.`);
    }
  };
  walk(flowMappings(ElementRegistry.builtin(), 'ipfix').properties!, '');
  return out;
}
const mapping = mappedTypes();
const AGGREGATABLE = new Set(['keyword', 'ip', 'boolean', 'byte', 'short', 'integer', 'long', 'unsigned_long', 'float', 'double', 'date']);
const NUMERIC = new Set(['byte', 'short', 'integer', 'long', 'unsigned_long', 'float', 'double']);
/** The mapping types an aggregation (Kibana's or Elasticsearch's name for it) can work on. */
const typesFor = (aggregation: string) =>
  aggregation === 'date_histogram' ? new Set(['date']) : ['sum', 'avg', 'max', 'min'].includes(aggregation) ? NUMERIC : AGGREGATABLE;

describe('kibana.ndjson', () => {
  it('holds saved objects Kibana 8.8+ imports and migrates', () => {
    expect(objects.length).toBeGreaterThan(0);
    expect(new Set(objects.map((o) => `${o.type}/${o.id}`)).size).toBe(objects.length);
    for (const o of objects) {
      expect(Object.keys(SCHEMAS)).toContain(o.type);
      const parsed = SCHEMAS[o.type].safeParse(o.attributes);
      expect(parsed.success, `${o.type}/${o.id}: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
      expect(o.coreMigrationVersion).toBe('8.8.0');
      expect(o.typeMigrationVersion.localeCompare('8.8.0', undefined, { numeric: true })).toBeLessThanOrEqual(0);
    }
  });

  it('has JSON-in-strings that parse and references that resolve inside the file', () => {
    const ids = new Set(objects.map((o) => `${o.type}/${o.id}`));
    for (const o of objects) {
      for (const r of o.references) expect(ids, `${o.id} -> ${r.type}/${r.id}`).toContain(`${r.type}/${r.id}`);
      const names = new Set(o.references.map((r) => r.name));
      const source = JSON.parse(o.attributes.kibanaSavedObjectMeta?.searchSourceJSON ?? '{}');
      if (source.indexRefName) expect(names).toContain(source.indexRefName);
      for (const f of source.filter ?? []) expect(names).toContain(f.meta.indexRefName);
      if (o.type === 'dashboard') {
        for (const panel of JSON.parse(o.attributes.panelsJSON)) expect(names).toContain(`${panel.panelIndex}:${panel.panelRefName}`);
        JSON.parse(o.attributes.optionsJSON);
        JSON.parse(o.attributes.controlGroupInput.ignoreParentSettingsJSON);
        for (const id of Object.keys(JSON.parse(o.attributes.controlGroupInput.panelsJSON))) expect(names).toContain(`controlGroup_${id}:optionsListDataView`);
      }
      if (o.type === 'visualization') {
        JSON.parse(o.attributes.uiStateJSON);
        const vis = JSON.parse(o.attributes.visState);
        if (vis.type === 'markdown') {
          for (const [, id] of String(vis.params.markdown).matchAll(/#\/view\/([\w-]+)/g)) expect(ids).toContain(`dashboard/${id}`);
        }
      }
    }
  });

  it('uses only mapped fields, of types that support what is done with them', () => {
    const problems: string[] = [];
    const need = (field: string, allowed: Set<string> | undefined, what: string) => {
      const type = mapping.get(field);
      if (!type) problems.push(`${what}: ${field} is not mapped`);
      else if (allowed && !allowed.has(type)) problems.push(`${what}: ${field} is ${type}`);
    };
    for (const o of objects) {
      if (o.type === 'index-pattern') for (const field of Object.keys(JSON.parse(o.attributes.fieldFormatMap))) need(field, undefined, 'format');
      if (o.type === 'search') for (const column of o.attributes.columns) need(column, undefined, `column of ${o.id}`);
      if (o.type === 'dashboard') {
        for (const control of Object.values(JSON.parse(o.attributes.controlGroupInput.panelsJSON)) as { explicitInput: { fieldName: string } }[]) {
          need(control.explicitInput.fieldName, AGGREGATABLE, `control of ${o.id}`);
        }
        for (const f of JSON.parse(o.attributes.kibanaSavedObjectMeta.searchSourceJSON).filter ?? []) need(f.meta.key, AGGREGATABLE, `filter of ${o.id}`);
      }
      if (o.type === 'visualization') {
        for (const agg of JSON.parse(o.attributes.visState).aggs as { type: string; params: { field?: string } }[]) {
          if (!agg.params.field) continue;
          need(agg.params.field, typesFor(agg.type), `${agg.type} in ${o.id}`);
        }
        const vis = JSON.parse(o.attributes.visState);
        if (vis.type === 'vega') {
          for (const data of Hjson.parse(vis.params.spec).data) if (data.url) checkEsBody(data.url.body, `Vega ${o.id}`, need);
        }
      }
      // KQL scopes of panels: every `field:` they name.
      const kuery = JSON.parse(o.attributes.kibanaSavedObjectMeta?.searchSourceJSON ?? '{}').query?.query ?? '';
      for (const [, name] of String(kuery).matchAll(/([\w@.]+)\s*:/g)) need(name, AGGREGATABLE, `query of ${o.id}`);
    }
    expect(problems).toEqual([]);
  });

  it('has the seven dashboards, each with navigation to all, controls, and the plumbing left out of all but Flow Records', () => {
    const dashboards = objects.filter((o) => o.type === 'dashboard');
    expect(dashboards.map((d) => d.attributes.title)).toEqual([
      'Overview', 'Pod-to-Pod Flows', 'Pod-to-Service Flows', 'Pod-to-External Flows', 'Flow Records', 'Node Throughput', 'Network Policy',
    ]);
    const nav = objects.find((o) => o.id === 'elk-flow-collector-navigation')!;
    for (const d of dashboards) expect(JSON.parse(nav.attributes.visState).params.markdown).toContain(`#/view/${d.id}`);
    for (const d of dashboards) {
      expect(d.references.some((r) => r.id === nav.id), `${d.id} navigation`).toBe(true);
      expect(Object.keys(JSON.parse(d.attributes.controlGroupInput.panelsJSON)).length, `${d.id} controls`).toBeGreaterThan(0);
      const filters = JSON.parse(d.attributes.kibanaSavedObjectMeta.searchSourceJSON).filter as { meta: { key: string; negate: boolean; params: string[] } }[];
      if (d.attributes.title === 'Flow Records') {
        expect(filters).toEqual([]);
        continue;
      }
      for (const side of ['source', 'destination']) {
        const filter = filters.find((f) => f.meta.key === `ipfix.${side}PodNamespace`);
        expect(filter?.meta.negate, `${d.id} ${side}`).toBe(true);
        expect(filter?.meta.params).toEqual(['kube-system', 'elk-flow-collector', 'flow-aggregator']);
      }
    }
    const networkPolicy = dashboards.find((d) => d.attributes.title === 'Network Policy')!;
    const controlFields = Object.values(JSON.parse(networkPolicy.attributes.controlGroupInput.panelsJSON)).map((c: any) => c.explicitInput.fieldName);
    expect(controlFields).toEqual(expect.arrayContaining([
      'ipfix.ingressNetworkPolicyName', 'ipfix.ingressNetworkPolicyNamespace', 'ipfix.egressNetworkPolicyName', 'ipfix.egressNetworkPolicyNamespace',
    ]));
  });

  it('has the legacy dashboards\' panels and controls', () => {
    const board = (title: string) => objects.find((o) => o.type === 'dashboard' && o.attributes.title === title)!;
    const panels = (title: string) => board(title).references.map((r) => objects.find((o) => o.id === r.id)!).filter((o) => o.type === 'visualization');
    const panel = (title: string, panelTitle: string) => panels(title).find((p) => p.attributes.title === panelTitle);
    const splitOf = (vis: (typeof objects)[number] | undefined) => {
      const state = JSON.parse(vis!.attributes.visState);
      return [state.aggs[0].type, state.aggs[0].params.field, state.aggs.find((a: any) => a.type === 'terms')?.params.field];
    };
    for (const side of ['source', 'destination']) {
      expect(splitOf(panel('Overview', `Packets by ${side} Pod`))).toEqual(['sum', 'ipfix.packetDeltaCount', `ipfix.${side}PodName`]);
      expect(splitOf(panel('Overview', `Packets by ${side} IP`))).toEqual(['sum', 'ipfix.packetDeltaCount', `ipfix.${side}IP`]);
    }
    for (const title of ['Pod-to-Pod Flows', 'Pod-to-Service Flows', 'Pod-to-External Flows']) {
      expect(splitOf(panel(title, 'Rx by source Pod'))).toEqual(['sum', 'ipfix.reverseOctetDeltaCount', 'ipfix.sourcePodName']);
    }
    const controls = (title: string) => Object.values(JSON.parse(board(title).attributes.controlGroupInput.panelsJSON)).map((c: any) => c.explicitInput.fieldName);
    expect(controls('Overview')).toContain('ipfix.flowKey');
    expect(controls('Pod-to-Pod Flows')).toContain('ipfix.flowKeyPodToPod');
    expect(controls('Pod-to-Service Flows')).toContain('ipfix.flowKeyPodToService');
    expect(controls('Pod-to-External Flows')).toContain('ipfix.flowKeyPodToExternal');
  });

  it('scopes each panel to the records that have what it splits by', () => {
    const kueryOf = (o: (typeof objects)[number]) => JSON.parse(o.attributes.kibanaSavedObjectMeta.searchSourceJSON).query.query as string;
    for (const o of objects.filter((x) => x.type === 'visualization' && x.id.startsWith('elk-flow-collector-overview-'))) {
      const fields = JSON.parse(o.attributes.visState).aggs.map((a: any) => a.params.field ?? '');
      // To-External records have no destination Pod, From-External ones no source Pod.
      if (fields.some((f: string) => /destinationPod/.test(f))) expect(kueryOf(o), o.id).toContain('not ipfix.flowType:3');
      if (fields.some((f: string) => /sourcePod/.test(f))) expect(kueryOf(o), o.id).toContain('not ipfix.flowType:4');
    }
    // Network Policy: an ingress panel shows records under an ingress policy only (no "N/A" series from the egress side).
    for (const o of objects.filter((x) => x.type === 'visualization' && /^elk-flow-collector-network-policy-(ingress|egress)-/.test(x.id))) {
      const side = /-(ingress|egress)-/.exec(o.id)![1];
      expect(kueryOf(o), o.id).toBe(`ipfix.${side}NetworkPolicyName:* and not ipfix.${side}NetworkPolicyName:"N/A"`);
    }
  });

  it('keeps panels readable: Sankey 50 links, lines 50 series, pies 25 slices', () => {
    for (const o of objects.filter((x) => x.type === 'visualization')) {
      const vis = JSON.parse(o.attributes.visState);
      const terms = (vis.aggs as { type: string; params: { size?: number } }[]).filter((a) => a.type === 'terms');
      const limit = vis.type === 'pie' ? 25 : vis.type === 'horizontal_bar' ? 10 : 50;
      for (const t of terms) expect(t.params.size, o.id).toBeLessThanOrEqual(limit);
      if (vis.type === 'vega') {
        const spec = Hjson.parse(vis.params.spec);
        const links = spec.data[0].url.body.aggs.scope.aggs.links;
        if (links) expect(links.multi_terms.size, o.id).toBe(50);
      }
    }
  });
});

/** Checks every field of an Elasticsearch request body (queries and aggregations) against the mapping. */
function checkEsBody(node: unknown, what: string, need: (field: string, allowed: Set<string> | undefined, what: string) => void, parent?: string): void {
  if (Array.isArray(node)) return node.forEach((n) => checkEsBody(n, what, need, parent));
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'field' && typeof value === 'string') {
      need(value, parent === 'exists' ? undefined : typesFor(parent ?? ''), `${parent} in ${what}`);
    } else if ((key === 'term' || key === 'terms') && value && typeof value === 'object' && !Array.isArray(value) && !('field' in value)) {
      // A term(s) query names its field as the key; a terms aggregation has a `field`.
      for (const name of Object.keys(value)) need(name, AGGREGATABLE, `${key} query in ${what}`);
    } else {
      checkEsBody(value, what, need, key);
    }
  }
}

// A self-signed certificate for 127.0.0.1 (made once with openssl, valid for a century), for the untrusted-TLS case.
const TEST_KEY = readFileSync(new URL('./support/tls/self-signed.key', import.meta.url));
const TEST_CERT = readFileSync(new URL('./support/tls/self-signed.crt', import.meta.url));

describe('setup --kibana-url', async () => {
  const { spawn } = await import('node:child_process');
  const { startFakeKibana } = await import('./support/fake-kibana.js');
  const { BIN } = await import('./support/process.js');
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('node', [BIN, ...args], { env: { PATH: process.env.PATH, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('exit', (status) => resolve({ status, stdout, stderr }));
    });

  it('imports every object with overwrite, reports what Kibana imported and what it rejected', async () => {
    const kibana = await startFakeKibana();
    try {
      const env = { KIBANA_URL: kibana.url, KIBANA_USERNAME: 'elastic', KIBANA_PASSWORD: 'changeme' };
      const ok = await run(['setup'], env);
      expect(ok.status).toBe(0);
      expect(kibana.requests.find((r) => r.path === '/api/saved_objects/_import')?.overwrite).toBe('true');
      expect(kibana.objects.size).toBe(objects.length);
      expect(ok.stdout).toContain('imported: dashboard Flow Records');
      kibana.unsupportedTypes.add('search');
      const rejected = await run(['setup'], env);
      expect(rejected.status).toBe(1);
      expect(rejected.stdout).toContain('rejected by Kibana: search Flow records: unsupported_type');
      kibana.unsupportedTypes.clear();
      // The setup Job imports the ConfigMap's compressed copy: the same objects.
      kibana.objects.clear();
      const fromFile = await run(['setup', '--kibana-objects', 'manifests/elk-flow-collector/kibana.ndjson.br'], env);
      expect(fromFile.status).toBe(0);
      expect([...kibana.objects.keys()].sort()).toEqual(objects.map((o) => `${o.type}/${o.id}`).sort());
      const missing = await run(['setup', '--kibana-objects', 'no/such/file.ndjson'], env);
      expect(missing.status).toBe(2);
      expect(missing.stderr).toContain('--kibana-objects no/such/file.ndjson: ENOENT');
      const unauthorised = await run(['setup', '--kibana-url', kibana.url], { KIBANA_USERNAME: 'elastic', KIBANA_PASSWORD: 'wrong' });
      expect(unauthorised.status).toBe(1);
      expect(unauthorised.stderr).toContain('Kibana answered 401');
    } finally {
      await kibana.close();
    }
  });

  const credentials = { KIBANA_USERNAME: 'elastic', KIBANA_PASSWORD: 'changeme' };
  const OVERVIEW_ROUTE = '/app/dashboards#/view/elk-flow-collector-overview';

  it('keeps the base path and the space of KIBANA_URL, and makes the space open on the Overview dashboard', async () => {
    const kibana = await startFakeKibana({ basePath: '/kibana', spaces: ['team'] });
    try {
      for (const url of [`${kibana.url}/s/team`, `${kibana.url}/s/team/`]) {
        kibana.spaces.get('team')!.clear();
        kibana.settings.set('team', {});
        const ok = await run(['setup', '--kibana-url', url], credentials);
        expect(ok.stderr).toBe('');
        expect(ok.status).toBe(0);
        expect(kibana.spaces.get('team')!.size).toBe(objects.length);
        expect(kibana.objects.size).toBe(0);
        expect(kibana.settings.get('team')).toEqual({ defaultRoute: OVERVIEW_ROUTE });
        expect(kibana.settings.get('default')).toEqual({});
        expect(ok.stdout).toContain(`default route set: Kibana opens on the Overview dashboard (${OVERVIEW_ROUTE})`);
      }
      const again = await run(['setup', '--kibana-url', `${kibana.url}/s/team`], credentials);
      expect(again.stdout).toContain('default route unchanged');
      // The default space under the base path.
      const base = await run(['setup', '--kibana-url', kibana.url], credentials);
      expect(base.status).toBe(0);
      expect(kibana.objects.size).toBe(objects.length);
      // Without the base path Kibana answers 404, and setup says what is likely wrong.
      const noBasePath = await run(['setup', '--kibana-url', `${kibana.origin}/s/team`], credentials);
      expect(noBasePath.status).toBe(1);
      expect(noBasePath.stderr).toContain('Kibana answered 404 Not Found for /s/team/api/saved_objects/_import');
      expect(noBasePath.stderr).toContain('server.basePath');
      const noSpace = await run(['setup', '--kibana-url', `${kibana.url}/s/nosuchspace`], credentials);
      expect(noSpace.status).toBe(1);
      expect(noSpace.stderr).toContain('404');
    } finally {
      await kibana.close();
    }
  });

  it('leaves a default route someone chose, or kibana.yml overrides, alone; says where the settings API is off', async () => {
    const kibana = await startFakeKibana();
    try {
      const env = { KIBANA_URL: kibana.url, ...credentials };
      kibana.settings.set('default', { defaultRoute: '/app/discover' });
      const chosen = await run(['setup'], env);
      expect(chosen.status).toBe(0);
      expect(chosen.stdout).toContain('default route kept at /app/discover: it was set to another page in Advanced Settings');
      expect(kibana.settings.get('default')).toEqual({ defaultRoute: '/app/discover' });
      kibana.settings.set('default', {});
      kibana.overrides.defaultRoute = '/app/home';
      const overridden = await run(['setup'], env);
      expect(overridden.status).toBe(0);
      expect(overridden.stdout).toContain('default route kept at /app/home: kibana.yml overrides it');
      kibana.overrides = {};
      kibana.publicSettingsApi = false;
      const off = await run(['setup'], env);
      expect(off.status).toBe(0);
      expect(off.stdout).toContain(`default route not set: this Kibana has no public settings API (uiSettings.publicApiEnabled: false); set defaultRoute to ${OVERVIEW_ROUTE} in Advanced Settings`);
      // A saved-objects file without the Overview dashboard does not touch the default route.
      kibana.publicSettingsApi = true;
      const { mkdtempSync, writeFileSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const file = `${mkdtempSync(`${tmpdir()}/kibana-objects-`)}/data-view.ndjson`;
      writeFileSync(file, lines[0] + '\n');
      const requests = kibana.requests.length;
      const other = await run(['setup', '--kibana-objects', file], env);
      expect(other.status).toBe(0);
      expect(other.stdout).not.toContain('default route');
      expect(kibana.requests.slice(requests).map((r) => r.path)).toEqual(['/api/saved_objects/_import']);
    } finally {
      await kibana.close();
    }
  });

  it('--dry-run checks that Kibana answers and imports nothing', async () => {
    const kibana = await startFakeKibana({ basePath: '/kibana', spaces: ['team'] });
    try {
      const ok = await run(['setup', '--dry-run', '--kibana-url', `${kibana.url}/s/team`], credentials);
      expect(ok.status).toBe(0);
      expect(ok.stdout).toBe(`Kibana at ${kibana.url}/s/team is reachable: version 8.19.20, status available; would import the saved objects\n`);
      expect(kibana.requests.map((r) => `${r.method} ${r.space} ${r.path}`)).toEqual(['GET team /api/status']);
      expect(kibana.spaces.get('team')!.size).toBe(0);
      const wrongPath = await run(['setup', '--dry-run', '--kibana-url', kibana.origin], credentials);
      expect(wrongPath.status).toBe(1);
      expect(wrongPath.stderr).toContain('Kibana answered 404 Not Found for /api/status');
      const unauthorised = await run(['setup', '--dry-run', '--kibana-url', kibana.url], { KIBANA_USERNAME: 'elastic', KIBANA_PASSWORD: 'wrong' });
      expect(unauthorised.status).toBe(1);
      expect(unauthorised.stderr).toContain('Kibana answered 401');
    } finally {
      await kibana.close();
    }
  });

  it('says what failed when Kibana cannot be reached: the URL and the cause', async () => {
    // A port nothing listens on: one that was just bound and released.
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    for (const args of [['setup'], ['setup', '--dry-run']]) {
      const refused = await run([...args, '--kibana-url', `http://127.0.0.1:${port}/kibana`], credentials);
      expect(refused.status).toBe(1);
      const lines = refused.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^elk-flow-collector: Kibana at http://127\\.0\\.0\\.1:${port}/kibana: cannot reach http://127\\.0\\.0\\.1:${port}/kibana/api/\\S+: .*ECONNREFUSED.*\\(nothing listens there\\)$`));
    }
    // A server that speaks TLS with a certificate nobody trusts: setup names the certificate problem.
    const { createServer: createTls } = await import('node:tls');
    const tls = createTls({ key: TEST_KEY, cert: TEST_CERT }, (socket) => socket.end());
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const untrusted = await run(['setup', '--dry-run', '--kibana-url', `https://127.0.0.1:${(tls.address() as { port: number }).port}`], credentials);
      expect(untrusted.status).toBe(1);
      expect(untrusted.stderr).toMatch(/self[- ]signed certificate.*the certificate is not trusted: give its CA in NODE_EXTRA_CA_CERTS/);
    } finally {
      await new Promise((resolve) => tls.close(resolve));
    }
  });

  it('refuses a KIBANA_URL that is not an http(s) URL with one line, exit 2, before sending anything', async () => {
    for (const [args, env, message] of [
      [['setup', '--kibana-url', 'notaurl'], credentials, '--kibana-url: "notaurl" is not a URL'],
      [['setup'], { ...credentials, KIBANA_URL: 'ftp://kibana:21' }, 'KIBANA_URL: ftp://kibana:21: the scheme is ftp, not http or https'],
      [['setup', '--kibana-url', 'http://elastic:changeme@kibana:5601'], {}, 'not in the URL'],
    ] as const) {
      const result = await run([...args], env);
      expect(result.status, message).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n'), message).toHaveLength(1);
      expect(result.stderr).toContain(message);
    }
  });
});
