import { BufferedSink } from './buffered.js';
import { countedFailure, createEncoder } from './encoders.js';
import type { SinkFactory } from './types.js';

/** NDJSON documents on standard output, one per line, as `decode` prints them. */
class StdoutSink extends BufferedSink {
  readonly name = 'stdout';

  protected writeChunk(chunk: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  }
}

export const createStdoutSink: SinkFactory = async ({ events, documentOptions, config }) =>
  new StdoutSink(events, createEncoder('stdout', config, documentOptions, countedFailure(events)), config.output.file.flushIntervalMs);
