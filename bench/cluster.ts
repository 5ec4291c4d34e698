// Records like the ones a real cluster's Antrea sends, for the benchmarks: a cluster of Nodes, Namespaces,
// Deployments and Services with the names Kubernetes gives them (full length: Deployment, ReplicaSet hash and
// Pod suffix; cloud Node names), Pod labels as Helm charts set them, NetworkPolicies with rule names, and a mix
// of flow types (Pod-to-Pod intra- and inter-Node, Pod-to-Service, To External) in IPv4 and IPv6. Every
// connection is reported again and again with growing counters, as the Flow Aggregator does each active timeout.
// Records are packed into messages as go-ipfix packs them: as many as fit in one MTU-sized datagram.
// Deterministic (seeded), so that every run measures the same bytes.
import { agentLayout, aggregatorLayout, dataSet, ipfixMessage, templateSet, type LayoutField } from '../test/support/antrea-encoder.js';
import { random as seededRandom } from '../test/support/random.js';

/** IPFIX over UDP: a 1,500-octet MTU less the IPv4 and UDP headers. */
export const MAX_MESSAGE_OCTETS = 1500 - 20 - 8;

const ALPHANUMERIC = 'bcdfghjklmnpqrstvwxz2456789'; // the alphabet Kubernetes uses for generated name suffixes

interface Pod {
  name: string;
  namespace: string;
  node: string;
  ipv4: string;
  ipv6: string;
  labels: string;
  app: string;
}

interface Service {
  namespace: string;
  name: string;
  portName: string;
  port: number;
  clusterIPv4: string;
  clusterIPv6: string;
  endpoints: Pod[];
}

interface Connection {
  source: Pod;
  kind: 'intra-node' | 'inter-node' | 'service' | 'external';
  destination?: Pod;
  service?: Service;
  externalIPv4?: string;
  externalIPv6?: string;
  sourcePort: number;
  destinationPort: number;
  protocol: number;
  family: 4 | 6;
  ingressPolicy?: Policy;
  egressPolicy?: Policy;
  startSecs: number;
  octetsPerReport: number;
  reports: number;
}

interface Policy {
  name: string;
  namespace: string;
  type: number;
  ruleName: string;
  action: number;
}

const NAMESPACES = ['payments-prod', 'checkout', 'catalog-service', 'shop-frontend', 'identity', 'recommendations',
  'order-processing', 'notifications', 'monitoring', 'logging', 'ingress-nginx', 'data-pipeline'];
const APPS = ['api-gateway', 'checkout-service', 'payment-processor', 'inventory-service', 'product-catalog',
  'recommendation-engine', 'user-profile', 'order-worker', 'email-dispatcher', 'prometheus-server', 'fluent-bit',
  'nginx-ingress-controller', 'kafka-consumer', 'redis-cache', 'postgres-replica', 'search-indexer'];
const PORTS = [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9090 }, { name: 'https', port: 8443 }, { name: 'metrics', port: 9102 },
  { name: 'redis', port: 6379 }, { name: 'postgres', port: 5432 }];
const TCP_STATES = ['ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_SENT'];

export interface Cluster {
  connections: Connection[];
  clusterId: string;
}

