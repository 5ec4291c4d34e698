import type { CollectorConfig } from '../config/schema.js';
import type { DocumentOptions } from '../document/document.js';
import type { ElementRegistry } from '../ie/registry.js';
import type { SharedTemplateCounts, TemplateLimits } from '../session/template-session.js';
import type { PipelineSettings } from './flow-pipeline.js';

/**
 * The pipeline's settings from the configuration: shared by the collector's main thread, its decode workers and
 * the offline commands (decode, replay), and light to import (a worker loads this, not the collector's inputs).
 */
export function documentOptions(config: CollectorConfig): DocumentOptions {
  return { target: config.decoding.target, type: config.decoding.type, timestampSource: config.decoding.timestampSource, ecs: config.document.ecs };
}

export function templateLimits(config: CollectorConfig): TemplateLimits {
  const { maxFieldsPerTemplate, maxTemplatesPerExporter, maxTemplates, maxTemplateFields } = config.decoding;
  return { maxFieldsPerTemplate, maxTemplatesPerExporter, maxTemplates, maxTemplateFields };
}

/**
 * `share` splits the per-pipeline memory bounds (held data sets, throughput state) among that many decode
 * workers, so that all of them together hold what the configuration allows. Template limits are not split:
 * workers count templates in shared totals (`templateCounts`).
 */
export function pipelineSettings(config: CollectorConfig, registry: ElementRegistry, share = 1, templateCounts?: SharedTemplateCounts): PipelineSettings {
  const d = config.decoding;
  const part = (n: number) => Math.ceil(n / share);
  return {
    registry,
    document: documentOptions(config),
    includeFlowsetId: d.includeFlowsetId,
    templateTimeoutMs: d.templateTimeoutSecs * 1000,
    pending: { maxSets: part(d.pendingMaxSets), maxBytes: part(d.pendingMaxBytes), maxAgeMs: d.pendingMaxAgeSecs * 1000 },
    templates: templateLimits(config),
    templateCounts,
    enrichment: config.enrichment.enabled
      ? { throughputMaxKeys: part(config.enrichment.throughputMaxKeys), throughputIdleTimeoutMs: config.enrichment.throughputIdleTimeoutSecs * 1000 }
      : undefined,
  };
}
