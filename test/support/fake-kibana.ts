// A local server that answers the Kibana APIs `setup` uses as Kibana does, for testing `setup --kibana-url`:
// the Saved Objects import API (multipart upload, kbn-xsrf required, authentication checked, per-object errors),
// GET /api/status, and the public uiSettings API (GET/POST /api/kibana/settings, per space). Like a Kibana with
// server.basePath set (and rewriteBasePath), it serves only under its base path, and under /s/<space>/ for a space
// (the spaces plugin strips that prefix before routing); anything else is Kibana's 404.
import fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

export interface FakeKibanaOptions {
  credentials?: { username: string; password: string };
  /** server.basePath, e.g. /kibana ('' for none). */
  basePath?: string;
  /** Spaces besides `default`. */
  spaces?: string[];
  version?: string;
}

export interface FakeKibana {
  /** The server's origin, without the base path. */
  origin: string;
  /** origin + base path: what KIBANA_URL is for the default space. */
  url: string;
  /** Saved objects per space, by `type/id`. */
  spaces: Map<string, Map<string, Record<string, unknown>>>;
  /** The default space's saved objects. */
  objects: Map<string, Record<string, unknown>>;
  /** User-provided advanced settings per space. */
  settings: Map<string, Record<string, unknown>>;
  /** Settings kibana.yml overrides (uiSettings.overrides): reported as isOverridden, refused on write. */
  overrides: Record<string, unknown>;
  /** false: the public settings API is off (uiSettings.publicApiEnabled: false, as on serverless). */
  publicSettingsApi: boolean;
  /** Types this Kibana refuses (as it refuses types it does not know). */
  unsupportedTypes: Set<string>;
  requests: { method: string; path: string; space: string; overwrite: string | undefined; authorization: string | undefined }[];
  close(): Promise<void>;
}

function fileOfMultipart(body: Buffer, contentType: string): string {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw new Error('no multipart boundary');
  const text = body.toString('utf8');
  const part = text.split(`--${boundary[1] ?? boundary[2]}`).find((p) => /name="file"/.test(p));
  if (!part) throw new Error('no file part');
  return part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
}

const notFound = (reply: FastifyReply) => reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'Not Found' });

export async function startFakeKibana(options: FakeKibanaOptions = {}): Promise<FakeKibana> {
  const credentials = options.credentials ?? { username: 'elastic', password: 'changeme' };
  const basePath = options.basePath ?? '';
  const app = fastify({ logger: false });
  const spaces = new Map([['default', new Map<string, Record<string, unknown>>()], ...(options.spaces ?? []).map((s) => [s, new Map()] as const)]);
  const state: FakeKibana = {
    origin: '', url: '', spaces, objects: spaces.get('default')!, settings: new Map([...spaces.keys()].map((s) => [s, {}])), overrides: {},
    publicSettingsApi: true, unsupportedTypes: new Set(), requests: [], close: () => app.close(),
  };
  app.addContentTypeParser(/^multipart\//, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setNotFoundHandler((_request, reply) => notFound(reply));

  /** Authenticates and resolves the space; undefined when it has answered already. */
  const admit = (request: FastifyRequest, reply: FastifyReply, path: string): string | undefined => {
    const space = (request.params as { space?: string }).space ?? 'default';
    state.requests.push({ method: request.method, path, space, overwrite: (request.query as { overwrite?: string }).overwrite, authorization: request.headers.authorization });
    const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return void reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong credentials' });
    if (!spaces.has(space)) return void notFound(reply);
    if (request.method === 'POST' && !request.headers['kbn-xsrf']) return void reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
    return space;
  };
  const route = (method: 'GET' | 'POST', path: string, handler: (request: FastifyRequest, reply: FastifyReply, space: string) => unknown) => {
    for (const prefix of [basePath, `${basePath}/s/:space`]) {
      app.route({ method, url: prefix + path, handler: async (request, reply) => {
        const space = admit(request, reply, path);
        return space === undefined ? reply : handler(request, reply, space);
      } });
    }
  };

  route('POST', '/api/saved_objects/_import', (request, _reply, space) => {
    const ndjson = fileOfMultipart(request.body as Buffer, String(request.headers['content-type']));
    const successResults = [];
    const errors = [];
    for (const line of ndjson.split('\n').filter(Boolean)) {
      const object = JSON.parse(line) as { type: string; id: string; attributes: { title?: string } };
      if (state.unsupportedTypes.has(object.type)) {
        errors.push({ type: object.type, id: object.id, title: object.attributes.title, meta: { title: object.attributes.title }, error: { type: 'unsupported_type' } });
        continue;
      }
      spaces.get(space)!.set(`${object.type}/${object.id}`, object);
      successResults.push({ type: object.type, id: object.id, meta: { title: object.attributes.title } });
    }
    return { success: errors.length === 0, successCount: successResults.length, successResults, ...(errors.length ? { errors } : {}) };
  });
  route('GET', '/api/status', () => ({
    name: 'fake-kibana', uuid: '00000000-0000-4000-8000-000000000000',
    version: { number: options.version ?? '8.19.20', build_hash: '0', build_number: 1, build_snapshot: false },
    status: { overall: { level: 'available', summary: 'All services are available' } },
  }));
  // What GET and POST /api/kibana/settings answer: the user-provided settings, and the overridden ones.
  const userProvided = (space: string) => ({
    settings: {
      ...Object.fromEntries(Object.entries(state.settings.get(space)!).map(([k, v]) => [k, { userValue: v }])),
      ...Object.fromEntries(Object.entries(state.overrides).map(([k, v]) => [k, { userValue: v, isOverridden: true }])),
    },
  });
  route('GET', '/api/kibana/settings', (_request, reply, space) => (state.publicSettingsApi ? userProvided(space) : notFound(reply)));
  route('POST', '/api/kibana/settings', (request, reply, space) => {
    if (!state.publicSettingsApi) return notFound(reply);
    const { changes } = request.body as { changes: Record<string, unknown> };
    for (const [key, value] of Object.entries(changes)) {
      if (key in state.overrides) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `Unable to update "${key}" because it is overridden` });
      if (key === 'defaultRoute' && (typeof value !== 'string' || !value.startsWith('/'))) {
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: '[validation [defaultRoute]]: Must be a relative URL.' });
      }
    }
    Object.assign(state.settings.get(space)!, changes);
    return userProvided(space);
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  state.origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  state.url = state.origin + basePath;
  return state;
}
