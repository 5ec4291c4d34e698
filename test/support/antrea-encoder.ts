import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// A test encoder for Antrea's IPFIX records, laid out as ../shared/fixtures/antrea/ANTREA_IPFIX_LAYOUT.md
// describes (agent Flow Exporter and Flow Aggregator templates, go-ipfix's encoding rules). It proves the
// enrichment and the long-string paths; the go-ipfix fixtures are what prove the decoder against an independent encoder.

export type EncodedType = 'u8' | 'u16' | 'u32' | 'u64' | 'ipv4' | 'ipv6' | 'string' | 'seconds' | 'uuid';

export interface LayoutField {
  name: string;
  enterprise: number;
  id: number;
  type: EncodedType;
}

const VARIABLE = 65535;
const LENGTH: Record<EncodedType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, ipv4: 4, ipv6: 16, string: VARIABLE, seconds: 4, uuid: 16 };

const iana = (name: string, id: number, type: EncodedType): LayoutField => ({ name, enterprise: 0, id, type });
const reverse = (name: string, id: number): LayoutField => ({ name, enterprise: 29305, id, type: 'u64' });
const antrea = (name: string, id: number, type: EncodedType): LayoutField => ({ name, enterprise: 56506, id, type });

function commonFields(family: 4 | 6): LayoutField[] {
  return [
    iana('flowStartSeconds', 150, 'seconds'), iana('flowEndSeconds', 151, 'seconds'), iana('flowEndReason', 136, 'u8'),
    iana('sourceTransportPort', 7, 'u16'), iana('destinationTransportPort', 11, 'u16'), iana('protocolIdentifier', 4, 'u8'),
    iana('packetTotalCount', 86, 'u64'), iana('octetTotalCount', 85, 'u64'), iana('packetDeltaCount', 2, 'u64'),
    iana('octetDeltaCount', 1, 'u64'),
    ...(family === 4
      ? [iana('sourceIPv4Address', 8, 'ipv4'), iana('destinationIPv4Address', 12, 'ipv4')]
      : [iana('sourceIPv6Address', 27, 'ipv6'), iana('destinationIPv6Address', 28, 'ipv6')]),
    reverse('reversePacketTotalCount', 86), reverse('reverseOctetTotalCount', 85), reverse('reversePacketDeltaCount', 2),
    reverse('reverseOctetDeltaCount', 1),
    antrea('sourcePodName', 101, 'string'), antrea('sourcePodNamespace', 100, 'string'), antrea('sourceNodeName', 104, 'string'),
    antrea('destinationPodName', 103, 'string'), antrea('destinationPodNamespace', 102, 'string'),
    antrea('destinationNodeName', 105, 'string'), antrea('destinationServicePort', 108, 'u16'),
    antrea('destinationServicePortName', 109, 'string'), antrea('ingressNetworkPolicyName', 110, 'string'),
    antrea('ingressNetworkPolicyNamespace', 111, 'string'), antrea('ingressNetworkPolicyType', 115, 'u8'),
    antrea('ingressNetworkPolicyRuleName', 141, 'string'), antrea('ingressNetworkPolicyRuleAction', 139, 'u8'),
    antrea('egressNetworkPolicyName', 112, 'string'), antrea('egressNetworkPolicyNamespace', 113, 'string'),
    antrea('egressNetworkPolicyType', 118, 'u8'), antrea('egressNetworkPolicyRuleName', 142, 'string'),
    antrea('egressNetworkPolicyRuleAction', 140, 'u8'), antrea('tcpState', 136, 'string'), antrea('flowType', 137, 'u8'),
    antrea('egressName', 153, 'string'), antrea('egressIP', 154, 'string'), antrea('egressNodeName', 157, 'string'),
    antrea('proxySnatPort', 172, 'u16'),
  ];
}

/** Layout A: the Antrea agent's Flow Exporter. */
export function agentLayout(family: 4 | 6): LayoutField[] {
  const tail = family === 4
    ? [antrea('destinationClusterIPv4', 106, 'ipv4'), antrea('proxySnatIPv4', 170, 'ipv4'), antrea('destinationServiceIPv4', 168, 'ipv4')]
    : [antrea('destinationClusterIPv6', 107, 'ipv6'), antrea('proxySnatIPv6', 171, 'ipv6'), antrea('destinationServiceIPv6', 169, 'ipv6')];
  return [...commonFields(family), ...tail];
}

