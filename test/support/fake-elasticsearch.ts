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
}

export interface FakeElasticsearch {
  url: string;
  documents: Map<string, { index: string; document: Record<string, unknown> }>;
  /** How many times each _id was received (duplicates included). */
  received: Map<string, number>;
  /** How many copies of each _id were indexed (more than one: a duplicate across concrete indices). */
  copies: Map<string, number>;
  /** Concrete index of each data stream's write index: `.ds-<name>-<generation>`. */
  dataStreams: Map<string, number>;
  /** Rolls the data stream over to a new write index (what ILM does at max_age or max_primary_shard_size). */
  rollover(dataStream: string): void;
  assets: Map<string, unknown>;
  faults: Faults;
  bulkRequests: number;
  close(): Promise<void>;
}

const ID = Buffer.from('"_id":"');

/**
 * The benchmark's cheap _bulk: finds each action's _id in the bytes (every other line) without decoding the
 * documents, and writes the response as text, so that the stand-in cluster takes little of the machine's CPU.
 */
function idsOnlyBulk(body: Buffer, received: Map<string, number>): string {
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
    items.push(`{"create":{"_id":"${id}","status":${known ? 409 : 201}}}`);
    const actionEnd = body.indexOf(0x0a, end);
    line = body.indexOf(0x0a, actionEnd + 1) + 1; // skip the document line
    if (line === 0) break;
  }
  return `{"took":1,"errors":${errors},"items":[${items.join(',')}]}`;
}

export async function startFakeElasticsearch(port = 0): Promise<FakeElasticsearch> {
  const app: FastifyInstance = fastify({ logger: false, bodyLimit: 256 * 1024 * 1024 });
  const state: FakeElasticsearch = {
    url: '',
    documents: new Map(),
    received: new Map(),
    copies: new Map(),
    dataStreams: new Map(),
    rollover: (name) => state.dataStreams.set(name, (state.dataStreams.get(name) ?? 1) + 1),
    assets: new Map(),
    faults: { down: false },
    bulkRequests: 0,
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
    app.put(`/${kind}/:name`, async (request) => {
      const { name } = request.params as { name: string };
      state.assets.set(`${kind}/${name}`, JSON.parse((request.body as Buffer).toString('utf8')));
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

  /** The index a name resolves to: a data stream's current write index when an installed template makes it one. */
  const concrete = (name: string): string => {
    const isStream = [...state.assets.entries()].some(([key, body]) => {
      const template = body as { data_stream?: object; index_patterns?: string[] };
      return key.startsWith('_index_template/') && template.data_stream
        && (template.index_patterns ?? []).some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
    });
    if (!isStream) return name;
    if (!state.dataStreams.has(name)) state.dataStreams.set(name, 1);
    return `.ds-${name}-${String(state.dataStreams.get(name)).padStart(6, '0')}`;
  };
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
    if (state.faults.delayBeforeMs) await new Promise((r) => setTimeout(r, state.faults.delayBeforeMs));
    const whole = state.faults.wholeStatus;
    if (whole && whole.remaining > 0) {
      whole.remaining--;
      return reply.code(whole.status).send({ error: { type: 'fault_injected' }, status: whole.status });
    }
    if (state.faults.idsOnly) return reply.type('application/json').send(idsOnlyBulk(request.body as Buffer, state.received));
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
      const index = concrete(action._index);
      const inIndex = ids.get(index) ?? ids.set(index, new Set()).get(index)!;
      if (inIndex.has(action._id)) {
        errors = true;
        items.push({ create: { _index: index, _id: action._id, status: 409, error: { type: 'version_conflict_engine_exception', reason: 'document already exists' } } });
      } else {
        inIndex.add(action._id);
        state.copies.set(action._id, (state.copies.get(action._id) ?? 0) + 1);
        if (!state.documents.has(action._id)) state.documents.set(action._id, { index: action._index, document });
        items.push({ create: { _index: index, _id: action._id, status: 201, result: 'created' } });
      }
    }
    if (state.faults.delayMs && (state.faults.delayRemaining ?? 1) > 0) {
      if (state.faults.delayRemaining !== undefined) state.faults.delayRemaining--;
      await new Promise((r) => setTimeout(r, state.faults.delayMs));
    }
    return { took: 1, errors, items };
  });

  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address() as { port: number };
  state.url = `http://127.0.0.1:${address.port}`;
  return state;
}
