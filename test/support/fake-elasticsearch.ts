// A local server that answers the part of the Elasticsearch REST API the collector uses (info, _bulk, ILM
// policies, component and index templates), with fault injection. As Elasticsearch does, `create` with an _id
// is refused (409) only when the same _id is in the same concrete index: a data stream's write index changes
// at a rollover, after which the same _id is indexed a second time (elastic/elasticsearch#44794). Documents
// are kept by _id with the number of copies indexed, so tests can assert that every record arrived exactly once.
import fastify, { type FastifyInstance } from 'fastify';

export interface Faults {
  /** Destroy the connection of every request (the cluster is unreachable). */
  down: boolean;
  /** Answer the next N bulk requests with this status as a whole. */
  wholeStatus?: { status: number; remaining: number };
  /** Per bulk item: a status to answer instead of indexing (429, 503, 400...), or undefined to index. */
  itemStatus?: (id: string, document: Record<string, unknown>, attempt: number) => number | undefined;
  /** Delay bulk responses by this much (after indexing: a timeout that still indexed; a slow cluster). */
  delayMs?: number;
  delayRemaining?: number;
  /** Delay bulk requests by this much before indexing anything (a slow cluster that has not indexed yet). */
  delayBeforeMs?: number;
  /** Benchmarks: read only the action lines and keep only the ids (the documents are not parsed). */
  idsOnly?: boolean;
  /** Answer mapping updates and rollovers 403, as to a user with write but not manage privileges on the indices. */
  forbidIndexAdmin?: boolean;
}

export interface FakeElasticsearch {
  url: string;
  documents: Map<string, { index: string; document: Record<string, unknown> }>;
  /** How many times each _id was received (duplicates included). */
  received: Map<string, number>;
  /** How many copies of each _id were indexed (more than one: a duplicate across concrete indices). */
  copies: Map<string, number>;
  /** Rolls the data stream over to a new write index (what ILM does at max_age or max_primary_shard_size). */
  rollover(dataStream: string): void;
  assets: Map<string, unknown>;
  /** Indices (data streams' backing indices included) and their mappings, flattened: field path to type. */
  indices: Map<string, Map<string, string>>;
  /** Data streams and their backing indices, the last one the write index. */
  dataStreams: Map<string, string[]>;
  faults: Faults;
  bulkRequests: number;
  /** The filter_path of the last _bulk request, as sent (undefined: none). */
  lastBulkFilterPath: string | undefined;
  close(): Promise<void>;
}

/**
 * A response filtered as Elasticsearch's `filter_path` does: comma-separated dotted paths, `*` matching any one
 * field name, arrays passed through (a path applies to each element), fields that keep nothing left out.
 */
export function filterPath(value: unknown, filter: string): unknown {
  return pick(value, filter.split(',').map((path) => path.trim().split('.')));
}

function pick(value: unknown, paths: string[][]): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, paths)).filter((v) => v !== undefined);
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const here = paths.filter(([first]) => first === '*' || first === key);
    if (here.length === 0) continue;
    const picked = here.some((p) => p.length === 1) ? v : pick(v, here.map((p) => p.slice(1)));
    if (picked !== undefined) out[key] = picked;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const ID = Buffer.from('"_id":"');

/**
 * The benchmark's cheap _bulk: finds each action's _id in the bytes (every other line) without decoding the
 * documents, and writes the response as text, so that the stand-in cluster takes little of the machine's CPU.
 */
function idsOnlyBulk(body: Buffer, received: Map<string, number>, filtered: boolean): string {
  const items: string[] = [];
  let errors = false;
  for (let line = 0; line < body.length; ) {
    const at = body.indexOf(ID, line);
    if (at < 0) break;
    const start = at + ID.length;
    const end = body.indexOf(0x22, start);
    const id = body.toString('latin1', start, end);
    const known = received.has(id);
    received.set(id, (received.get(id) ?? 0) + 1);
    errors ||= known;
    // What the collector's filter_path (errors,items.*.error,items.*.status) leaves of an item, without the error.
    items.push(filtered ? `{"create":{"status":${known ? 409 : 201}}}` : `{"create":{"_id":"${id}","status":${known ? 409 : 201}}}`);
    const actionEnd = body.indexOf(0x0a, end);
    line = body.indexOf(0x0a, actionEnd + 1) + 1; // skip the document line
    if (line === 0) break;
  }
  return `{${filtered ? '' : '"took":1,'}"errors":${errors},"items":[${items.join(',')}]}`;
}

