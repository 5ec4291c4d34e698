import type { DecodedRecord } from '../decoders/template.js';
import { BoundedCache } from '../shared/bounded-cache.js';
import { latin1Slice } from '../shared/buffer-access.js';
import { isoNanosWithinMs, parseIsoMs } from '../shared/iso-time.js';
import { Sha1Scratch, SHA1_BASE64_LENGTH } from '../shared/sha1.js';
import { ByteBuffer } from './bytes.js';
import { constant, key8, number, reserve, string, textBytes, type ConstantBytes } from './json-bytes.js';

/**
 * Elastic Common Schema fields of a flow record, as real fields beside the Logstash-shaped target object, so that
 * Elastic's own apps (Security, Network, community_id correlation with Zeek and Suricata) and ECS queries give the
 * numbers our dashboards give. Where ECS leaves a choice, Filebeat's netflow input decides:
 * - event.kind "event", event.category ["network"] (plus "session" for RFC 5103 biflows), event.type
 *   ["connection"], event.action "netflow_flow" (or "netflow_options" for options records);
 * - source.bytes/packets from the delta counters (octetDeltaCount, else octetTotalCount, else initiatorOctets),
 *   destination.* from the reverse ones; network.bytes/packets are their sums; a biflow whose
 *   biflowDirection is 2 (reverse initiator) has source and destination swapped;
 * - event.start/end from the finest flowStart and flowEnd time present; missing one of them, from the other and
 *   flowDuration{Milliseconds,Microseconds}; event.duration in nanoseconds.
 * Beyond Filebeat: source/destination.ip is the address the dashboards use (IPv6 when set, else IPv4, as
 * `sourceIP`); network.type; observer.ip is the original exporter when a Flow Aggregator in Proxy mode names it
 * (originalExporterIPv4/IPv6Address), else the sender; Antrea's rule actions add "allowed" or "denied" to event.type.
 * Options records are those of v9 options templates (scope fields) and records with neither addresses nor octet
 * counters (an IPFIX options record is not marked as such in the record). Filebeat's WLAN mapping (staIPv4Address
 * as source or destination by flowDirection) is not done.
 *
 * Written by the document writer after the target object (`,"event":{...},...`) straight into its output buffer:
 * constant pieces pre-encoded, the record's values written in place, no string or object per record (building
 * the text as a string and encoding it afterwards cost about 4 µs per record).
 */

const TRANSPORT: Record<number, string> = {
  1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp', 132: 'sctp',
};

// Performance: every lookup below names its field (f.octetDeltaCount, not f[name]), so that each is an inline cache
// per record shape; a loop over names would go through the megamorphic keyed lookup, several times slower.
const startOf = (f: DecodedRecord): unknown =>
  f.flowStartNanoseconds ?? f.flowStartMicroseconds ?? f.flowStartMilliseconds ?? f.flowStartSeconds ?? f.first_switched;
const endOf = (f: DecodedRecord): unknown =>
  f.flowEndNanoseconds ?? f.flowEndMicroseconds ?? f.flowEndMilliseconds ?? f.flowEndSeconds ?? f.last_switched;

const isCount = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
// An address as the decoders write them; a string of another shape (a definitions file giving the name another type)
// is no address, and is never written into the JSON unescaped.
const ADDRESS = /^[0-9a-fA-F:.]+$/;
const address = (v: unknown): v is string => typeof v === 'string' && ADDRESS.test(v);
/** An address other than the unspecified one, which a template with both families carries for the absent one. */
const specified = (v: unknown): v is string => address(v) && v !== '0.0.0.0' && v !== '::';

/** The first of a counter's delta, total and biflow elements that is a count. */
const counter = (delta: unknown, total: unknown, biflow: unknown): number | bigint | undefined =>
  isCount(delta) ? delta : isCount(total) ? total : isCount(biflow) ? biflow : undefined;

/**
 * The sum of two counters, exact: integers past 2^53 as a bigint. ECS is written while the document is serialised,
 * where nothing may throw, so a counter a definitions file made a float is summed as a float (BigInt would throw).
 */
function add(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    return Number.isSafeInteger(sum) || !Number.isInteger(a) || !Number.isInteger(b) ? sum : BigInt(a) + BigInt(b);
  }
  if (typeof a === 'number' && !Number.isInteger(a)) return a + Number(b);
  if (typeof b === 'number' && !Number.isInteger(b)) return Number(a) + b;
  return BigInt(a) + BigInt(b);
}

