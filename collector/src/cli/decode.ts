import type { CollectorConfig } from '../config/schema.js';
import { serializeDocument } from '../document/document.js';
import { buildRegistry } from '../ie/configured.js';
import { documentOptions, pipelineSettings } from '../pipeline/settings.js';
import { exporterKey } from '../inputs/types.js';
import { FlowPipeline } from '../pipeline/flow-pipeline.js';
import type { ExporterSessionKey } from '../session/template-session.js';
import { InternalEvents } from '../telemetry/events.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { readCaptures } from './offline.js';
import type { Progress } from './progress.js';

export interface DecodeSummary {
  messages: number;
  documents: number;
  dropped: number;
}

/** `1 document`, `2 documents`: a count with its noun, for the summary lines people read. */
export function counted(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}

/** decode's last line on stderr. */
export function decodeSummaryLine({ documents, messages, dropped }: DecodeSummary): string {
  return `decoded ${counted(documents, 'document')} from ${counted(messages, 'message')}; ${counted(dropped, 'malformed packet')} dropped`;
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
  progress?: Progress,
): Promise<DecodeSummary> {
  const log = createLogger(config.logging);
  const events = new InternalEvents(createMetrics(), log);
  const pipeline = new FlowPipeline(pipelineSettings(config, buildRegistry(config)), events);
  const options = documentOptions(config);
  const exporters = new Map<string, ExporterSessionKey>();
  const messages = readCaptures(files, datExporter, Date.now());
  let documents = 0;
  let done = 0;
  const status = () => `decoding: ${done.toLocaleString('en')} of ${messages.length.toLocaleString('en')} messages, ${documents.toLocaleString('en')} documents`;
  for (const m of messages) {
    done++;
    progress?.update(status);
    const id = `${m.address}:${m.port}`;
    let exporter = exporters.get(id);
    if (!exporter) exporters.set(id, (exporter = { key: exporterKey('udp', m.address, m.port), address: m.address, expires: true }));
    for (const document of pipeline.process(m.message, exporter, m.timestampMs)) {
      write(serializeDocument(document, options));
      documents++;
    }
  }
  progress?.done();
  const dropped = (await events.metrics.decodeErrors.get()).values.reduce((sum, v) => sum + v.value, 0);
  return { messages: messages.length, documents, dropped };
}
