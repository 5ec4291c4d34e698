import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv4, isIPv6, createServer, type Socket } from 'node:net';
import { listenError } from '../config/checks.js';
import type { CompiledTemplate, FieldSpecifier, MessageHeader, TemplateDefinition } from '../decoders/template.js';
import { VARIABLE_LENGTH } from '../decoders/template.js';
import { addFieldFaults, decodeRecords, emptyResult, newScratch, type DecodeResult, type FlowRecord } from '../decoders/types.js';
import { buildRegistry } from '../ie/configured.js';
import type { ElementRegistry } from '../ie/registry.js';
import { ANTREA_PEN, REVERSE_PEN, type InformationElement, type ValueType } from '../ie/types.js';
import type { ExporterSessionKey } from '../session/template-session.js';
import { connectionLimits, createStreamInput, type StreamFraming } from './stream.js';
import { createTlsStreamInput, tlsEnabled } from './tls.js';
import { bindDualStack, exporterKey, plainAddress, type Input, type InputContext, type InputFactory } from './types.js';

/**
 * The Flow Aggregator's JSON records (flowCollector.recordFormat: JSON; go-ipfix's createAndSendJSONRecords):
 * `{"@timestamp":"<RFC 3339 send time>","ipfix":{<element name>: <value>, ...}}` and a newline, one record at a
 * time, on TCP, TLS or UDP (one record per datagram). No templates are sent: each record is turned back into the
 * IPFIX record it was made from (element ids and lengths from the element registry, values encoded as go-ipfix
 * encodes them) and decoded by the pipeline's own template compiler, so that it becomes the same document, with
 * the same enrichment, as that record sent as IPFIX. A line that is not such a record is counted and skipped.
 */

/** How go-ipfix numbers the Flow Aggregator's templates: IPv4 first (256), then IPv6 (257). */
const FLOW_AGGREGATOR_TEMPLATE_IPV4 = 256;
const FLOW_AGGREGATOR_TEMPLATE_IPV6 = 257;
/** Record shapes compiled at once (a Flow Aggregator has two; a bound against a sender making up names). */
const MAX_SHAPES = 256;
const NEWLINE = 0x0a;

/** Octets each JSON-encodable type takes in the IPFIX record go-ipfix would have sent. */
const LENGTHS: Partial<Record<ValueType, number>> = {
  unsigned8: 1, unsigned16: 2, unsigned32: 4, unsigned64: 8, signed8: 1, signed16: 2, signed32: 4, signed64: 8,
  float32: 4, float64: 8, boolean: 1, macAddress: 6, string: VARIABLE_LENGTH, dateTimeSeconds: 4, dateTimeMilliseconds: 8,
  ipv4Address: 4, ipv6Address: 16,
};

class BadValue extends Error {}

/** Element by go-ipfix name: IANA first, then Antrea's current enterprise, RFC 5103 reverse names, the rest. */
function elementsByName(registry: ElementRegistry): Map<string, InformationElement> {
  const all = registry.ipfixElements();
  const rank = (e: InformationElement) => (e.enterprise === 0 ? 0 : e.enterprise === ANTREA_PEN ? 1 : 3);
  const reverse = all.filter((e) => e.enterprise === 0).map((e) => registry.ipfixElement(REVERSE_PEN, e.id)!);
  const ordered = [...all.map((e) => [rank(e), e] as const), ...reverse.map((e) => [2, e] as const)].sort((a, b) => a[0] - b[0]);
  const byName = new Map<string, InformationElement>();
  for (const [, e] of ordered) if (!byName.has(e.name)) byName.set(e.name, e);
  return byName;
}

/**
 * JSON text with every integer of more than 15 digits outside strings turned into a string, so that JSON.parse
 * keeps uint64 values exact (Node 20 has no access to a number's source text).
 */
export function quoteLongIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      const next = text[j];
      if (j - i >= 16 && next !== '.' && next !== 'e' && next !== 'E') {
        out += `${text.slice(last, i)}"${text.slice(i, j)}"`;
        last = j;
      }
      i = j - 1;
    }
  }
  return out + text.slice(last);
}

function integer(value: unknown): bigint {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new BadValue(`not an integer: ${JSON.stringify(value)}`);
}

