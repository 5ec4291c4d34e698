import type { DecodedRecord, FieldChoices, FieldCopies, TextRules } from '../decoders/template.js';
import type { FlowDocument } from '../document/document.js';
import { parseIsoMs } from '../shared/iso-time.js';
import { ThroughputTracker } from './throughput.js';

/**
 * The enrichment Antrea's Logstash filter.rb did, rule by rule, with its defects fixed:
 * protocol names go to their own field (filter.rb overwrote protocolIdentifier, giving it two types),
 * the Pod-to-Service key has its ':' before the port, throughput never divides by zero, is in bits per second
 * like the exporter's own throughput elements (which are preferred when present), and its state is bounded.
 * Every field it adds is listed in the field catalog (document/catalog.ts).
 */

const PROTOCOL_NAMES: Record<number, string> = {
  1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'IPv6-ICMP', 132: 'SCTP',
};
const FLOW_TYPES: Record<number, string> = { 1: 'Intra-Node', 2: 'Inter-Node', 3: 'To External', 4: 'From External' };
const RULE_ACTIONS: Record<number, string> = { 0: 'No Action', 1: 'Allow', 2: 'Drop', 3: 'Reject' };
// 0 is "no policy" (the record's policy name and namespace are empty, written "N/A" by rule 7): "N/A" too, so
// that panels by policy type and by policy name show the same bucket for unprotected traffic, not a type "0".
const POLICY_TYPES: Record<number, string> = {
  0: 'N/A', 1: 'K8s NetworkPolicy', 2: 'Antrea NetworkPolicy', 3: 'Antrea ClusterNetworkPolicy', 4: 'K8s ClusterNetworkPolicy',
};
const FLOW_TYPE_TO_EXTERNAL = 3;

/** Every field enrichment may add: reserved in compiled records so that adding them keeps objects fast. */
export const ENRICHMENT_FIELDS = [
  'bytes', 'packets', 'protocolName', 'flowTypeStr', 'ingressNetworkPolicyRuleActionStr', 'egressNetworkPolicyRuleActionStr',
  'ingressNetworkPolicyTypeStr', 'egressNetworkPolicyTypeStr', 'sourceIP', 'destinationIP', 'flowKey', 'flowKeyPodToPod',
  'flowKeyPodToService', 'flowKeyPodToExternal', 'throughput', 'reverseThroughput', 'originalExporterIP',
] as const;

/** Enrichment fields that hold the very value of another (see FieldCopies): sourceIP is the record's own address, and so on. */
export const ENRICHMENT_COPIES: FieldCopies = {
  sourceIP: ['sourceIPv6Address', 'sourceIPv4Address'],
  destinationIP: ['destinationIPv6Address', 'destinationIPv4Address'],
  flowKeyPodToPod: ['flowKey'],
  flowKeyPodToExternal: ['flowKey'],
};

/** Enrichment fields that hold a name from the tables above (see FieldChoices): numbers not in them are written as digits. */
export const ENRICHMENT_CHOICES: FieldChoices = {
  protocolName: Object.values(PROTOCOL_NAMES),
  flowTypeStr: Object.values(FLOW_TYPES),
  ingressNetworkPolicyRuleActionStr: Object.values(RULE_ACTIONS),
  egressNetworkPolicyRuleActionStr: Object.values(RULE_ACTIONS),
  ingressNetworkPolicyTypeStr: Object.values(POLICY_TYPES),
  egressNetworkPolicyTypeStr: Object.values(POLICY_TYPES),
};

/**
 * filter.rb's rules for template fields, applied as records are decoded (see TextRules): a policy's empty name and
 * namespace read "N/A" (rule 7), Pod labels are JSON objects, written out as received (its json filter parsed them).
 */
export const ENRICHMENT_TEXT_RULES: TextRules = {
  emptyAs: {
    ingressNetworkPolicyName: 'N/A', ingressNetworkPolicyNamespace: 'N/A', egressNetworkPolicyName: 'N/A', egressNetworkPolicyNamespace: 'N/A',
  },
  jsonObjects: ['sourcePodLabels', 'destinationPodLabels'],
};

export interface EnrichmentOptions {
  throughputMaxKeys: number;
  throughputIdleTimeoutMs: number;
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';
const toNumber = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;
const timeMs = (value: unknown): number | undefined => (typeof value === 'string' ? parseIsoMs(value) : undefined);

export class AntreaEnricher {
  private readonly throughput: ThroughputTracker;

  constructor(options: EnrichmentOptions) {
    this.throughput = new ThroughputTracker(options.throughputMaxKeys, options.throughputIdleTimeoutMs);
  }

