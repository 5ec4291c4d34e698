import * as crypto from 'node:crypto';
import type { DecodedRecord } from '../decoders/template.js';
import { BoundedCache } from '../shared/bounded-cache.js';

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
 * The result is one JSON text (`,"event":{...},...`) the document writer appends after the target object: it is
 * built from constant pieces and the record's values (addresses, times and numbers, which never need escaping),
 * one string per record and no intermediate objects.
 */

const TRANSPORT: Record<number, string> = {
  1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp', 132: 'sctp',
};

const START_FIELDS = ['flowStartNanoseconds', 'flowStartMicroseconds', 'flowStartMilliseconds', 'flowStartSeconds', 'first_switched'];
const END_FIELDS = ['flowEndNanoseconds', 'flowEndMicroseconds', 'flowEndMilliseconds', 'flowEndSeconds', 'last_switched'];

const firstOf = (f: DecodedRecord, names: readonly string[]): unknown => {
  for (const name of names) {
    const v = f[name];
    if (v !== undefined) return v;
  }
  return undefined;
};

const isCount = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
// An address as the decoders write them; a string of another shape (a definitions file giving the name another type)
// is no address, and is never written into the JSON unescaped.
const ADDRESS = /^[0-9a-fA-F:.]+$/;
const address = (v: unknown): v is string => typeof v === 'string' && ADDRESS.test(v);
/** An address other than the unspecified one, which a template with both families carries for the absent one. */
const specified = (v: unknown): v is string => address(v) && v !== '0.0.0.0' && v !== '::';

function counter(f: DecodedRecord, delta: string, total: string, biflow: string): number | bigint | undefined {
  const d = f[delta];
  if (isCount(d)) return d;
  const t = f[total];
  if (isCount(t)) return t;
  const b = f[biflow];
  return isCount(b) ? b : undefined;
}

const add = (a: number | bigint, b: number | bigint): number | bigint =>
  typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a + b) ? a + b : BigInt(a) + BigInt(b);

/** An ISO 8601 UTC time (as the decoders write them, up to nanosecond digits) as [epoch milliseconds, nanoseconds within]. */
function parseTime(text: string): [number, number] | undefined {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const dot = text.indexOf('.');
  let sub = 0;
  if (dot > 0) {
    const digits = text.slice(dot + 4, text.length - 1); // past the millisecond digits, before the Z
    if (digits.length > 0) sub = Number(digits.padEnd(6, '0').slice(0, 6));
  }
  return [ms, sub];
}

/**
 * The same, remembered: a flow's times repeat in every record of it, and the decoders hand out one string instance
 * per time (so the lookup hashes nothing new). Bounded; the tuples are shared and never modified.
 */
const parsedTimes = new BoundedCache<string, [number, number] | undefined>(16_384);
const timeOf = (text: string) => parsedTimes.get(text, parseTime);

/** A time plus or minus a duration in milliseconds, ISO with millisecond digits. */
const shifted = (ms: number, byMs: number): string => new Date(ms + byMs).toISOString();

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
  const input = HASH_INPUTS[(a.length === 16 ? 2 : 0) + (hasPorts ? 1 : 0)];
  input.writeUInt16BE(0, 0); // seed
  input.set(a, 2);
  input.set(b, 2 + a.length);
  let at = 2 + 2 * a.length;
  input[at++] = protocol;
  input[at++] = 0;
  if (hasPorts) {
    input.writeUInt16BE(aPort & 0xffff, at);
    input.writeUInt16BE(bPort & 0xffff, at + 2);
  }
  return `1:${sha1Base64(input)}`;
}

// The hash input of each shape (IPv4 or IPv6, with or without ports), written in place for every flow.
const HASH_INPUTS = [12, 16, 36, 40].map((n) => Buffer.alloc(n));

// crypto.hash (Node 20.12+) is the one-shot digest, without a Hash object per flow.
const sha1Base64: (input: Buffer) => string = typeof crypto.hash === 'function'
  ? (input) => crypto.hash('sha1', input, 'base64')
  : (input) => crypto.createHash('sha1').update(input).digest('base64');

