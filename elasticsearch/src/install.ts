import { createHash } from 'node:crypto';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { CollectorConfig } from '../../collector/src/config/schema.js';
import type { ElementRegistry } from '../../collector/src/ie/registry.js';
import { elasticsearchAssets, type ElasticsearchAssets } from './assets.js';

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

export type InstallAction = 'created' | 'updated' | 'unchanged';
export interface InstallReport {
  kind: 'lifecycle policy' | 'component template' | 'index template';
  name: string;
  action: InstallAction;
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
  return report;
}
