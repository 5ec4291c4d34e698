// The file sink: parts rotate past maxFileBytes, the oldest parts are deleted past maxTotalBytes (counted and
// logged as data loss), and every line pair is a _bulk create action and its document.
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { documentId } from '../collector/src/document/document-id.js';
import { createFileSink } from '../collector/src/sinks/file.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { startFakeElasticsearch } from './support/fake-elasticsearch.js';
import { counter, decodeAll, testPipeline } from './support/offline.js';

async function startFileSink(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'elkfc-files-'));
  const config = loadConfig(undefined, { ELKFC_OUTPUT_FILE_DIRECTORY: dir, ...env });
  const metrics = createMetrics();
  const events = new InternalEvents(metrics, pino({ level: 'silent' }));
  const sink = await createFileSink({ config, documentOptions: { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }, events, log: pino({ level: 'silent' }) });
  return { dir, config, metrics, sink };
}

/** Flow Aggregator documents whose source Pods are named pod-0, pod-1, …: what came out, in order. */
function numberedDocuments(count: number) {
  const { pipeline } = testPipeline();
  const layout = aggregatorLayout(4);
  const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 1 });
  const messages = [templateMessage(header(0), 300, layout)];
  for (let i = 0; i < count; i += 3) messages.push(dataMessage(header(i), 300, layout, [0, 1, 2].map((j) => aggregatorRecord(i + j, { sourcePodName: `pod-${i + j}` }))));
  return decodeAll(pipeline, messages);
}

