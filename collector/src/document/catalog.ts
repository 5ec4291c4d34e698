import { ElementRegistry } from '../ie/registry.js';
import { ANTREA_LEGACY_PEN, ANTREA_PEN, REVERSE_PEN, type InformationElement, type ValueType } from '../ie/types.js';

/**
 * The document contract, written once: every field a document can carry, its Elasticsearch type, where it
 * comes from and its unit. The field tables of the docs are generated from it; the index mapping and the
 * dashboards are checked against it.
 */
export type FieldType =
  | 'keyword' | 'ip' | 'date' | 'date_nanos' | 'boolean' | 'byte' | 'short' | 'integer' | 'long' | 'unsigned_long' | 'float' | 'double'
  | 'object' | 'flattened';

export type FieldSource = 'envelope' | 'header' | 'element' | 'derived' | 'ecs';

export interface CatalogField {
  /** Path in the document; decoded fields are under the target object (`ipfix` by default). */
  path: string;
  type: FieldType;
  source: FieldSource;
  /** Where the value comes from: the element (enterprise/id), the header field, or the enrichment rule. */
  origin: string;
  unit?: string;
  description: string;
  /** Sub-fields of an object. */
  properties?: Record<string, FieldType>;
}

// Microsecond and nanosecond times are written with nine fraction digits: `date_nanos` keeps them (`date` would
// round them to milliseconds). Kibana's time field stays `@timestamp`, a `date`.
const ELEMENT_TYPES: Record<ValueType, FieldType | undefined> = {
  unsigned8: 'short', unsigned16: 'integer', unsigned32: 'long', unsigned64: 'unsigned_long',
  signed8: 'byte', signed16: 'short', signed32: 'integer', signed64: 'long',
  float32: 'float', float64: 'double', boolean: 'boolean', macAddress: 'keyword', octetArray: 'keyword', string: 'keyword',
  dateTimeSeconds: 'date', dateTimeMilliseconds: 'date', dateTimeMicroseconds: 'date_nanos', dateTimeNanoseconds: 'date_nanos',
  ipv4Address: 'ip', ipv6Address: 'ip', skip: undefined,
  forwardingStatus: 'object', applicationId: 'keyword', aclIdAsa: 'keyword', mplsLabelStackOctets: 'object',
};

const SPECIAL_PROPERTIES: Partial<Record<ValueType, Record<string, FieldType>>> = {
  forwardingStatus: { status: 'short', reason: 'short' },
  mplsLabelStackOctets: { label: 'integer', experimental: 'short', bottom_of_stack: 'short', ttl: 'short' },
};

const ENTERPRISES: Record<number, string> = {
  0: 'IANA', [REVERSE_PEN]: 'IANA reverse (RFC 5103)', [ANTREA_PEN]: 'Antrea', [ANTREA_LEGACY_PEN]: 'Antrea (legacy)',
};

export function elementType(type: ValueType): FieldType | undefined {
  return ELEMENT_TYPES[type];
}

function unitOf(name: string): string | undefined {
  if (/[oO]ctet.*Count|^bytes$/.test(name)) return 'octets';
  if (/[pP]acket.*Count|^packets$/.test(name)) return 'packets';
  if (/[tT]hroughput/.test(name)) return 'bits/s';
  return undefined;
}

/** Fields that enrichment turns into another type than their element's. */
const ENRICHED_TYPES: Record<string, { type: FieldType; note: string }> = {
  sourcePodLabels: { type: 'flattened', note: 'JSON string parsed into an object when enrichment is on' },
  destinationPodLabels: { type: 'flattened', note: 'JSON string parsed into an object when enrichment is on' },
};

const ENVELOPE: CatalogField[] = [
  { path: '@timestamp', type: 'date', source: 'envelope', origin: 'message export time (decoding.timestampSource)', description: 'When the record was exported (or the flow ended, or it was received).' },
  { path: '@version', type: 'keyword', source: 'envelope', origin: 'constant "1"', description: 'Logstash event version.' },
  { path: 'host', type: 'ip', source: 'envelope', origin: 'exporter address', description: 'Address the export message came from.' },
  { path: 'type', type: 'keyword', source: 'envelope', origin: 'decoding.type', description: 'Logstash input type (`ipfix` by default).' },
];

