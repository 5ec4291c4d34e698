// The Flow Aggregator's JSON records: made as go-ipfix makes them (support/go-ipfix-json.ts), read by the JSON input,
// and compared document for document with the same records sent as IPFIX; then the transports (TCP, UDP, TLS) live.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect as connectTcp, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../collector/src/decoders/types.js';
import { documentId } from '../collector/src/document/document-id.js';
import { serializeDocument, type FlowDocument } from '../collector/src/document/document.js';
import { ConfigError, loadConfig } from '../collector/src/config/load.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { JsonRecordReader, MalformedRecord, quoteLongIntegers, type JsonRecordCounts } from '../collector/src/inputs/json.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { aggregatorLayout, aggregatorRecord, agentLayout, dataMessage, proxyLayout, templateMessage, type LayoutField } from './support/antrea-encoder.js';
import { createAuthority } from './support/certificates.js';
import { flowAggregatorJson } from './support/go-ipfix-json.js';
import { counter, testPipeline } from './support/offline.js';
import { until } from './support/wait.js';

const SEND_TIME = 1_700_000_123;
const AGGREGATOR = { key: 'tcp:10.0.0.5:41000', address: '10.0.0.5', expires: false };
const options = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const };

const parse = (doc: FlowDocument) => JSON.parse(quoteLongIntegers(serializeDocument(doc, options)));

/** The records sent as the Flow Aggregator sends IPFIX: its template (256 for IPv4, 257 for IPv6), then the data. */
function viaIpfix(layout: LayoutField[], templateId: number, records: Record<string, unknown>[]) {
  const { pipeline } = testPipeline();
  const header = { exportTimeSecs: SEND_TIME, sequence: 0, domain: 3_405_691_582 };
  pipeline.process(templateMessage(header, templateId, layout), AGGREGATOR, 0);
  return pipeline.process(dataMessage(header, templateId, layout, records), AGGREGATOR, 0);
}

/** The same records as JSON lines, read by the JSON input's reader into the same pipeline path. */
function viaJson(lines: string[]) {
  const { pipeline, metrics } = testPipeline();
  const reader = new JsonRecordReader(ElementRegistry.builtin(), pipeline.compile);
  const counts: JsonRecordCounts = { badValues: 0, unknownElements: 0 };
  const records: FlowRecord[] = [];
  for (const line of lines) reader.read(line.trimEnd(), 0, counts, records);
  const documents = pipeline.processDecoded(reader.takeResult(records), AGGREGATOR, 0);
  return { documents, counts, metrics };
}

const HUGE = 18_446_744_073_709_551_615n; // 2^64 - 1
const ABOVE_2_53 = 9_007_199_254_740_993n; // 2^53 + 1: a double would round it

const records = (family: 4 | 6) => [
  aggregatorRecord(1),
  aggregatorRecord(2, { octetTotalCount: HUGE, octetTotalCountFromSourceNode: ABOVE_2_53, throughput: ABOVE_2_53 }),
  aggregatorRecord(3, {
    sourcePodLabels: JSON.stringify({ app: '<script>&"x"</script>', tier: 'frontend\u2028é' }),
    ingressNetworkPolicyRuleName: 'a<b>&c "quoted" \\ back\tslash', sourcePodName: 'ünïcode-☃',
  }),
  aggregatorRecord(4, { destinationPodName: '', egressNetworkPolicyRuleAction: 3, flowType: 3, destinationIPv4Address: '93.184.216.34' }),
  ...(family === 6 ? [aggregatorRecord(5, { sourceIPv6Address: '::ffff:a00:9', destinationIPv6Address: '::' })] : []),
];