/** A time plus or minus a duration in milliseconds, ISO with millisecond digits. */
/** Undefined past the dates JavaScript can write (a duration of 2^52 ms, a float64 duration): never a throw. */
const shifted = (ms: number, byMs: number): string | undefined => {
  const time = new Date(ms + byMs);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
};

// --- Community ID v1 (https://github.com/corelight/community-id-spec), seed 0 ---

/** Octets of an IPv4 or IPv6 address in text form, or undefined when it is neither. */
export function addressOctets(text: string): Uint8Array | undefined {
  if (!text.includes(':')) return ipv4Octets(text, new Uint8Array(4), 0);
  const out = new Uint8Array(16);
  let body = text;
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    // An IPv4 address in the last 32 bits (::ffff:10.0.0.1).
    tail = ipv4Octets(text.slice(lastColon + 1), new Uint8Array(4), 0);
    if (!tail) return undefined;
    body = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + rest.length > 7) return undefined;
  const groups = [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  for (let i = 0; i < 8; i++) {
    const g = groups[i];
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

function ipv4Octets(text: string, out: Uint8Array, at: number): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[at + i] = n;
  }
  return out;
}

// ICMP types whose messages come in pairs (request and reply): they map to port pairs that order like a connection.
const ICMP4_COUNTERPART: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 17: 18, 18: 17 };
const ICMP6_COUNTERPART: Record<number, number> = {
  128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 139: 140, 140: 139, 144: 145, 145: 144,
};

function compareEndpoints(a: Uint8Array, aPort: number, b: Uint8Array, bPort: number): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return aPort - bPort;
}

/**
 * Community ID v1 with seed 0 of a flow. `sourcePort`/`destinationPort` are the ports for TCP, UDP and SCTP and
 * the ICMP type and code for ICMP and ICMPv6 (mapped as the spec does); other protocols hash no ports.
 */
export function communityId(source: string, destination: string, protocol: number, sourcePort: number, destinationPort: number): string | undefined {
  let a = octetsOf(source);
  let b = octetsOf(destination);
  if (!a || !b || a.length !== b.length) return undefined;
  let aPort = sourcePort;
  let bPort = destinationPort;
  let oneWay = false;
  const hasPorts = protocol === 6 || protocol === 17 || protocol === 132 || protocol === 1 || protocol === 58;
  if (protocol === 1 || protocol === 58) {
    const counterpart = (protocol === 1 ? ICMP4_COUNTERPART : ICMP6_COUNTERPART)[sourcePort];
    if (counterpart === undefined) oneWay = true;
    else bPort = counterpart;
  }
  if (!hasPorts) aPort = bPort = 0;
  if (!oneWay && compareEndpoints(a, aPort, b, bPort) > 0) {
    [a, b] = [b, a];
    [aPort, bPort] = [bPort, aPort];
  }
  // The hash input, written in place: seed 0, both addresses, protocol, a zero octet, both ports.
  const input = communityHash.input;
  input[0] = 0;
  input[1] = 0;
  input.set(a, 2);
  input.set(b, 2 + a.length);
  let at = 2 + 2 * a.length;
  input[at++] = protocol;
  input[at++] = 0;
  if (hasPorts) {
    input[at++] = (aPort >> 8) & 0xff;
    input[at++] = aPort & 0xff;
    input[at++] = (bPort >> 8) & 0xff;
    input[at++] = bPort & 0xff;
  }
  communityHash.digest(at);
  const end = communityHash.writeBase64(communityText, 2);
  return latin1Slice(communityText, 0, end);
}

// The SHA-1 of shared/sha1.ts, not node:crypto: computing an ID for a connection's first record (or one whose kept
// ID another pushed out) took 500-570 ns with the native call, 365-410 ns with this (5,000 flows, both in one
// process); a cluster with more connections than the slots below computes one for many records.
const COMMUNITY_INPUT_MAX = 40; // IPv6 with ports
const communityHash = new Sha1Scratch(COMMUNITY_INPUT_MAX);
const communityText = Buffer.from(`1:${'A'.repeat(SHA1_BASE64_LENGTH)}`, 'latin1');

// A flow's addresses come again in each of its records, as the same strings: parsed once. Bounded; never modified.
const addressCache = new BoundedCache<string, Uint8Array | undefined>(65_536);
const octetsOf = (text: string) => addressCache.get(text, addressOctets);

