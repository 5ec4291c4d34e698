// Opt-in: against a real Kibana 8.8+ or 9.x when KIBANA_URL is set (with KIBANA_USERNAME/KIBANA_PASSWORD or
// KIBANA_API_KEY); reported as skipped otherwise. KIBANA_URL may carry the base path and /s/<space>. Imports
// kibana.ndjson through the Saved Objects import API, opens every dashboard through the API, checks that Kibana
// answers /api/status, and makes the space open on the Overview dashboard.
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE, kibanaNdjson, kibanaObjects } from '../kibana/src/dashboards.js';
import { importSavedObjects, kibanaApiUrl, kibanaStatus, setDefaultRoute } from '../kibana/src/import.js';

const url = process.env.KIBANA_URL;

describe.skipIf(!url)(`real Kibana${url ? '' : ' (not run: KIBANA_URL is not set)'}`, () => {
  it('imports every object and opens every dashboard', async () => {
    const kibana = { url: url!, username: process.env.KIBANA_USERNAME, password: process.env.KIBANA_PASSWORD, apiKey: process.env.KIBANA_API_KEY };
    const report = await importSavedObjects(kibana, kibanaNdjson());
    expect(report.rejected).toEqual([]);
    expect(report.imported).toHaveLength(kibanaObjects().length);
    const headers: Record<string, string> = kibana.apiKey
      ? { authorization: `ApiKey ${kibana.apiKey}` }
      : { authorization: `Basic ${Buffer.from(`${kibana.username}:${kibana.password}`).toString('base64')}` };
    for (const board of kibanaObjects().filter((o) => o.type === 'dashboard')) {
      const response = await fetch(kibanaApiUrl(url!, `/api/saved_objects/dashboard/${board.id}`), { headers });
      expect(response.status, board.id).toBe(200);
      const body = (await response.json()) as { error?: unknown; attributes: { title: string } };
      expect(body.error).toBeUndefined();
      expect(body.attributes.title).toBe(board.attributes.title);
    }
    expect((await kibanaStatus(kibana)).level).toMatch(/available|degraded|green|yellow/);
    const route = await setDefaultRoute(kibana, DEFAULT_ROUTE);
    if (route.action === 'set' || route.action === 'unchanged') {
      const settings = await fetch(kibanaApiUrl(url!, '/api/kibana/settings'), { headers });
      expect(((await settings.json()) as { settings: { defaultRoute?: { userValue: string } } }).settings.defaultRoute?.userValue).toBe(DEFAULT_ROUTE);
    }
  });
});