export async function startFakeElasticsearch(port = 0): Promise<FakeElasticsearch> {
  const app: FastifyInstance = fastify({ logger: false, bodyLimit: 256 * 1024 * 1024 });
  const state: FakeElasticsearch = {
    url: '',
    documents: new Map(),
    received: new Map(),
    copies: new Map(),
    rollover: (name) => {
      writeIndexOf(state, name);
      rollover(state, name);
    },
    assets: new Map(),
    indices: new Map(),
    dataStreams: new Map(),
    faults: { down: false },
    bulkRequests: 0,
    lastBulkFilterPath: undefined,
    close: () => app.close(),
  };
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request, reply) => {
    if (state.faults.down) {
      request.raw.socket.destroy();
      return reply;
    }
    reply.header('x-elastic-product', 'Elasticsearch');
  });
  app.get('/', async () => ({ name: 'fake', cluster_name: 'fake', version: { number: '8.19.0' }, tagline: 'You Know, for Search' }));

  for (const kind of ['_ilm/policy', '_component_template', '_index_template']) {
    app.put(`/${kind}/:name`, async (request, reply) => {
      const { name } = request.params as { name: string };
      const body = JSON.parse((request.body as Buffer).toString('utf8'));
      const conflict = kind === '_index_template' ? overlappingTemplate(state.assets, name, body) : undefined;
      if (conflict) return reply.code(400).send(esError('illegal_argument_exception', conflict, 400));
      state.assets.set(`${kind}/${name}`, body);
      return { acknowledged: true };
    });
    app.get(`/${kind}/:name`, async (request, reply) => {
      const { name } = request.params as { name: string };
      const body = state.assets.get(`${kind}/${name}`) as Record<string, unknown> | undefined;
      if (!body) return reply.code(404).send({ error: { type: 'resource_not_found_exception' }, status: 404 });
      if (kind === '_ilm/policy') return { [name]: { version: 1, policy: body.policy } };
      if (kind === '_component_template') return { component_templates: [{ name, component_template: body }] };
      return { index_templates: [{ name, index_template: body }] };
    });
  }

  registerMappingApis(app, state);
  const ids = new Map<string, Set<string>>();
  const ITEM_ERRORS: Record<number, { type: string; reason: string }> = {
    400: { type: 'document_parsing_exception', reason: 'fault injected' },
    403: { type: 'cluster_block_exception', reason: 'index [flow] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];' },
    404: { type: 'index_not_found_exception', reason: 'no such index and [action.auto_create_index] is false' },
    408: { type: 'process_cluster_event_timeout_exception', reason: 'failed to process cluster event within 30s' },
    429: { type: 'es_rejected_execution_exception', reason: 'fault injected' },
  };

  const attempts = new Map<string, number>();
  app.post('/_bulk', async (request, reply) => {
    state.bulkRequests++;
    const filter = (request.query as { filter_path?: string }).filter_path;
    state.lastBulkFilterPath = filter;
    if (state.faults.delayBeforeMs) await new Promise((r) => setTimeout(r, state.faults.delayBeforeMs));
    const whole = state.faults.wholeStatus;
    if (whole && whole.remaining > 0) {
      whole.remaining--;
      return reply.code(whole.status).send({ error: { type: 'fault_injected' }, status: whole.status });
    }
    if (state.faults.idsOnly) return reply.type('application/json').send(idsOnlyBulk(request.body as Buffer, state.received, filter !== undefined));
    const lines = (request.body as Buffer).toString('utf8').split('\n').filter(Boolean);
    const items = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]).create as { _index: string; _id: string };
      const document = JSON.parse(lines[i + 1]);
      const attempt = (attempts.get(action._id) ?? 0) + 1;
      attempts.set(action._id, attempt);
      const injected = state.faults.itemStatus?.(action._id, document, attempt);
      if (injected) {
        errors = true;
        const error = ITEM_ERRORS[injected] ?? { type: 'unavailable_shards_exception', reason: 'fault injected' };
        items.push({ create: { _index: action._index, _id: action._id, status: injected, error } });
        continue;
      }
      state.received.set(action._id, (state.received.get(action._id) ?? 0) + 1);
      const index = writeIndexOf(state, action._index);
      const inIndex = ids.get(index) ?? ids.set(index, new Set()).get(index)!;
      if (inIndex.has(action._id)) {
        errors = true;
        items.push({ create: { _index: index, _id: action._id, status: 409, error: { type: 'version_conflict_engine_exception', reason: 'document already exists' } } });
      } else {
        inIndex.add(action._id);
        state.copies.set(action._id, (state.copies.get(action._id) ?? 0) + 1);
        if (!state.documents.has(action._id)) state.documents.set(action._id, { index: action._index, document });
        mapDocument(state, index, document);
        items.push({ create: { _index: index, _id: action._id, status: 201, result: 'created' } });
      }
    }
    if (state.faults.delayMs && (state.faults.delayRemaining ?? 1) > 0) {
      if (state.faults.delayRemaining !== undefined) state.faults.delayRemaining--;
      await new Promise((r) => setTimeout(r, state.faults.delayMs));
    }
    const response = { took: 1, errors, items };
    return filter ? filterPath(response, filter) : response;
  });

  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address() as { port: number };
  state.url = `http://127.0.0.1:${address.port}`;
  return state;
}