/** Fields from the message header, by name (the record's own, named as the codec names them). */
const HEADER: (Omit<CatalogField, 'path'> & { name: string })[] = [
  { name: 'version', type: 'short', source: 'header', origin: 'message header', description: 'Export protocol version: 5, 9 or 10 (IPFIX).' },
  { name: 'flow_seq_num', type: 'long', source: 'header', origin: 'v5/v9 header', description: 'Sequence number of the message (v5: flows, v9: packets).' },
  { name: 'flowset_id', type: 'integer', source: 'header', origin: 'set id', description: 'Template id of the record (v9 always; IPFIX with decoding.includeFlowsetId).' },
  { name: 'engine_type', type: 'short', source: 'header', origin: 'v5 header', description: 'v5 engine type.' },
  { name: 'engine_id', type: 'short', source: 'header', origin: 'v5 header', description: 'v5 engine id.' },
  { name: 'sampling_algorithm', type: 'short', source: 'header', origin: 'v5 header', description: 'v5 sampling mode.' },
  { name: 'sampling_interval', type: 'integer', source: 'header', origin: 'v5 header', description: 'v5 sampling interval.' },
  { name: 'flow_records', type: 'integer', source: 'header', origin: 'v5 header', description: 'Records in the v5 message.' },
];
const SCOPE_NAMES = ['scope_system', 'scope_interface', 'scope_line_card', 'scope_netflow_cache', 'scope_template'];

/** Fields enrichment adds, by name. */
const DERIVED: (Omit<CatalogField, 'path' | 'source'> & { name: string })[] = [
  { name: 'bytes', type: 'unsigned_long', origin: 'octetTotalCount (filter.rb rule 1)', unit: 'octets', description: 'Octets of the connection so far.' },
  { name: 'packets', type: 'unsigned_long', origin: 'packetTotalCount (filter.rb rule 1)', unit: 'packets', description: 'Packets of the connection so far.' },
  { name: 'protocolName', type: 'keyword', origin: 'protocolIdentifier (rule 2)', description: 'Protocol name (TCP, UDP, ICMP, IPv6-ICMP, SCTP...) or the number as text. protocolIdentifier stays a number.' },
  { name: 'flowTypeStr', type: 'keyword', origin: 'flowType (rule 3)', description: 'Intra-Node, Inter-Node, To External, From External.' },
  { name: 'ingressNetworkPolicyRuleActionStr', type: 'keyword', origin: 'ingressNetworkPolicyRuleAction (rule 4)', description: 'No Action, Allow, Drop, Reject.' },
  { name: 'egressNetworkPolicyRuleActionStr', type: 'keyword', origin: 'egressNetworkPolicyRuleAction (rule 4)', description: 'No Action, Allow, Drop, Reject.' },
  { name: 'sourceIP', type: 'ip', origin: 'sourceIPv6Address, else sourceIPv4Address (rule 5)', description: 'Source address of either family.' },
  { name: 'destinationIP', type: 'ip', origin: 'destinationIPv6Address, else destinationIPv4Address (rule 5)', description: 'Destination address of either family.' },
  { name: 'originalExporterIP', type: 'ip', origin: 'originalExporterIPv4Address, else originalExporterIPv6Address (Proxy mode)', description: 'The Antrea agent whose record the Flow Aggregator forwarded in Proxy mode (`host` is the Flow Aggregator); absent in Aggregate mode.' },
  { name: 'flowKey', type: 'keyword', origin: 'rule 6', description: 'flowKeyPodToPod, or flowKeyPodToExternal for flows to external addresses.' },
  { name: 'flowKeyPodToPod', type: 'keyword', origin: 'rule 6', description: '`<sourcePod>:<sourcePort>-><destinationPod>:<destinationPort> <protocol>` (flowType not 3).' },
  { name: 'flowKeyPodToService', type: 'keyword', origin: 'rule 6', description: '`<sourcePod>:<sourcePort>-><servicePortName>:<servicePort> <protocol>` (the legacy filter left out this `:`).' },
  { name: 'flowKeyPodToExternal', type: 'keyword', origin: 'rule 6', description: '`<sourcePod>:<sourcePort>-><destinationIP>:<destinationPort> <protocol>` (flowType 3).' },
  { name: 'ingressNetworkPolicyTypeStr', type: 'keyword', origin: 'ingressNetworkPolicyType (rule 8)', description: 'K8s NetworkPolicy, Antrea NetworkPolicy, Antrea ClusterNetworkPolicy, K8s ClusterNetworkPolicy; N/A for no policy (type 0), as the policy name.' },
  { name: 'egressNetworkPolicyTypeStr', type: 'keyword', origin: 'egressNetworkPolicyType (rule 8)', description: 'As ingressNetworkPolicyTypeStr.' },
];

