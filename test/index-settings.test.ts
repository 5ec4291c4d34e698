// The two index templates (data stream and daily indices) are always installed together at one priority, so their
// patterns must never overlap, whatever elasticsearch.indexMode says, and the file output's indices must be the
// daily template's. Every combination of the index settings is tried: the configuration is refused (naming the key)
// exactly when names exist that two templates would match, computed here by matching names against the patterns;
// and the local Elasticsearch, which refuses overlapping templates as Elasticsearch does, accepts every
// combination the configuration accepts and refuses the overlapping ones.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../collector/src/config/load.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { createElasticsearchClient } from '../collector/src/sinks/elasticsearch/client.js';
import { elasticsearchAssets } from '../elasticsearch/src/assets.js';
import { installAssets } from '../elasticsearch/src/install.js';
import { startFakeElasticsearch } from './support/fake-elasticsearch.js';

const DATA_STREAMS = ['flow-antrea', 'flow-antrea-prod', 'flow-a', 'flow-2024', 'flow-x'];
const PREFIXES = ['flow-', 'flow-antrea-', 'flow-antrea', 'flow-a', 'flow-x-', 'flow-antrea-prod-', 'flow-20'];
const MODES = ['dataStream', 'daily'];

const glob = (pattern: string) => new RegExp(`^${pattern.replaceAll('.', '\\.').replaceAll('*', '.*')}$`);
/** Names some template could be asked to match: the data stream, daily indices, and names that extend either. */
const candidates = (stream: string, prefix: string) => [stream, `${prefix}2026.12.01`, `${stream}-2026.12.01`, `${prefix}2026.12.01-x`, `${stream}2`];
const bothMatch = (a: string, b: string, names: string[]) => names.some((n) => glob(a).test(n) && glob(b).test(n));

function configure(env: Record<string, string>): string | undefined {
  try {
    loadConfig(undefined, env);
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  }
}

describe('index settings', () => {
  it('refuses exactly the combinations whose templates overlap or whose files the daily template would not map, naming the key', () => {
    let tried = 0;
    for (const mode of MODES) {
      for (const stream of DATA_STREAMS) {
        for (const prefix of PREFIXES) {
          for (const filePrefix of PREFIXES) {
            const names = candidates(stream, prefix);
            const overlap = bothMatch(`${stream}*`, `${prefix}2*`, names);
            const fileMisfit = filePrefix !== prefix;
            const error = configure({
              ELKFC_ELASTICSEARCH_INDEX_MODE: mode, ELKFC_ELASTICSEARCH_DATA_STREAM: stream,
              ELKFC_ELASTICSEARCH_DAILY_INDEX_PREFIX: prefix, ELKFC_OUTPUT_FILE_INDEX_PREFIX: filePrefix,
            });
            const label = `${mode} ${stream} ${prefix} ${filePrefix}`;
            expect(error === undefined, `${label}: ${error}`).toBe(!overlap && !fileMisfit);
            if (overlap) expect(error, label).toMatch(/elasticsearch\.(dailyIndexPrefix|dataStream) \(from ELKFC_ELASTICSEARCH_(DAILY_INDEX_PREFIX|DATA_STREAM)\): the daily indices' template pattern/);
            if (fileMisfit) expect(error, label).toContain('output.file.indexPrefix (from ELKFC_OUTPUT_FILE_INDEX_PREFIX)');
            tried++;
          }
        }
      }
    }
    expect(tried).toBe(MODES.length * DATA_STREAMS.length * PREFIXES.length ** 2);
    expect(configure({})).toBeUndefined(); // the defaults: flow-antrea* and flow-2*
  });

  it('gives templates the local Elasticsearch accepts for every accepted combination, and refuses the others there too', async () => {
    const registry = ElementRegistry.builtin();
    for (const stream of DATA_STREAMS) {
      for (const prefix of PREFIXES) {
        const es = await startFakeElasticsearch();
        const client = createElasticsearchClient(loadConfig(undefined, { ELASTICSEARCH_URL: es.url }));
        try {
          const accepted = configure({ ELKFC_ELASTICSEARCH_DATA_STREAM: stream, ELKFC_ELASTICSEARCH_DAILY_INDEX_PREFIX: prefix, ELKFC_OUTPUT_FILE_INDEX_PREFIX: prefix }) === undefined;
          const assets = elasticsearchAssets({ registry, target: 'ipfix', dataStream: stream, dailyIndexPrefix: prefix, retentionDays: 1, rolloverMaxPrimaryShardSizeGb: 1, rolloverMaxAgeHours: 1, version: 'v' });
          const installed = installAssets(client, assets);
          if (accepted) await expect(installed, `${stream} ${prefix}`).resolves.toBeDefined();
          else await expect(installed, `${stream} ${prefix}`).rejects.toThrow(/multiple index templates may not match/);
        } finally {
          await client.close();
          await es.close();
        }
      }
    }
  });
});
