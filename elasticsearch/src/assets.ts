import type { estypes } from '@elastic/elasticsearch';
import { fieldCatalog, UNKNOWN_ELEMENT_PATTERN, type CatalogField } from '../../collector/src/document/catalog.js';
import type { ElementRegistry } from '../../collector/src/ie/registry.js';
import { dailyPattern, dataStreamPattern } from './patterns.js';

/**
 * Everything Elasticsearch needs for the flow documents, as code typed with the official client's request types:
 * lifecycle policies, component templates (mappings from the field catalog, settings), and index templates for
 * the data stream and for the legacy daily indices. `elk-flow-collector setup` installs them; the defaults are
 * generated into elasticsearch/generated/*.json (committed, checked to be current).
 */
export interface AssetOptions {
  registry: ElementRegistry;
  /** Object the decoded record is under (decoding.target). */
  target: string;
  dataStream: string;
  dailyIndexPrefix: string;
  retentionDays: number;
  rolloverMaxPrimaryShardSizeGb: number;
  rolloverMaxAgeHours: number;
  /** Stamped into every asset's _meta: setup compares it to tell "unchanged" from "updated". */
  version: string;
}

export interface ElasticsearchAssets {
  lifecyclePolicies: estypes.IlmPutLifecycleRequest[];
  componentTemplates: estypes.ClusterPutComponentTemplateRequest[];
  indexTemplates: estypes.IndicesPutIndexTemplateRequest[];
  /** Where documents are written: the existing indices the mapping must reach after an update (see install.ts). */
  writeTargets: { dataStream: string; dailyIndices: string };
}

export const MAPPINGS_COMPONENT = 'elk-flow-collector-mappings';
export const SETTINGS_COMPONENT = 'elk-flow-collector-settings';
export const DATA_STREAM_POLICY = 'elk-flow-collector';
export const DAILY_POLICY = 'elk-flow-collector-daily';

function property(field: CatalogField): estypes.MappingProperty {
  switch (field.type) {
    case 'keyword':
      // Exporter text can be long (HTTP headers, labels): index the first 8 KiB, keep all of it in _source.
      return { type: 'keyword', ignore_above: 8191 };
    case 'date':
      return { type: 'date' };
    case 'object':
      return { type: 'object', properties: Object.fromEntries(Object.entries(field.properties ?? {}).map(([k, t]) => [k, { type: t } as estypes.MappingProperty])) };
    case 'flattened':
      return { type: 'flattened' };
    default:
      return { type: field.type } as estypes.MappingProperty;
  }
}

function setPath(root: Record<string, estypes.MappingProperty>, path: string, value: estypes.MappingProperty): void {
  const parts = path.split('.');
  let node = root;
  for (const part of parts.slice(0, -1)) {
    const existing = node[part] as estypes.MappingObjectProperty | undefined;
    if (!existing) node[part] = { type: 'object', properties: {} } as estypes.MappingObjectProperty;
    const object = node[part] as estypes.MappingObjectProperty;
    object.properties ??= {};
    node = object.properties;
  }
  node[parts[parts.length - 1]] = value;
}

/**
 * The mapping: every catalog field with its type (the ECS fields included, as real fields); elements nobody defined
 * (kept as hex under ie_*) as keywords. The root is strict, so a document with a field the collector never writes is
 * refused (and dead-lettered with the reason) instead of being silently indexed as text. Under the target object,
 * fields from Logstash definition files are in the catalog when setup runs with the same configuration; anything
 * else (an element a later version knows) maps by the dynamic templates, strings as keyword, with no date or IP
 * detection: a later version's setup maps it properly and rolls the data stream over (see install.ts).
 */