// ---- Index templates: Elasticsearch refuses one whose patterns can match a name that another template of the
// same priority matches (MetadataIndexTemplateService.findConflictingV2Templates). Patterns here are literals with
// `*` wildcards; two overlap when some name matches both, which for prefix patterns (`abc*`) means one literal
// part starts with the other.

/** A name pattern with `*` wildcards as a regular expression. */
const globRegExp = (pattern: string) => new RegExp(`^${pattern.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function patternsOverlap(a: string, b: string): boolean {
  const prefix = (p: string) => (p.includes('*') ? p.slice(0, p.indexOf('*')) : p);
  const wild = (p: string) => p.includes('*');
  const [pa, pb] = [prefix(a), prefix(b)];
  if (!wild(a) && !wild(b)) return a === b;
  if (wild(a) && wild(b)) return pa.startsWith(pb) || pb.startsWith(pa);
  const [literal, pattern] = wild(a) ? [b, a] : [a, b];
  return globRegExp(pattern).test(literal);
}

function overlappingTemplate(assets: Map<string, unknown>, name: string, body: { index_patterns?: string[]; priority?: number }): string | undefined {
  for (const [key, other] of assets) {
    if (!key.startsWith('_index_template/') || key === `_index_template/${name}`) continue;
    const o = other as { index_patterns?: string[]; priority?: number };
    if ((o.priority ?? 0) !== (body.priority ?? 0)) continue;
    const clash = (body.index_patterns ?? []).some((p) => (o.index_patterns ?? []).some((q) => patternsOverlap(p, q)));
    if (clash) {
      const otherName = key.slice('_index_template/'.length);
      return `index template [${name}] has index patterns [${body.index_patterns?.join(', ')}] matching patterns from existing templates [${otherName}] with patterns (${otherName} => [${o.index_patterns?.join(', ')}]) that have the same priority [${body.priority ?? 0}], multiple index templates may not match during index creation, please use a different priority`;
    }
  }
  return undefined;
}

/** An error answer shaped as Elasticsearch's (the client builds its message from the root causes). */
function esError(type: string, reason: string, status: number) {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}

// ---- Indices, data streams and mappings: what setup's mapping update and rollover meet. An index is created by
// its first document from the index template that matches its name (a data stream when the template says so),
// with the template's mapping; fields it does not map are mapped dynamically (dynamic templates first, then
// Elasticsearch's defaults). Updating the mapping of an index fails when a field would change type, as
// Elasticsearch's mapper merge does; a rollover gives the data stream a new write index with the current template.

type Mapping = { properties?: Record<string, Mapping>; type?: string; path?: string; dynamic_templates?: Record<string, { path_match?: string; match_mapping_type?: string; mapping: { type: string } }>[] };

function flatten(properties: Record<string, Mapping> | undefined, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [name, p] of Object.entries(properties ?? {})) {
    const path = prefix + name;
    if (p.properties || p.type === 'object' || (!p.type && !p.path)) {
      out.set(path, 'object');
      flatten(p.properties, `${path}.`, out);
    } else {
      out.set(path, p.type ?? 'object');
    }
  }
  return out;
}

function matchingTemplate(state: FakeElasticsearch, index: string) {
  const templates = [...state.assets].filter(([k]) => k.startsWith('_index_template/')).map(([, t]) => t as { index_patterns: string[]; data_stream?: object; composed_of?: string[]; priority?: number });
  return templates.filter((t) => t.index_patterns.some((p) => globRegExp(p).test(index)))
    .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))[0];
}

/** The mapping an index created now would get: the matching template's component templates, merged. */
function templateMapping(state: FakeElasticsearch, template: { composed_of?: string[] } | undefined): Mapping {
  const merged: Mapping = { properties: {}, dynamic_templates: [] };
  for (const name of template?.composed_of ?? []) {
    const mappings = (state.assets.get(`_component_template/${name}`) as { template?: { mappings?: Mapping } } | undefined)?.template?.mappings;
    Object.assign(merged.properties!, mappings?.properties ?? {});
    merged.dynamic_templates!.push(...(mappings?.dynamic_templates ?? []));
  }
  return merged;
}

const dynamicTemplates = new WeakMap<Map<string, string>, Mapping['dynamic_templates']>();

function createIndex(state: FakeElasticsearch, index: string, template: { composed_of?: string[] } | undefined): Map<string, string> {
  const mapping = templateMapping(state, template);
  const fields = flatten(mapping.properties);
  dynamicTemplates.set(fields, mapping.dynamic_templates);
  state.indices.set(index, fields);
  return fields;
}

function rollover(state: FakeElasticsearch, stream: string): { old_index: string; new_index: string } {
  const backing = state.dataStreams.get(stream)!;
  const next = `.ds-${stream}-2026.01.01-${String(backing.length + 1).padStart(6, '0')}`;
  createIndex(state, next, matchingTemplate(state, stream));
  backing.push(next);
  return { old_index: backing[backing.length - 2], new_index: next };
}

/**
 * The concrete index a document written to `target` lands in: a data stream's current write index, or the index
 * itself; created (the data stream too) from the matching template when it does not exist yet.
 */
function writeIndexOf(state: FakeElasticsearch, target: string): string {
  let index = state.dataStreams.get(target)?.at(-1) ?? (state.indices.has(target) ? target : undefined);
  if (index === undefined) {
    const template = matchingTemplate(state, target);
    if (template?.data_stream) {
      state.dataStreams.set(target, []);
      index = rollover(state, target).new_index;
    } else {
      createIndex(state, (index = target), template);
    }
  }
  return index;
}

/** Maps the fields of a document indexed into `index` that its mapping does not have yet (dynamic mapping). */
function mapDocument(state: FakeElasticsearch, index: string, document: Record<string, unknown>): void {
  const fields = state.indices.get(index)!;
  const walk = (value: Record<string, unknown>, prefix: string) => {
    for (const [name, v] of Object.entries(value)) {
      const path = prefix + name;
      if (fields.get(path) === 'flattened') continue;
      // An array is mapped by its first value that is not null; null and [] map nothing (the next value decides).
      const sample = Array.isArray(v) ? v.find((x) => x !== null) : v;
      if (sample === null || sample === undefined) continue;
      if (typeof sample === 'object') {
        fields.set(path, fields.get(path) ?? 'object');
        walk(sample as Record<string, unknown>, `${path}.`);
      } else if (!fields.has(path)) {
        const kind = typeof sample === 'string' ? 'string' : typeof sample === 'boolean' ? 'boolean' : Number.isInteger(sample) ? 'long' : 'double';
        const byTemplate = (dynamicTemplates.get(fields) ?? []).flatMap((t) => Object.values(t)).find((t) =>
          (t.path_match === undefined || globRegExp(t.path_match).test(path))
          && (t.match_mapping_type === undefined || t.match_mapping_type === kind));
        fields.set(path, byTemplate?.mapping.type ?? { string: 'text', boolean: 'boolean', long: 'long', double: 'float' }[kind]!);
      }
    }
  };
  walk(document, '');
}

/** Why `incoming` cannot be merged into an index's mapping (a field changing type), or undefined. */
function mappingConflict(fields: Map<string, string>, incoming: Map<string, string>): string | undefined {
  for (const [path, type] of incoming) {
    const existing = fields.get(path);
    if (existing !== undefined && existing !== type) {
      return existing === 'alias' || type === 'alias'
        ? `Cannot merge a field alias mapping [${path}] with a mapping that is not for a field alias.`
        : `mapper [${path}] cannot be changed from type [${existing}] to [${type}]`;
    }
  }
  return undefined;
}

function registerMappingApis(app: FastifyInstance, state: FakeElasticsearch): void {
  app.get('/_data_stream/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const backing = state.dataStreams.get(name);
    if (!backing) return reply.code(404).send(esError('index_not_found_exception', `no such index [${name}]`, 404));
    return { data_streams: [{ name, timestamp_field: { name: '@timestamp' }, indices: backing.map((index_name) => ({ index_name, index_uuid: index_name })), generation: backing.length, status: 'GREEN', template: 'elk-flow-collector-data-stream' }] };
  });
  const forbidden = (action: string) => esError('security_exception', `action [${action}] is unauthorized for user [elk-flow-collector]`, 403);
  app.put('/:target/_mapping', async (request, reply) => {
    if (state.faults.forbidIndexAdmin) return reply.code(403).send(forbidden('indices:admin/mapping/put'));
    const { target } = request.params as { target: string };
    const query = request.query as { write_index_only?: string };
    const pattern = globRegExp(target);
    const stream = state.dataStreams.get(target);
    const targets = stream ? (query.write_index_only === 'true' ? [stream.at(-1)!] : stream) : [...state.indices.keys()].filter((i) => !i.startsWith('.ds-') && pattern.test(i));
    const body = JSON.parse((request.body as Buffer).toString('utf8')) as Mapping;
    const incoming = flatten(body.properties);
    for (const index of targets) {
      const conflict = mappingConflict(state.indices.get(index)!, incoming);
      if (conflict) return reply.code(400).send(esError('illegal_argument_exception', conflict, 400));
    }
    for (const index of targets) {
      const fields = state.indices.get(index)!;
      for (const [path, type] of incoming) fields.set(path, type);
      if (body.dynamic_templates) dynamicTemplates.set(fields, body.dynamic_templates);
    }
    return { acknowledged: true };
  });
  app.post('/:target/_rollover', async (request, reply) => {
    if (state.faults.forbidIndexAdmin) return reply.code(403).send(forbidden('indices:admin/rollover'));
    const { target } = request.params as { target: string };
    if (!state.dataStreams.has(target)) return reply.code(400).send(esError('illegal_argument_exception', `rollover target [${target}] does not exist`, 400));
    return { acknowledged: true, shards_acknowledged: true, ...rollover(state, target), rolled_over: true, dry_run: false, conditions: {} };
  });
}
