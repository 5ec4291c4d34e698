import { createHash } from 'node:crypto';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { CollectorConfig } from '../../collector/src/config/schema.js';
import type { ElementRegistry } from '../../collector/src/ie/registry.js';
import { elasticsearchAssets, MAPPINGS_COMPONENT, type ElasticsearchAssets } from './assets.js';

/** The assets for a configuration, stamped with a hash of their content: equal stamps mean nothing to update. */
export function stampedAssets(config: CollectorConfig, registry: ElementRegistry): ElasticsearchAssets {
  const es = config.elasticsearch;
  const options = {
    registry,
    target: config.decoding.target,
    dataStream: es.dataStream,
    dailyIndexPrefix: es.dailyIndexPrefix,
    retentionDays: es.retentionDays,
    rolloverMaxPrimaryShardSizeGb: es.rolloverMaxPrimaryShardSizeGb,
    rolloverMaxAgeHours: es.rolloverMaxAgeHours,
  };
  const unstamped = JSON.stringify(elasticsearchAssets({ ...options, version: '' }));
  return elasticsearchAssets({ ...options, version: createHash('sha256').update(unstamped).digest('hex').slice(0, 16) });
}

export type InstallAction = 'created' | 'updated' | 'unchanged' | 'mapping updated' | 'rolled over' | 'mapping kept' | 'not permitted';
export interface InstallReport {
  kind: 'lifecycle policy' | 'component template' | 'index template' | 'data stream' | 'daily indices';
  name: string;
  action: InstallAction;
  /** Why, when the action needs saying (a rollover: the mapping change the write index refused). */
  detail?: string;
}

const notFound = (error: unknown) => (error as { meta?: { statusCode?: number } }).meta?.statusCode === 404;

async function installedVersion(read: () => Promise<unknown>, pick: (response: never) => unknown): Promise<string | undefined | null> {
  try {
    const meta = pick((await read()) as never) as { version?: string } | undefined;
    return meta?.version ?? undefined;
  } catch (error) {
    if (notFound(error)) return null;
    throw error;
  }
}

/**
 * Installs or updates every asset, idempotently: an asset whose installed stamp equals ours is left alone.
 * Order matters: policies, then component templates, then the index templates that use them.
 */
export async function installAssets(client: Client, assets: ElasticsearchAssets, dryRun = false): Promise<InstallReport[]> {
  const report: InstallReport[] = [];
  const apply = async (kind: InstallReport['kind'], name: string, stamp: string, installed: string | undefined | null, put: () => Promise<unknown>) => {
    const action: InstallAction = installed === null ? 'created' : installed === stamp ? 'unchanged' : 'updated';
    if (action !== 'unchanged' && !dryRun) await put();
    report.push({ kind, name, action });
  };
  for (const policy of assets.lifecyclePolicies) {
    const stamp = String((policy.policy?._meta as { version?: string } | undefined)?.version);
    const installed = await installedVersion(
      () => client.ilm.getLifecycle({ name: policy.name }),
      (r: estypes.IlmGetLifecycleResponse) => r[policy.name]?.policy?._meta,
    );
    await apply('lifecycle policy', policy.name, stamp, installed, () => client.ilm.putLifecycle(policy));
  }
  for (const template of assets.componentTemplates) {
    const installed = await installedVersion(
      () => client.cluster.getComponentTemplate({ name: template.name }),
      (r: estypes.ClusterGetComponentTemplateResponse) => r.component_templates[0]?.component_template._meta,
    );
    await apply('component template', template.name, String(template._meta?.version), installed, () => client.cluster.putComponentTemplate(template));
  }
  for (const template of assets.indexTemplates) {
    const installed = await installedVersion(
      () => client.indices.getIndexTemplate({ name: template.name }),
      (r: estypes.IndicesGetIndexTemplateResponse) => r.index_templates[0]?.index_template._meta,
    );
    await apply('index template', template.name, String(template._meta?.version), installed, () => client.indices.putIndexTemplate(template));
  }
  if (!dryRun) {
    const changed = report.some((r) => r.kind === 'component template' && r.name === MAPPINGS_COMPONENT && r.action !== 'unchanged');
    report.push(...(await applyMappings(client, assets, changed)));
  }
  return report;
}