// A flow's addresses come again in each of its records, as the same strings: parsed once. Bounded; never modified.
const addressCache = new BoundedCache<string, Uint8Array | undefined>(65_536);
const octetsOf = (text: string) => addressCache.get(text, addressOctets);

// A connection is reported again and again (each active timeout): its Community ID is hashed once. Bounded.
const communityIds = new BoundedCache<string, string | undefined>(65_536);
const flowCommunityId = (source: string, destination: string, protocol: number, sourcePort: number, destinationPort: number) =>
  communityIds.get(`${source} ${destination} ${protocol} ${sourcePort} ${destinationPort}`, () => communityId(source, destination, protocol, sourcePort, destinationPort));

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

/** The ECS fields of a record, as JSON text starting with a comma (`,"event":{...}...`), to follow the target object. */
export function ecsJson(f: DecodedRecord, host: string): string {
  const ipv6Source = address(f.sourceIPv6Address);
  let sourceIp = ipv6Source ? f.sourceIPv6Address as string : address(f.sourceIPv4Address) ? f.sourceIPv4Address as string : undefined;
  let destinationIp = address(f.destinationIPv6Address) ? f.destinationIPv6Address as string : address(f.destinationIPv4Address) ? f.destinationIPv4Address as string : undefined;
  const options = f.scope_system !== undefined || f.scope_interface !== undefined || f.scope_line_card !== undefined
    || f.scope_netflow_cache !== undefined || f.scope_template !== undefined
    || (sourceIp === undefined && destinationIp === undefined && f.octetDeltaCount === undefined && f.octetTotalCount === undefined);

  let event = options ? '"kind":"event","category":["network"],"action":"netflow_options"' : '';
  let source = '';
  let destination = '';
  let network = '';
  let related = '';
  if (!options) {
    const biflow = f.biflowDirection;
    const ingress = f.ingressNetworkPolicyRuleAction;
    const egress = f.egressNetworkPolicyRuleAction;
    const denied = ingress === RULE_DROP || ingress === RULE_REJECT || egress === RULE_DROP || egress === RULE_REJECT;
    const type = denied ? '["connection","denied"]' : ingress === RULE_ALLOW || egress === RULE_ALLOW ? '["connection","allowed"]' : '["connection"]';
    event = `"kind":"event","category":${biflow !== undefined ? '["network","session"]' : '["network"]'},"type":${type},"action":"netflow_flow"`;

    let sourcePort = f.sourceTransportPort;
    let destinationPort = f.destinationTransportPort;
    let bytes = counter(f, 'octetDeltaCount', 'octetTotalCount', 'initiatorOctets');
    let packets = counter(f, 'packetDeltaCount', 'packetTotalCount', 'initiatorPackets');
    let reverseBytes = counter(f, 'reverseOctetDeltaCount', 'reverseOctetTotalCount', 'responderOctets');
    let reversePackets = counter(f, 'reversePacketDeltaCount', 'reversePacketTotalCount', 'responderPackets');
    const networkBytes = bytes === undefined ? undefined : reverseBytes === undefined ? bytes : add(bytes, reverseBytes);
    const networkPackets = packets === undefined ? undefined : reversePackets === undefined ? packets : add(packets, reversePackets);

    const protocol = f.protocolIdentifier;
    if (typeof protocol === 'number') {
      const transport = TRANSPORT[protocol];
      if (transport !== undefined) network += `,"transport":"${transport}"`;
      network += `,"iana_number":"${protocol}"`;
    }
    if (sourceIp !== undefined || destinationIp !== undefined) {
      network += ipv6Source || (sourceIp === undefined && address(f.destinationIPv6Address)) ? ',"type":"ipv6"' : ',"type":"ipv4"';
    }
    if (networkBytes !== undefined) network += `,"bytes":${networkBytes}`;
    if (networkPackets !== undefined) network += `,"packets":${networkPackets}`;
    if (sourceIp !== undefined && destinationIp !== undefined && typeof protocol === 'number') {
      const [p1, p2] = protocol === 1 || protocol === 58
        ? icmpTypeCode(f, protocol)
        : [typeof sourcePort === 'number' ? sourcePort : 0, typeof destinationPort === 'number' ? destinationPort : 0];
      const id = flowCommunityId(sourceIp, destinationIp, protocol, p1, p2);
      if (id !== undefined) network += `,"community_id":"${id}"`;
    }

    if (biflow === 2) {
      // The reverse direction initiated the biflow: ECS's source is the initiator.
      [sourceIp, destinationIp] = [destinationIp, sourceIp];
      [sourcePort, destinationPort] = [destinationPort, sourcePort];
      [bytes, reverseBytes] = [reverseBytes, bytes];
      [packets, reversePackets] = [reversePackets, packets];
    }
    source = endpoint(sourceIp, sourcePort, bytes, packets);
    destination = endpoint(destinationIp, destinationPort, reverseBytes, reversePackets);
    if (sourceIp !== undefined && destinationIp !== undefined && sourceIp !== destinationIp) related = `"${sourceIp}","${destinationIp}"`;
    else if (sourceIp !== undefined || destinationIp !== undefined) related = `"${sourceIp ?? destinationIp}"`;
  }

  event += times(f);
  const observer = specified(f.originalExporterIPv4Address) ? f.originalExporterIPv4Address
    : specified(f.originalExporterIPv6Address) ? f.originalExporterIPv6Address : host;
  let out = `,"event":{${event}}`;
  if (source !== '') out += `,"source":{${source.slice(1)}}`;
  if (destination !== '') out += `,"destination":{${destination.slice(1)}}`;
  if (network !== '') out += `,"network":{${network.slice(1)}}`;
  if (related !== '') out += `,"related":{"ip":[${related}]}`;
  return `${out},"observer":{"ip":"${observer}"}`;
}

