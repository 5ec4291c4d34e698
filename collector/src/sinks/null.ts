import { ByteBuffer } from '../document/bytes.js';
import type { FlowDocument } from '../document/document.js';
import { countedFailure, createEncoder, type EncodedChunk } from './encoders.js';
import type { Sink, SinkFactory } from './types.js';

/**
 * Serialises every document and discards it: for benchmarks, so that measured rates include the
 * serialisation every real sink pays (in the decode workers when there are some: they hand over bytes).
 */
export const createNullSink: SinkFactory = async ({ events, documentOptions, config }) => {
  const out = new ByteBuffer();
  const encoder = createEncoder('null', config, documentOptions, countedFailure(events));
  const sink: Sink = {
    name: 'null',
    queued: 0,
    write(documents: readonly FlowDocument[]) {
      let written = 0;
      for (const document of documents) if (encoder.encode(document, out)) written++;
      out.pos = 0;
      events.sinkWritten('null', written);
    },
    writeEncoded(chunk: EncodedChunk) {
      events.sinkWritten('null', chunk.documents);
    },
    ready: () => true,
    flush: async () => {},
    close: async () => {},
  };
  return sink;
};
