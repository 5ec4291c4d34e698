// A small shop running on three Nodes, as Antrea's Flow Aggregator would report it for 30 minutes: each
// connection exported once a minute as an IPFIX record (Flow Aggregator layout of
// ../shared/fixtures/antrea/ANTREA_IPFIX_LAYOUT.md), decoded by the collector's own pipeline and written as the
// documents it sends to Elasticsearch. The dashboard previews and tests draw these documents.
import { serializeDocument } from '../../collector/src/document/document.js';
import { aggregatorLayout, dataMessage, templateMessage } from '../../test/support/antrea-encoder.js';
import { decodeAll, testPipeline, udpExporter } from '../../test/support/offline.js';

/** A document as Elasticsearch stores it (_source). */
export type FlowSource = Record<string, unknown> & { '@timestamp': string };

interface Pod { namespace: string; name: string; node: string; ip: string }
interface Policy { namespace: string; name: string; type: number; rule: string; action: number }
interface Connection {
  source: Pod;
  /** A Pod, or an external address. */
  destination: Pod | string;
  service?: { portName: string; port: number; clusterIP: string };
  port: number;
  protocol: 6 | 17;
  txBytesPerSecond: number;
  rxBytesPerSecond: number;
  ingress?: Policy;
  egress?: Policy;
}

export const DEMO_START_SECS = Date.UTC(2026, 10, 1, 10, 0, 0) / 1000;
export const DEMO_ROUNDS = 30;
const EXPORT_INTERVAL_SECS = 60;

const pod = (namespace: string, name: string, node: number, ip: string): Pod => ({ namespace, name, node: `k8s-node-${node}`, ip });
const P = {
  frontendA: pod('shop', 'frontend-7d9f4', 1, '10.244.1.11'),
  frontendB: pod('shop', 'frontend-2x8kq', 2, '10.244.2.12'),
  cart: pod('shop', 'cart-5c6b8', 2, '10.244.2.21'),
  catalog: pod('shop', 'catalog-9f7a2', 3, '10.244.3.31'),
  postgres: pod('shop', 'postgres-0', 3, '10.244.3.40'),
  payments: pod('payments', 'payments-6b9cd', 1, '10.244.1.50'),
  prometheus: pod('monitoring', 'prometheus-0', 1, '10.244.1.60'),
  loadgen: pod('default', 'loadgen-84c2f', 2, '10.244.2.70'),
  coredns: pod('kube-system', 'coredns-5d78c', 1, '10.244.1.2'),
  aggregator: pod('flow-aggregator', 'flow-aggregator-6f4b7', 3, '10.244.3.5'),
  collector: pod('elk-flow-collector', 'elk-flow-collector-77c9d', 2, '10.244.2.5'),
};
const svc = (portName: string, port: number, clusterIP: string) => ({ portName, port, clusterIP });
const allowFrontend: Policy = { namespace: 'shop', name: 'allow-frontend', type: 1, rule: 'ingress-0', action: 1 };
const allowCart: Policy = { namespace: 'shop', name: 'allow-cart', type: 1, rule: 'ingress-0', action: 1 };
const dbAllow: Policy = { namespace: 'shop', name: 'db-access', type: 2, rule: 'allow-shop', action: 1 };
const dbDrop: Policy = { namespace: 'shop', name: 'db-access', type: 2, rule: 'drop-others', action: 2 };
const egressAllow: Policy = { namespace: '', name: 'restrict-egress', type: 3, rule: 'allow-partners', action: 1 };
const egressReject: Policy = { namespace: '', name: 'restrict-egress', type: 3, rule: 'reject-others', action: 3 };
const frontendEgress: Policy = { namespace: 'shop', name: 'frontend-egress', type: 2, rule: 'to-backends', action: 1 };