function ipv6Bytes(text: string): Buffer | undefined {
  // Go prints an IPv4-mapped address (and an IPv4 address in an IPv6 element) as dotted IPv4.
  if (isIPv4(text)) text = `::ffff:${text}`;
  if (!isIPv6(text)) return undefined;
  // A dotted tail is the last 32 bits: written as two groups, the address is eight groups with at most one '::'.
  const hex = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
  const [left, right] = hex.includes('::') ? hex.split('::') : [hex, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** The octets go-ipfix would have put in the IPFIX record for this JSON value of this type. */
function encode(type: ValueType, value: unknown): Buffer {
  switch (type) {
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'unsigned64':
    case 'signed8': case 'signed16': case 'signed32': case 'signed64':
    case 'dateTimeSeconds': case 'dateTimeMilliseconds': {
      const length = LENGTHS[type]!;
      const n = integer(value);
      const bits = BigInt(length * 8);
      const signed = type.startsWith('signed');
      const min = signed ? -(1n << (bits - 1n)) : 0n;
      const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
      if (n < min || n > max) throw new BadValue(`${n} is out of range for ${type}`);
      const b = Buffer.alloc(length);
      let u = n < 0n ? n + (1n << bits) : n;
      for (let i = length - 1; i >= 0; i--, u >>= 8n) b[i] = Number(u & 0xffn);
      return b;
    }
    case 'float32': case 'float64': {
      if (typeof value !== 'number') throw new BadValue(`not a number: ${JSON.stringify(value)}`);
      const b = Buffer.alloc(LENGTHS[type]!);
      if (type === 'float32') b.writeFloatBE(value);
      else b.writeDoubleBE(value);
      return b;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw new BadValue(`not a boolean: ${JSON.stringify(value)}`);
      return Buffer.from([value ? 1 : 2]); // RFC 7011 §6.1.5
    case 'macAddress': {
      // A net.HardwareAddr is a byte slice, which Go's encoding/json writes as base64.
      const b = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
      if (!b || b.length !== 6) throw new BadValue(`not a base64 MAC address: ${JSON.stringify(value)}`);
      return b;
    }
    case 'ipv4Address': {
      if (value === '') return Buffer.alloc(4); // an unset net.IP prints as ""
      if (typeof value !== 'string' || !isIPv4(value)) throw new BadValue(`not an IPv4 address: ${JSON.stringify(value)}`);
      return Buffer.from(value.split('.').map(Number));
    }
    case 'ipv6Address': {
      if (value === '') return Buffer.alloc(16);
      const b = typeof value === 'string' ? ipv6Bytes(value) : undefined;
      if (!b) throw new BadValue(`not an IPv6 address: ${JSON.stringify(value)}`);
      return b;
    }
    case 'string': {
      if (typeof value !== 'string') throw new BadValue(`not a string: ${JSON.stringify(value)}`);
      const text = Buffer.from(value, 'utf8');
      if (text.length > 0xffff) throw new BadValue(`a string of ${text.length} octets does not fit an IPFIX field`);
      const prefix = text.length < 255 ? Buffer.from([text.length]) : Buffer.from([255, text.length >> 8, text.length & 0xff]);
      return Buffer.concat([prefix, text]);
    }
    default:
      throw new BadValue(`elements of type ${type} are not sent as JSON by go-ipfix`);
  }
}

/** Why a line was not a record, for the malformed-record event. */
export class MalformedRecord extends Error {}

/** Fields left out of records (the rest of each record is kept), for the fields-skipped metric. */
export interface JsonRecordCounts {
  /** Values that do not fit their element's type (a string for a counter, 300 for an unsigned8). */
  badValues: number;
  /** Names the element registry does not know, or of a type go-ipfix never writes as JSON. */
  unknownElements: number;
}

/**
 * Turns JSON records into FlowRecords through the pipeline's template compiler. Pure: text in, record out.
 * A record's identity (the document `_id`) has no sequence number to come from: it is a hash of the record's text,
 * so the same record sent twice gets the same `_id`, and different records different ones.
 */
export class JsonRecordReader {
  private readonly elements: Map<string, InformationElement>;
  private readonly shapes = new Map<string, CompiledTemplate>();
  private readonly scratch = newScratch();

  constructor(registry: ElementRegistry, private readonly compile: (definition: TemplateDefinition) => CompiledTemplate) {
    this.elements = elementsByName(registry);
  }

  read(line: string, receivedAtMs: number, counts: JsonRecordCounts, out: FlowRecord[]): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(quoteLongIntegers(line));
    } catch (error) {
      throw new MalformedRecord(`not JSON: ${(error as Error).message}`);
    }
    const ipfix = (parsed as { ipfix?: unknown } | null)?.ipfix;
    if (typeof ipfix !== 'object' || ipfix === null || Array.isArray(ipfix)) throw new MalformedRecord('no "ipfix" object');
    const timestamp = Date.parse(String((parsed as Record<string, unknown>)['@timestamp']));
    const exportTimeSecs = Math.floor((Number.isNaN(timestamp) ? receivedAtMs : timestamp) / 1000);

    const names: string[] = [];
    const parts: Buffer[] = [];
    const fields: FieldSpecifier[] = [];
    for (const [name, value] of Object.entries(ipfix as Record<string, unknown>)) {
      const element = this.elements.get(name);
      const length = element && LENGTHS[element.type];
      if (!element || length === undefined) {
        counts.unknownElements++;
        continue;
      }
      try {
        parts.push(encode(element.type, value));
      } catch (error) {
        if (!(error instanceof BadValue)) throw error;
        counts.badValues++;
        continue;
      }
      names.push(name);
      fields.push({ enterprise: element.enterprise, id: element.id, length });
    }
    if (fields.length === 0) throw new MalformedRecord('no element the collector knows');
    const templateId = 'sourceIPv6Address' in ipfix ? FLOW_AGGREGATOR_TEMPLATE_IPV6 : FLOW_AGGREGATOR_TEMPLATE_IPV4;
    const key = `${templateId}|${names.join(',')}`;
    let template = this.shapes.get(key);
    if (!template) {
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
      this.shapes.set(key, (template = this.compile({ version: 10, templateId, fields, scopeFieldCount: 0 })));
    }
    const digest = createHash('sha1').update(line).digest();
    const header: MessageHeader = {
      version: 10, domain: 0, sequence: digest.readUInt32BE(0), exportTimeSecs, uptimeMs: 0, unixNsecs: 0,
    };
    const body = Buffer.concat(parts);
    decodeRecords(template, body, 0, body.length, header, this.scratch, out, digest.readUInt32BE(4));
  }

  /** Records read since the last call, with the field faults the compiled templates met meanwhile. */
  takeResult(records: FlowRecord[]): DecodeResult {
    const result = { ...emptyResult(), records };
    addFieldFaults(result, this.scratch);
    return result;
  }
}

/**
 * Reads the records of a batch of lines and hands them over in one go; a malformed one is counted and skipped.
 * Returns how many records the lines held.
 */
function lineHandler(context: InputContext, reader: JsonRecordReader, input: string) {
  const { handlers, events } = context;
  return (lines: readonly string[], exporter: ExporterSessionKey, receivedAtMs: number): number => {
    const counts: JsonRecordCounts = { badValues: 0, unknownElements: 0 };
    const records: FlowRecord[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      events.messageReceived(input, Buffer.byteLength(line));
      try {
        reader.read(line, receivedAtMs, counts, records);
      } catch (error) {
        // A bug of ours must not close the stream or stop the collector: counted apart, as the pipeline does.
        const kind = error instanceof MalformedRecord ? 'json_malformed' : 'internal_error';
        events.jsonRecordDropped(input, exporter.key, kind, (error as Error).message);
      }
    }
    events.fieldsSkipped('json_bad_value', counts.badValues, { exporter: exporter.key });
    events.fieldsSkipped('json_unknown_element', counts.unknownElements, { exporter: exporter.key });
    if (records.length === 0) return 0;
    const result = reader.takeResult(records);
    handlers.decoded(result, exporter, receivedAtMs);
    return records.length;
  };
}

/** Newline-delimited records on a stream, each line at most maxLineBytes; a longer one is counted and skipped. */
function lineFraming(context: InputContext, handle: ReturnType<typeof lineHandler>, input: string, maxLineBytes: number): StreamFraming {
  return (_socket: Socket, exporter, connection) => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let skipping = false;
    const tooLong = () => {
      context.events.jsonRecordDropped(input, exporter.key, 'json_line_too_long', `a line longer than ${maxLineBytes} octets (inputs.json.maxLineBytes)`);
    };
    return (chunk) => {
      const receivedAtMs = Date.now();
      connection.activity();
      const lines: string[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        if (!skipping) {
          const piece = chunk.subarray(start, nl);
          if (pendingBytes + piece.length > maxLineBytes) tooLong();
          else lines.push((pendingBytes === 0 ? piece : Buffer.concat([...pending, piece])).toString('utf8'));
        }
        pending = [];
        pendingBytes = 0;
        skipping = false;
        start = nl + 1;
      }
      if (start < chunk.length && !skipping) {
        // Only what is still within the bound is kept: the rest of an overlong line is skipped up to its newline.
        if (pendingBytes + chunk.length - start > maxLineBytes) {
          tooLong();
          pending = [];
          pendingBytes = 0;
          skipping = true;
        } else {
          pending.push(chunk.subarray(start));
          pendingBytes += chunk.length - start;
        }
      }
      // Only a record proves an exporter: lines that are not records leave the connection evictable.
      if (lines.length > 0 && handle(lines, exporter, receivedAtMs) > 0) connection.delivered();
    };
  };
}

