import { destination, pino } from 'pino';
import type { CollectorConfig } from '../config/schema.js';
import { serializeDocument } from '../document/document.js';
import { buildRegistry } from '../ie/configured.js';
import { documentOptions, pipelineSettings } from '../pipeline/collector.js';
import { FlowPipeline } from '../pipeline/flow-pipeline.js';
import type { ExporterSessionKey } from '../session/template-session.js';
import { InternalEvents } from '../telemetry/events.js';
import { createMetrics } from '../telemetry/metrics.js';
import { readCaptures } from './offline.js';

export interface DecodeSummary {
  messages: number;
  documents: number;
  dropped: number;
}

/**
 * Prints, one per line, exactly the documents `run` would ship for these captures: the same pipeline, the
 * same configuration. Logs (drops, template notices) go to stderr.
 */
export async function decodeFiles(
  config: CollectorConfig,
  files: string[],
  write: (line: string) => void,
  datExporter = { address: '127.0.0.1', port: 0 },
): Promise<DecodeSummary> {
  const log = pino({ level: config.logging.level }, destination(2));
  const events = new InternalEvents(createMetrics(), log);
  const pipeline = new FlowPipeline(pipelineSettings(config, buildRegistry(config)), events);
  const options = documentOptions(config);
  const exporters = new Map<string, ExporterSessionKey>();
  const messages = readCaptures(files, datExporter, Date.now());
  let documents = 0;
  for (const m of messages) {
    const id = `${m.address}:${m.port}`;
    let exporter = exporters.get(id);
    if (!exporter) exporters.set(id, (exporter = { key: `udp:${id}`, address: m.address, expires: true }));
    for (const document of pipeline.process(m.message, exporter, m.timestampMs)) {
      write(serializeDocument(document, options));
      documents++;
    }
  }
  const dropped = (await events.metrics.decodeErrors.get()).values.reduce((sum, v) => sum + v.value, 0);
  return { messages: messages.length, documents, dropped };
}
