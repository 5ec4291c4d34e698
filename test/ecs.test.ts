// ECS fields: every value is computed here again from the decoded record (the `ipfix` object and the exporter),
// by separate code, and compared with what the collector wrote: for every golden capture, for Antrea records of
// both address families, and for records with what the captures lack (biflows, finer times, durations, an
// original exporter). Community ID v1 is checked against the specification's published baseline.
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ByteBuffer } from '../collector/src/document/bytes.js';
import { serializeDocument, writeDocument, type DocumentOptions } from '../collector/src/document/document.js';
import { communityId, ecsJson, writeCommunityIdMember, writeEcs } from '../collector/src/document/ecs.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage, type LayoutField } from './support/antrea-encoder.js';
import { decodeAll, testPipeline, udpExporter } from './support/offline.js';

// corelight/community-id-spec, baseline/baseline_deflt.json (seed 0, base64). For ICMP and ICMPv6 "sport" is the
// type and "dport" the port the spec maps it to (the counterpart type, or the code of one-way messages).
const BASELINE: [number, string, string, number | null, number | null, string][] = [
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 136, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 135, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 135, 136, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 136, 135, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, '3ffe:501:1800:2345::2', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:2ObVBgIn28oZvibYZhZMBgh7WdQ='],
  [58, '3ffe:501:410:0:2c0:dfff:fe47:33e', '3ffe:507:0:1:200:86ff:fe05:80da', 1, 4, '1:hLZd0XGWojozrvxqE0dWB1iM6R0='],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:501:0:1001::2', 128, 129, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, '3ffe:501:0:1001::2', '3ffe:507:0:1:200:86ff:fe05:80da', 129, 128, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, 'fe80::200:86ff:fe05:80da', 'ff02::2', 133, 134, '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0='],
  [58, 'fe80::260:97ff:fe07:69ea', 'ff02::1', 134, 133, '1:pkvHqCL88/tg1k4cPigmZXUtL00='],
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '192.168.0.1', '192.168.0.89', 0, 8, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '10.0.0.1', '10.0.0.2', 11, 0, '1:YHxtAirCG//0OzkcVAukqKQN9xM='],
  [6, '2001:470:e5bf:dead:4957:2174:e82c:4887', '2607:f8b0:400c:c03::1a', 63943, 25, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887', 25, 63943, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [132, '192.168.170.8', '192.168.170.56', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [132, '192.168.170.56', '192.168.170.8', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [6, '66.35.250.204', '128.232.110.120', 80, 34855, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [46, '10.1.12.1', '10.1.12.2', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
  [46, '10.1.12.2', '10.1.12.1', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
];
const PAIRED_ICMP = new Set(['1:0', '1:8', '58:128', '58:129', '58:133', '58:134', '58:135', '58:136']);

describe('Community ID v1', () => {
  it('gives the specification baseline for every vector, from the ICMP type and code where ICMP', () => {
    for (const [proto, saddr, daddr, sport, dport, id] of BASELINE) {
      const icmp = proto === 1 || proto === 58;
      // What a flow record carries for ICMP: the type and the code (0 in these captures when the type is paired).
      const code = icmp && PAIRED_ICMP.has(`${proto}:${sport}`) ? 0 : (dport ?? 0);
      expect(communityId(saddr, daddr, proto, sport ?? 0, icmp ? code : (dport ?? 0)), `${proto} ${saddr} ${daddr}`).toBe(id);
    }
  });

  it('refuses what is not an address pair of one family', () => {
    expect(communityId('10.0.0.1', 'fe80::1', 6, 1, 2)).toBeUndefined();
    expect(communityId('10.0.0.256', '10.0.0.1', 6, 1, 2)).toBeUndefined();
    expect(communityId('1::2::3', '::1', 6, 1, 2)).toBeUndefined();
    expect(communityId('::ffff:10.0.0.1', '::1', 6, 1, 2)).toMatch(/^1:/);
  });

  it('gives each flow its own Community ID from the cache, also flows that share its slot', () => {
    const member = (flow: [string, string, number, number, number]) => {
      const out = new ByteBuffer(8);
      out.pos = writeCommunityIdMember(out, 0, ...flow);
      return out.takeString();
    };
    const expected = (flow: [string, string, number, number, number]) => `,"community_id":"${communityId(...flow)}"`;
    // The cache hashes the addresses' last six characters and the ports as sourcePort * 65536 + destinationPort:
    // the flows of each group land in one pair of slots, and only its check of all five tells them apart (three
    // flows in a pair push each other out).
    const collide: [string, string, number, number, number][][] = [
      [['fd00:aaaa:bbbb::1', 'fd00::2', 6, 80, 443], ['fd00:cccc:bbbb::1', 'fd00::2', 6, 80, 443], ['fd00:dddd:bbbb::1', 'fd00::2', 6, 80, 443]],
      [['10.0.0.1', '10.0.0.2', 17, 1, 65536], ['10.0.0.1', '10.0.0.2', 17, 2, 0]],
    ];
    for (const flows of collide) {
      for (let i = 0; i < 3; i++) for (const flow of flows) expect(member(flow)).toBe(expected(flow));
      for (const flow of flows.slice().reverse()) expect(member(flow)).toBe(expected(flow));
      expect(new Set(flows.map(expected)).size).toBe(flows.length);
    }
    expect(member(['10.0.0.1', 'fe80::1', 6, 1, 2])).toBe('');
    expect(member(['10.0.0.1', 'fe80::1', 6, 1, 2])).toBe(''); // remembered as none
    // Numbers no flow has (a definitions file's float or negative port) are hashed each time, never kept.
    for (const odd of [['10.0.0.1', '10.0.0.2', 6, 80.5, 443], ['10.0.0.1', '10.0.0.2', 6, -1, 443], ['10.0.0.1', '10.0.0.2', 300, 1, 2]] as const) {
      for (let i = 0; i < 2; i++) expect(member([...odd])).toBe(expected([...odd]));
    }
  });
});

// ---- The expected ECS fields, from the record alone ----

type Fields = Record<string, unknown>;
const str = (f: Fields, k: string) => (typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined);
const ip = (f: Fields, k: string) => (str(f, k) !== undefined && isIP(str(f, k)!) !== 0 ? str(f, k) : undefined);
const big = (v: unknown) => (typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : undefined);
/** The first counter present among the names, as a bigint. */
const pick = (f: Fields, names: string[]) => names.map((n) => big(f[n])).find((v) => v !== undefined);
/** Nanoseconds since the epoch of an ISO time with up to nine fraction digits. */
function nanos(text: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(text)!;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}
const PROTOCOLS: Record<string, string> = { 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp', 132: 'sctp' };

function expectedEcs(f: Fields, host: string): Fields {
  const out: Fields = {};
  const srcIp = ip(f, 'sourceIPv6Address') ?? ip(f, 'sourceIPv4Address');
  const dstIp = ip(f, 'destinationIPv6Address') ?? ip(f, 'destinationIPv4Address');
  const isOptions = Object.keys(f).some((k) => k.startsWith('scope_')) || (!srcIp && !dstIp && big(f.octetDeltaCount) === undefined && big(f.octetTotalCount) === undefined);
  const event: Fields = { kind: 'event', category: ['network'], action: 'netflow_options' };
  out.event = event;
  if (!isOptions) {
    event.action = 'netflow_flow';
    if (f.biflowDirection !== undefined) event.category = ['network', 'session'];
    const actions = [f.ingressNetworkPolicyRuleAction, f.egressNetworkPolicyRuleAction];
    event.type = actions.some((a) => a === 2 || a === 3) ? ['connection', 'denied'] : actions.includes(1) ? ['connection', 'allowed'] : ['connection'];
    const fwdBytes = pick(f, ['octetDeltaCount', 'octetTotalCount', 'initiatorOctets']);
    const fwdPackets = pick(f, ['packetDeltaCount', 'packetTotalCount', 'initiatorPackets']);
    const revBytes = pick(f, ['reverseOctetDeltaCount', 'reverseOctetTotalCount', 'responderOctets']);
    const revPackets = pick(f, ['reversePacketDeltaCount', 'reversePacketTotalCount', 'responderPackets']);
    const side = (ip: unknown, port: unknown, bytes?: bigint, packets?: bigint) => {
      const s: Fields = {};
      if (ip !== undefined) s.ip = ip;
      if (port !== undefined) s.port = port;
      if (bytes !== undefined) s.bytes = Number(bytes);
      if (packets !== undefined) s.packets = Number(packets);
      return s;
    };
    const a = side(srcIp, f.sourceTransportPort, fwdBytes, fwdPackets);
    const b = side(dstIp, f.destinationTransportPort, revBytes, revPackets);
    const [src, dst] = f.biflowDirection === 2 ? [b, a] : [a, b];
    if (Object.keys(src).length) out.source = src;
    if (Object.keys(dst).length) out.destination = dst;
    const network: Fields = {};
    const proto = f.protocolIdentifier;
    if (typeof proto === 'number') {
      if (PROTOCOLS[proto]) network.transport = PROTOCOLS[proto];
      network.iana_number = String(proto);
    }
    if (srcIp ?? dstIp) network.type = (srcIp ?? dstIp)!.includes(':') ? 'ipv6' : 'ipv4';
    if (fwdBytes !== undefined) network.bytes = Number(fwdBytes + (revBytes ?? 0n));
    if (fwdPackets !== undefined) network.packets = Number(fwdPackets + (revPackets ?? 0n));
    if (srcIp && dstIp && typeof proto === 'number') {
      let ports = [Number(f.sourceTransportPort ?? 0), Number(f.destinationTransportPort ?? 0)];
      if (proto === 1 || proto === 58) {
        const v = proto === 1 ? 'IPv4' : 'IPv6';
        const tc = f[`icmpTypeCode${v}`];
        if (typeof tc === 'number') ports = [Math.floor(tc / 256), tc % 256];
        else if (typeof f[`icmpType${v}`] === 'number') ports = [f[`icmpType${v}`] as number, Number(f[`icmpCode${v}`] ?? 0)];
        else ports = [Math.floor(ports[1] / 256), ports[1] % 256];
      }
      network.community_id = communityId(srcIp, dstIp, proto, ports[0], ports[1]);
    }
    out.network = network;
    const ips = [...new Set([src.ip, dst.ip].filter((x) => x !== undefined))];
    if (ips.length) out.related = { ip: ips };
  }
  const start = ['flowStartNanoseconds', 'flowStartMicroseconds', 'flowStartMilliseconds', 'flowStartSeconds', 'first_switched'].map((k) => str(f, k)).find(Boolean);
  const end = ['flowEndNanoseconds', 'flowEndMicroseconds', 'flowEndMilliseconds', 'flowEndSeconds', 'last_switched'].map((k) => str(f, k)).find(Boolean);
  const durationMs = typeof f.flowDurationMilliseconds === 'number' ? f.flowDurationMilliseconds
    : typeof f.flowDurationMicroseconds === 'number' ? f.flowDurationMicroseconds / 1000 : undefined;
  if (start) event.start = start;
  if (end) event.end = end;
  if (start && end) {
    const d = nanos(end) - nanos(start);
    if (d >= 0n) event.duration = Number(d);
  } else if (durationMs !== undefined) {
    event.duration = Math.round(durationMs * 1e6);
    if (start) event.end = new Date(Date.parse(start) + Math.round(durationMs)).toISOString();
    if (end) event.start = new Date(Date.parse(end) - Math.round(durationMs)).toISOString();
  }
  const exporter = ['originalExporterIPv4Address', 'originalExporterIPv6Address'].map((k) => str(f, k)).find((ip) => ip && !/^(0\.0\.0\.0|::)$/.test(ip));
  out.observer = { ip: exporter ?? host };
  return out;
}

const ECS_ROOTS = ['event', 'source', 'destination', 'network', 'related', 'observer'];
const ecsOf = (doc: Fields) => Object.fromEntries(ECS_ROOTS.filter((k) => k in doc).map((k) => [k, doc[k]]));

describe('ECS fields of documents', () => {
  const golden = new URL('./golden/', import.meta.url).pathname;
  for (const file of readdirSync(golden).sort()) {
    it(`every document of ${file}`, () => {
      const docs = readFileSync(`${golden}${file}`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Fields);
      for (const doc of docs) expect(ecsOf(doc), JSON.stringify(doc.ipfix)).toEqual(expectedEcs(doc.ipfix as Fields, doc.host as string));
    });
  }

  const options: DocumentOptions = { target: 'ipfix', type: 'ipfix', timestampSource: 'export', ecs: true };
  const extra: LayoutField[] = [
    { name: 'originalExporterIPv4Address', enterprise: 0, id: 403, type: 'ipv4' },
    { name: 'originalExporterIPv6Address', enterprise: 0, id: 404, type: 'ipv6' },
  ];
  for (const family of [4, 6] as const) {
    it(`Flow Aggregator records (IPv${family}): delta counters, both directions, rule actions, original exporter`, () => {
      const { pipeline } = testPipeline({ document: options });
      const layout = [...aggregatorLayout(family), ...extra];
      const header = { exportTimeSecs: 1_700_000_100, sequence: 1, domain: 7 };
      const records = [
        aggregatorRecord(1, { originalExporterIPv4Address: '10.0.0.9', originalExporterIPv6Address: '::' }),
        aggregatorRecord(2, { originalExporterIPv4Address: '0.0.0.0', originalExporterIPv6Address: 'fd00::9', ingressNetworkPolicyRuleAction: 2 }),
        aggregatorRecord(3, { protocolIdentifier: 17, ingressNetworkPolicyRuleAction: 0, egressNetworkPolicyRuleAction: 3, octetDeltaCount: 2n ** 60n }),
        aggregatorRecord(4, { protocolIdentifier: family === 4 ? 1 : 58, destinationTransportPort: 8 * 256, ingressNetworkPolicyRuleAction: 0 }),
      ];
      const docs = decodeAll(pipeline, [templateMessage(header, 300, layout), dataMessage({ ...header, sequence: 2 }, 300, layout, records)])
        .map((d) => JSON.parse(serializeDocument(d, options)) as Fields);
      expect(docs).toHaveLength(4);
      for (const doc of docs) expect(ecsOf(doc)).toEqual(expectedEcs(doc.ipfix as Fields, doc.host as string));
      // The unspecified address stands for the family the record does not use: the sender is then the observer.
      expect(docs.map((d) => (d.observer as Fields).ip)).toEqual(['10.0.0.9', 'fd00::9', '192.0.2.1', '192.0.2.1']);
      const network = docs[0].network as Fields;
      expect([network.bytes, network.packets, network.transport, network.type]).toEqual([1900, 19, 'tcp', `ipv${family}`]);
      expect((docs[0].source as Fields).bytes).toBe(1000);
      expect((docs[0].destination as Fields).bytes).toBe(900);
      expect((docs[2].network as Fields).bytes).toBe(Number(2n ** 60n + 900n));
    });
  }

  it('a v9/v5-style record with Logstash time names, durations, biflows and fine times', () => {
    const cases: Fields[] = [
      { version: 9, sourceIPv4Address: '10.1.1.1', destinationIPv4Address: '10.2.2.2', protocolIdentifier: 6, sourceTransportPort: 1, destinationTransportPort: 2,
        octetDeltaCount: 10, packetDeltaCount: 1, first_switched: '2024-01-01T00:00:00.000Z', last_switched: '2024-01-01T00:00:01.500Z' },
      { version: 10, sourceIPv6Address: 'fd00::1', destinationIPv6Address: 'fd00::2', protocolIdentifier: 17, sourceTransportPort: 53, destinationTransportPort: 5353,
        flowStartNanoseconds: '2024-01-01T00:00:00.000000001Z', flowEndNanoseconds: '2024-01-01T00:00:00.000250002Z',
        flowStartMilliseconds: '2024-01-01T00:00:00.000Z', initiatorOctets: 5, responderOctets: 7, biflowDirection: 2 },
      { version: 10, sourceIPv4Address: '10.1.1.1', destinationIPv4Address: '10.2.2.2', protocolIdentifier: 1, icmpTypeCodeIPv4: 0x0800,
        flowStartMicroseconds: '2024-01-01T00:00:00.000123Z', flowDurationMicroseconds: 2500, octetTotalCount: 84, biflowDirection: 1 },
      { version: 10, sourceIPv4Address: '10.1.1.1', destinationIPv4Address: '10.2.2.2', protocolIdentifier: 89,
        flowEndMilliseconds: '2024-01-01T00:00:10.000Z', flowDurationMilliseconds: 4000 },
      { version: 10, sourceIPv4Address: '10.1.1.1', destinationIPv4Address: '10.1.1.1', protocolIdentifier: 6,
        flowStartSeconds: '2024-01-01T00:00:10.000Z', flowEndSeconds: '2024-01-01T00:00:05.000Z' },
      { version: 9, flow_seq_num: 1, scope_system: 1, samplingInterval: 100 },
    ];
    // A definitions file may give an address's name another type: such text is no address (and is never written unescaped).
    cases.push({ version: 10, sourceIPv4Address: 'a"b', destinationIPv4Address: '10.2.2.2', protocolIdentifier: 6, octetDeltaCount: 1 });
    for (const f of cases) {
      const host = '192.0.2.7';
      const actual = JSON.parse(`{${ecsJson(f, host).slice(1)}}`) as Fields;
      expect(actual, JSON.stringify(f)).toEqual(expectedEcs(f, host));
    }
    const [first, second] = cases.map((f) => JSON.parse(`{${ecsJson(f, 'h').slice(1)}}`) as Fields);
    expect((first.event as Fields).duration).toBe(1_500_000_000);
    expect((second.event as Fields).duration).toBe(250_001);
    expect(second.source).toEqual({ ip: 'fd00::2', port: 5353, bytes: 7 });
  });

  it('are written whole wherever the output buffer ends, however close to a piece written after one check of room', () => {
    // The buffer grows when a piece does not fit; a piece written without its own check past the room reserved for
    // it would leave unwritten bytes there (a buffer holds what it was allocated with). Every end position is tried.
    const { pipeline } = testPipeline({ document: options });
    const layout = aggregatorLayout(4);
    const header = { exportTimeSecs: 1_700_000_100, sequence: 1, domain: 7 };
    const [doc] = decodeAll(pipeline, [templateMessage(header, 300, layout), dataMessage({ ...header, sequence: 2 }, 300, layout, [aggregatorRecord(1)])]);
    const expected = serializeDocument(doc, options);
    const filler = 0x20;
    for (let start = 0; start <= expected.length + 8; start++) {
      const out = new ByteBuffer(expected.length + 8);
      out.buffer.fill(filler, 0, start);
      out.pos = start;
      writeDocument(doc, options, out);
      expect(out.buffer.toString('utf8', start, out.pos), `document at ${start}`).toBe(expected);
    }
    // The ECS pieces alone, for a biflow (the longest event pieces) and for an options record.
    for (const f of [
      { version: 10, sourceIPv4Address: '10.1.1.1', destinationIPv4Address: '10.2.2.2', protocolIdentifier: 6, sourceTransportPort: 1, destinationTransportPort: 2,
        octetDeltaCount: 10, biflowDirection: 1, ingressNetworkPolicyRuleAction: 2, flowStartSeconds: '2024-01-01T00:00:00.000Z', flowEndSeconds: '2024-01-01T00:00:01.000Z' },
      { version: 9, flow_seq_num: 1, scope_system: 1 },
    ]) {
      const ecs = ecsJson(f, 'h');
      for (let start = 0; start <= ecs.length + 8; start++) {
        const out = new ByteBuffer(ecs.length + 8);
        out.pos = start;
        writeEcs(f, 'h', out);
        expect(out.buffer.toString('utf8', start, out.pos), `ECS at ${start}`).toBe(ecs);
      }
    }
  });

  it('document.ecs false leaves the Logstash shape alone', () => {
    const { pipeline } = testPipeline({ document: { ...options, ecs: false } });
    const layout = aggregatorLayout(4);
    const header = { exportTimeSecs: 1_700_000_100, sequence: 1, domain: 7 };
    const [doc] = decodeAll(pipeline, [templateMessage(header, 300, layout), dataMessage(header, 300, layout, [aggregatorRecord(1)])], udpExporter());
    expect(Object.keys(JSON.parse(serializeDocument(doc, options)))).toEqual(['@timestamp', '@version', 'host', 'type', 'ipfix']);
  });
});
