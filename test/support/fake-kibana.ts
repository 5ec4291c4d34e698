// A local server that answers Kibana's Saved Objects import API as Kibana does (multipart upload, kbn-xsrf
// required, authentication checked, per-object errors), for testing `setup --kibana-url`.
import fastify from 'fastify';

export interface FakeKibana {
  url: string;
  objects: Map<string, Record<string, unknown>>;
  /** Types this Kibana refuses (as it refuses types it does not know). */
  unsupportedTypes: Set<string>;
  requests: { overwrite: string | undefined; authorization: string | undefined }[];
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

export async function startFakeKibana(credentials = { username: 'elastic', password: 'changeme' }): Promise<FakeKibana> {
  const app = fastify({ logger: false });
  const state: FakeKibana = { url: '', objects: new Map(), unsupportedTypes: new Set(), requests: [], close: () => app.close() };
  app.addContentTypeParser(/^multipart\//, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/api/saved_objects/_import', async (request, reply) => {
    const authorization = request.headers.authorization;
    state.requests.push({ overwrite: (request.query as { overwrite?: string }).overwrite, authorization });
    const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    if (authorization !== expected) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'missing or wrong credentials' });
    if (!request.headers['kbn-xsrf']) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
    const ndjson = fileOfMultipart(request.body as Buffer, String(request.headers['content-type']));
    const successResults = [];
    const errors = [];
    for (const line of ndjson.split('\n').filter(Boolean)) {
      const object = JSON.parse(line) as { type: string; id: string; attributes: { title?: string } };
      if (state.unsupportedTypes.has(object.type)) {
        errors.push({ type: object.type, id: object.id, title: object.attributes.title, meta: { title: object.attributes.title }, error: { type: 'unsupported_type' } });
        continue;
      }
      state.objects.set(`${object.type}/${object.id}`, object);
      successResults.push({ type: object.type, id: object.id, meta: { title: object.attributes.title } });
    }
    return { success: errors.length === 0, successCount: successResults.length, successResults, ...(errors.length ? { errors } : {}) };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  state.url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return state;
}
