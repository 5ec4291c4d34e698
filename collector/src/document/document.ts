import type { FlowRecord } from '../decoders/types.js';
import type { DecodedRecord } from '../decoders/template.js';

/** Where `@timestamp` comes from: the message's export time (the codec's choice), the flow's end, or receipt. */
export type TimestampSource = 'export' | 'flowEnd' | 'receive';

export interface DocumentOptions {
  /** Object the decoded record goes under (`ipfix` as Antrea's pipeline had it, `netflow` is Logstash's default). */
  target: string;
  /** Value of the `type` field (Logstash's input `type`). */
  type: string;
  timestampSource: TimestampSource;
}

/**
 * A flow document: the Logstash event shape `{ "@timestamp", "@version": "1", host, type, <target>: {...} }`,
 * kept as parts so that enrichment works on `fields` and serialisation writes the envelope without copying.
 */
export interface FlowDocument {
  timestamp: string;
  host: string;
  fields: DecodedRecord;
  hasBigInt: boolean;
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
    hasBigInt: record.hasBigInt,
  };
}

const BIGINT_MARK = '\u0000bigint:';
const BIGINT_PATTERN = /"\\u0000bigint:(-?\d+)"/g;

function withBigInts(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? BIGINT_MARK + value.toString() : value;
}

/** JSON of a value that may hold bigints, written as exact JSON numbers (JSON.stringify cannot, and Node 20 has no rawJSON). */
export function stringifyExact(value: unknown, hasBigInt: boolean): string {
  if (!hasBigInt) return JSON.stringify(value);
  return JSON.stringify(value, withBigInts).replace(BIGINT_PATTERN, '$1');
}

/**
 * Serialises a document in the Logstash event shape. The envelope is concatenated rather than built as an
 * object: one JSON.stringify over the record's stable hidden class is the cheapest way to the bytes.
 */
export function serializeDocument(doc: FlowDocument, options: DocumentOptions): string {
  return (
    `{"@timestamp":"${doc.timestamp}","@version":"1","host":${JSON.stringify(doc.host)},"type":${JSON.stringify(options.type)},` +
    `${JSON.stringify(options.target)}:${stringifyExact(doc.fields, doc.hasBigInt)}}`
  );
}
