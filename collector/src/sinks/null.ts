import { ByteBuffer } from '../document/bytes.js';
import { writeDocument, type FlowDocument } from '../document/document.js';
import type { Sink, SinkFactory } from './types.js';

/**
 * Serialises every document and discards it: for benchmarks, so that measured rates include the
 * serialisation every real sink pays.
 */
export const createNullSink: SinkFactory = async ({ events, documentOptions }) => {
  const out = new ByteBuffer();
  const sink: Sink = {
    name: 'null',
    queued: 0,
    write(documents: readonly FlowDocument[]) {
      for (const document of documents) {
        writeDocument(document, documentOptions, out);
        out.byte(0x0a);
      }
      out.pos = 0;
      events.sinkWritten('null', documents.length, 0);
    },
    ready: () => true,
    flush: async () => {},
    close: async () => {},
  };
  return sink;
};