describe('JSON records as the Flow Aggregator writes them', () => {
  it('are what go-ipfix writes: sorted keys, exact uint64, epoch seconds, text addresses, labels as a JSON string, <>& escaped', () => {
    const line = flowAggregatorJson(aggregatorLayout(4), records(4)[2], SEND_TIME);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.startsWith('{"@timestamp":"2023-11-14T22:15:23Z","ipfix":{"clusterId":')).toBe(true);
    expect(line).toContain('"sourcePodLabels":"{\\"app\\":\\"\\u003cscript\\u003e\\u0026\\\\\\"x\\\\\\"\\u003c/script\\u003e\\",\\"tier\\":\\"frontend\\u2028é\\"}"');
    expect(line).toContain('"flowEndSeconds":1700000063,');
    expect(line).toContain('"sourceIPv4Address":"10.10.0.3"');
    const big = flowAggregatorJson(aggregatorLayout(4), records(4)[1], SEND_TIME);
    expect(big).toContain('"octetTotalCount":18446744073709551615,');
    expect(big).toContain('"throughput":9007199254740993,');
  });

  for (const family of [4, 6] as const) {
    it(`become the same documents as the same records sent as IPFIX (IPv${family}, Aggregate mode)`, () => {
      const layout = aggregatorLayout(family);
      const ipfix = viaIpfix(layout, family === 4 ? 256 : 257, records(family));
      const { documents, counts } = viaJson(records(family).map((r) => flowAggregatorJson(layout, r, SEND_TIME)));
      expect(counts).toEqual({ badValues: 0, unknownElements: 0 });
      expect(documents).toHaveLength(ipfix.length);
      expect(documents.map(parse)).toEqual(ipfix.map(parse));
      // Exact above 2^53, in the written document too.
      expect(serializeDocument(documents[1], options)).toContain('"octetTotalCount":18446744073709551615,');
      expect(serializeDocument(documents[1], options)).toContain('"octetTotalCountFromSourceNode":9007199254740993,');
    });
  }

  it('become the same documents in Proxy mode, with the original exporter as ipfix.originalExporterIP', () => {
    for (const family of [4, 6] as const) {
      const layout = proxyLayout(family);
      const original = family === 4
        ? { originalExporterIPv4Address: '192.168.77.3', originalExporterIPv6Address: '::' }
        : { originalExporterIPv4Address: '0.0.0.0', originalExporterIPv6Address: 'fd00:77::3' };
      const sent = [1, 2].map((i) => aggregatorRecord(i, { ...original, originalObservationDomainId: 12345 + i, flowDirection: i - 1 }));
      const ipfix = viaIpfix(layout, family === 4 ? 256 : 257, sent);
      const { documents } = viaJson(sent.map((r) => flowAggregatorJson(layout, r, SEND_TIME)));
      expect(documents.map(parse)).toEqual(ipfix.map(parse));
      const doc = parse(ipfix[1]);
      expect(doc.host).toBe('10.0.0.5');
      expect(doc.ipfix).toMatchObject({
        originalExporterIP: family === 4 ? '192.168.77.3' : 'fd00:77::3', originalObservationDomainId: 12347, flowDirection: 1,
      });
    }
  });

  it('derive throughput per original exporter in Proxy mode, where both Nodes report a flow through one Flow Aggregator', () => {
    const layout = proxyLayout(4);
    const report = (node: string, flowEndSeconds: number) => aggregatorRecord(1, {
      originalExporterIPv4Address: node, originalExporterIPv6Address: '::', flowStartSeconds: 1000, flowEndSeconds, octetDeltaCount: 5000,
    });
    const sent = [report('192.168.77.3', 1010), report('192.168.77.4', 1010), report('192.168.77.3', 1015)];
    const ipfix = viaIpfix(layout, 256, sent).map(parse);
    // Each Node's first report covers the flow's 10 s so far; the source Node's second one the 5 s since its first.
    expect(ipfix.map((d) => d.ipfix.throughput)).toEqual([4000, 4000, 8000]);
    expect(viaJson(sent.map((r) => flowAggregatorJson(layout, r, SEND_TIME))).documents.map(parse)).toEqual(ipfix);
  });

  it('leave out originalExporterIP in Aggregate mode', () => {
    const [doc] = viaIpfix(aggregatorLayout(4), 256, [aggregatorRecord(1)]).map(parse);
    expect(doc.ipfix.originalExporterIP).toBeUndefined();
  });

  it('get a deterministic _id from their text: the same line twice gives one _id, different records different ones', () => {
    const layout = aggregatorLayout(4);
    const lines = records(4).map((r) => flowAggregatorJson(layout, r, SEND_TIME));
    const { documents } = viaJson([...lines, lines[0]]);
    const ids = documents.map(documentId);
    expect(new Set(ids.slice(0, -1)).size).toBe(lines.length);
    expect(ids.at(-1)).toBe(ids[0]);
    // A record sent again later is another line (its @timestamp): another _id.
    expect(viaJson([flowAggregatorJson(layout, records(4)[0], SEND_TIME + 1)]).documents.map(documentId)[0]).not.toBe(ids[0]);
  });

  it('read MAC addresses from base64 and agent records without the aggregate elements', () => {
    const agent = flowAggregatorJson(agentLayout(4), aggregatorRecord(7), SEND_TIME, { sourceMacAddress: '"AAECAwSl"', destinationMacAddress: '"3q2+7/7t"' });
    const { documents } = viaJson([agent]);
    expect(parse(documents[0]).ipfix).toMatchObject({ sourceMacAddress: '00:01:02:03:04:a5', destinationMacAddress: 'de:ad:be:ef:fe:ed', sourcePodName: 'client-7' });
  });

  it('skip and count values that do not fit their element and names nobody defined, keeping the rest of the record', () => {
    const line = flowAggregatorJson(aggregatorLayout(4), aggregatorRecord(1), SEND_TIME, {
      protocolIdentifier: '300', sourceIPv4Address: '"not an address"', madeUpElement: '1', sourceMacAddress: '"AAEC"',
    });
    const { documents, counts } = viaJson([line]);
    expect(counts).toEqual({ badValues: 3, unknownElements: 1 });
    const doc = parse(documents[0]).ipfix;
    expect(doc.protocolIdentifier).toBeUndefined();
    expect(doc.sourceIPv4Address).toBeUndefined();
    expect(doc.sourcePodName).toBe('client-1');
  });

  it('refuse a line that is not a record', () => {
    const { pipeline } = testPipeline();
    const reader = new JsonRecordReader(ElementRegistry.builtin(), pipeline.compile);
    const counts: JsonRecordCounts = { badValues: 0, unknownElements: 0 };
    for (const bad of ['{"ipfix":', 'null', '[1,2]', '{"@timestamp":"2023-11-14T22:15:23Z"}', '{"ipfix":{"madeUp":1}}', '{"ipfix":[]}']) {
      expect(() => reader.read(bad, 0, counts, [])).toThrow(MalformedRecord);
    }
  });

  it('give a record or a MalformedRecord for any mutation of a real line, never another error', () => {
    const { pipeline } = testPipeline();
    const reader = new JsonRecordReader(ElementRegistry.builtin(), pipeline.compile);
    const counts: JsonRecordCounts = { badValues: 0, unknownElements: 0 };
    const line = flowAggregatorJson(aggregatorLayout(6), records(6)[1], SEND_TIME).trimEnd();
    const alphabet = '{}[]",:0123456789-.eE tfnul\\ux<>&é';
    let seed = 12345;
    const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    let readOk = 0;
    for (let i = 0; i < 3000; i++) {
      const chars = [...line];
      for (let m = 1 + random(4); m > 0; m--) {
        const at = random(chars.length);
        const op = random(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[random(alphabet.length)]);
        else chars[at] = alphabet[random(alphabet.length)];
      }
      try {
        const out: FlowRecord[] = [];
        reader.read(chars.join(''), 0, counts, out);
        expect(out).toHaveLength(1);
        readOk++;
      } catch (error) {
        expect(error).toBeInstanceOf(MalformedRecord);
      }
    }
    // Most mutations land inside values: the record is still read, the spoilt value left out and counted.
    expect(readOk).toBeGreaterThan(300);
  });

  it('keep long integers inside strings as they are when quoting the ones outside', () => {
    expect(quoteLongIntegers('{"a":"12345678901234567890","b":12345678901234567890,"c":-9223372036854775808,"d":1.2345678901234567e+30,"e":[1234567890123456]}'))
      .toBe('{"a":"12345678901234567890","b":"12345678901234567890","c":"-9223372036854775808","d":1.2345678901234567e+30,"e":["1234567890123456"]}');
    expect(quoteLongIntegers('{"a":"x\\"12345678901234567890"}')).toBe('{"a":"x\\"12345678901234567890"}');
  });
});