/**
 * A connection is reported again and again (each active timeout): its Community ID is hashed once, and kept as the
 * JSON member's bytes. Direct-mapped by a hash of the addresses' last characters (where addresses of one cluster
 * differ), the ports and the protocol; a hit is checked against all five, so a collision only costs a new hash.
 * Performance: a Map keyed by the five as one text built a string per record and hashed it, about 0.3 µs. A slot's
 * numbers and member bytes are one 64-octet row, its addresses side by side in another array: with a cluster's
 * 20,000 connections the table is megabytes, and each lookup waits for memory (with five arrays, the line comparing a
 * slot took two fifths of this function's own time in a decode worker's profile), so it touches as few cache lines
 * as it can.
 */
const ID_SLOTS = 1 << 16;
/** `,"community_id":"1:` and 28 base64 characters of a SHA-1 and `"`: 48 octets, six chunks, always. */
const ID_MEMBER_OCTETS = 48;
const ID_MEMBER_CHUNKS = ID_MEMBER_OCTETS / 8;
/**
 * Per slot, 8 doubles: the ports and protocol as one number (flowNumbers; -1: empty), 1 if the flow has a Community
 * ID and 0 if its addresses have none, then the member's six chunks.
 */
const ID_ROW = 8;
const idRows = new Float64Array(ID_ROW * ID_SLOTS).fill(-1);
/** Per slot: its source and its destination address. */
const idAddresses = new Array<string>(2 * ID_SLOTS).fill('');
const idText = Buffer.alloc(ID_MEMBER_OCTETS);
const idTextView = new DataView(idText.buffer, idText.byteOffset, ID_MEMBER_OCTETS);

/** Ports (or ICMP type and code) and protocol as one exact number, or -1 for values no flow has (then nothing is kept). */
function flowNumbers(sourcePort: number, destinationPort: number, protocol: number): number {
  return below(sourcePort, 65536) && below(destinationPort, 65536) && below(protocol, 256)
    ? (sourcePort * 65536 + destinationPort) * 256 + protocol : -1;
}

const below = (v: number, limit: number) => Number.isInteger(v) && v >= 0 && v < limit;

function idKept(slot: number, numbers: number, source: string, destination: string): boolean {
  return idRows[ID_ROW * slot] === numbers && idAddresses[2 * slot] === source && idAddresses[2 * slot + 1] === destination;
}

/** Keeps a flow's Community ID (or that it has none) in the first slot of its pair; the pair's older flow goes. */
function keepFlow(slot: number, numbers: number, source: string, destination: string, id: string | undefined): void {
  idRows.copyWithin(ID_ROW * (slot + 1), ID_ROW * slot, ID_ROW * (slot + 1));
  idAddresses[2 * slot + 2] = idAddresses[2 * slot];
  idAddresses[2 * slot + 3] = idAddresses[2 * slot + 1];
  const row = ID_ROW * slot;
  idAddresses[2 * slot] = source;
  idAddresses[2 * slot + 1] = destination;
  idRows[row] = numbers;
  idRows[row + 1] = id === undefined ? 0 : 1;
  if (id === undefined) return;
  // ASCII (base64), so no chunk has a NaN's bits (see ConstantBytes).
  idText.write(`,"community_id":"${id}"`, 0, 'latin1');
  for (let i = 0; i < ID_MEMBER_CHUNKS; i++) idRows[row + 2 + i] = idTextView.getFloat64(8 * i);
}