/** Layout B: the Flow Aggregator in aggregate mode, with K8s names (no UIDs). */
export function aggregatorLayout(family: 4 | 6): LayoutField[] {
  const tail = family === 4
    ? [antrea('proxySnatIPv4', 170, 'ipv4'), antrea('destinationClusterIPv4', 106, 'ipv4'), antrea('destinationServiceIPv4', 168, 'ipv4')]
    : [antrea('proxySnatIPv6', 171, 'ipv6'), antrea('destinationClusterIPv6', 107, 'ipv6'), antrea('destinationServiceIPv6', 169, 'ipv6')];
  const counters = ['packetTotalCount', 'octetTotalCount', 'packetDeltaCount', 'octetDeltaCount',
    'reversePacketTotalCount', 'reverseOctetTotalCount', 'reversePacketDeltaCount', 'reverseOctetDeltaCount'];
  const aggregate = counters.flatMap((name, i) => [
    antrea(`${name}FromSourceNode`, 120 + i, 'u64'),
    antrea(`${name}FromDestinationNode`, 128 + i, 'u64'),
  ]);
  return [
    ...commonFields(family), ...tail, ...aggregate,
    antrea('flowEndSecondsFromSourceNode', 151, 'seconds'), antrea('flowEndSecondsFromDestinationNode', 152, 'seconds'),
    antrea('throughput', 145, 'u64'), antrea('throughputFromSourceNode', 147, 'u64'), antrea('throughputFromDestinationNode', 148, 'u64'),
    antrea('reverseThroughput', 146, 'u64'), antrea('reverseThroughputFromSourceNode', 149, 'u64'),
    antrea('reverseThroughputFromDestinationNode', 150, 'u64'),
    antrea('sourcePodLabels', 143, 'string'), antrea('destinationPodLabels', 144, 'string'), antrea('clusterId', 158, 'string'),
  ];
}

export interface MessageHeader {
  exportTimeSecs: number;
  sequence: number;
  domain: number;
}

/** An IPFIX message of `sets` with the given header. */
export function ipfixMessage(header: MessageHeader, sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  const head = Buffer.alloc(16);
  head.writeUInt16BE(10, 0);
  head.writeUInt16BE(16 + body.length, 2);
  head.writeUInt32BE(header.exportTimeSecs, 4);
  head.writeUInt32BE(header.sequence, 8);
  head.writeUInt32BE(header.domain, 12);
  return Buffer.concat([head, body]);
}

function set(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(4 + body.length, 2);
  return Buffer.concat([head, body]);
}

/** A template set announcing `layout` as `templateId` (enterprise elements with the E bit and their number). */
export function templateSet(templateId: number, layout: LayoutField[]): Buffer {
  const parts = [Buffer.from([templateId >> 8, templateId & 0xff, layout.length >> 8, layout.length & 0xff])];
  for (const f of layout) {
    const spec = Buffer.alloc(f.enterprise ? 8 : 4);
    spec.writeUInt16BE(f.enterprise ? 0x8000 | f.id : f.id, 0);
    spec.writeUInt16BE(LENGTH[f.type], 2);
    if (f.enterprise) spec.writeUInt32BE(f.enterprise, 4);
    parts.push(spec);
  }
  return set(2, Buffer.concat(parts));
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function encodeValue(type: EncodedType, value: unknown): Buffer {
  switch (type) {
    case 'u8': return Buffer.from([Number(value)]);
    case 'u16': { const b = Buffer.alloc(2); b.writeUInt16BE(Number(value)); return b; }
    case 'u32': case 'seconds': { const b = Buffer.alloc(4); b.writeUInt32BE(Number(value)); return b; }
    case 'u64': { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(value as number | bigint)); return b; }
    case 'ipv4': return Buffer.from(String(value).split('.').map(Number));
    case 'ipv6': return ipv6Bytes(String(value));
    case 'uuid': return Buffer.from(String(value).replaceAll('-', ''), 'hex');
    case 'string': {
      // go-ipfix: a 1-octet length below 255, otherwise 255 and a 2-octet length.
      const text = Buffer.from(String(value ?? ''), 'utf8');
      const prefix = text.length < 255 ? Buffer.from([text.length]) : Buffer.from([255, text.length >> 8, text.length & 0xff]);
      return Buffer.concat([prefix, text]);
    }
  }
}

export function dataSet(templateId: number, layout: LayoutField[], records: Record<string, unknown>[]): Buffer {
  const body = Buffer.concat(records.flatMap((r) => layout.map((f) => encodeValue(f.type, r[f.name] ?? defaultValue(f.type)))));
  return set(templateId, body);
}

function defaultValue(type: EncodedType): unknown {
  return type === 'string' ? '' : type === 'ipv4' ? '0.0.0.0' : type === 'ipv6' ? '::' : type === 'uuid' ? '00'.repeat(16) : 0;
}

export function templateMessage(header: MessageHeader, templateId: number, layout: LayoutField[]): Buffer {
  return ipfixMessage(header, [templateSet(templateId, layout)]);
}

export function dataMessage(header: MessageHeader, templateId: number, layout: LayoutField[], records: Record<string, unknown>[]): Buffer {
  return ipfixMessage(header, [dataSet(templateId, layout, records)]);
}