export function makeCluster(seed = 1, options: { nodes?: number; pods?: number; connections?: number } = {}): Cluster {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const suffix = (length: number) => Array.from({ length }, () => pick([...ALPHANUMERIC])).join('');
  const hex = (length: number) => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
  const nodeCount = options.nodes ?? 24;
  const nodes = Array.from({ length: nodeCount }, (_, i) => `ip-10-0-${16 + (i >> 4)}-${(i * 37) % 250 + 4}.ec2.internal`);
  const pods: Pod[] = [];
  for (let i = 0; i < (options.pods ?? 600); i++) {
    const namespace = NAMESPACES[i % NAMESPACES.length];
    const app = pick(APPS);
    const hash = suffix(10);
    const version = `${1 + Math.floor(random() * 3)}.${Math.floor(random() * 20)}.${Math.floor(random() * 10)}`;
    // What a Helm chart's Deployment gives its Pods, with the ReplicaSet's pod-template-hash.
    const labels = random() < 0.5
      ? { app, 'pod-template-hash': hash }
      : { 'app.kubernetes.io/name': app, 'app.kubernetes.io/version': version, 'pod-template-hash': hash };
    const nodeIndex = Math.floor(random() * nodeCount);
    pods.push({
      name: `${app}-${hash}-${suffix(5)}`, namespace, node: nodes[nodeIndex], app,
      ipv4: `10.244.${nodeIndex}.${2 + (i % 250)}`, ipv6: `fd00:10:244:${nodeIndex.toString(16)}::${(2 + i).toString(16)}`,
      labels: JSON.stringify(labels),
    });
  }
  const services: Service[] = [];
  for (let i = 0; i < 80; i++) {
    const endpoint = pods[Math.floor(random() * pods.length)];
    const port = pick(PORTS);
    const endpoints = pods.filter((p) => p.app === endpoint.app && p.namespace === endpoint.namespace).slice(0, 6);
    services.push({
      namespace: endpoint.namespace, name: endpoint.app, portName: `${endpoint.namespace}/${endpoint.app}:${port.name}`, port: port.port,
      clusterIPv4: `10.96.${i >> 4}.${10 + i}`, clusterIPv6: `fd00:10:96::${(0x100 + i).toString(16)}`, endpoints,
    });
  }
  const policy = (namespace: string, side: 'ingress' | 'egress'): Policy | undefined => {
    const r = random();
    if (r < 0.25) return undefined;
    const antrea = r < 0.6;
    return {
      name: antrea ? `allow-${pick(APPS)}` : `default-deny-${side}`,
      namespace: r < 0.8 ? namespace : '',
      type: antrea ? (r < 0.8 ? 2 : 3) : 1,
      ruleName: antrea ? `${side}-rule-${Math.floor(random() * 8)}` : '',
      action: random() < 0.97 ? 1 : pick([2, 3]),
    };
  };
  const connections: Connection[] = [];
  for (let i = 0; i < (options.connections ?? 20_000); i++) {
    const source = pods[Math.floor(random() * pods.length)];
    const r = random();
    const kind = r < 0.2 ? 'intra-node' : r < 0.55 ? 'inter-node' : r < 0.9 ? 'service' : 'external';
    const service = kind === 'service' ? pick(services) : undefined;
    let destination: Pod | undefined;
    if (kind === 'intra-node') destination = pods.find((p) => p.node === source.node && p !== source) ?? pick(pods);
    else if (kind === 'inter-node') destination = pick(pods);
    else if (service) destination = service.endpoints.length > 0 ? pick(service.endpoints) : pick(pods);
    const port = pick(PORTS);
    connections.push({
      source, kind, destination, service,
      externalIPv4: kind === 'external' ? `${pick([34, 52, 142, 151, 185])}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}` : undefined,
      externalIPv6: kind === 'external' ? `2a00:1450:4007:80${Math.floor(random() * 10)}::${hex(4)}` : undefined,
      sourcePort: 32768 + Math.floor(random() * 28000),
      destinationPort: service ? service.port : kind === 'external' ? 443 : port.port,
      protocol: random() < 0.92 ? 6 : 17,
      family: random() < 0.8 ? 4 : 6,
      ingressPolicy: destination ? policy(destination.namespace, 'ingress') : undefined,
      egressPolicy: policy(source.namespace, 'egress'),
      startSecs: 1_764_000_000 + Math.floor(random() * 3600),
      octetsPerReport: Math.floor(200 + random() ** 3 * 50_000_000),
      reports: 0,
    });
  }
  return { connections, clusterId: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}` };
}

const ACTIVE_TIMEOUT_SECS = 60;

/** The next report of a connection, as the Flow Aggregator's record fields (names as in antrea-encoder's layouts). */
export function report(cluster: Cluster, c: Connection): Record<string, unknown> {
  c.reports++;
  const n = c.reports;
  const end = c.startSecs + n * ACTIVE_TIMEOUT_SECS;
  const octets = BigInt(c.octetsPerReport) * BigInt(n);
  const packets = BigInt(Math.ceil(c.octetsPerReport / 900)) * BigInt(n);
  const reverseOctets = octets / 3n;
  const reversePackets = packets / 2n + 1n;
  const delta = BigInt(c.octetsPerReport);
  const deltaPackets = BigInt(Math.ceil(c.octetsPerReport / 900));
  const v6 = c.family === 6;
  const d = c.destination;
  const external = c.kind === 'external';
  const bits = (octetsPerInterval: bigint) => (octetsPerInterval * 8n) / BigInt(ACTIVE_TIMEOUT_SECS);
  return {
    flowStartSeconds: c.startSecs, flowEndSeconds: end, flowEndReason: 2, sourceTransportPort: c.sourcePort,
    destinationTransportPort: c.destinationPort, protocolIdentifier: c.protocol, packetTotalCount: packets, octetTotalCount: octets,
    packetDeltaCount: deltaPackets, octetDeltaCount: delta,
    sourceIPv4Address: c.source.ipv4, destinationIPv4Address: external ? c.externalIPv4 : c.service ? c.service.clusterIPv4 : d!.ipv4,
    sourceIPv6Address: c.source.ipv6, destinationIPv6Address: external ? c.externalIPv6 : c.service ? c.service.clusterIPv6 : d!.ipv6,
    reversePacketTotalCount: reversePackets, reverseOctetTotalCount: reverseOctets, reversePacketDeltaCount: deltaPackets / 2n + 1n,
    reverseOctetDeltaCount: delta / 3n,
    sourcePodName: c.source.name, sourcePodNamespace: c.source.namespace, sourceNodeName: c.source.node,
    destinationPodName: d && !external ? d.name : '', destinationPodNamespace: d && !external ? d.namespace : '',
    destinationNodeName: d && !external ? d.node : '',
    destinationServicePort: c.service?.port ?? 0, destinationServicePortName: c.service?.portName ?? '',
    ingressNetworkPolicyName: c.ingressPolicy?.name ?? '', ingressNetworkPolicyNamespace: c.ingressPolicy?.namespace ?? '',
    ingressNetworkPolicyType: c.ingressPolicy?.type ?? 0, ingressNetworkPolicyRuleName: c.ingressPolicy?.ruleName ?? '',
    ingressNetworkPolicyRuleAction: c.ingressPolicy?.action ?? 0,
    egressNetworkPolicyName: c.egressPolicy?.name ?? '', egressNetworkPolicyNamespace: c.egressPolicy?.namespace ?? '',
    egressNetworkPolicyType: c.egressPolicy?.type ?? 0, egressNetworkPolicyRuleName: c.egressPolicy?.ruleName ?? '',
    egressNetworkPolicyRuleAction: c.egressPolicy?.action ?? 0,
    tcpState: c.protocol === 6 ? TCP_STATES[n % TCP_STATES.length] : '', flowType: external ? 3 : c.kind === 'intra-node' ? 1 : 2,
    egressName: external ? 'egress-static-ip' : '', egressIP: external ? '203.0.113.10' : '', egressNodeName: external ? c.source.node : '',
    proxySnatPort: 0, proxySnatIPv4: '0.0.0.0', proxySnatIPv6: '::',
    destinationClusterIPv4: c.service?.clusterIPv4 ?? '0.0.0.0', destinationServiceIPv4: c.service?.clusterIPv4 ?? '0.0.0.0',
    destinationClusterIPv6: c.service?.clusterIPv6 ?? '::', destinationServiceIPv6: c.service?.clusterIPv6 ?? '::',
    packetTotalCountFromSourceNode: packets, packetTotalCountFromDestinationNode: external ? 0 : packets,
    octetTotalCountFromSourceNode: octets, octetTotalCountFromDestinationNode: external ? 0 : octets,
    packetDeltaCountFromSourceNode: deltaPackets, packetDeltaCountFromDestinationNode: external ? 0 : deltaPackets,
    octetDeltaCountFromSourceNode: delta, octetDeltaCountFromDestinationNode: external ? 0 : delta,
    reversePacketTotalCountFromSourceNode: reversePackets, reversePacketTotalCountFromDestinationNode: external ? 0 : reversePackets,
    reverseOctetTotalCountFromSourceNode: reverseOctets, reverseOctetTotalCountFromDestinationNode: external ? 0 : reverseOctets,
    reversePacketDeltaCountFromSourceNode: deltaPackets / 2n + 1n, reversePacketDeltaCountFromDestinationNode: external ? 0 : deltaPackets / 2n + 1n,
    reverseOctetDeltaCountFromSourceNode: delta / 3n, reverseOctetDeltaCountFromDestinationNode: external ? 0 : delta / 3n,
    flowEndSecondsFromSourceNode: end, flowEndSecondsFromDestinationNode: external ? 0 : end,
    throughput: bits(delta), throughputFromSourceNode: bits(delta), throughputFromDestinationNode: external ? 0 : bits(delta),
    reverseThroughput: bits(delta / 3n), reverseThroughputFromSourceNode: bits(delta / 3n),
    reverseThroughputFromDestinationNode: external ? 0 : bits(delta / 3n),
    sourcePodLabels: c.source.labels, destinationPodLabels: d && !external ? d.labels : '', clusterId: cluster.clusterId,
  };
}

export type Exporter = 'aggregator' | 'agent';

export interface Stream {
  /** Template messages, one per template (sent first, and again as refreshes). */
  templates: Buffer[];
  /** Data messages, each filled up to MAX_MESSAGE_OCTETS. */
  messages: Buffer[];
  /** Records in each data message (for sequence numbers and counting). */
  recordsPerMessage: number[];
  records: number;
}

/**
 * `records` reports of the cluster's connections as one exporter's IPFIX stream: templates 256 (IPv4) and 257
 * (IPv6) of the Flow Aggregator's aggregate layout (or the agent's), data messages filled as go-ipfix fills them
 * (one set per template, records added while the message stays within the MTU). Sequence numbers count data
 * records (RFC 7011) from 0.
 */
export function ipfixStream(cluster: Cluster, exporter: Exporter, records: number, domain = 1): Stream {
  const layouts: Record<4 | 6, LayoutField[]> = exporter === 'aggregator'
    ? { 4: aggregatorLayout(4), 6: aggregatorLayout(6) }
    : { 4: agentLayout(4), 6: agentLayout(6) };
  const templateIds = { 4: 256, 6: 257 } as const;
  const exportTimeSecs = 1_764_003_600;
  const templates = ([4, 6] as const).map((f) => ipfixMessage({ exportTimeSecs, sequence: 0, domain }, [templateSet(templateIds[f], layouts[f])]));
  const messages: Buffer[] = [];
  const recordsPerMessage: number[] = [];
  let sequence = 0;
  // One set per template, as go-ipfix builds them: records of each family wait in their own message until it is full.
  const pending: Record<4 | 6, Record<string, unknown>[]> = { 4: [], 6: [] };
  const pendingOctets = { 4: 0, 6: 0 };
  const flush = (f: 4 | 6) => {
    if (pending[f].length === 0) return;
    messages.push(ipfixMessage({ exportTimeSecs, sequence, domain }, [dataSet(templateIds[f], layouts[f], pending[f])]));
    recordsPerMessage.push(pending[f].length);
    sequence = (sequence + pending[f].length) >>> 0;
    pending[f] = [];
    pendingOctets[f] = 0;
  };
  for (let i = 0; i < records; i++) {
    const connection = cluster.connections[i % cluster.connections.length];
    const f = connection.family;
    const fields = report(cluster, connection);
    const octets = dataSet(templateIds[f], layouts[f], [fields]).length - 4;
    if (16 + 4 + pendingOctets[f] + octets > MAX_MESSAGE_OCTETS) flush(f);
    pending[f].push(fields);
    pendingOctets[f] += octets;
  }
  flush(4);
  flush(6);
  return { templates, messages, recordsPerMessage, records };
}
