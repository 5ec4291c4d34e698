import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import type { FlowDocument } from '../../collector/src/document/document.js';
import { ElementRegistry } from '../../collector/src/ie/registry.js';
import { loadIpfixDefinitions, loadNetflowDefinitions } from '../../collector/src/ie/logstash-definitions.js';
import { FlowPipeline, type PipelineSettings } from '../../collector/src/pipeline/flow-pipeline.js';
import type { ExporterSessionKey } from '../../collector/src/session/template-session.js';
import { InternalEvents } from '../../collector/src/telemetry/events.js';
import { createMetrics } from '../../collector/src/telemetry/metrics.js';

export const SHARED = new URL('../../../shared/', import.meta.url).pathname;
export const LOGSTASH = `${SHARED}fixtures/logstash-codec-netflow/`;
export const ANTREA = `${SHARED}fixtures/antrea/`;
export const SOFTFLOWD = `${SHARED}fixtures/softflowd/`;

export const logstashRegistry = () =>
  ElementRegistry.builtin().extend(
    loadIpfixDefinitions(`${LOGSTASH}definitions/ipfix.yaml`),
    loadNetflowDefinitions(`${LOGSTASH}definitions/netflow.yaml`),
  );

export function testPipeline(overrides: Partial<PipelineSettings> = {}) {
  const events = new InternalEvents(createMetrics(), pino({ level: 'silent' }));
  const pipeline = new FlowPipeline(
    {
      registry: ElementRegistry.builtin(),
      // The Logstash shape: tests of decoding and enrichment; test/ecs.test.ts switches ECS on.
      document: { target: 'ipfix', type: 'ipfix', timestampSource: 'export', ecs: false },
      includeFlowsetId: true,
      templateTimeoutMs: 1_800_000,
      pending: { maxSets: 1000, maxBytes: 1 << 20, maxAgeMs: 60_000 },
      enrichment: { throughputMaxKeys: 1000, throughputIdleTimeoutMs: 3_600_000 },
      ...overrides,
    },
    events,
  );
  return { pipeline, events, metrics: events.metrics };
}

export const udpExporter = (address = '192.0.2.1', port = 40000): ExporterSessionKey => ({
  key: `udp:${address}:${port}`,
  address,
  expires: true,
});

export function decodeAll(pipeline: FlowPipeline, messages: Buffer[], exporter = udpExporter(), nowMs = 0): FlowDocument[] {
  return messages.flatMap((m) => pipeline.process(m, exporter, nowMs));
}

export const readDat = (name: string) => readFileSync(`${LOGSTASH}dat/${name}`);

export async function counter(metrics: { registry: { getSingleMetric(name: string): unknown } }, name: string, labels: Record<string, string> = {}) {
  const metric = metrics.registry.getSingleMetric(name) as { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> };
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
