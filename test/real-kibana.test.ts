// Opt-in: against a real Kibana 8.8+ or 9.x when KIBANA_URL is set (with KIBANA_USERNAME/KIBANA_PASSWORD or
// KIBANA_API_KEY); reported as skipped otherwise. Imports kibana.ndjson through the Saved Objects import API and
// opens every dashboard through the API.
import { describe, expect, it } from 'vitest';
import { kibanaNdjson, kibanaObjects } from '../kibana/src/dashboards.js';
import { importSavedObjects } from '../kibana/src/import.js';

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
      const response = await fetch(new URL(`/api/saved_objects/dashboard/${board.id}`, url), { headers });
      expect(response.status, board.id).toBe(200);
      const body = (await response.json()) as { error?: unknown; attributes: { title: string } };
      expect(body.error).toBeUndefined();
      expect(body.attributes.title).toBe(board.attributes.title);
    }
  });
});
