// The file sink on a disk that stops answering (its writes do not complete until the test lets them): memory
// stays bounded by output.maxQueueBytes. TCP exporters are paused past it
// (they keep their records); what UDP brings past twice it is dropped, counted and logged as loss.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../collector/src/cli/replay.js';
import { loadConfig } from '../collector/src/config/load.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { aggregatorCapture } from './support/antrea-encoder.js';
import { counter } from './support/offline.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;


interface StalledSink {
  queuedBytes: number;
  writeChunk(chunk: Buffer, documents: number): Promise<void>;
}

let running: Collector | undefined;
let answer: (() => void) | undefined;
afterEach(async () => {
  answer?.(); // the disk answers, so that the collector can stop
  await running?.stop();
  running = answer = undefined;
});

/** A collector whose file sink's writes wait until `answer()`: the chunks they carry stay in memory meanwhile. */
async function stalledCollector(dir: string) {
  const flows = join(dir, 'flows');
  const config = loadConfig(undefined, {
    ELKFC_INPUTS_UDP_HOST: '127.0.0.1', ELKFC_INPUTS_UDP_PORT: '0',
    ELKFC_INPUTS_TCP_HOST: '127.0.0.1', ELKFC_INPUTS_TCP_PORT: '0',
    ELKFC_HTTP_ENABLED: 'false',
    ELKFC_DECODING_TEMPLATE_STATE_PATH: join(dir, 'templates.json'),
    ELKFC_OUTPUT_SINK: 'file',
    ELKFC_OUTPUT_FILE_DIRECTORY: flows,
    ELKFC_OUTPUT_FILE_FLUSH_INTERVAL_MS: '20',
    ELKFC_OUTPUT_MAX_QUEUE_BYTES: String(MiB),
  });
  const collector = (running = new Collector(config, pino({ level: 'silent' })));
  await collector.start();
  const sink = (collector as unknown as { sink: StalledSink }).sink;
  const write = sink.writeChunk.bind(sink);
  let disk = new Promise<void>((resolve) => (answer = resolve));
  sink.writeChunk = async (chunk, documents) => {
    await disk;
    return write(chunk, documents);
  };
  return { collector, sink, release: () => answer!() };
}

describe('file sink on a stalled disk', () => {
  it('pauses TCP exporters at maxQueueBytes: memory held stays bounded, nothing dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-fbp-'));
    const { collector, sink, release } = await stalledCollector(dir);
    const m = collector.events.metrics;
    const sending = replay({ files: aggregatorCapture(dir, 3000, 7), host: '127.0.0.1', port: collector.inputAddress('tcp')!.port, protocol: 'tcp', rate: 0, repeat: 1 });
    await until(async () => (await counter(m, 'elkfc_inputs_paused')) === 1, 15_000, 'TCP paused');
    // What was read before the pause reaches the sink (a decode worker starts with its first exporter: half a second).
    await until(() => sink.queuedBytes >= MiB, 15_000, 'what was read before the pause decoded');
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.queuedBytes).toBeLessThan(2 * MiB);
    expect(await counter(m, 'elkfc_sink_documents_failed_total')).toBe(0);
    expect(await counter(m, 'elkfc_records_decoded_total')).toBeLessThan(3000);
    release(); // the disk answers again: everything is written
    await sending;
    await until(async () => (await counter(m, 'elkfc_sink_documents_written_total')) === 3000, 15_000, 'every record written');
  }, 30_000);

  it('drops what UDP brings past twice maxQueueBytes, counted, instead of growing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-fbp-'));
    const { collector, sink, release } = await stalledCollector(dir);
    const m = collector.events.metrics;
    await replay({ files: aggregatorCapture(dir, 3000, 7), host: '127.0.0.1', port: collector.inputAddress('udp')!.port, protocol: 'udp', rate: 20_000, repeat: 1 });
    // With decode workers, datagrams past the bound are dropped before decoding (3 records each), counted apart.
    const undecoded = async () => 3 * (await counter(m, 'elkfc_packets_dropped_total', { reason: 'queue_full' }));
    await until(async () => (await counter(m, 'elkfc_records_decoded_total')) + (await undecoded()) >= 2900, 15_000, 'UDP records decoded or dropped');
    expect(sink.queuedBytes).toBeLessThan(2 * MiB + 64 * 1024); // twice the bound, plus the message being handled
    const dropped = await counter(m, 'elkfc_sink_documents_failed_total');
    expect(dropped + (await undecoded())).toBeGreaterThan(0);
    const decoded = await counter(m, 'elkfc_records_decoded_total');
    release();
    await until(async () => (await counter(m, 'elkfc_sink_documents_written_total')) + dropped === decoded, 15_000, 'the rest written');
  }, 30_000);
});