  enrich(doc: FlowDocument, nowMs: number): void {
    const f = doc.fields;
    const host = doc.host;
    if (f.octetTotalCount !== undefined) f.bytes = f.octetTotalCount;
    if (f.packetTotalCount !== undefined) f.packets = f.packetTotalCount;
    const protocol = f.protocolIdentifier;
    const protocolName = typeof protocol === 'number' ? (PROTOCOL_NAMES[protocol] ?? String(protocol)) : undefined;
    if (protocolName !== undefined) f.protocolName = protocolName;
    if (typeof f.flowType === 'number') f.flowTypeStr = FLOW_TYPES[f.flowType] ?? String(f.flowType);
    if (typeof f.ingressNetworkPolicyRuleAction === 'number') {
      f.ingressNetworkPolicyRuleActionStr = RULE_ACTIONS[f.ingressNetworkPolicyRuleAction] ?? String(f.ingressNetworkPolicyRuleAction);
    }
    if (typeof f.egressNetworkPolicyRuleAction === 'number') {
      f.egressNetworkPolicyRuleActionStr = RULE_ACTIONS[f.egressNetworkPolicyRuleAction] ?? String(f.egressNetworkPolicyRuleAction);
    }
    if (typeof f.ingressNetworkPolicyType === 'number') {
      f.ingressNetworkPolicyTypeStr = POLICY_TYPES[f.ingressNetworkPolicyType] ?? String(f.ingressNetworkPolicyType);
    }
    if (typeof f.egressNetworkPolicyType === 'number') {
      f.egressNetworkPolicyTypeStr = POLICY_TYPES[f.egressNetworkPolicyType] ?? String(f.egressNetworkPolicyType);
    }
    const sourceIP = nonEmpty(f.sourceIPv6Address) ? f.sourceIPv6Address : f.sourceIPv4Address;
    const destinationIP = nonEmpty(f.destinationIPv6Address) ? f.destinationIPv6Address : f.destinationIPv4Address;
    if (sourceIP !== undefined) f.sourceIP = sourceIP;
    if (destinationIP !== undefined) f.destinationIP = destinationIP;
    // Proxy mode (Antrea v2.3+): the Flow Aggregator forwards agents' records with the agent as the original
    // exporter, filling the element of the other family with the zero address.
    const v4 = f.originalExporterIPv4Address;
    const v6 = f.originalExporterIPv6Address;
    const originalExporter = nonEmpty(v4) && v4 !== '0.0.0.0' ? v4 : nonEmpty(v6) && v6 !== '::' ? v6 : undefined;
    if (originalExporter !== undefined) f.originalExporterIP = originalExporter;

    // Keys need the whole 5-tuple; records without it (test messages, partial templates) get none rather than "undefined".
    const hasPorts = f.sourceTransportPort !== undefined && f.destinationTransportPort !== undefined && protocolName !== undefined;
    if (hasPorts && nonEmpty(f.sourcePodName)) {
      const source = `${f.sourcePodName}:${f.sourceTransportPort}`;
      if (nonEmpty(f.destinationServicePortName)) {
        f.flowKeyPodToService = `${source}->${f.destinationServicePortName}:${f.destinationServicePort} ${protocolName}`;
      }
      if (f.flowType !== FLOW_TYPE_TO_EXTERNAL) {
        f.flowKey = f.flowKeyPodToPod = `${source}->${f.destinationPodName}:${f.destinationTransportPort} ${protocolName}`;
      } else {
        f.flowKey = f.flowKeyPodToExternal = `${source}->${destinationIP}:${f.destinationTransportPort} ${protocolName}`;
      }
    }

    // The Flow Aggregator exports throughput itself (bits/s); derive it only for records without it (agent records).
    // Per exporting agent: in Proxy mode both Nodes of an inter-Node flow report it through the one Flow Aggregator.
    if (f.throughput === undefined && hasPorts) {
      this.deriveThroughput(f, originalExporter ?? host, sourceIP, destinationIP, protocolName, nowMs);
    }
  }

  /** Forgets throughput state of flows not seen for the idle timeout. */
  expire(nowMs: number): void {
    this.throughput.expire(nowMs);
  }

  private deriveThroughput(
    f: DecodedRecord, host: string, sourceIP: unknown, destinationIP: unknown, protocolName: string | undefined, nowMs: number,
  ): void {
    const endMs = timeMs(f.flowEndSeconds);
    if (endMs === undefined || Number.isNaN(endMs)) return;
    const flowKey = f.flowKey ?? `${sourceIP}:${f.sourceTransportPort}->${destinationIP}:${f.destinationTransportPort} ${protocolName}`;
    const seconds = this.throughput.interval(`${host}|${flowKey}`, timeMs(f.flowStartSeconds), endMs, nowMs);
    if (seconds === undefined) return;
    const octets = toNumber(f.octetDeltaCountFromSourceNode ?? f.octetDeltaCount);
    const reverseOctets = toNumber(f.reverseOctetDeltaCountFromSourceNode ?? f.reverseOctetDeltaCount);
    if (octets !== undefined) f.throughput = Math.round((octets * 8) / seconds);
    if (reverseOctets !== undefined) f.reverseThroughput = Math.round((reverseOctets * 8) / seconds);
  }
}