const statusOf = (error: unknown) => (error as { meta?: { statusCode?: number } }).meta?.statusCode;
const refusal = (error: unknown): string | undefined => {
  const e = error as { meta?: { body?: { error?: { reason?: string } } } };
  return statusOf(error) === 400 ? (e.meta?.body?.error?.reason ?? 'mapping refused') : undefined;
};
// The collector's own user (manifests) may write documents and templates but not manage indices: `run` then
// leaves mapping updates and rollovers to `setup` run by an administrator, and says so, instead of failing.
const NOT_PERMITTED = 'this user may not update mappings or roll over (index privilege manage): run setup as a user who may';

/**
 * A template only shapes indices created after it, so, as Fleet does after a package upgrade, the new mapping is
 * put on the indices already being written: the data stream's write index, and the daily indices. Where the write
 * index refuses it (a field that was mapped dynamically, or by an older version, would change type), the data
 * stream is rolled over: its new write index takes the new template, and the old one keeps its mapping. Daily
 * indices cannot roll over: the next day's index takes the new mapping. Done on every install (not only when the
 * template changed), so a run interrupted between the template and the rollover is completed by the next one;
 * reported as unchanged when the template did not change and the indices took the mapping.
 */
async function applyMappings(client: Client, assets: ElasticsearchAssets, templateChanged: boolean): Promise<InstallReport[]> {
  const mappings = assets.componentTemplates.find((t) => t.name === MAPPINGS_COMPONENT)?.template.mappings;
  if (!mappings) return [];
  const body = { properties: mappings.properties, dynamic: mappings.dynamic, dynamic_templates: mappings.dynamic_templates, date_detection: mappings.date_detection, numeric_detection: mappings.numeric_detection } satisfies Omit<estypes.IndicesPutMappingRequest, 'index'>;
  const applied: InstallAction = templateChanged ? 'mapping updated' : 'unchanged';
  const report: InstallReport[] = [];
  const { dataStream, dailyIndices } = assets.writeTargets;
  let exists = true;
  try {
    await client.indices.getDataStream({ name: dataStream });
  } catch (error) {
    if (statusOf(error) === 403) report.push({ kind: 'data stream', name: dataStream, action: 'not permitted', detail: NOT_PERMITTED });
    else if (!notFound(error)) throw error;
    exists = false;
  }
  if (exists) {
    try {
      try {
        await client.indices.putMapping({ index: dataStream, write_index_only: true, ...body });
        report.push({ kind: 'data stream', name: dataStream, action: applied });
      } catch (error) {
        const reason = refusal(error);
        if (reason === undefined) throw error;
        const rolled = await client.indices.rollover({ alias: dataStream });
        report.push({ kind: 'data stream', name: dataStream, action: 'rolled over', detail: `the write index ${rolled.old_index} refused the new mapping (${reason}); ${rolled.new_index} has it` });
      }
    } catch (error) {
      if (statusOf(error) !== 403) throw error;
      report.push({ kind: 'data stream', name: dataStream, action: 'not permitted', detail: NOT_PERMITTED });
    }
  }
  try {
    await client.indices.putMapping({ index: dailyIndices, allow_no_indices: true, ignore_unavailable: true, expand_wildcards: 'open', ...body });
    report.push({ kind: 'daily indices', name: dailyIndices, action: applied });
  } catch (error) {
    const reason = refusal(error);
    if (statusOf(error) === 403) report.push({ kind: 'daily indices', name: dailyIndices, action: 'not permitted', detail: NOT_PERMITTED });
    else if (reason === undefined) throw error;
    else report.push({ kind: 'daily indices', name: dailyIndices, action: 'mapping kept', detail: `existing daily indices keep their mapping (${reason}); the next day's index takes the new one` });
  }
  return report;
}