describe('file sink', () => {
  it('fills its buffer again once a chunk is written, every document written whole', async () => {
    const { dir, sink } = await startFileSink({});
    const docs = numberedDocuments(6000);
    // The sink's buffer is 5 MiB (a 4 MiB chunk and a document's slack): count the new ones.
    const fresh = vi.spyOn(Buffer, 'allocUnsafe');
    for (let i = 0; i < docs.length; i += 1000) {
      sink.write(docs.slice(i, i + 1000));
      await sink.flush();
    }
    const buffers = fresh.mock.calls.filter(([size]) => size === 5 * 1024 * 1024).length;
    fresh.mockRestore();
    await sink.close();
    const lines = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
    expect(lines.filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l).ipfix.sourcePodName)).toEqual(docs.map((d) => d.fields.sourcePodName));
    // Six chunks written one after the other: without reuse each took a fresh buffer.
    expect(buffers).toBeLessThanOrEqual(1);
  });

  it('counts the chunks it cannot write, and writes the next ones whole from the same buffers', async () => {
    const root = mkdtempSync(join(tmpdir(), 'elkfc-files-'));
    const dir = join(root, 'flows');
    // Parts of 1 MiB: every chunk of 1,000 documents (some 3 MB) opens a new part, which fails while the directory is a file.
    const { metrics, sink } = await startFileSink({ ELKFC_OUTPUT_FILE_DIRECTORY: dir, ELKFC_OUTPUT_FILE_MAX_FILE_BYTES: String(1024 * 1024) });
    const docs = numberedDocuments(6000);
    const fresh = vi.spyOn(Buffer, 'allocUnsafe');
    const health: boolean[] = [];
    for (let chunk = 0; chunk < 6; chunk++) {
      if (chunk === 2) {
        renameSync(dir, `${dir}-before`);
        writeFileSync(dir, ''); // a file where the directory was: the next parts cannot be opened
      }
      if (chunk === 4) rmSync(dir);
      sink.write(docs.slice(chunk * 1000, (chunk + 1) * 1000));
      await sink.flush();
      health.push(sink.ready());
    }
    const buffers = fresh.mock.calls.filter(([size]) => size === 5 * 1024 * 1024).length;
    fresh.mockRestore();
    await sink.close();
    expect(health).toEqual([true, true, false, false, true, true]);
    expect(await counter(metrics, 'elkfc_sink_documents_failed_total', { sink: 'file' })).toBe(2000);
    expect(await counter(metrics, 'elkfc_sink_documents_written_total')).toBe(4000);
    const lines = [`${dir}-before`, dir].flatMap((d) => readdirSync(d).sort().flatMap((f) => readFileSync(join(d, f), 'utf8').split('\n').filter(Boolean)));
    const written = [...docs.slice(0, 2000), ...docs.slice(4000)];
    expect(lines.filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l).ipfix.sourcePodName)).toEqual(written.map((d) => d.fields.sourcePodName));
    // The failed chunks' buffers were filled again too.
    expect(buffers).toBeLessThanOrEqual(1);
  });

  it('rotates parts by size and deletes the oldest past the total bound, counting the loss', async () => {
    const MiB = 1024 * 1024;
    const { dir, metrics, sink } = await startFileSink({
      ELKFC_OUTPUT_FILE_MAX_FILE_BYTES: String(MiB),
      ELKFC_OUTPUT_FILE_MAX_TOTAL_BYTES: String(3 * MiB),
    });
    const { pipeline } = testPipeline();
    const layout = aggregatorLayout(4);
    const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 1 });
    decodeAll(pipeline, [templateMessage(header(0), 300, layout)]);
    // About 3.1 kB per document: 400 documents per flush, 5 flushes, ~6 MB in all.
    for (let round = 0; round < 5; round++) {
      const docs = decodeAll(pipeline, Array.from({ length: 134 }, (_, i) => dataMessage(header(round * 402 + i * 3), 300, layout, [0, 1, 2].map((j) => aggregatorRecord(round * 402 + i * 3 + j)))));
      sink.write(docs);
      await sink.flush();
    }
    await sink.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(f).toMatch(/^flows-\d{4}\.\d\d\.\d\d-\d{4}\.ndjson$/);
    const sizes = files.map((f) => readFileSync(join(dir, f)).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 * MiB + 1.5 * MiB); // the open part may pass the bound
    expect(await counter(metrics, 'elkfc_sink_discarded_bytes_total')).toBeGreaterThan(0);
    expect(await counter(metrics, 'elkfc_sink_documents_written_total')).toBe(2010);
    const lines = readFileSync(join(dir, files[files.length - 1]), 'utf8').split('\n').filter(Boolean);
    expect(lines.length % 2).toBe(0);
    expect(JSON.parse(lines[0])).toEqual({ create: { _index: 'flow-2023.11.14', _id: expect.stringMatching(/^[\w-]{27}$/) } });
    expect(JSON.parse(lines[1]).ipfix.sourcePodName).toMatch(/^client-/);
  });

  it('drops a document it cannot serialise, counted as an internal error, and writes the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-files-'));
    const metrics = createMetrics();
    const events = new InternalEvents(metrics, pino({ level: 'silent' }));
    const config = loadConfig(undefined, { ELKFC_OUTPUT_FILE_DIRECTORY: dir });
    const sink = await createFileSink({ config, documentOptions: { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }, events, log: pino({ level: 'silent' }) });
    const { pipeline } = testPipeline();
    const layout = aggregatorLayout(4);
    const header = { exportTimeSecs: 1_700_000_000, sequence: 0, domain: 1 };
    const docs = decodeAll(pipeline, [templateMessage(header, 300, layout), dataMessage(header, 300, layout, [0, 1, 2].map((i) => aggregatorRecord(i)))]);
    // A value whose JSON cannot be written stands for a bug of ours in a document.
    docs[1].fields.sourcePodLabels = { toJSON: () => { throw new Error('unserialisable'); } };
    sink.write(docs);
    await sink.close();
    const lines = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
    expect(lines.filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l).ipfix.sourcePodName)).toEqual([docs[0], docs[2]].map((d) => d.fields.sourcePodName));
    expect(await counter(metrics, 'elkfc_sink_documents_written_total')).toBe(2);
    expect(await counter(metrics, 'elkfc_decode_errors_total', { kind: 'internal_error' })).toBe(1);
  });

  it('loads safely by hand: the Elasticsearch output\'s _id in every action, so a second load adds nothing; files under 100 MB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-files-'));
    const config = loadConfig(undefined, { ELKFC_OUTPUT_FILE_DIRECTORY: dir });
    expect(config.output.file.maxFileBytes).toBeLessThan(100 * 1024 * 1024); // Elasticsearch's default http.max_content_length
    const events = new InternalEvents(createMetrics(), pino({ level: 'silent' }));
    const sink = await createFileSink({ config, documentOptions: { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }, events, log: pino({ level: 'silent' }) });
    const { pipeline } = testPipeline();
    const layout = aggregatorLayout(4);
    const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 1 });
    const docs = decodeAll(pipeline, [templateMessage(header(0), 300, layout), ...[0, 3, 6].map((i) => dataMessage(header(i), 300, layout, [0, 1, 2].map((j) => aggregatorRecord(i + j))))]);
    sink.write(docs);
    await sink.close();
    const [file] = readdirSync(dir);
    const body = readFileSync(join(dir, file));
    const actions = body.toString('utf8').split('\n').filter(Boolean).filter((_, i) => i % 2 === 0).map((l) => JSON.parse(l).create._id);
    expect(actions).toEqual(docs.map(documentId));
    const es = await startFakeElasticsearch();
    try {
      const load = async () => (await fetch(`${es.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })).json() as Promise<{ items: { create: { status: number } }[] }>;
      expect((await load()).items.map((i) => i.create.status)).toEqual(docs.map(() => 201));
      expect((await load()).items.map((i) => i.create.status)).toEqual(docs.map(() => 409));
      expect(es.documents.size).toBe(docs.length);
    } finally {
      await es.close();
    }
  });
});