const CONNECTIONS: Connection[] = [
  { source: P.loadgen, destination: P.frontendA, service: svc('shop/frontend:http', 80, '10.96.10.1'), port: 8080, protocol: 6, txBytesPerSecond: 120_000, rxBytesPerSecond: 900_000, ingress: allowFrontend },
  { source: P.loadgen, destination: P.frontendB, service: svc('shop/frontend:http', 80, '10.96.10.1'), port: 8080, protocol: 6, txBytesPerSecond: 110_000, rxBytesPerSecond: 850_000, ingress: allowFrontend },
  { source: P.frontendA, destination: P.cart, service: svc('shop/cart:grpc', 7070, '10.96.10.2'), port: 7070, protocol: 6, txBytesPerSecond: 60_000, rxBytesPerSecond: 90_000, ingress: allowCart, egress: frontendEgress },
  { source: P.frontendB, destination: P.cart, service: svc('shop/cart:grpc', 7070, '10.96.10.2'), port: 7070, protocol: 6, txBytesPerSecond: 55_000, rxBytesPerSecond: 80_000, ingress: allowCart, egress: frontendEgress },
  { source: P.frontendA, destination: P.catalog, service: svc('shop/catalog:http', 80, '10.96.10.3'), port: 3550, protocol: 6, txBytesPerSecond: 30_000, rxBytesPerSecond: 400_000, egress: frontendEgress },
  { source: P.frontendB, destination: P.catalog, service: svc('shop/catalog:http', 80, '10.96.10.3'), port: 3550, protocol: 6, txBytesPerSecond: 28_000, rxBytesPerSecond: 380_000, egress: frontendEgress },
  { source: P.cart, destination: P.postgres, service: svc('shop/postgres:postgres', 5432, '10.96.10.4'), port: 5432, protocol: 6, txBytesPerSecond: 40_000, rxBytesPerSecond: 150_000, ingress: dbAllow },
  { source: P.catalog, destination: P.postgres, service: svc('shop/postgres:postgres', 5432, '10.96.10.4'), port: 5432, protocol: 6, txBytesPerSecond: 35_000, rxBytesPerSecond: 520_000, ingress: dbAllow },
  { source: P.cart, destination: P.payments, service: svc('payments/payments:https', 443, '10.96.20.1'), port: 8443, protocol: 6, txBytesPerSecond: 12_000, rxBytesPerSecond: 9_000 },
  { source: P.prometheus, destination: P.frontendA, port: 9090, protocol: 6, txBytesPerSecond: 2_000, rxBytesPerSecond: 45_000 },
  { source: P.prometheus, destination: P.cart, port: 9090, protocol: 6, txBytesPerSecond: 2_000, rxBytesPerSecond: 30_000 },
  { source: P.prometheus, destination: P.catalog, port: 9090, protocol: 6, txBytesPerSecond: 2_000, rxBytesPerSecond: 38_000 },
  { source: P.loadgen, destination: P.postgres, port: 5432, protocol: 6, txBytesPerSecond: 300, rxBytesPerSecond: 0, ingress: dbDrop },
  { source: P.payments, destination: '93.184.216.34', port: 443, protocol: 6, txBytesPerSecond: 8_000, rxBytesPerSecond: 14_000, egress: egressAllow },
  { source: P.catalog, destination: '151.101.1.69', port: 443, protocol: 6, txBytesPerSecond: 5_000, rxBytesPerSecond: 95_000 },
  { source: P.payments, destination: '203.0.113.10', port: 443, protocol: 6, txBytesPerSecond: 200, rxBytesPerSecond: 0, egress: egressReject },
  // The collector's own plumbing: every dashboard but Flow Records leaves it out.
  { source: P.frontendA, destination: P.coredns, service: svc('kube-system/kube-dns:dns', 53, '10.96.0.10'), port: 53, protocol: 17, txBytesPerSecond: 900, rxBytesPerSecond: 1_400 },
  { source: P.aggregator, destination: P.collector, service: svc('elk-flow-collector/elk-flow-collector:ipfix-tcp', 4739, '10.96.30.1'), port: 4739, protocol: 6, txBytesPerSecond: 250_000, rxBytesPerSecond: 1_000 },
];

/** The same traffic every run: a slow wave per connection instead of randomness. */
const wave = (connection: number, round: number) => 1 + 0.35 * Math.sin(round / 3 + connection * 1.7);

