import type { FlowRecord } from '../decoders/types.js';
import type { DecodedRecord, RecordLayout } from '../decoders/template.js';
import { NO_TEXT_SLOTS } from '../decoders/values.js';
import { ByteBuffer } from './bytes.js';
import { writeEcs } from './ecs.js';
import { constant, reserve, string, textBytes, type ConstantBytes } from './json-bytes.js';
import { compileRecordWriter, type RecordWriter } from './record-writer.js';

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
  /** The record's origin (see FlowRecord): what its deterministic document id is made of. */
  origin: RecordOrigin;
  /** Write the ECS members (`,"event":{...},...`, see ecs.ts) after the target object. */
  ecs: boolean;
  /** Where its decoder noted its texts' intern slots (FlowRecord.textSlots): a hint for the writer. */
  textSlots?: number;
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
    origin: record,
    ecs: options.ecs !== false,
    textSlots: record.textSlots,
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

/** JSON of an object or array exactly as JSON.stringify writes it, but bigints as exact numbers. */
function jsonObject(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return stringifyExact(v); // an array of repeated 64-bit elements holding a bigint
  }
}

const writers = new WeakMap<RecordLayout, RecordWriter>();

/** The compiled writer of a layout (see record-writer.ts), one per layout. */
function writerFor(layout: RecordLayout): RecordWriter {
  let writer = writers.get(layout);
  if (!writer) writers.set(layout, (writer = compileRecordWriter(layout, jsonObject)));
  return writer;
}

interface Envelope {
  head: ConstantBytes;
  version: ConstantBytes;
  tail: ConstantBytes;
  room: number;
}

const envelopes = new WeakMap<DocumentOptions, Envelope>();

function envelopeFor(options: DocumentOptions): Envelope {
  let envelope = envelopes.get(options);
  if (envelope === undefined) {
    const head = textBytes('{"@timestamp":');
    const version = textBytes(',"@version":"1","host":');
    const tail = textBytes(`,"type":${JSON.stringify(options.type)},${JSON.stringify(options.target)}:`);
    envelopes.set(options, (envelope = { head, version, tail, room: head.length + version.length + tail.length }));
  }
  return envelope;
}

/**
 * Appends a document in the Logstash event shape, `{"@timestamp", "@version", host, type, <target>: {...}}`,
 * followed by its ECS fields when it has them, to an output buffer, every byte written in place (see json-bytes.ts).
 */
export function writeDocument(doc: FlowDocument, options: DocumentOptions, out: ByteBuffer): void {
  const envelope = envelopeFor(options);
  let p = out.pos;
  reserve(out, p, envelope.room);
  p = constant(out, p, envelope.head);
  p = string(out, p, doc.timestamp);
  reserve(out, p, envelope.room);
  p = constant(out, p, envelope.version);
  p = string(out, p, doc.host);
  reserve(out, p, envelope.room);
  out.pos = constant(out, p, envelope.tail);
  writerFor(doc.layout)(doc.fields, out, doc.textSlots ?? NO_TEXT_SLOTS);
  if (doc.ecs) writeEcs(doc.fields, doc.host, out);
  out.byte(0x7d);
}

const scratch = new ByteBuffer(1 << 16);

/** A document's JSON text (what writeDocument writes), for `decode` and tests. */
export function serializeDocument(doc: FlowDocument, options: DocumentOptions): string {
  scratch.pos = 0;
  writeDocument(doc, options, scratch);
  return scratch.takeString();
}
