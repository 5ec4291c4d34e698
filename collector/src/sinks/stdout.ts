import type { ByteBuffer } from '../document/bytes.js';
import { writeDocument, type FlowDocument } from '../document/document.js';
import { BufferedSink } from './buffered.js';
import type { SinkFactory } from './types.js';

/** NDJSON documents on standard output, one per line, as `decode` prints them. */
class StdoutSink extends BufferedSink {
  readonly name = 'stdout';

  protected format(document: FlowDocument, out: ByteBuffer): void {
    writeDocument(document, this.documentOptions, out);
    out.byte(0x0a);
  }

  protected writeChunk(chunk: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  }
}

export const createStdoutSink: SinkFactory = async ({ events, documentOptions, config }) =>
  new StdoutSink(events, documentOptions, config.output.file.flushIntervalMs);