/**
 * JSON records on inputs.json.port, TCP and UDP (on when the port is set), or TLS (inputs.json.tls: on its own
 * port, or in place of plain TCP on inputs.json.port).
 */
export const createJsonInput: InputFactory = (context) => {
  const { config, log } = context;
  const settings = config.inputs.json;
  if (settings.port === null) return undefined;
  const reader = new JsonRecordReader(buildRegistry(config), (d) => context.handlers.compile(d));
  const tlsOn = tlsEnabled(settings.tls);
  const tlsPort = settings.tls.port ?? settings.port;
  const plainTcp = !tlsOn || tlsPort !== settings.port;

  const streams: Input[] = [];
  // The configuration key of each stream listener's port, so that a port in use names the right one.
  const portKeys = new Map<Input, { key: string; host: string; port: number }>();
  if (plainTcp) {
    streams.push(createStreamInput(context, {
      name: 'json-tcp',
      settings: { host: settings.host, port: settings.port, ...connectionLimits(config) },
      createServer: () => createServer(),
      framing: lineFraming(context, lineHandler(context, reader, 'json-tcp'), 'json-tcp', settings.maxLineBytes),
    }));
  }
  if (tlsOn) {
    const framing = lineFraming(context, lineHandler(context, reader, 'json-tls'), 'json-tls', settings.maxLineBytes);
    // In place of plain TCP, TLS binds where plain TCP would have; on a port of its own, where inputs.json.tls says.
    const host = plainTcp ? settings.tls.host : settings.host;
    streams.push(createTlsStreamInput(context, 'json-tls', { ...settings.tls, host, port: tlsPort }, 'inputs.json.tls', framing));
    portKeys.set(streams.at(-1)!, { key: plainTcp ? 'inputs.json.tls.port' : 'inputs.json.port', host, port: tlsPort });
  }

  // UDP: one record per datagram (go-ipfix writes each record on its own); no connection, so no backpressure.
  const handleDatagram = lineHandler(context, reader, 'json-udp');
  const exporters = new Map<string, ExporterSessionKey>();
  let udp: UdpSocket | undefined;
  const bindUdp = (host: string, port: number) =>
    new Promise<UdpSocket>((resolve, reject) => {
      const s = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: config.inputs.udp.receiveBufferBytes });
      s.once('error', reject);
      s.bind({ address: host, port }, () => {
        s.off('error', reject);
        resolve(s);
      });
    });

  return {
    name: 'json',
    async start() {
      for (const stream of streams) {
        try {
          await stream.start();
        } catch (error) {
          const where = portKeys.get(stream);
          throw where ? listenError(where.key, where.host, where.port, error) : error;
        }
      }
      // With port 0 (tests), UDP takes the number the stream listener got, as the two share inputs.json.port.
      const port = settings.port === 0 ? (streams[0].address()?.port ?? 0) : settings.port!;
      udp = await bindDualStack(settings.host, (host) => bindUdp(host, port), log, 'JSON UDP input');
      udp.on('message', (datagram, remote) => {
        const id = `${remote.address}:${remote.port}`;
        let exporter = exporters.get(id);
        if (!exporter) {
          if (exporters.size >= 65536) exporters.clear();
          const address = plainAddress(remote.address);
          exporters.set(id, (exporter = { key: exporterKey('json-udp', address, remote.port), address, expires: true }));
        }
        handleDatagram(datagram.toString('utf8').split('\n'), exporter, Date.now());
      });
      udp.on('error', (error) => log.error({ err: error }, 'JSON UDP socket error'));
    },
    announce() {
      for (const stream of streams) stream.announce();
      if (udp) log.info({ address: udp.address() }, 'JSON UDP input listening');
    },
    async stop() {
      await Promise.all(streams.map((s) => s.stop()));
      await new Promise<void>((resolve) => (udp ? udp.close(() => resolve()) : resolve()));
      udp = undefined;
    },
    pause() {
      for (const s of streams) s.pause();
    },
    resume() {
      for (const s of streams) s.resume();
    },
    address() {
      return streams[0].address();
    },
  };
};