export function flowMappings(registry: ElementRegistry, target: string): estypes.MappingTypeMapping {
  const properties: Record<string, estypes.MappingProperty> = {};
  const catalog = fieldCatalog(registry, target);
  for (const field of catalog) setPath(properties, field.path, property(field));
  const targetObject = properties[target] as estypes.MappingObjectProperty;
  targetObject.dynamic = true;
  return {
    dynamic: 'strict',
    date_detection: false,
    numeric_detection: false,
    dynamic_templates: [
      { unknown_elements: { path_match: `${target}.${UNKNOWN_ELEMENT_PATTERN}`, mapping: { type: 'keyword', ignore_above: 8191 } } },
      { unexpected_strings: { path_match: `${target}.*`, match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 8191 } } },
      // Floats of elements defined after setup ran: double, not Elasticsearch's default float, which loses digits.
      { unexpected_floats: { path_match: `${target}.*`, match_mapping_type: 'double', mapping: { type: 'double' } } },
    ],
    properties,
  };
}

export function elasticsearchAssets(options: AssetOptions): ElasticsearchAssets {
  const meta = { managed_by: 'elk-flow-collector', version: options.version };
  const deleteAfter = `${options.retentionDays}d`;
  return {
    lifecyclePolicies: [
      {
        name: DATA_STREAM_POLICY,
        policy: {
          _meta: meta,
          phases: {
            hot: {
              actions: {
                rollover: {
                  max_primary_shard_size: `${options.rolloverMaxPrimaryShardSizeGb}gb`,
                  max_age: `${options.rolloverMaxAgeHours}h`,
                },
              },
            },
            delete: { min_age: deleteAfter, actions: { delete: {} } },
          },
        },
      } satisfies estypes.IlmPutLifecycleRequest,
      {
        // Daily indices are not rolled over: each is deleted once it is older than the retention.
        name: DAILY_POLICY,
        policy: { _meta: meta, phases: { hot: { actions: {} }, delete: { min_age: deleteAfter, actions: { delete: {} } } } },
      } satisfies estypes.IlmPutLifecycleRequest,
    ],
    componentTemplates: [
      {
        name: MAPPINGS_COMPONENT,
        _meta: meta,
        template: { mappings: flowMappings(options.registry, options.target) },
      } satisfies estypes.ClusterPutComponentTemplateRequest,
      {
        name: SETTINGS_COMPONENT,
        _meta: meta,
        template: {
          settings: {
            index: {
              // One replica where the cluster has a second node, none on the single-node quick start.
              auto_expand_replicas: '0-1',
              refresh_interval: '5s',
              codec: 'best_compression',
              // Every built-in element is mapped (about 2,400 fields with the vendor elements only tshark names), far
              // past Elasticsearch's default of 1,000; Filebeat's index template sets 10,000 for the same reason. 4,000
              // leaves room for users' definition files and the ie_* fields of unknown elements (dynamic under the
              // target object) while still bounding an exporter that sends thousands of unknown elements.
              mapping: { total_fields: { limit: 4000 } },
            },
          },
        },
      } satisfies estypes.ClusterPutComponentTemplateRequest,
    ],
    indexTemplates: [
      {
        name: 'elk-flow-collector-data-stream',
        _meta: meta,
        index_patterns: [dataStreamPattern(options.dataStream)],
        data_stream: {},
        priority: 200,
        composed_of: [MAPPINGS_COMPONENT, SETTINGS_COMPONENT],
        template: { settings: { index: { lifecycle: { name: DATA_STREAM_POLICY } } } },
      } satisfies estypes.IndicesPutIndexTemplateRequest,
      {
        name: 'elk-flow-collector-daily',
        _meta: meta,
        // flow-YYYY.MM.dd, as Antrea's Logstash pipeline named them.
        index_patterns: [dailyPattern(options.dailyIndexPrefix)],
        priority: 200,
        composed_of: [MAPPINGS_COMPONENT, SETTINGS_COMPONENT],
        template: { settings: { index: { lifecycle: { name: DAILY_POLICY } } } },
      } satisfies estypes.IndicesPutIndexTemplateRequest,
    ],
    writeTargets: { dataStream: options.dataStream, dailyIndices: dailyPattern(options.dailyIndexPrefix) },
  };
}
