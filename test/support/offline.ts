import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import type { FlowDocument } from '../../collector/src/document/document.js';
import { ElementRegistry } from '../../collector/src/ie/registry.js';
import { loadIpfixDefinitions, loadNetflowDefinitions } from '../../collector/src/ie/logstash-definitions.js';
import { FlowPipeline, type PipelineSettings } from '../../collector/src/pipeline/flow-pipeline.js';
import type { ExporterSessionKey } from '../../collector/src/session/template-session.js';
import { InternalEvents } from '../../collector/src/telemetry/events.js';
import { createMetrics } from '../../collector/src/telemetry/metrics.js';

export const SHARED = new URL('../../../shared/', import.meta.url).pathname;
export const LOGSTASH = `${SHARED}fixtures/logstash-codec-netflow/`;
export const ANTREA = `${SHARED}fixtures/antrea/`;
export const SOFTFLOWD = `${SHARED}fixtures/softflowd/`;

export const logstashRegistry = () =>
  ElementRegistry.builtin().extend(
    loadIpfixDefinitions(`${LOGSTASH}definitions/ipfix.yaml`),
    loadNetflowDefinitions(`${LOGSTASH}definitions/netflow.yaml`),
  );

export function testPipeline(overrides: Partial<PipelineSettings> = {}) {
  const events = new InternalEvents(createMetrics(), pino({ level: 'silent' }));
  const pipeline = new FlowPipeline(
    {
      registry: ElementRegistry.builtin(),
      // The Logstash shape: tests of decoding and enrichment; test/ecs.test.ts switches ECS on.
      document: { target: 'ipfix', type: 'ipfix', timestampSource: 'export', ecs: false },
      includeFlowsetId: true,
      templateTimeoutMs: 1_800_000,
      pending: { maxSets: 1000, maxBytes: 1 << 20, maxAgeMs: 60_000 },
      enrichment: { throughputMaxKeys: 1000, throughputIdleTimeoutMs: 3_600_000 },
      ...overrides,
    },
    events,
  );
  return { pipeline, events, metrics: events.metrics };
}

export const udpExporter = (address = '192.0.2.1', port = 40000): ExporterSessionKey => ({
  key: `udp:${address}:${port}`,
  address,
  expires: true,
});

export function decodeAll(pipeline: FlowPipeline, messages: Buffer[], exporter = udpExporter(), nowMs = 0): FlowDocument[] {
  return messages.flatMap((m) => pipeline.process(m, exporter, nowMs));
}

export const readDat = (name: string) => readFileSync(`${LOGSTASH}dat/${name}`);

export async function counter(metrics: { registry: { getSingleMetric(name: string): unknown } }, name: string, labels: Record<string, string> = {}) {
  const metric = metrics.registry.getSingleMetric(name) as { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> };
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A message as one UDP datagram 192.0.2.1:40000 -> 192.0.2.2:port in a pcap (LINKTYPE_RAW), for `tshark -V`. */
export function udpPcap(message: Buffer, port = 4739): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(port, 2);
  udp.writeUInt16BE(8 + message.length, 4);
  const ip = Buffer.from([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
  ip.writeUInt16BE(20 + 8 + message.length, 2);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const packet = Buffer.concat([ip, udp, message]);
  const file = Buffer.alloc(24);
  file.writeUInt32LE(0xa1b2c3d4, 0);
  file.writeUInt16LE(2, 4);
  file.writeUInt16LE(4, 6);
  file.writeUInt32LE(65535, 16);
  file.writeUInt32LE(101, 20);
  const record = Buffer.alloc(16);
  record.writeUInt32LE(1_700_000_000, 0);
  record.writeUInt32LE(packet.length, 8);
  record.writeUInt32LE(packet.length, 12);
  return Buffer.concat([file, record, packet]);
}

/** [enterprise (0: IANA), id, template length (65535: variable, sent with a one-octet length prefix), value as hex]. */
export type IpfixTestField = readonly [enterprise: number, id: number, length: number, hex: string];

/** A set (IPFIX) or FlowSet (NetFlow v9): id, length, body. */
export function flowSet(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(4 + body.length, 2);
  return Buffer.concat([head, body]);
}

/** A hand-encoded IPFIX message: a template for the fields and one data record with their values (domain 1). */
export function ipfixTestMessage(templateId: number, fields: readonly IpfixTestField[]): Buffer {
  const specs = fields.map(([enterprise, id, length]) => {
    const spec = Buffer.alloc(enterprise ? 8 : 4);
    spec.writeUInt16BE(enterprise ? 0x8000 | id : id, 0);
    spec.writeUInt16BE(length, 2);
    if (enterprise) spec.writeUInt32BE(enterprise, 4);
    return spec;
  });
  const count = Buffer.alloc(4);
  count.writeUInt16BE(templateId, 0);
  count.writeUInt16BE(fields.length, 2);
  const record = Buffer.concat(fields.map(([, , length, hex]) => {
    const value = Buffer.from(hex, 'hex');
    return length === 65535 ? Buffer.concat([Buffer.from([value.length]), value]) : value;
  }));
  const body = Buffer.concat([flowSet(2, Buffer.concat([count, ...specs])), flowSet(templateId, record)]);
  const head = Buffer.alloc(16);
  head.writeUInt16BE(10, 0);
  head.writeUInt16BE(16 + body.length, 2);
  head.writeUInt32BE(1_700_000_000, 4);
  head.writeUInt32BE(1, 12);
  return Buffer.concat([head, body]);
}
