// Live: the collector runs with the file sink on real sockets; captures are replayed to it over UDP and over
// TCP, and every record must arrive in the _bulk files.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../collector/src/cli/replay.js';
import { loadConfig } from '../collector/src/config/load.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { ANTREA, counter, SOFTFLOWD } from './support/offline.js';
import { until } from './support/wait.js';

const RECORDS = 3000;

function antreaCapture(dir: string, domain: number): string[] {
  const layout = aggregatorLayout(4);
  const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain });
  const files = [join(dir, `antrea-${domain}-0000.dat`)];
  writeFileSync(files[0], templateMessage(header(0), 300, layout));
  for (let i = 0; i < RECORDS; i += 3) {
    const file = join(dir, `antrea-${domain}-${String(i + 1).padStart(5, '0')}.dat`);
    writeFileSync(file, dataMessage(header(i), 300, layout, [i, i + 1, i + 2].map((n) => aggregatorRecord(n, { sourcePodName: `pod-${domain}-${n}` }))));
    files.push(file);
  }
  return files;
}

function startCollector(dir: string) {
  const config = loadConfig(undefined, {
    ELKFC_INPUTS_UDP_HOST: '127.0.0.1', ELKFC_INPUTS_UDP_PORT: '0',
    ELKFC_INPUTS_TCP_HOST: '127.0.0.1', ELKFC_INPUTS_TCP_PORT: '0',
    ELKFC_HTTP_HOST: '127.0.0.1', ELKFC_HTTP_PORT: '0',
    ELKFC_OUTPUT_FILE_DIRECTORY: join(dir, 'flows'), ELKFC_OUTPUT_FILE_FLUSH_INTERVAL_MS: '100',
    ELKFC_DECODING_TEMPLATE_STATE_PATH: join(dir, 'templates.json'),
  });
  return new Collector(config, pino({ level: 'silent' }));
}

function bulkDocuments(dir: string) {
  const folder = join(dir, 'flows');
  const lines = readdirSync(folder).flatMap((f) => readFileSync(join(folder, f), 'utf8').split('\n').filter(Boolean));
  const actions = lines.filter((_, i) => i % 2 === 0).map((l) => JSON.parse(l));
  const documents = lines.filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l));
  return { actions, documents };
}

let running: Collector | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('live collector', () => {
  it('receives every record over UDP and TCP and writes loadable _bulk files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-live-'));
    const collector = (running = startCollector(dir));
    await collector.start();
    const udp = collector.inputAddress('udp')!;
    const tcp = collector.inputAddress('tcp')!;

    const readyz = await fetch(`http://127.0.0.1:${collector.httpPort()}/readyz`);
    expect(readyz.status).toBe(200);

    const fixtures = [`${ANTREA}go-ipfix-test-messages/go-ipfix_collector_test_messages.pcap`, `${SOFTFLOWD}softflowd_ipfix_small.pcap`];
    await replay({ files: [...antreaCapture(dir, 1), ...fixtures], host: '127.0.0.1', port: udp.port, protocol: 'udp', rate: 20_000, repeat: 1 });
    await replay({ files: [...antreaCapture(dir, 2), ...fixtures], host: '127.0.0.1', port: tcp.port, protocol: 'tcp', rate: 0, repeat: 1 });

    // Per transport: RECORDS Antrea records, 2 go-ipfix records, 15 softflowd records.
    const expected = 2 * (RECORDS + 2 + 15);
    const metrics = collector.events.metrics;
    await until(async () => (await counter(metrics, 'elkfc_records_decoded_total')) >= expected, 20_000, 'every record decoded');
    await collector.stop();
    running = undefined;

    const { actions, documents } = bulkDocuments(dir);
    expect(documents).toHaveLength(expected);
    expect(await counter(metrics, 'elkfc_sink_documents_written_total')).toBe(expected);
    expect(await counter(metrics, 'elkfc_decode_errors_total')).toBe(0);
    // go-ipfix's test messages are separate test vectors (template 0, data 0 with one record, template 0, data 1).
    // Over UDP they follow the Antrea records of the same exporter and domain: the first template goes backwards
    // (a reset), the second too, and the data after it is one ahead of it: one record counted lost. Over TCP they
    // open their domain, the second template goes backwards and the data follows the first: nothing lost.
    expect(await counter(metrics, 'elkfc_sequence_lost_total')).toBe(1);
    expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'gap' })).toBe(0);
    expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'backwards' })).toBe(3);
    for (const domain of [1, 2]) {
      const pods = new Set(documents.map((d) => d.ipfix.sourcePodName).filter((p) => p?.startsWith(`pod-${domain}-`)));
      expect(pods.size).toBe(RECORDS);
    }
    expect(new Set(actions.map((a) => a.create._index))).toEqual(new Set(['flow-2023.11.14', 'flow-2020.10.29', 'flow-2021.02.04', 'flow-2026.11.21']));
    expect(documents.find((d) => d.ipfix.sourcePodName === 'pod-2-7')).toMatchObject({
      '@version': '1', host: '127.0.0.1', type: 'ipfix',
      ipfix: { flowKey: 'pod-2-7:30007->server-0:8080 TCP', bytes: 10_700 },
    });
    // Templates of the UDP exporter were saved at shutdown for the next start.
    const saved = JSON.parse(readFileSync(join(dir, 'templates.json'), 'utf8'));
    expect(saved.templates.length).toBeGreaterThan(0);
  });

  it('closes a TCP connection that is not IPFIX, counts it, and keeps serving other exporters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-live-'));
    const collector = (running = startCollector(dir));
    await collector.start();
    const tcp = collector.inputAddress('tcp')!;
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: tcp.port }, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('close', () => resolve(true));
      socket.on('error', () => {});
    });
    expect(closed).toBe(true);
    expect(await counter(collector.events.metrics, 'elkfc_decode_errors_total', { kind: 'tcp_framing' })).toBe(1);
    await replay({ files: [`${SOFTFLOWD}softflowd_ipfix_small.pcap`], host: '127.0.0.1', port: tcp.port, protocol: 'tcp', rate: 0, repeat: 1 });
    await until(async () => (await counter(collector.events.metrics, 'elkfc_records_decoded_total')) === 15, 20_000, 'the TCP records');
  });
});
