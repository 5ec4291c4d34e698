// The Flow Aggregator's JSON records (flowCollector.recordFormat: JSON), written as go-ipfix writes them in
// createAndSendJSONRecords (pkg/exporter/process.go): per element of the record's template, the value by data type
// (integers and dateTimeSeconds as numbers, uint64 exact, net.IP as its text, net.HardwareAddr as a byte slice,
// i.e. base64, strings as they are), in a map under "ipfix" beside "@timestamp" (time.Now(), RFC 3339), encoded by
// encoding/json's Encoder: map keys sorted, <, > and & escaped, U+2028/U+2029 escaped, a newline after each record.
// octetArray elements (the UUIDs) make go-ipfix return an error: no JSON is written for such a record.
import type { LayoutField } from './antrea-encoder.js';

/** encoding/json's string: JSON escapes (Go ≥ 1.22 writes \b and \f short), then HTML-safe escapes. */
function goString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** net.IP's String(): an IPv4-mapped IPv6 address prints as dotted IPv4 (the test layouts write the rest canonically). */
function goIp(text: string): string {
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(text);
  if (!mapped) return text;
  const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

function goValue(field: LayoutField, value: unknown): string {
  switch (field.type) {
    case 'u8': case 'u16': case 'u32': case 'seconds':
      return String(Number(value ?? 0));
    case 'u64':
      return BigInt((value ?? 0) as number | bigint).toString();
    case 'ipv4': return goString(goIp(String(value ?? '0.0.0.0')));
    case 'ipv6': return goString(goIp(String(value ?? '::')));
    case 'string': return goString(String(value ?? ''));
    case 'uuid': throw new Error('API supports only valid information elements with datatypes given in RFC7011');
  }
}

/** One record as the Flow Aggregator sends it in JSON: the line, newline included. */
export function flowAggregatorJson(layout: LayoutField[], record: Record<string, unknown>, sendTimeSecs: number, extra: Record<string, string> = {}): string {
  const members = new Map<string, string>(layout.map((f) => [f.name, goValue(f, record[f.name])]));
  for (const [name, json] of Object.entries(extra)) members.set(name, json);
  const ipfix = [...members.keys()].sort().map((name) => `${goString(name)}:${members.get(name)}`).join(',');
  const timestamp = new Date(sendTimeSecs * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `{"@timestamp":"${timestamp}","ipfix":{${ipfix}}}\n`;
}