function endpoint(ip: string | undefined, port: unknown, bytes: number | bigint | undefined, packets: number | bigint | undefined): string {
  let s = '';
  if (ip !== undefined) s += `,"ip":"${ip}"`;
  if (typeof port === 'number') s += `,"port":${port}`;
  if (bytes !== undefined) s += `,"bytes":${bytes}`;
  if (packets !== undefined) s += `,"packets":${packets}`;
  return s;
}

/** event.start, event.end and event.duration (nanoseconds), as JSON members each with a leading comma. */
function times(f: DecodedRecord): string {
  const startText = firstOf(f, START_FIELDS);
  const endText = firstOf(f, END_FIELDS);
  const start = typeof startText === 'string' ? timeOf(startText) : undefined;
  const end = typeof endText === 'string' ? timeOf(endText) : undefined;
  let startIso = start ? startText as string : undefined;
  let endIso = end ? endText as string : undefined;
  let durationNs: number | undefined;
  if (start && end) {
    durationNs = (end[0] - start[0]) * 1e6 + (end[1] - start[1]);
  } else {
    const ms = f.flowDurationMilliseconds;
    const us = f.flowDurationMicroseconds;
    const durationMs = typeof ms === 'number' ? ms : typeof us === 'number' ? us / 1000 : undefined;
    if (durationMs !== undefined) {
      durationNs = Math.round(durationMs * 1e6);
      if (start) endIso = shifted(start[0], Math.round(durationMs));
      else if (end) startIso = shifted(end[0], -Math.round(durationMs));
    }
  }
  let s = '';
  if (startIso !== undefined) s += `,"start":"${startIso}"`;
  if (endIso !== undefined) s += `,"end":"${endIso}"`;
  // An end before the start (an exporter's clock) is no duration at all.
  if (durationNs !== undefined && durationNs >= 0) s += `,"duration":${durationNs}`;
  return s;
}