/**
 * The ECS fields (document/ecs.ts, `document.ecs`), real fields at the root beside the target object, with ECS's
 * types. The counters are the delta counters, so sums over any time range are the traffic in it.
 */
export const ECS_FIELDS: CatalogField[] = ([
  ['event.kind', 'keyword', 'constant "event"', 'ECS: the record is an event.'],
  ['event.category', 'keyword', 'constant ["network"]; ["network", "session"] for biflows (biflowDirection)', 'ECS category, as Filebeat\'s netflow input.'],
  ['event.type', 'keyword', '["connection"], plus "allowed" or "denied" from Antrea\'s rule actions', 'Absent for options records.'],
  ['event.action', 'keyword', '"netflow_flow" or "netflow_options"', 'As Filebeat\'s netflow input.'],
  ['event.start', 'date', 'flowStart{Nano,Micro,Milli}seconds, flowStartSeconds, first_switched (the finest present)', 'When the flow started.'],
  ['event.end', 'date', 'flowEnd{Nano,Micro,Milli}seconds, flowEndSeconds, last_switched (the finest present)', 'When the flow ended (its last packet so far).'],
  ['event.duration', 'long', 'event.end - event.start, else flowDurationMilliseconds/Microseconds', 'Nanoseconds.'],
  ['source.ip', 'ip', 'sourceIPv6Address if set, else sourceIPv4Address (as ipfix.sourceIP)', 'Swapped with destination for biflows initiated by the reverse side (biflowDirection 2).'],
  ['source.port', 'long', 'sourceTransportPort', ''],
  ['source.bytes', 'long', 'octetDeltaCount, else octetTotalCount, else initiatorOctets', 'Octets sent by the source in this report.'],
  ['source.packets', 'long', 'packetDeltaCount, else packetTotalCount, else initiatorPackets', 'Packets sent by the source in this report.'],
  ['destination.ip', 'ip', 'destinationIPv6Address if set, else destinationIPv4Address (as ipfix.destinationIP)', ''],
  ['destination.port', 'long', 'destinationTransportPort', ''],
  ['destination.bytes', 'long', 'reverseOctetDeltaCount, else reverseOctetTotalCount, else responderOctets', 'Octets sent by the destination (RFC 5103 reverse direction).'],
  ['destination.packets', 'long', 'reversePacketDeltaCount, else reversePacketTotalCount, else responderPackets', 'Packets sent by the destination.'],
  ['network.transport', 'keyword', 'protocolIdentifier', 'Lowercase IANA keyword: tcp, udp, icmp, ipv6-icmp, sctp, gre, esp, ah, igmp (absent for others).'],
  ['network.iana_number', 'keyword', 'protocolIdentifier', 'The protocol number as text (ECS keyword).'],
  ['network.type', 'keyword', 'family of the addresses', 'ipv4 or ipv6.'],
  ['network.bytes', 'long', 'source.bytes + destination.bytes', 'Both directions.'],
  ['network.packets', 'long', 'source.packets + destination.packets', 'Both directions.'],
  ['network.community_id', 'keyword', 'Community ID v1, seed 0, of addresses, ports (ICMP type and code) and protocol', 'Correlates with Zeek, Suricata and Elastic Security.'],
  ['related.ip', 'ip', 'source.ip and destination.ip', ''],
  ['observer.ip', 'ip', 'originalExporterIPv4/IPv6Address (Flow Aggregator in Proxy mode), else the exporter address', 'Who observed the flow.'],
] as const).map(([path, type, origin, description]) => ({ path, type, source: 'ecs', origin, description }));