function record(c: Connection, index: number, round: number, totals: { tx: number; rx: number; packets: number; reversePackets: number }) {
  const exportSecs = DEMO_START_SECS + (round + 1) * EXPORT_INTERVAL_SECS;
  const tx = Math.round(c.txBytesPerSecond * EXPORT_INTERVAL_SECS * wave(index, round));
  const rx = Math.round(c.rxBytesPerSecond * EXPORT_INTERVAL_SECS * wave(index, round + 1));
  const packets = Math.max(1, Math.round(tx / 900));
  const reversePackets = rx === 0 ? 0 : Math.max(1, Math.round(rx / 1200));
  totals.tx += tx;
  totals.rx += rx;
  totals.packets += packets;
  totals.reversePackets += reversePackets;
  const dst = typeof c.destination === 'string' ? undefined : c.destination;
  const flowType = !dst ? 3 : dst.node === c.source.node ? 1 : 2;
  const policy = (side: 'ingress' | 'egress', p: Policy | undefined) => ({
    [`${side}NetworkPolicyName`]: p?.name ?? '', [`${side}NetworkPolicyNamespace`]: p?.namespace ?? '',
    [`${side}NetworkPolicyType`]: p?.type ?? 0, [`${side}NetworkPolicyRuleName`]: p?.rule ?? '', [`${side}NetworkPolicyRuleAction`]: p?.action ?? 0,
  });
  const both = (name: string, value: number) => ({ [name]: value, [`${name}FromSourceNode`]: value, [`${name}FromDestinationNode`]: value });
  return {
    flowStartSeconds: DEMO_START_SECS - 120 - index, flowEndSeconds: exportSecs, flowEndReason: 1,
    sourceTransportPort: 40000 + index, destinationTransportPort: c.port, protocolIdentifier: c.protocol,
    sourceIPv4Address: c.source.ip, destinationIPv4Address: dst?.ip ?? (c.destination as string),
    ...both('packetTotalCount', totals.packets), ...both('octetTotalCount', totals.tx), ...both('packetDeltaCount', packets), ...both('octetDeltaCount', tx),
    ...both('reversePacketTotalCount', totals.reversePackets), ...both('reverseOctetTotalCount', totals.rx),
    ...both('reversePacketDeltaCount', reversePackets), ...both('reverseOctetDeltaCount', rx),
    ...both('throughput', Math.round((tx * 8) / EXPORT_INTERVAL_SECS)), ...both('reverseThroughput', Math.round((rx * 8) / EXPORT_INTERVAL_SECS)),
    sourcePodName: c.source.name, sourcePodNamespace: c.source.namespace, sourceNodeName: c.source.node,
    destinationPodName: dst?.name ?? '', destinationPodNamespace: dst?.namespace ?? '', destinationNodeName: dst?.node ?? '',
    destinationServicePort: c.service?.port ?? 0, destinationServicePortName: c.service?.portName ?? '',
    destinationClusterIPv4: c.service?.clusterIP ?? '0.0.0.0', destinationServiceIPv4: c.service?.clusterIP ?? '0.0.0.0',
    ...policy('ingress', c.ingress), ...policy('egress', c.egress),
    tcpState: c.protocol === 6 ? 'ESTABLISHED' : '', flowType, egressName: '', egressIP: '', egressNodeName: '', proxySnatPort: 0, proxySnatIPv4: '0.0.0.0',
    flowEndSecondsFromSourceNode: exportSecs, flowEndSecondsFromDestinationNode: exportSecs,
    sourcePodLabels: JSON.stringify({ app: c.source.name.replace(/-[^-]+$/, '') }),
    destinationPodLabels: dst ? JSON.stringify({ app: dst.name.replace(/-[^-]+$/, '') }) : '',
    clusterId: '5f3c1a9e-2b7d-4c8e-9a61-0d4e7b2c9f10',
  };
}

/** The demo cluster's documents, in export order. */
export function demoDocuments(): FlowSource[] {
  const layout = aggregatorLayout(4);
  const header = (round: number, sequence: number) => ({ exportTimeSecs: DEMO_START_SECS + (round + 1) * EXPORT_INTERVAL_SECS, sequence, domain: 0 });
  const messages = [templateMessage(header(0, 0), 256, layout)];
  const totals = CONNECTIONS.map(() => ({ tx: 0, rx: 0, packets: 0, reversePackets: 0 }));
  let sequence = 0;
  for (let round = 0; round < DEMO_ROUNDS; round++) {
    const records = CONNECTIONS.map((c, i) => record(c, i, round, totals[i]));
    messages.push(dataMessage(header(round, sequence), 256, layout, records));
    sequence += records.length;
  }
  const { pipeline } = testPipeline();
  const documents = decodeAll(pipeline, messages, udpExporter('10.96.40.1', 4739));
  return documents.map((d) => JSON.parse(serializeDocument(d, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' })) as FlowSource);
}
