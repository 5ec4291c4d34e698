// Talks to Kibana's public HTTP APIs as an operator would from Stack Management: imports saved objects
// (POST /api/saved_objects/_import, multipart, overwrite) and reports every object Kibana rejected, checks that
// Kibana answers (GET /api/status), and sets the space's default route (POST /api/kibana/settings, the public
// uiSettings route Kibana registers unless uiSettings.publicApiEnabled is false, as on serverless).
//
// KIBANA_URL may carry Kibana's server.basePath and a space (https://host/kibana/s/team): every API path is
// appended to it, so that both are kept (new URL('/api/...', url) would drop them).
export interface KibanaConnection {
  url: string;
  username?: string;
  password?: string;
  apiKey?: string;
}

export interface ImportReport {
  imported: { type: string; id: string; title?: string }[];
  rejected: { type: string; id: string; title?: string; reason: string }[];
}

interface ImportResponse {
  success: boolean;
  successCount: number;
  successResults?: { type: string; id: string; meta?: { title?: string } }[];
  errors?: { type: string; id: string; title?: string; meta?: { title?: string }; error: { type: string; message?: string; references?: unknown[] } }[];
}

/** A KIBANA_URL that is not an http(s) URL: a usage error, reported before anything is sent. */
export class KibanaUrlError extends Error {}

/** The base URL (scheme, host, base path, space), checked: http or https, no query or fragment. */
export function kibanaBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KibanaUrlError(`${JSON.stringify(text)} is not a URL (expected http(s)://host:5601, with the base path and /s/<space> if any)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new KibanaUrlError(`${text}: the scheme is ${url.protocol.slice(0, -1)}, not http or https`);
  if (url.search || url.hash) throw new KibanaUrlError(`${text}: a Kibana URL has no query or fragment`);
  if (url.username || url.password) throw new KibanaUrlError(`${text}: put the credentials in KIBANA_USERNAME/KIBANA_PASSWORD or KIBANA_API_KEY, not in the URL`);
  return url;
}

/** `path` (starting with /api/) under the base URL, base path and space kept. */
export function kibanaApiUrl(base: string, path: string): URL {
  const url = kibanaBaseUrl(base);
  const [pathname, query] = path.split('?');
  url.pathname = url.pathname.replace(/\/+$/, '') + pathname;
  if (query) url.search = query;
  return url;
}

/** Why a request did not reach Kibana, from undici's error chain (fetch only says "fetch failed"). */
function connectionFailure(url: URL, error: unknown): Error {
  const causes: string[] = [];
  let code: string | undefined;
  for (let e = error as { message?: string; code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.message && e.message !== 'fetch failed') causes.push(e.message);
    code ??= e.code;
  }
  const reason = causes.join(': ') || String(error);
  const hint = code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)
    ? ' (the certificate is not trusted: give its CA in NODE_EXTRA_CA_CERTS)'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? ' (the host name does not resolve)'
      : code === 'ECONNREFUSED' ? ' (nothing listens there)' : '';
  return new Error(`cannot reach ${url.href}: ${reason}${hint}`);
}

function headers(kibana: KibanaConnection): Record<string, string> {
  const out: Record<string, string> = { 'kbn-xsrf': 'elk-flow-collector' };
  if (kibana.apiKey) out.authorization = `ApiKey ${kibana.apiKey}`;
  else if (kibana.username && kibana.password) out.authorization = `Basic ${Buffer.from(`${kibana.username}:${kibana.password}`).toString('base64')}`;
  return out;
}

/** A failed answer: its status and what Kibana said, with a hint where a wrong URL is the likely cause. */
export class KibanaHttpError extends Error {
  constructor(readonly status: number, url: URL, statusText: string, body: string) {
    const hint = status === 404 ? ' (is KIBANA_URL right? It needs Kibana\'s server.basePath, and /s/<space> for a space other than the default)' : '';
    super(`Kibana answered ${status} ${statusText} for ${url.pathname}: ${body.slice(0, 500)}${hint}`);
  }
}

async function request(kibana: KibanaConnection, method: 'GET' | 'POST', path: string, body?: FormData | object): Promise<unknown> {
  const url = kibanaApiUrl(kibana.url, path);
  const init: RequestInit = { method, headers: headers(kibana) };
  if (body instanceof FormData) init.body = body;
  else if (body) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw connectionFailure(url, error);
  }
  const text = await response.text();
  if (!response.ok) throw new KibanaHttpError(response.status, url, response.statusText, text);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url.href} answered ${response.status} with something other than JSON (is it Kibana?): ${text.slice(0, 200)}`);
  }
}

export async function importSavedObjects(kibana: KibanaConnection, ndjson: string): Promise<ImportReport> {
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'kibana.ndjson');
  const body = (await request(kibana, 'POST', '/api/saved_objects/_import?overwrite=true', form)) as ImportResponse;
  return {
    imported: (body.successResults ?? []).map((r) => ({ type: r.type, id: r.id, title: r.meta?.title })),
    rejected: (body.errors ?? []).map((e) => ({
      type: e.type,
      id: e.id,
      title: e.title ?? e.meta?.title,
      reason: e.error.message ?? (e.error.references ? `${e.error.type}: ${JSON.stringify(e.error.references)}` : e.error.type),
    })),
  };
}

export interface KibanaStatus {
  /** Left out of the answer to a user without access to the full status. */
  version?: string;
  /** Kibana 8+: available, degraded, unavailable, critical; 7.x: green, yellow, red. */
  level: string;
}

/** GET /api/status: that Kibana answers at this URL with these credentials, and its version and overall status. */
export async function kibanaStatus(kibana: KibanaConnection): Promise<KibanaStatus> {
  const body = (await request(kibana, 'GET', '/api/status')) as { version?: { number?: string }; status?: { overall?: { level?: string; state?: string } } };
  const level = body.status?.overall?.level ?? body.status?.overall?.state;
  if (!level) throw new Error(`${kibanaApiUrl(kibana.url, '/api/status').href} answered without an overall status: is it Kibana?`);
  return { version: body.version?.number, level };
}

export type DefaultRouteResult =
  | { action: 'set' | 'unchanged'; route: string }
  | { action: 'kept'; route: string; reason: string }
  | { action: 'unavailable'; reason: string };

interface UserSetting {
  userValue?: unknown;
  isOverridden?: boolean;
}

/**
 * Makes `route` the space's default route (Kibana opens on it), unless someone chose another one (kept, with the
 * reason) or kibana.yml overrides it. Where Kibana offers no public settings API (404), says so instead of failing:
 * the route can still be set in Stack Management > Advanced Settings.
 */
export async function setDefaultRoute(kibana: KibanaConnection, route: string): Promise<DefaultRouteResult> {
  let current: UserSetting | undefined;
  try {
    current = ((await request(kibana, 'GET', '/api/kibana/settings')) as { settings?: Record<string, UserSetting> }).settings?.defaultRoute;
  } catch (error) {
    if (error instanceof KibanaHttpError && error.status === 404) return { action: 'unavailable', reason: 'this Kibana has no public settings API (uiSettings.publicApiEnabled: false)' };
    throw error;
  }
  if (current?.isOverridden) return { action: 'kept', route: String(current.userValue), reason: 'kibana.yml overrides it (uiSettings.overrides.defaultRoute)' };
  const value = current?.userValue;
  if (value === route) return { action: 'unchanged', route };
  if (typeof value === 'string') return { action: 'kept', route: value, reason: 'it was set to another page in Advanced Settings' };
  await request(kibana, 'POST', '/api/kibana/settings', { changes: { defaultRoute: route } });
  return { action: 'set', route };
}
