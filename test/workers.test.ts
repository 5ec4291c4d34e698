// Decode workers (decoding.workers): the collector decodes in worker threads with exporter affinity, and must
// write exactly what it writes when decoding on its main thread. Through the real collector, on loopback sockets.
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readCaptures } from '../collector/src/cli/offline.js';
import { ConfigError, loadConfig } from '../collector/src/config/load.js';
import { ByteBuffer } from '../collector/src/document/bytes.js';
import { buildRegistry } from '../collector/src/ie/configured.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { FlowPipeline } from '../collector/src/pipeline/flow-pipeline.js';
import { pipelineSettings } from '../collector/src/pipeline/settings.js';
import { workerFor } from '../collector/src/pipeline/worker-protocol.js';
import { availableCores, workerCount } from '../collector/src/pipeline/workers.js';
import { createEncoder } from '../collector/src/sinks/encoders.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { ANTREA, counter, LOGSTASH, SOFTFLOWD } from './support/offline.js';
import { BIN } from './support/process.js';
import { until } from './support/wait.js';

const CAPTURES = [
  `${SOFTFLOWD}softflowd_ipfix_small.pcap`,
  `${SOFTFLOWD}softflowd_v9_small.pcap`,
  `${LOGSTASH}scenario_pcaps/${readdirSync(`${LOGSTASH}scenario_pcaps`).sort().find((f) => f.startsWith('Netflow5'))}`,
  `${ANTREA}go-ipfix-test-messages/go-ipfix_collector_test_messages.pcap`,
  new URL('./captures/softflowd_ipfix_250_flows.pcap', import.meta.url).pathname,
];

function configFor(dir: string, workers: number, env: Record<string, string> = {}) {
  return loadConfig(undefined, {
    ELKFC_INPUTS_UDP_HOST: '127.0.0.1', ELKFC_INPUTS_UDP_PORT: '0', ELKFC_INPUTS_TCP_ENABLED: 'false',
    ELKFC_HTTP_ENABLED: 'false',
    ELKFC_OUTPUT_FILE_DIRECTORY: join(dir, 'flows'), ELKFC_OUTPUT_FILE_FLUSH_INTERVAL_MS: '50',
    ELKFC_DECODING_TEMPLATE_STATE_PATH: join(dir, 'templates.json'),
    ELKFC_DECODING_WORKERS: String(workers),
    ...env,
  });
}

let running: Collector | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const s of sockets.splice(0)) s.close();
});

async function socket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  sockets.push(s);
  return s;
}

/** Sockets (exporters) whose sessions land on worker 0 and on worker 1 of two, `each` of each. */
async function exportersOnBothWorkers(each: number): Promise<Socket[][]> {
  const on: Socket[][] = [[], []];
  while (on[0].length < each || on[1].length < each) {
    const s = await socket();
    const w = workerFor(`udp:127.0.0.1:${s.address().port}`, 2);
    if (on[w].length < each) on[w].push(s);
  }
  return on;
}

const send = (s: Socket, port: number, message: Buffer) =>
  new Promise<void>((resolve, reject) => s.send(message, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));

/** What the file sink writes for these messages from one exporter session, pair by pair, in order (the main thread's own pipeline). */
function expectedPairs(messages: Buffer[], port: number): string[] {
  const config = loadConfig(undefined, {});
  const log = pino({ level: 'silent' });
  const settings = pipelineSettings(config, buildRegistry(config));
  const pipeline = new FlowPipeline(settings, new InternalEvents(createMetrics({ processMetrics: false }), log));
  const encoder = createEncoder('file', config, settings.document, (_d, error) => { throw error; });
  const exporter = { key: `udp:127.0.0.1:${port}`, address: '127.0.0.1', expires: true };
  const out = new ByteBuffer();
  const pairs: string[] = [];
  for (const m of messages) {
    for (const d of pipeline.process(m, exporter, 0)) {
      out.pos = 0;
      encoder.encode(d, out);
      pairs.push(out.takeString());
    }
  }
  return pairs;
}