function elementField(target: string, e: InformationElement, v9 = false): CatalogField | undefined {
  // The codec's `*_switched` v9 names (netflow.yaml) are rendered as absolute times, whatever their type.
  const base = v9 && e.name.endsWith('_switched') ? 'date' : elementType(e.type);
  if (!base) return undefined;
  const enriched = ENRICHED_TYPES[e.name];
  const field: CatalogField = {
    path: `${target}.${e.name}`,
    type: enriched?.type ?? base,
    source: 'element',
    origin: v9 ? `NetFlow v9 field type ${e.id} ${e.type}` : `${ENTERPRISES[e.enterprise] ?? `enterprise ${e.enterprise}`} ${e.enterprise}/${e.id} ${e.type}`,
    description: enriched?.note ?? '',
  };
  const unit = unitOf(e.name);
  if (unit) field.unit = unit;
  if (e.enterprise === ANTREA_PEN && (e.id === 145 || e.id === 146)) {
    field.description = 'Exported by the Flow Aggregator; derived by enrichment when absent (octet delta × 8 / interval).';
  }
  if (['ingressNetworkPolicyName', 'ingressNetworkPolicyNamespace', 'egressNetworkPolicyName', 'egressNetworkPolicyNamespace'].includes(e.name)) {
    field.description = '"N/A" when empty (enrichment, rule 7).';
  }
  const properties = SPECIAL_PROPERTIES[e.type];
  if (properties) field.properties = properties;
  return field;
}

/**
 * Every field a document can carry with this registry and target. Unknown elements (`ie_<enterprise>_<id>`,
 * hex) are not listed one by one: they are keywords, matched by pattern.
 */
export function fieldCatalog(registry: ElementRegistry = ElementRegistry.builtin(), target = 'ipfix'): CatalogField[] {
  const fields: CatalogField[] = [...ENVELOPE];
  for (const { name, ...h } of HEADER) fields.push({ path: `${target}.${name}`, ...h });
  for (const name of SCOPE_NAMES) {
    fields.push({ path: `${target}.${name}`, type: 'unsigned_long', source: 'header', origin: 'v9 options template scope', description: 'Scope of a v9 options record.' });
  }
  const elements = registry.ipfixElements();
  const forward = elements.filter((e) => e.enterprise === 0);
  const reverse = forward.map((e) => registry.ipfixElement(REVERSE_PEN, e.id)).filter((e): e is InformationElement => !!e);
  const byName = new Map<string, CatalogField>();
  // NetFlow v9 field types after the IPFIX elements: most share their names; vendor v9 types add theirs.
  const netflow = registry.netflowElements().map((e) => ({ e, v9: true }));
  for (const { e, v9 } of [...[...elements, ...reverse].map((x) => ({ e: x, v9: false })), ...netflow]) {
    const field = elementField(target, e, v9);
    // One name, one type: a name defined twice (e.g. throughput, Antrea and derived) keeps its first definition.
    if (field && !byName.has(field.path)) byName.set(field.path, field);
  }
  fields.push(...byName.values());
  for (const { name, ...d } of DERIVED) {
    const path = `${target}.${name}`;
    if (!byName.has(path)) fields.push({ path, source: 'derived', ...d });
  }
  fields.push(...ECS_FIELDS);
  return fields;
}

/** Pattern of the names unknown elements are kept under (as hex): map them as keyword. */
export const UNKNOWN_ELEMENT_PATTERN = 'ie_*';
