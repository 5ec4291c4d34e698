import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeDocument } from '../collector/src/document/document.js';
import { udpDatagrams } from '../collector/src/pcap/pcap.js';
import { agentLayout, aggregatorLayout, aggregatorRecord, dataMessage, templateMessage, type LayoutField } from './support/antrea-encoder.js';
import { ANTREA, counter, decodeAll, testPipeline } from './support/offline.js';

const doc = (d: ReturnType<typeof decodeAll>[number]) => JSON.parse(serializeDocument(d, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }));
const goIpfix = (name: string) => readFileSync(`${ANTREA}go-ipfix-test-messages/${name}`);

describe('go-ipfix messages (an independent encoder of Antrea records)', () => {
  it('decodes the template with the varlen Antrea IE sourcePodName and its data record', () => {
    const { pipeline } = testPipeline({ enrichment: undefined, includeFlowsetId: false });
    const docs = decodeAll(pipeline, [goIpfix('validTemplatePacket.dat'), goIpfix('validDataPacket.dat')]).map(doc);
    expect(docs).toEqual([
      {
        '@timestamp': new Date(0x5f9a6c12 * 1000).toISOString(),
        '@version': '1',
        host: '192.0.2.1',
        type: 'ipfix',
        ipfix: { version: 10, sourceIPv4Address: '1.2.3.4', destinationIPv4Address: '5.6.7.8', sourcePodName: 'pod1' },
      },
    ]);
  });

  it('decodes the IPv6 template and record', () => {
    const { pipeline } = testPipeline({ enrichment: undefined });
    const [record] = decodeAll(pipeline, [goIpfix('validTemplatePacketIPv6.dat'), goIpfix('validDataPacketIPv6.dat')]).map(doc);
    expect(record.ipfix).toEqual({
      version: 10,
      flowset_id: 256,
      sourceIPv6Address: '2001:0:3238:dfe1:63::fefb',
      destinationIPv6Address: '2001:0:3238:dfe1:63::fefb',
    });
  });

  it('decodes the pcap of the four valid messages from one exporter session', () => {
    const { pipeline } = testPipeline({ enrichment: undefined });
    const messages = udpDatagrams(goIpfix('go-ipfix_collector_test_messages.pcap')).map((d) => d.payload);
    const docs = decodeAll(pipeline, messages).map(doc);
    expect(docs.map((d) => d.ipfix.sourcePodName ?? d.ipfix.sourceIPv6Address)).toEqual(['pod1', '2001:0:3238:dfe1:63::fefb']);
  });

  it('rejects and counts the message with the wrong version', async () => {
    const { pipeline, metrics } = testPipeline();
    expect(decodeAll(pipeline, [goIpfix('invalidTemplatePacketWrongVersion.dat')])).toEqual([]);
    expect(await counter(metrics, 'elkfc_decode_errors_total')).toBe(1);
    expect(pipeline.session.stats().templates).toBe(0);
  });
});

const header = (sequence: number, exportTimeSecs = 1_700_000_100) => ({ exportTimeSecs, sequence, domain: 7 });

function roundTrip(layout: LayoutField[], records: Record<string, unknown>[]) {
  const { pipeline, metrics } = testPipeline();
  const docs = decodeAll(pipeline, [templateMessage(header(0), 300, layout), dataMessage(header(0), 300, layout, records)]).map(doc);
  return { docs, metrics };
}

