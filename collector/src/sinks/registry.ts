import { createElasticsearchSink } from './elasticsearch/sink.js';
import { createFileSink } from './file.js';
import { createNullSink } from './null.js';
import { createStdoutSink } from './stdout.js';
import type { Sink, SinkContext, SinkFactory } from './types.js';

/** The sinks by configuration name (`output.sink`). A new output is one file and one line here. */
export const SINKS: Record<string, SinkFactory> = {
  elasticsearch: createElasticsearchSink,
  file: createFileSink,
  stdout: createStdoutSink,
  null: createNullSink,
};

/** `auto`: Elasticsearch when a URL is configured, otherwise the embedded default, the file sink. */
export function sinkName(config: SinkContext['config']): string {
  const { sink } = config.output;
  if (sink !== 'auto') return sink;
  return config.elasticsearch.urls.length > 0 ? 'elasticsearch' : 'file';
}

export function createSink(context: SinkContext): Promise<Sink> {
  const name = sinkName(context.config);
  const factory = SINKS[name];
  if (!factory) throw new Error(`no sink named ${name}`);
  return factory(context);
}