/** The pairs of the _bulk files, in the order written (one file per part, parts in order). */
function writtenPairs(dir: string): string[] {
  const folder = join(dir, 'flows');
  const text = readdirSync(folder).sort().map((f) => readFileSync(join(folder, f), 'utf8')).join('');
  const lines = text.split('\n').filter(Boolean);
  const pairs: string[] = [];
  for (let i = 0; i < lines.length; i += 2) pairs.push(`${lines[i]}\n${lines[i + 1]}\n`);
  return pairs;
}

const layout = aggregatorLayout(4);
const header = (sequence: number, domain: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain });
const data = (domain: number, sequence: number) =>
  dataMessage(header(sequence, domain), 300, layout, [aggregatorRecord(sequence, { sourcePodName: `pod-${domain}-${sequence}` })]);

/** A collector with two workers that has decoded one record from exporter `a` (domain 1) and one from `b` (domain 2). */
async function startedWithTwoExporters(dir: string, a: Socket, b: Socket, log: Logger, env: Record<string, string> = {}): Promise<Collector> {
  const collector = (running = new Collector(configFor(dir, 2, env), log));
  await collector.start();
  const port = collector.inputAddress('udp')!.port;
  await send(a, port, templateMessage(header(0, 1), 300, layout));
  await send(b, port, templateMessage(header(0, 2), 300, layout));
  await send(a, port, data(1, 0));
  await send(b, port, data(2, 0));
  await until(async () => (await counter(collector.events.metrics, 'elkfc_records_decoded_total')) === 2, 10_000, 'the first records');
  return collector;
}