describe('Antrea records in both layouts', () => {
  for (const family of [4, 6] as const) {
    it(`Flow Aggregator, IPv${family}: every IE decodes and enriches`, () => {
      const record = aggregatorRecord(3);
      const { docs } = roundTrip(aggregatorLayout(family), [record]);
      const f = docs[0].ipfix;
      const sourceIP = family === 4 ? '10.10.0.3' : 'fd00:10:244::3';
      expect(f).toMatchObject({
        flowStartSeconds: '2023-11-14T22:13:23.000Z',
        flowEndSeconds: '2023-11-14T22:14:23.000Z',
        flowEndSecondsFromSourceNode: '2023-11-14T22:14:23.000Z',
        flowEndSecondsFromDestinationNode: '2023-11-14T22:14:23.000Z',
        sourcePodName: 'client-3',
        destinationServicePortName: 'shop/server:http',
        octetDeltaCountFromSourceNode: 1000,
        reverseOctetDeltaCountFromDestinationNode: 900,
        bytes: 10_300,
        packets: 103,
        protocolName: 'TCP',
        protocolIdentifier: 6,
        flowTypeStr: 'Inter-Node',
        ingressNetworkPolicyTypeStr: 'Antrea NetworkPolicy',
        ingressNetworkPolicyRuleActionStr: 'Allow',
        egressNetworkPolicyRuleActionStr: 'No Action',
        egressNetworkPolicyName: 'N/A',
        egressNetworkPolicyNamespace: 'N/A',
        // Type 0 is no policy: "N/A" like its name, not "0".
        egressNetworkPolicyTypeStr: 'N/A',
        sourceIP,
        flowKey: `client-3:30003->server-0:8080 TCP`,
        flowKeyPodToPod: `client-3:30003->server-0:8080 TCP`,
        // filter.rb wrote "shop/server:http80": the ':' before the port is restored.
        flowKeyPodToService: `client-3:30003->shop/server:http:80 TCP`,
        // The aggregator's own throughput (bits/s) is kept, not recomputed.
        throughput: 133,
        reverseThroughput: 120,
        sourcePodLabels: { app: 'client', 'app.kubernetes.io/part-of': 'shop' },
        destinationPodLabels: { app: 'server' },
        clusterId: '8b7cf9a4-1f0e-4a36-9f49-2a4c3c2e5d01',
      });
      expect(f[family === 4 ? 'destinationClusterIPv4' : 'destinationClusterIPv6']).toBe(family === 4 ? '10.96.0.10' : 'fd00:10:96::a');
      expect(f.flowKeyPodToExternal).toBeUndefined();
    });

    it(`agent Flow Exporter, IPv${family}: throughput derived in bits per second, never divided by zero`, () => {
      const layout = agentLayout(family);
      const { pipeline } = testPipeline();
      const base = { flowStartSeconds: 1000, flowEndSeconds: 1010, octetDeltaCount: 5000, reverseOctetDeltaCount: 2500 };
      const docs = decodeAll(pipeline, [
        templateMessage(header(0), 300, layout),
        // First report: over the flow's life so far (10 s).
        dataMessage(header(0), 300, layout, [aggregatorRecord(1, base)]),
        // Second: since the previous report (5 s).
        dataMessage(header(1), 300, layout, [aggregatorRecord(1, { ...base, flowEndSeconds: 1015, octetDeltaCount: 1000 })]),
        // Same end time again: no interval, so no throughput (filter.rb divided by zero here).
        dataMessage(header(2), 300, layout, [aggregatorRecord(1, { ...base, flowEndSeconds: 1015 })]),
      ]).map(doc);
      expect(docs.map((d) => d.ipfix.throughput)).toEqual([4000, 1600, undefined]);
      expect(docs.map((d) => d.ipfix.reverseThroughput)).toEqual([2000, 4000, undefined]);
    });
  }

  it('keeps strings longer than 254 octets (255 then a 2-octet length)', () => {
    const labels = JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`label-${i}.example.com/key`, `value-${i}`])));
    const longName = 'p'.repeat(300);
    expect(labels.length).toBeGreaterThan(254);
    const { docs } = roundTrip(aggregatorLayout(4), [aggregatorRecord(1, { sourcePodLabels: labels, sourcePodName: longName })]);
    expect(docs[0].ipfix.sourcePodLabels).toEqual(JSON.parse(labels));
    expect(docs[0].ipfix.sourcePodName).toBe(longName);
  });

  it('names Pod-to-External flows by destination IP', () => {
    const { docs } = roundTrip(aggregatorLayout(4), [aggregatorRecord(2, { flowType: 3, destinationPodName: '', destinationIPv4Address: '93.184.216.34', destinationServicePortName: '' })]);
    expect(docs[0].ipfix.flowKeyPodToExternal).toBe('client-2:30002->93.184.216.34:8080 TCP');
    expect(docs[0].ipfix.flowKey).toBe(docs[0].ipfix.flowKeyPodToExternal);
    expect(docs[0].ipfix.flowTypeStr).toBe('To External');
  });

  it('names every policy type and rule action, K8s ClusterNetworkPolicy included', () => {
    const { docs } = roundTrip(aggregatorLayout(4), [
      aggregatorRecord(1, { egressNetworkPolicyType: 4, egressNetworkPolicyRuleAction: 2, ingressNetworkPolicyType: 3, ingressNetworkPolicyRuleAction: 3 }),
      aggregatorRecord(2, { egressNetworkPolicyType: 1 }),
    ]);
    expect(docs[0].ipfix.egressNetworkPolicyTypeStr).toBe('K8s ClusterNetworkPolicy');
    expect(docs[0].ipfix.egressNetworkPolicyRuleActionStr).toBe('Drop');
    expect(docs[0].ipfix.ingressNetworkPolicyTypeStr).toBe('Antrea ClusterNetworkPolicy');
    expect(docs[0].ipfix.ingressNetworkPolicyRuleActionStr).toBe('Reject');
    expect(docs[1].ipfix.egressNetworkPolicyTypeStr).toBe('K8s NetworkPolicy');
  });

  it('writes unsigned 64-bit counters above 2^53 exactly', () => {
    const big = 2n ** 64n - 1n;
    const { pipeline } = testPipeline();
    const layout = aggregatorLayout(4);
    const [document] = decodeAll(pipeline, [templateMessage(header(0), 300, layout), dataMessage(header(0), 300, layout, [aggregatorRecord(1, { octetTotalCount: big })])]);
    const json = serializeDocument(document, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' });
    expect(json).toContain(`"octetTotalCount":${big}`);
    expect(json).toContain(`"bytes":${big}`);
  });

  it('drops pod labels that are not JSON objects and counts them', async () => {
    const { docs, metrics } = roundTrip(aggregatorLayout(4), [aggregatorRecord(1, { sourcePodLabels: 'app=client' })]);
    expect(docs[0].ipfix.sourcePodLabels).toBeUndefined();
    expect(await counter(metrics, 'elkfc_fields_skipped_total', { kind: 'pod_labels_not_json' })).toBe(1);
  });

  it('switches off: the codec output only', () => {
    const { pipeline } = testPipeline({ enrichment: undefined });
    const layout = aggregatorLayout(4);
    const [document] = decodeAll(pipeline, [templateMessage(header(0), 300, layout), dataMessage(header(0), 300, layout, [aggregatorRecord(1)])]).map(doc);
    for (const derived of ['bytes', 'flowKey', 'protocolName', 'flowTypeStr', 'sourceIP']) expect(document.ipfix[derived]).toBeUndefined();
    expect(document.ipfix.sourcePodLabels).toBe(JSON.stringify({ app: 'client', 'app.kubernetes.io/part-of': 'shop' }));
    expect(document.ipfix.egressNetworkPolicyName).toBe('');
  });

  it('decodes the legacy enterprise 55829 with its own ids', () => {
    const layout: LayoutField[] = [
      { name: 'sourcePodName', enterprise: 55829, id: 101, type: 'string' },
      { name: 'destinationClusterIP', enterprise: 55829, id: 106, type: 'ipv4' },
      { name: 'destinationServicePortName', enterprise: 55829, id: 108, type: 'string' },
    ];
    const { docs } = roundTrip(layout, [{ sourcePodName: 'a', destinationClusterIP: '10.96.0.1', destinationServicePortName: 'default/kubernetes:https' }]);
    expect(docs[0].ipfix).toMatchObject({ sourcePodName: 'a', destinationClusterIP: '10.96.0.1', destinationServicePortName: 'default/kubernetes:https' });
  });

  it('keeps an IE nobody defined, as hex under its enterprise and id', () => {
    const layout: LayoutField[] = [
      { name: 'sourcePodName', enterprise: 56506, id: 101, type: 'string' },
      { name: 'x', enterprise: 56506, id: 199, type: 'u32' },
      { name: 'y', enterprise: 4242, id: 7, type: 'string' },
    ];
    const { docs } = roundTrip(layout, [{ sourcePodName: 'a', x: 0xdeadbeef, y: 'hi' }]);
    expect(docs[0].ipfix).toMatchObject({ ie_56506_199: 'deadbeef', ie_4242_7: '6869' });
  });
});
