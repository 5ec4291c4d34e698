import { createHash } from 'node:crypto';
import type { FlowRecord } from '../decoders/types.js';
import type { DecodedRecord, RecordLayout } from '../decoders/template.js';
import type { ByteBuffer } from './bytes.js';
import { compileRecordWriter, type RecordSerializer } from './record-writer.js';

/** Where `@timestamp` comes from: the message's export time (the codec's choice), the flow's end, or receipt. */
export type TimestampSource = 'export' | 'flowEnd' | 'receive';

/** Where a record came from in its exporter's stream (FlowRecord has these). */
export type RecordOrigin = Pick<FlowRecord, 'domain' | 'sequence' | 'setOffset' | 'index' | 'exportTimeMs'>;

export interface DocumentOptions {
  /** Object the decoded record goes under (`ipfix` as Antrea's pipeline had it, `netflow` is Logstash's default). */
  target: string;
  /** Value of the `type` field (Logstash's input `type`). */
  type: string;
  timestampSource: TimestampSource;
  /** Add the ECS fields (document/ecs.ts) beside the target object; absent means on. */
  ecs?: boolean;
}

/**
 * A flow document: the Logstash event shape `{ "@timestamp", "@version": "1", host, type, <target>: {...} }`,
 * kept as parts so that enrichment works on `fields` and serialisation writes the envelope without copying.
 */
export interface FlowDocument {
  timestamp: string;
  host: string;
  fields: DecodedRecord;
  /** The keys of `fields`: enrichment only sets keys its template reserved, never adds others. */
  layout: RecordLayout;
  /** Strings of the record that need JSON escaping; at zero the writer skips the escape checks. */
  escapedStrings: number;
  /** The record's strings are all ASCII (and so, then, is the whole document). */
  ascii: boolean;
  /** The record's origin (see FlowRecord): what its deterministic document id is made of. */
  origin: RecordOrigin;
  /** The ECS members (`,"event":{...},...`, see ecs.ts) written after the target object; '' for none. */
  ecs: string;
}

const FLOW_END_FIELDS = ['flowEndMilliseconds', 'flowEndSeconds', 'flowEndMicroseconds', 'flowEndNanoseconds', 'last_switched'];

let cachedMs = NaN;
let cachedIso = '';
function iso(ms: number): string {
  // Records of one message share their export time: format it once.
  if (ms !== cachedMs) {
    cachedMs = ms;
    cachedIso = new Date(ms).toISOString();
  }
  return cachedIso;
}

export function buildDocument(record: FlowRecord, host: string, receivedAtMs: number, options: DocumentOptions): FlowDocument {
  let timestamp: string | undefined;
  if (options.timestampSource === 'flowEnd') {
    for (const name of FLOW_END_FIELDS) {
      const value = record.fields[name];
      if (typeof value === 'string') {
        timestamp = value;
        break;
      }
    }
  } else if (options.timestampSource === 'receive') {
    timestamp = iso(receivedAtMs);
  }
  return {
    timestamp: timestamp ?? iso(record.exportTimeMs),
    host,
    fields: record.fields,
    layout: record.layout,
    escapedStrings: record.escapedStrings,
    ascii: record.ascii,
    origin: record,
    ecs: '',
  };
}

const BIGINT_MARK = '\u0000bigint:';
const BIGINT_PATTERN = /"\\u0000bigint:(-?\d+)"/g;

function withBigInts(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? BIGINT_MARK + value.toString() : value;
}

/** JSON of a value holding bigints, written as exact JSON numbers (JSON.stringify cannot, and Node 20 has no rawJSON). */
function stringifyExact(value: unknown): string {
  return JSON.stringify(value, withBigInts).replace(BIGINT_PATTERN, '$1');
}

// Text JSON.stringify would escape: quotes, backslashes, control characters, and (lone) surrogates.
export const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A value that is already JSON text (pod labels, validated by JSON.parse and free of line breaks): written as
 * is, which spares parsing it into an object and writing that object out again.
 */
export class JsonText {
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** JSON of one value other than a string, exactly as JSON.stringify writes it, but bigints as exact numbers. */
function jsonValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
    case 'number':
      return Number.isFinite(v) ? `${v}` : 'null';
    case 'bigint':
    case 'boolean':
      return `${v}`;
    default:
      if (v === null) return 'null';
      if (v instanceof JsonText) return v.text;
      try {
        return JSON.stringify(v);
      } catch {
        return stringifyExact(v); // an array of repeated 64-bit elements holding a bigint
      }
  }
}

const serializers = new WeakMap<RecordLayout, RecordSerializer>();
const escapeFreeSerializers = new WeakMap<RecordLayout, RecordSerializer>();

/** The compiled writer of a layout (see record-writer.ts), one per layout and escape mode. */
function serializerFor(layout: RecordLayout, escapeFree: boolean): RecordSerializer {
  const cache = escapeFree ? escapeFreeSerializers : serializers;
  let serializer = cache.get(layout);
  if (!serializer) cache.set(layout, (serializer = compileRecordWriter(layout, escapeFree, jsonValue, NEEDS_ESCAPE)));
  return serializer;
}

const envelopes = new WeakMap<DocumentOptions, string>();

/**
 * Serialises a document in the Logstash event shape, `{"@timestamp", "@version", host, type, <target>: {...}}`,
 * followed by its ECS fields when it has them (the ECS fields are ASCII: they do not change doc.ascii).
 */
export function serializeDocument(doc: FlowDocument, options: DocumentOptions): string {
  let tail = envelopes.get(options);
  if (tail === undefined) envelopes.set(options, (tail = `,"type":${JSON.stringify(options.type)},${JSON.stringify(options.target)}:`));
  // host is an address the input formatted (digits, dots, colons, hex): it never needs escaping.
  return `{"@timestamp":"${doc.timestamp}","@version":"1","host":"${doc.host}"${tail}${serializerFor(doc.layout, doc.escapedStrings === 0)(doc.fields)}${doc.ecs}}`;
}

/**
 * Appends a document to an output buffer. Performance: the document is built as one string (concatenation of
 * short constant and value strings is what V8 does fastest) and encoded with a single native write; writing
 * field by field into the buffer costs a native call each and is slower. An all-ASCII document is copied as
 * Latin-1, which V8 does straight from the concatenated pieces; UTF-8 encoding first flattens them into a copy.
 */
export function writeDocument(doc: FlowDocument, options: DocumentOptions, out: ByteBuffer): void {
  const text = serializeDocument(doc, options);
  if (doc.ascii) out.ascii(text);
  else out.utf8(text);
}

/**
 * The document's `_id`: a hash of where the record came from (exporter address, observation domain, export time,
 * message sequence number, set offset, index in the set), so that a record sent twice (a retry after a timeout,
 * a spool replayed after a crash, a message the exporter resent) is indexed once: `create` refuses the second.
 */
export function documentId(doc: FlowDocument): string {
  const o = doc.origin;
  return createHash('sha1').update(`${doc.host}|${o.domain}|${o.exportTimeMs}|${o.sequence}|${o.setOffset}|${o.index}`).digest('base64url');
}