describe('decode workers', () => {
  it('write the same documents with 0, 1 and 2 workers, each exporter in its order, two exporters on two workers', async () => {
    const captures = CAPTURES.map((file) => readCaptures([file], { address: '127.0.0.1', port: 0 }, 0).map((m) => m.message));
    const [first, second] = await exportersOnBothWorkers(Math.ceil(captures.length / 2));
    const exporters = captures.map((_, i) => (i % 2 === 0 ? first : second)[Math.floor(i / 2)]);
    const expected = captures.map((messages, i) => expectedPairs(messages, exporters[i].address().port));
    const total = expected.reduce((n, e) => n + e.length, 0);
    expect(total).toBeGreaterThan(300);

    const runs: string[][] = [];
    for (const workers of [0, 1, 2]) {
      const dir = mkdtempSync(join(tmpdir(), `elkfc-workers-${workers}-`));
      const collector = (running = new Collector(configFor(dir, workers), pino({ level: 'silent' })));
      await collector.start();
      const port = collector.inputAddress('udp')!.port;
      // The exporters send at once, interleaved: each keeps its own order.
      await Promise.all(captures.map(async (messages, i) => {
        for (const m of messages) await send(exporters[i], port, m);
      }));
      await until(async () => (await counter(collector.events.metrics, 'elkfc_records_decoded_total')) >= total, 20_000, `records with ${workers} workers`);
      if (workers === 2) expect((await collector.workers!.stats()).templatesPerWorker.every((n) => n > 0)).toBe(true);
      await collector.stop();
      running = undefined;
      const written = writtenPairs(dir);
      expect(written).toHaveLength(total);
      for (const pairs of expected) {
        const mine = new Set(pairs);
        expect(written.filter((p) => mine.has(p))).toEqual(pairs);
      }
      runs.push([...written].sort());
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  }, 60_000);

  it('keep exporters in one worker apart: the same domain and template id with different layouts, datagrams interleaved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-workers-apart-'));
    const a = await socket();
    const b = await socket();
    const collector = (running = new Collector(configFor(dir, 1), pino({ level: 'silent' })));
    await collector.start();
    const port = collector.inputAddress('udp')!.port;
    const layouts = { a: aggregatorLayout(4), b: aggregatorLayout(6) };
    await send(a, port, templateMessage(header(0, 1), 256, layouts.a));
    await send(b, port, templateMessage(header(0, 1), 256, layouts.b));
    for (let i = 0; i < 60; i++) {
      // Both at once, so that one batch holds both exporters' datagrams.
      await Promise.all([
        send(a, port, dataMessage(header(i, 1), 256, layouts.a, [aggregatorRecord(i, { sourcePodName: `a-${i}` })])),
        send(b, port, dataMessage(header(i, 1), 256, layouts.b, [aggregatorRecord(i, { sourcePodName: `b-${i}` })])),
      ]);
    }
    await until(async () => (await counter(collector.events.metrics, 'elkfc_records_decoded_total')) === 120, 10_000, 'both exporters\' records');
    expect(await counter(collector.events.metrics, 'elkfc_sequence_lost_total', { version: '10' })).toBe(0);
    await collector.stop();
    running = undefined;
    const documents = writtenPairs(dir).map((pair) => JSON.parse(pair.split('\n')[1]).ipfix);
    const from = (who: string) => documents.filter((d) => d.sourcePodName.startsWith(`${who}-`));
    expect(from('a').map((d) => d.sourcePodName)).toEqual(Array.from({ length: 60 }, (_, i) => `a-${i}`));
    expect(from('b').map((d) => d.sourcePodName)).toEqual(Array.from({ length: 60 }, (_, i) => `b-${i}`));
    expect(from('a').every((d) => d.sourceIPv4Address !== undefined && d.sourceIPv6Address === undefined)).toBe(true);
    expect(from('b').every((d) => d.sourceIPv6Address !== undefined && d.sourceIPv4Address === undefined)).toBe(true);
  });

  it('share exporters out evenly, also exporters whose keys all hash to one worker, and keep each where it went', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-workers-spread-'));
    const [onFirst] = await exportersOnBothWorkers(4);
    const collector = (running = new Collector(configFor(dir, 2), pino({ level: 'silent' })));
    await collector.start();
    const port = collector.inputAddress('udp')!.port;
    for (const [i, s] of onFirst.entries()) await send(s, port, templateMessage(header(0, i + 1), 300, layout));
    await until(async () => (await counter(collector.events.metrics, 'elkfc_templates_learned_total')) === 4, 10_000, 'four templates');
    // By hash alone all four would be on worker 0.
    expect((await collector.workers!.stats()).templatesPerWorker).toEqual([2, 2]);
    // Each exporter's data finds its templates on the worker it was given.
    for (const [i, s] of onFirst.entries()) await send(s, port, data(i + 1, 0));
    await until(async () => (await counter(collector.events.metrics, 'elkfc_records_decoded_total')) === 4, 10_000, 'four records');
    expect(await counter(collector.events.metrics, 'elkfc_pending_sets_held_total')).toBe(0);
  });

  it('save every worker\'s templates and give them back to their workers after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-workers-persist-'));
    const [[a], [b]] = await exportersOnBothWorkers(1);
    let collector = await startedWithTwoExporters(dir, a, b, pino({ level: 'silent' }));
    await collector.stop();
    const saved = JSON.parse(readFileSync(join(dir, 'templates.json'), 'utf8')) as { templates: { exporter: string }[] };
    expect(saved.templates.map((t) => t.exporter).sort()).toEqual([`udp:127.0.0.1:${a.address().port}`, `udp:127.0.0.1:${b.address().port}`].sort());

    // Restarted: data without templates decodes at once, each exporter on its worker.
    collector = running = new Collector(configFor(dir, 2), pino({ level: 'silent' }));
    await collector.start();
    expect((await collector.workers!.stats()).templatesPerWorker).toEqual([1, 1]);
    const port = collector.inputAddress('udp')!.port;
    await send(a, port, data(1, 1));
    await send(b, port, data(2, 1));
    await until(async () => (await counter(collector.events.metrics, 'elkfc_records_decoded_total')) === 2, 10_000, 'records after the restart');
    expect(await counter(collector.events.metrics, 'elkfc_pending_sets_held_total')).toBe(0);
  });

  it('count a worker that dies, restart it, and let the others go on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-workers-crash-'));
    const [[a], [b]] = await exportersOnBothWorkers(1);
    const lines: string[] = [];
    // Room for two templates in all: the dead worker's must leave the shared count, or its successor's is refused.
    const collector = await startedWithTwoExporters(dir, a, b, pino({ level: 'info' }, { write: (line: string) => lines.push(line) }), { ELKFC_DECODING_MAX_TEMPLATES: '2' });
    const port = collector.inputAddress('udp')!.port;
    const decoded = () => counter(collector.events.metrics, 'elkfc_records_decoded_total');

    collector.workers!.crash(0);
    await until(async () => (await counter(collector.events.metrics, 'elkfc_decode_worker_restarts_total')) === 1, 10_000, 'the restart');
    const died = lines.map((l) => JSON.parse(l)).find((l) => /decode worker 0 died/.test(l.msg));
    expect(died).toMatchObject({ level: 50, worker: 0 });
    // The other worker kept its templates; the restarted one has none (none were saved yet): the exporter resends.
    await send(b, port, data(2, 1));
    await until(async () => (await decoded()) === 3, 10_000, 'records of the worker that lived');
    await send(a, port, templateMessage(header(1, 1), 300, layout));
    await send(a, port, data(1, 2));
    await until(async () => (await decoded()) === 4, 10_000, 'records of the restarted worker');
    expect(await counter(collector.events.metrics, 'elkfc_templates_refused_total')).toBe(0);
    await collector.stop();
    running = undefined;
    expect(writtenPairs(dir)).toHaveLength(4);
  });

  it('run housekeeping in every worker: templates expire there, and the gauges show what all of them hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-workers-upkeep-'));
    const [[a], [b]] = await exportersOnBothWorkers(1);
    const collector = await startedWithTwoExporters(dir, a, b, pino({ level: 'silent' }));
    const metric = (name: string) => counter(collector.events.metrics, name);
    const upkeep = (nowMs: number) => (collector as unknown as { upkeep(nowMs: number): Promise<void> }).upkeep(nowMs);
    await upkeep(Date.now());
    await until(async () => (await metric('elkfc_templates_active')) === 2, 10_000, 'both workers\' templates in the gauge');
    expect(await metric('elkfc_template_fields')).toBeGreaterThan(2 * 60);
    await upkeep(Date.now() + 3_600_000); // past decoding.templateTimeoutSecs (1800)
    await until(async () => (await metric('elkfc_templates_expired_total')) === 2, 10_000, 'templates expired in both workers');
    await until(async () => (await metric('elkfc_templates_active')) === 0, 10_000, 'the gauge at zero');
    expect((await collector.workers!.stats()).templatesPerWorker).toEqual([0, 0]);
  });

  it('refuse a decoding.workers that is not auto or a whole number of threads, naming the key', () => {
    for (const bad of ['-1', 'many', '1.5', '1000']) {
      expect(() => loadConfig(undefined, { ELKFC_DECODING_WORKERS: bad })).toThrow(ConfigError);
      expect(() => loadConfig(undefined, { ELKFC_DECODING_WORKERS: bad })).toThrow(/decoding\.workers \(from ELKFC_DECODING_WORKERS\)/);
    }
    expect(loadConfig(undefined, {}).decoding.workers).toBe(0);
    expect(loadConfig(undefined, { ELKFC_DECODING_WORKERS: 'auto' }).decoding.workers).toBe('auto');
    const run = spawnSync('node', [BIN, 'run'], { env: { ...process.env, ELKFC_DECODING_WORKERS: 'many' }, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('decoding.workers (from ELKFC_DECODING_WORKERS): expected auto or a whole number of threads')]);
    expect(loadConfig(undefined, { ELKFC_DECODING_WORKERS: '0' }).decoding.workers).toBe(0);
  });

  it('are, with `auto`, the cores the process may use but one, left to the main thread', () => {
    const auto = loadConfig(undefined, { ELKFC_DECODING_WORKERS: 'auto' });
    expect([1, 2, 4, 8].map((cores) => workerCount(auto, cores))).toEqual([1, 1, 3, 7]);
    expect(workerCount(loadConfig(undefined, { ELKFC_DECODING_WORKERS: '3' }), 8)).toBe(3);
  });

  it('count the cores a cgroup CPU quota allows', () => {
    const files = (map: Record<string, string>) => (path: string) => map[path];
    const cores = availableCores(files({}));
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(availableCores(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBe(cores);
    expect(availableCores(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }))).toBe(1);
    expect(availableCores(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(Math.min(cores, 2));
    expect(availableCores(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(cores);
    expect(availableCores(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBe(1);
  });
});
