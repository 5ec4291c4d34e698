import { createFileSink } from './file.js';
import { createNullSink } from './null.js';
import { createStdoutSink } from './stdout.js';
import type { Sink, SinkContext, SinkFactory } from './types.js';

/**
 * The sinks by configuration name (`output.sink`). A new output is one file and one line here;
 * the Elasticsearch output registers itself the same way.
 */
export const SINKS: Record<string, SinkFactory> = {
  file: createFileSink,
  stdout: createStdoutSink,
  null: createNullSink,
};

export function createSink(context: SinkContext): Promise<Sink> {
  const factory = SINKS[context.config.output.sink];
  if (!factory) throw new Error(`no sink named ${context.config.output.sink}`);
  return factory(context);
}
