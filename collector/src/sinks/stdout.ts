import { serializeDocument, type FlowDocument } from '../document/document.js';
import { BufferedTextSink } from './buffered.js';
import type { SinkFactory } from './types.js';

/** NDJSON documents on standard output, one per line, as `decode` prints them. */
class StdoutSink extends BufferedTextSink {
  readonly name = 'stdout';

  protected format(document: FlowDocument): string {
    return serializeDocument(document, this.documentOptions) + '\n';
  }

  protected writeChunk(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
    });
  }
}

export const createStdoutSink: SinkFactory = async ({ events, documentOptions, config }) =>
  new StdoutSink(events, documentOptions, config.output.file.flushIntervalMs);
