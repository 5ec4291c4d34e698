// Imports saved objects through Kibana's Saved Objects import API (POST /api/saved_objects/_import, multipart,
// overwrite), as an operator would from Stack Management, and reports every object Kibana rejected.
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

export async function importSavedObjects(kibana: KibanaConnection, ndjson: string): Promise<ImportReport> {
  const headers: Record<string, string> = { 'kbn-xsrf': 'elk-flow-collector' };
  if (kibana.apiKey) headers.authorization = `ApiKey ${kibana.apiKey}`;
  else if (kibana.username && kibana.password) headers.authorization = `Basic ${Buffer.from(`${kibana.username}:${kibana.password}`).toString('base64')}`;
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'kibana.ndjson');
  const response = await fetch(new URL('/api/saved_objects/_import?overwrite=true', kibana.url), { method: 'POST', headers, body: form });
  if (!response.ok) throw new Error(`Kibana answered ${response.status} ${response.statusText}: ${(await response.text()).slice(0, 500)}`);
  const body = (await response.json()) as ImportResponse;
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
