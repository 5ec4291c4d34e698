import type { CollectorConfig } from '../config/schema.js';
import type { ByteBuffer } from '../document/bytes.js';
import { writeDocument, type DocumentOptions, type FlowDocument } from '../document/document.js';
import { FlowError } from '../decoders/types.js';
import type { InternalEvents } from '../telemetry/events.js';
import { dailyIndex, writeBulkCreate } from './bulk.js';

/**
 * How a sink writes one document, apart from the sink: made from the configuration alone, so that a decode
 * worker serialises documents exactly as the sink in the main thread would (the same bytes), and the sink then
 * only appends them (Sink.writeEncoded). Light to import: no client, no file handles.
 */
export interface DocumentEncoder {
  /**
   * Appends one document as the sink writes it, ending in a newline; false when serialising it failed (a bug of
   * ours): nothing of it is left in `out`, and the failure went to the encoder's EncodeFailure.
   */
  encode(document: FlowDocument, out: ByteBuffer): boolean;
}

/** Told of each document an encoder could not serialise (dropped: the caller counts it). */
export type EncodeFailure = (document: FlowDocument, error: Error) => void;

/**
 * Documents already serialised by an encoder: `offsets` is where each starts, then `body.length`. The sink copies
 * what it keeps before writeEncoded returns (the buffer is used again).
 */
export interface EncodedChunk {
  body: Buffer;
  offsets: ArrayLike<number>;
  documents: number;
}

/** Appends one document as the sink writes it (room is the writer's own concern). */
type Encode = (document: FlowDocument, out: ByteBuffer) => void;

export type EncoderFactory = (config: CollectorConfig, options: DocumentOptions) => Encode;

const DAY_MS = 86_400_000;

/** One document per line, as `decode` prints it (stdout, null). */
const documentLines: EncoderFactory = (_config, options) => (document, out) => {
  writeDocument(document, options, out);
  out.byte(0x0a);
};

/**
 * Elasticsearch: a `create` pair with the deterministic _id, into the data stream or the daily index chosen by
 * the record's export time, one of the inputs of its _id: every copy of a record (a retry, a replay, an exporter
 * resending it) names the same index, where `create` refuses the second.
 */
const elasticsearchPairs: EncoderFactory = (config, options) => {
  const es = config.elasticsearch;
  const dataStream = es.indexMode === 'dataStream' ? es.dataStream : undefined;
  let indexDay = -1;
  let indexName = '';
  return (document, out) => {
    let index = dataStream;
    if (index === undefined) {
      const day = Math.floor(document.origin.exportTimeMs / DAY_MS);
      if (day !== indexDay) {
        indexDay = day;
        indexName = dailyIndex(es.dailyIndexPrefix, new Date(day * DAY_MS).toISOString());
      }
      index = indexName;
    }
    writeBulkCreate(document, index, options, out, true);
  };
};

/** The file sink: the Elasticsearch output's pairs and _id (a file loaded twice indexes each record once), by the document's day. */
const filePairs: EncoderFactory = (config, options) => {
  const prefix = config.output.file.indexPrefix;
  return (document, out) => writeBulkCreate(document, dailyIndex(prefix, document.timestamp), options, out, true);
};

/** The encoders by sink name (sinks/registry.ts): a new output adds its line here too. */
export const ENCODERS: Record<string, EncoderFactory> = {
  elasticsearch: elasticsearchPairs,
  file: filePairs,
  stdout: documentLines,
  null: documentLines,
};

/**
 * The encoder of a sink. A document whose serialisation throws (a bug of ours in documents, ECS or enrichment's
 * values) is rolled back and handed to `failed`; the others go on, wherever the encoder runs (a decode worker or a
 * sink on the main thread).
 */
export function createEncoder(sink: string, config: CollectorConfig, options: DocumentOptions, failed: EncodeFailure): DocumentEncoder {
  const factory = ENCODERS[sink];
  if (!factory) throw new Error(`no encoder for sink ${sink}`);
  const encode = factory(config, options);
  return {
    encode(document, out) {
      const start = out.pos;
      try {
        encode(document, out);
        return true;
      } catch (error) {
        out.pos = start;
        failed(document, error as Error);
        return false;
      }
    },
  };
}

/** What a sink on the main thread does with a document it could not serialise: drop it, counted as an internal error. */
export const countedFailure = (events: InternalEvents): EncodeFailure => (document, error) =>
  events.packetDropped(new FlowError('internal_error', document.host, undefined, `document failure: ${error.message}`, document.origin.domain));

/** Appends bytes [start, end) of `from` to `out`. */
export function appendBytes(out: ByteBuffer, from: Buffer, start: number, end: number): void {
  const n = end - start;
  out.ensure(n);
  from.copy(out.buffer, out.pos, start, end);
  out.pos += n;
}
