import { serializeDocument, type FlowDocument } from '../document/document.js';
import type { Sink, SinkFactory } from './types.js';

/**
 * Serialises every document and discards it: for benchmarks, so that measured rates include the
 * serialisation every real sink pays.
 */
export const createNullSink: SinkFactory = async ({ events, documentOptions }) => {
  let serialisedChars = 0;
  const sink: Sink & { serialisedChars(): number } = {
    name: 'null',
    queued: 0,
    write(documents: readonly FlowDocument[]) {
      for (const document of documents) serialisedChars += serializeDocument(document, documentOptions).length;
      events.sinkWritten('null', documents.length, 0);
    },
    ready: () => true,
    flush: async () => {},
    close: async () => {},
    serialisedChars: () => serialisedChars,
  };
  return sink;
};