let running: Collector | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function startCollector(env: Record<string, string>) {
  const config = loadConfig(undefined, {
    ELKFC_INPUTS_UDP_ENABLED: 'false', ELKFC_INPUTS_TCP_ENABLED: 'false',
    ELKFC_INPUTS_JSON_HOST: '127.0.0.1', ELKFC_INPUTS_JSON_PORT: '0', ELKFC_INPUTS_JSON_MAX_LINE_BYTES: '4096',
    ELKFC_HTTP_ENABLED: 'false', ELKFC_OUTPUT_SINK: '"null"', ELKFC_DECODING_TEMPLATE_STATE_PATH: 'null',
    ...env,
  });
  const collector = (running = new Collector(config, pino({ level: 'silent' })));
  await collector.start();
  return { collector, port: collector.inputAddress('json')!.port };
}

const decoded = (collector: Collector) => counter(collector.events.metrics, 'elkfc_records_decoded_total', { version: 'json' });
const malformed = (collector: Collector, kind: string) => counter(collector.events.metrics, 'elkfc_decode_errors_total', { kind });
const lines = (n: number) => Array.from({ length: n }, (_, i) => flowAggregatorJson(aggregatorLayout(4), aggregatorRecord(i), SEND_TIME));

describe('JSON input', () => {
  it('is off unless inputs.json.port is set', () => {
    expect(loadConfig(undefined, {}).inputs.json.port).toBeNull();
    expect(loadConfig(undefined, { ELKFC_INPUTS_JSON_PORT: '4736' }).inputs.json).toMatchObject({ port: 4736, tls: { port: null, certFile: null } });
  });

  it('reads records on TCP split anywhere, skips malformed and overlong lines without closing the stream', async () => {
    const { collector, port } = await startCollector({});
    const socket = connectTcp({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const [a, b, c] = lines(3);
    const stream = `${a}not json at all\n${b}${'x'.repeat(10_000)}\n\n${c}`;
    // Byte by byte in places: a record split across any number of chunks.
    for (let i = 0; i < stream.length; i += 97) socket.write(stream.slice(i, i + 97));
    await until(async () => (await decoded(collector)) === 3, 10_000, 'three JSON records');
    expect(await malformed(collector, 'json_malformed')).toBe(1);
    expect(await malformed(collector, 'json_line_too_long')).toBe(1);
    // Still open: more records go through.
    socket.write(lines(1)[0]);
    await until(async () => (await decoded(collector)) === 4, 10_000, 'a fourth record on the same connection');
    socket.destroy();
  });

  it('a connection that sends only lines that are not records can still be evicted for an exporter (maxConnections)', async () => {
    const { collector, port } = await startCollector({ ELKFC_INPUTS_TCP_MAX_CONNECTIONS: '2' });
    const limited = (reason: string) => counter(collector.events.metrics, 'elkfc_connections_limited_total', { input: 'json-tcp', reason });
    const open = async () => {
      const socket = connectTcp({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const junk = await open();
    junk.write('not a record\n\n');
    await until(async () => (await malformed(collector, 'json_malformed')) === 1, 10_000, 'the junk line counted');
    const exporter = await open();
    exporter.write(lines(1)[0]);
    await until(async () => (await decoded(collector)) === 1, 10_000, 'the exporter\'s record');
    const newcomer = await open();
    await until(async () => (await limited('evicted')) + (await limited('connection_limit')) === 1, 10_000, 'the third connection judged');
    expect(await limited('evicted')).toBe(1); // the junk one made room; the newcomer was not refused
    expect(await limited('connection_limit')).toBe(0);
    for (const s of [junk, exporter, newcomer]) s.destroy();
  });

  it('ships the same documents for records sent as JSON and as IPFIX over TCP, through the running collector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-json-live-'));
    const { collector, port } = await startCollector({
      ELKFC_INPUTS_TCP_ENABLED: 'true', ELKFC_INPUTS_TCP_HOST: '127.0.0.1', ELKFC_INPUTS_TCP_PORT: '0',
      ELKFC_OUTPUT_SINK: 'file', ELKFC_OUTPUT_FILE_DIRECTORY: join(dir, 'flows'), ELKFC_OUTPUT_FILE_FLUSH_INTERVAL_MS: '50',
    });
    const layout = aggregatorLayout(4);
    const sent = records(4);
    const json = connectTcp({ host: '127.0.0.1', port });
    const ipfix = connectTcp({ host: '127.0.0.1', port: collector.inputAddress('tcp')!.port });
    await Promise.all([json, ipfix].map((s) => new Promise((resolve) => s.once('connect', resolve))));
    json.write(sent.map((r) => flowAggregatorJson(layout, r, SEND_TIME)).join(''));
    await until(async () => (await decoded(collector)) === sent.length, 10_000, 'JSON records');
    const header = { exportTimeSecs: SEND_TIME, sequence: 0, domain: 1 };
    ipfix.write(Buffer.concat([templateMessage(header, 256, layout), dataMessage(header, 256, layout, sent)]));
    await until(async () => (await counter(collector.events.metrics, 'elkfc_records_decoded_total', { version: '10' })) === sent.length, 10_000, 'IPFIX records');
    json.destroy();
    ipfix.destroy();
    await collector.stop();
    running = undefined;
    const folder = join(dir, 'flows');
    const documents = readdirSync(folder).flatMap((f) => readFileSync(join(folder, f), 'utf8').split('\n').filter(Boolean))
      .filter((_, i) => i % 2 === 1).map((l) => JSON.parse(quoteLongIntegers(l)));
    expect(documents).toHaveLength(2 * sent.length);
    const [fromJson, fromIpfix] = [documents.slice(0, sent.length), documents.slice(sent.length)];
    expect(fromJson).toEqual(fromIpfix);
    expect(fromJson[1].ipfix.octetTotalCount).toBe('18446744073709551615');
  });

  it('reads one record per UDP datagram on the same port', async () => {
    const { collector, port } = await startCollector({});
    const client = createSocket('udp4');
    for (const line of [...lines(3), '{"ipfix": nope}\n']) client.send(line, port, '127.0.0.1');
    await until(async () => (await decoded(collector)) === 3, 10_000, 'three JSON datagrams');
    await until(async () => (await malformed(collector, 'json_malformed')) === 1, 10_000, 'the malformed datagram counted');
    expect(await counter(collector.events.metrics, 'elkfc_packets_received_total', { input: 'json-udp' })).toBe(4);
    client.close();
  });

  it('reads records over TLS in place of plain TCP when inputs.json.tls has a certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-json-tls-'));
    const ca = await createAuthority('json CA');
    const server = await ca.issue({ commonName: 'collector', usage: 'server' });
    const client = await ca.issue({ commonName: 'flow-aggregator', usage: 'client' });
    writeFileSync(join(dir, 'tls.crt'), server.cert);
    writeFileSync(join(dir, 'tls.key'), server.key);
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    const { collector, port } = await startCollector({
      ELKFC_INPUTS_JSON_TLS_CERT_FILE: join(dir, 'tls.crt'), ELKFC_INPUTS_JSON_TLS_KEY_FILE: join(dir, 'tls.key'),
      ELKFC_INPUTS_JSON_TLS_CLIENT_CA_FILE: join(dir, 'ca.crt'),
    });
    const socket = connectTls({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, cert: client.cert, key: client.key });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    for (const line of lines(2)) socket.write(line);
    await until(async () => (await decoded(collector)) === 2, 10_000, 'JSON over TLS');
    socket.destroy();
    // Plain TCP on that port is a failed handshake, not records.
    const plain = connectTcp({ host: '127.0.0.1', port });
    plain.on('error', () => {});
    plain.write(lines(1)[0]);
    await until(async () => (await counter(collector.events.metrics, 'elkfc_tls_handshake_failures_total', { input: 'json-tls' })) === 1, 10_000, 'plain TCP refused');
    expect(await decoded(collector)).toBe(2);
    plain.destroy();
  });

  it('a TLS port of its own in use names inputs.json.tls.port and that port, not inputs.json.port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-json-tls-'));
    const ca = await createAuthority('json CA');
    const server = await ca.issue({ commonName: 'collector', usage: 'server' });
    writeFileSync(join(dir, 'tls.crt'), server.cert);
    writeFileSync(join(dir, 'tls.key'), server.key);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const port = (taken.address() as AddressInfo).port;
    try {
      const started = startCollector({
        ELKFC_INPUTS_JSON_TLS_CERT_FILE: join(dir, 'tls.crt'), ELKFC_INPUTS_JSON_TLS_KEY_FILE: join(dir, 'tls.key'),
        ELKFC_INPUTS_JSON_TLS_HOST: '127.0.0.1', ELKFC_INPUTS_JSON_TLS_PORT: String(port),
      });
      await expect(started).rejects.toThrow(`inputs.json.tls.port: port ${port} is already in use (127.0.0.1:${port})`);
      await expect(started).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