function hashTail(h: number, text: string): number {
  const n = text.length;
  h = Math.imul(h ^ n, 0x01000193);
  for (let i = n > 6 ? n - 6 : 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Writes `,"community_id":"1:..."` of a flow at p (room made here), or nothing when its addresses have none. */
export function writeCommunityIdMember(out: ByteBuffer, p: number, source: string, destination: string, protocol: number,
  sourcePort: number, destinationPort: number): number {
  const numbers = flowNumbers(sourcePort, destinationPort, protocol);
  if (numbers < 0) {
    const id = communityId(source, destination, protocol, sourcePort, destinationPort);
    reserve(out, p, ID_MEMBER_OCTETS);
    return id === undefined ? p : string(out, constant(out, p, COMMUNITY_ID), id);
  }
  let h = hashTail(hashTail(0x811c9dc5, source), destination);
  h = Math.imul(h ^ (sourcePort * 65536 + destinationPort), 0x01000193);
  // The multiplications carry bits only upwards, and the slot is the low bits: the source port, in the high half of
  // its word, reached none of them (a cluster's connections differ mostly by it) until folded down here. Two slots
  // per hash: with single slots and the old hash 30 % of the bench stream's records (20,000 connections) were hashed
  // again in steady state, pushing each other out; now 9 % (connections three to a pair).
  h = Math.imul(h ^ protocol, 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  let slot = ((h ^ (h >>> 13)) >>> 0) & (ID_SLOTS - 2);
  if (!idKept(slot, numbers, source, destination)) {
    if (idKept(slot + 1, numbers, source, destination)) slot++;
    else keepFlow(slot, numbers, source, destination, communityId(source, destination, protocol, sourcePort, destinationPort));
  }
  const row = ID_ROW * slot;
  if (idRows[row + 1] === 0) return p;
  reserve(out, p, ID_MEMBER_OCTETS);
  return key8(out.view, p, idRows, row + 2, row + 2 + ID_MEMBER_CHUNKS, ID_MEMBER_OCTETS);
}

/** ICMP type and code of a record: its ICMP elements, else the NetFlow convention type × 256 + code in the destination port. */
function icmpTypeCode(f: DecodedRecord, protocol: number): [number, number] {
  const v6 = protocol === 58;
  const combined = f[v6 ? 'icmpTypeCodeIPv6' : 'icmpTypeCodeIPv4'];
  if (typeof combined === 'number') return [combined >> 8, combined & 0xff];
  const type = f[v6 ? 'icmpTypeIPv6' : 'icmpTypeIPv4'];
  const code = f[v6 ? 'icmpCodeIPv6' : 'icmpCodeIPv4'];
  if (typeof type === 'number') return [type, typeof code === 'number' ? code : 0];
  const port = f.destinationTransportPort;
  return typeof port === 'number' ? [port >> 8, port & 0xff] : [0, 0];
}

const RULE_ALLOW = 1;
const RULE_DROP = 2;
const RULE_REJECT = 3;

const C = textBytes;
const EVENT_OPTIONS = C(',"event":{"kind":"event","category":["network"],"action":"netflow_options"');
const EVENT_FLOW = C(',"event":{"kind":"event","category":["network"],"type":');
const EVENT_SESSION = C(',"event":{"kind":"event","category":["network","session"],"type":');
const TYPE_DENIED = C('["connection","denied"],"action":"netflow_flow"');
const TYPE_ALLOWED = C('["connection","allowed"],"action":"netflow_flow"');
const TYPE_CONNECTION = C('["connection"],"action":"netflow_flow"');
const START = C(',"start":');
const END = C(',"end":');
const DURATION = C(',"duration":');
const SOURCE = C(',"source":');
const DESTINATION = C(',"destination":');
const NETWORK = C(',"network":');
const IP = C(',"ip":');
const PORT = C(',"port":');
const BYTES = C(',"bytes":');
const PACKETS = C(',"packets":');
const TRANSPORT_BYTES: Record<number, ConstantBytes> = Object.fromEntries(Object.entries(TRANSPORT).map(([n, t]) => [n, C(`,"transport":"${t}"`)]));
const IANA_NUMBER = C(',"iana_number":"');
const QUOTE = C('"');
const TYPE_IPV6 = C(',"type":"ipv6"');
const TYPE_IPV4 = C(',"type":"ipv4"');
const RELATED = C(',"related":{"ip":[');
const COMMUNITY_ID = C(',"community_id":');
const COMMA = C(',');
const RELATED_END = C(']}');
const OBSERVER = C(',"observer":{"ip":');
const CLOSE = C('}');
/** Room for the longest constant piece and a number after it. */
const ROOM = 96;

/** Writes `,"<name>":` and then members each with a leading comma: the first comma becomes the brace. */
function openObject(out: ByteBuffer, p: number, name: ConstantBytes): number {
  reserve(out, p, ROOM);
  return constant(out, p, name);
}

/** Closes an object opened at `start` whose members start at `members`; leaves nothing when it has none. */
function closeObject(out: ByteBuffer, start: number, members: number, p: number): number {
  if (p === members) return start;
  out.buffer[members] = 0x7b; // the first member's comma
  reserve(out, p, 1);
  out.buffer[p] = 0x7d;
  return p + 1;
}

function numberMember(out: ByteBuffer, p: number, key: ConstantBytes, v: number | bigint): number {
  reserve(out, p, ROOM);
  return number(out, constant(out, p, key), v);
}

function stringMember(out: ByteBuffer, p: number, key: ConstantBytes, v: string): number {
  reserve(out, p, ROOM);
  return string(out, constant(out, p, key), v);
}

function endpoint(out: ByteBuffer, p: number, name: ConstantBytes, ip: string | undefined, port: unknown,
  bytes: number | bigint | undefined, packets: number | bigint | undefined): number {
  const start = p;
  p = openObject(out, p, name);
  const members = p;
  if (ip !== undefined) p = stringMember(out, p, IP, ip);
  if (typeof port === 'number') p = numberMember(out, p, PORT, port);
  if (bytes !== undefined) p = numberMember(out, p, BYTES, bytes);
  if (packets !== undefined) p = numberMember(out, p, PACKETS, packets);
  return closeObject(out, start, members, p);
}

/**
 * Writes the ECS fields of a record (`,"event":{...},...`, to follow the target object) at out.pos, as bytes: the
 * constant pieces pre-encoded, the record's values (addresses, times and numbers) written in place.
 */
export function writeEcs(f: DecodedRecord, host: string, out: ByteBuffer): void {
  const ipv6Source = address(f.sourceIPv6Address);
  let sourceIp = ipv6Source ? f.sourceIPv6Address as string : address(f.sourceIPv4Address) ? f.sourceIPv4Address as string : undefined;
  let destinationIp = address(f.destinationIPv6Address) ? f.destinationIPv6Address as string : address(f.destinationIPv4Address) ? f.destinationIPv4Address as string : undefined;
  const options = f.scope_system !== undefined || f.scope_interface !== undefined || f.scope_line_card !== undefined
    || f.scope_netflow_cache !== undefined || f.scope_template !== undefined
    || (sourceIp === undefined && destinationIp === undefined && f.octetDeltaCount === undefined && f.octetTotalCount === undefined);

  let p = out.pos;
  reserve(out, p, ROOM);
  if (options) {
    p = times(f, out, constant(out, p, EVENT_OPTIONS));
    reserve(out, p, ROOM);
    p = constant(out, p, CLOSE);
  } else {
    const biflow = f.biflowDirection;
    const ingress = f.ingressNetworkPolicyRuleAction;
    const egress = f.egressNetworkPolicyRuleAction;
    const denied = ingress === RULE_DROP || ingress === RULE_REJECT || egress === RULE_DROP || egress === RULE_REJECT;
    p = constant(out, p, biflow !== undefined ? EVENT_SESSION : EVENT_FLOW);
    p = constant(out, p, denied ? TYPE_DENIED : ingress === RULE_ALLOW || egress === RULE_ALLOW ? TYPE_ALLOWED : TYPE_CONNECTION);
    p = times(f, out, p);
    reserve(out, p, ROOM);
    p = constant(out, p, CLOSE);

    let sourcePort = f.sourceTransportPort;
    let destinationPort = f.destinationTransportPort;
    let bytes = counter(f.octetDeltaCount, f.octetTotalCount, f.initiatorOctets);
    let packets = counter(f.packetDeltaCount, f.packetTotalCount, f.initiatorPackets);
    let reverseBytes = counter(f.reverseOctetDeltaCount, f.reverseOctetTotalCount, f.responderOctets);
    let reversePackets = counter(f.reversePacketDeltaCount, f.reversePacketTotalCount, f.responderPackets);
    const networkBytes = bytes === undefined ? undefined : reverseBytes === undefined ? bytes : add(bytes, reverseBytes);
    const networkPackets = packets === undefined ? undefined : reversePackets === undefined ? packets : add(packets, reversePackets);
    const protocol = f.protocolIdentifier;
    const networkIp6 = ipv6Source || (sourceIp === undefined && address(f.destinationIPv6Address));
    const sourceIpBefore = sourceIp;
    const destinationIpBefore = destinationIp;
    const originalSourcePort = sourcePort;
    const originalDestinationPort = destinationPort;

    if (biflow === 2) {
      // The reverse direction initiated the biflow: ECS's source is the initiator.
      [sourceIp, destinationIp] = [destinationIp, sourceIp];
      [sourcePort, destinationPort] = [destinationPort, sourcePort];
      [bytes, reverseBytes] = [reverseBytes, bytes];
      [packets, reversePackets] = [reversePackets, packets];
    }
    p = endpoint(out, p, SOURCE, sourceIp, sourcePort, bytes, packets);
    p = endpoint(out, p, DESTINATION, destinationIp, destinationPort, reverseBytes, reversePackets);

    const start = p;
    p = openObject(out, p, NETWORK);
    const members = p;
    if (typeof protocol === 'number') {
      const transport = TRANSPORT_BYTES[protocol];
      if (transport !== undefined) p = constant(out, p, transport);
      reserve(out, p, ROOM);
      p = constant(out, number(out, constant(out, p, IANA_NUMBER), protocol), QUOTE);
    }
    if (sourceIpBefore !== undefined || destinationIpBefore !== undefined) {
      reserve(out, p, ROOM);
      p = constant(out, p, networkIp6 ? TYPE_IPV6 : TYPE_IPV4);
    }
    if (networkBytes !== undefined) p = numberMember(out, p, BYTES, networkBytes);
    if (networkPackets !== undefined) p = numberMember(out, p, PACKETS, networkPackets);
    if (sourceIpBefore !== undefined && destinationIpBefore !== undefined && typeof protocol === 'number') {
      const [p1, p2] = protocol === 1 || protocol === 58
        ? icmpTypeCode(f, protocol)
        : [typeof originalSourcePort === 'number' ? originalSourcePort : 0, typeof originalDestinationPort === 'number' ? originalDestinationPort : 0];
      p = writeCommunityIdMember(out, p, sourceIpBefore, destinationIpBefore, protocol, p1, p2);
    }
    p = closeObject(out, start, members, p);

    if (sourceIp !== undefined || destinationIp !== undefined) {
      p = stringMember(out, p, RELATED, (sourceIp ?? destinationIp)!);
      if (sourceIp !== undefined && destinationIp !== undefined && sourceIp !== destinationIp) p = stringMember(out, p, COMMA, destinationIp);
      reserve(out, p, ROOM);
      p = constant(out, p, RELATED_END);
    }
  }
  const observer = specified(f.originalExporterIPv4Address) ? f.originalExporterIPv4Address
    : specified(f.originalExporterIPv6Address) ? f.originalExporterIPv6Address : host;
  p = stringMember(out, p, OBSERVER, observer);
  reserve(out, p, ROOM);
  out.pos = constant(out, p, CLOSE);
}

const scratch = new ByteBuffer(4096);

/** The ECS fields of a record as JSON text starting with a comma (what writeEcs writes), for tests and tools. */
export function ecsJson(f: DecodedRecord, host: string): string {
  scratch.pos = 0;
  writeEcs(f, host, scratch);
  return scratch.takeString();
}

/** event.start, event.end and event.duration (nanoseconds), as JSON members each with a leading comma, from p. */
function times(f: DecodedRecord, out: ByteBuffer, p: number): number {
  const startText = startOf(f);
  const endText = endOf(f);
  const startMs = typeof startText === 'string' ? parseIsoMs(startText) : NaN;
  const endMs = typeof endText === 'string' ? parseIsoMs(endText) : NaN;
  const start = !Number.isNaN(startMs);
  const end = !Number.isNaN(endMs);
  let startIso = start ? startText as string : undefined;
  let endIso = end ? endText as string : undefined;
  let durationNs: number | undefined;
  if (start && end) {
    durationNs = (endMs - startMs) * 1e6 + (isoNanosWithinMs(endText as string) - isoNanosWithinMs(startText as string));
  } else {
    const ms = f.flowDurationMilliseconds;
    const us = f.flowDurationMicroseconds;
    const durationMs = typeof ms === 'number' ? ms : typeof us === 'number' ? us / 1000 : undefined;
    if (durationMs !== undefined) {
      durationNs = Math.round(durationMs * 1e6);
      if (start) endIso = shifted(startMs, Math.round(durationMs));
      else if (end) startIso = shifted(endMs, -Math.round(durationMs));
    }
  }
  if (startIso !== undefined) p = stringMember(out, p, START, startIso);
  if (endIso !== undefined) p = stringMember(out, p, END, endIso);
  // An end before the start (an exporter's clock) is no duration at all.
  if (durationNs !== undefined && durationNs >= 0) p = numberMember(out, p, DURATION, durationNs);
  return p;
}