/** A plausible Flow Aggregator record: Pod-to-Pod inter-Node TCP traffic, with labels and policies. */
export function aggregatorRecord(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const start = 1_700_000_000 + i;
  const octets = 10_000 + i * 100;
  return {
    flowStartSeconds: start, flowEndSeconds: start + 60, flowEndReason: 1, sourceTransportPort: 30000 + (i % 30000),
    destinationTransportPort: 8080, protocolIdentifier: 6, packetTotalCount: 100 + i, octetTotalCount: octets,
    packetDeltaCount: 10, octetDeltaCount: 1000, sourceIPv4Address: `10.10.${(i >> 8) & 255}.${i & 255}`,
    destinationIPv4Address: '10.10.1.2', sourceIPv6Address: `fd00:10:244::${(i % 65535).toString(16)}`, destinationIPv6Address: 'fd00:10:244:1::2',
    reversePacketTotalCount: 90, reverseOctetTotalCount: 9000, reversePacketDeltaCount: 9, reverseOctetDeltaCount: 900,
    sourcePodName: `client-${i % 50}`, sourcePodNamespace: 'default', sourceNodeName: 'k8s-node-1',
    destinationPodName: 'server-0', destinationPodNamespace: 'shop', destinationNodeName: 'k8s-node-2',
    destinationServicePort: 80, destinationServicePortName: 'shop/server:http', ingressNetworkPolicyName: 'allow-web',
    ingressNetworkPolicyNamespace: 'shop', ingressNetworkPolicyType: 2, ingressNetworkPolicyRuleName: 'rule1',
    ingressNetworkPolicyRuleAction: 1, egressNetworkPolicyName: '', egressNetworkPolicyNamespace: '', egressNetworkPolicyType: 0,
    egressNetworkPolicyRuleName: '', egressNetworkPolicyRuleAction: 0, tcpState: 'ESTABLISHED', flowType: 2, egressName: '',
    egressIP: '', egressNodeName: '', proxySnatPort: 0, proxySnatIPv4: '0.0.0.0', destinationClusterIPv4: '10.96.0.10',
    destinationServiceIPv4: '10.96.0.10', proxySnatIPv6: '::', destinationClusterIPv6: 'fd00:10:96::a', destinationServiceIPv6: 'fd00:10:96::a',
    packetTotalCountFromSourceNode: 100, packetTotalCountFromDestinationNode: 100, octetTotalCountFromSourceNode: octets,
    octetTotalCountFromDestinationNode: octets, packetDeltaCountFromSourceNode: 10, packetDeltaCountFromDestinationNode: 10,
    octetDeltaCountFromSourceNode: 1000, octetDeltaCountFromDestinationNode: 1000, reversePacketTotalCountFromSourceNode: 90,
    reversePacketTotalCountFromDestinationNode: 90, reverseOctetTotalCountFromSourceNode: 9000, reverseOctetTotalCountFromDestinationNode: 9000,
    reversePacketDeltaCountFromSourceNode: 9, reversePacketDeltaCountFromDestinationNode: 9, reverseOctetDeltaCountFromSourceNode: 900,
    reverseOctetDeltaCountFromDestinationNode: 900, flowEndSecondsFromSourceNode: start + 60, flowEndSecondsFromDestinationNode: start + 60,
    throughput: 133, throughputFromSourceNode: 133, throughputFromDestinationNode: 133, reverseThroughput: 120,
    reverseThroughputFromSourceNode: 120, reverseThroughputFromDestinationNode: 120,
    sourcePodLabels: JSON.stringify({ app: 'client', 'app.kubernetes.io/part-of': 'shop' }), destinationPodLabels: JSON.stringify({ app: 'server' }),
    clusterId: '8b7cf9a4-1f0e-4a36-9f49-2a4c3c2e5d01',
    ...overrides,
  };
}

/**
 * Layout C: the Flow Aggregator in Proxy mode (Antrea v2.3+): the agent's record forwarded, without the per-Node
 * counters and throughputs of aggregate mode, with the original exporter (IANA 403-405) and flowDirection (61).
 */
export function proxyLayout(family: 4 | 6): LayoutField[] {
  const aggregate = aggregatorLayout(family);
  const labelsAndCluster = aggregate.slice(aggregate.findIndex((f) => f.name === 'sourcePodLabels'));
  return [
    ...aggregate.slice(0, aggregate.findIndex((f) => f.name === 'packetTotalCountFromSourceNode')),
    ...labelsAndCluster,
    iana('originalObservationDomainId', 405, 'u32'), iana('originalExporterIPv4Address', 403, 'ipv4'),
    iana('originalExporterIPv6Address', 404, 'ipv6'), iana('flowDirection', 61, 'u8'),
  ];
}

/**
 * A capture for `replay`: one file per message, a template then data messages of three Flow Aggregator records
 * each (every record its own source Pod), `records` in all, in observation domain `domain`.
 */
export function aggregatorCapture(dir: string, records: number, domain: number): string[] {
  const layout = aggregatorLayout(4);
  const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain });
  const files = [join(dir, 'm-00000.dat')];
  writeFileSync(files[0], templateMessage(header(0), 300, layout));
  for (let i = 0; i < records; i += 3) {
    const file = join(dir, `m-${String(i + 1).padStart(5, '0')}.dat`);
    writeFileSync(file, dataMessage(header(i), 300, layout, [i, i + 1, i + 2].map((n) => aggregatorRecord(n, { sourcePodName: `pod-${n}` }))));
    files.push(file);
  }
  return files;
}
