import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { pino } from 'pino';
import { ByteBuffer } from '../document/bytes.js';
import { FlowError } from '../decoders/types.js';
import { buildRegistry } from '../ie/configured.js';
import type { ExporterSessionKey } from '../session/template-session.js';
import { createEncoder } from '../sinks/encoders.js';
import { InternalEvents } from '../telemetry/events.js';
import { createMetrics } from '../telemetry/metrics.js';
import { FlowPipeline } from './flow-pipeline.js';
import { pipelineSettings } from './settings.js';
import { HEADER_OCTETS, type FromWorker, type MetricsReport, type ToWorker, type WorkerSetup } from './worker-protocol.js';

/** The gauges a worker reports (what its session holds); the main thread shows their sum over the workers. */
export const WORKER_GAUGES = new Set(['elkfc_templates_active', 'elkfc_template_fields', 'elkfc_pending_sets', 'elkfc_pending_bytes']);
/** Metrics go to the main thread at most this often while datagrams flow, and at every flush and housekeeping. */
const REPORT_INTERVAL_MS = 100;
/** Output buffers given back by the main thread (each answer hands over its buffer), kept for the next answers. */
const MAX_SPARE_BUFFERS = 4;
/** Room for the documents of a full batch (about 3 octets of JSON per octet of Antrea datagrams): no growing copy. */
const OUTPUT_OCTETS = 2 << 20;
/** Header bytes of the last exporter kept for comparison (keys and addresses are far shorter). */
const LAST_HEADER_OCTETS = 512;

/**
 * A decode worker: its own FlowPipeline (templates, sequence numbers and throughput state of the exporter
 * sessions routed to it), and the sink's encoder, so that it answers each batch of datagrams with the documents'
 * bytes, serialised exactly as the sink in the main thread would. Logs and metrics go to the main thread.
 */
export function runDecodeWorker(setup: WorkerSetup, port: MessagePort): void {
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  // Lines go to the main thread, which writes them with its own logger (its format, its destination).
  const log = pino({ level: setup.logLevel, base: { worker: setup.index }, timestamp: false }, { write: (line: string) => post({ type: 'log', line }) });
  const events = new InternalEvents(createMetrics({ processMetrics: false }), log);
  const { config } = setup;
  const counts = { all: new Int32Array(setup.templateCounts, 0, 2), own: new Int32Array(setup.templateCounts, 8 * (setup.index + 1), 2) };
  const settings = pipelineSettings(config, buildRegistry(config), setup.workers, counts);
  const pipeline = new FlowPipeline(settings, events);
  /** The exporter whose documents are being serialised, named when one fails. */
  let encoding: ExporterSessionKey | undefined;
  // A bug of ours in serialising one document drops that document, counted, as the pipeline does.
  const encoder = createEncoder(setup.sink, config, settings.document, (_document, error) =>
    events.packetDropped(new FlowError('internal_error', encoding?.key ?? '', undefined, `document failure: ${error.message}`)));
  const exporters = new Map<string, ExporterSessionKey>();
  const spare: ArrayBuffer[] = [];
  /** The next answer's buffer: one given back, or a new one. */
  const output = (): ByteBuffer => {
    const ab = spare.pop() ?? (Buffer.allocUnsafeSlow(OUTPUT_OCTETS).buffer as ArrayBuffer); // not zero-filled, unlike new ArrayBuffer
    return new ByteBuffer(Buffer.from(ab));
  };
  let out = output();

  const exporterOf = (key: string, address: string, expires: boolean): ExporterSessionKey => {
    let exporter = exporters.get(key);
    if (!exporter) {
      if (exporters.size >= 65536) exporters.clear(); // bounded as the UDP input's own cache
      exporter = { key, address, expires };
      exporters.set(key, exporter);
    }
    return exporter;
  };

  // The last datagram's exporter and its header bytes (lengths, flags, key, address): a batch is mostly one
  // exporter's, and reading its two texts and looking them up cost each datagram more than comparing the bytes.
  const lastHeader = Buffer.alloc(LAST_HEADER_OCTETS);
  let lastHeaderLength = -1;
  let lastExporter: ExporterSessionKey | undefined;
  const sameHeader = (bytes: Buffer, start: number, end: number): boolean => {
    if (end - start !== lastHeaderLength) return false;
    for (let i = start, j = 0; i < end; i++, j++) if (bytes[i] !== lastHeader[j]) return false;
    return true;
  };

  function decodeBatch(buffer: ArrayBuffer, length: number, datagrams: number): void {
    const bytes = Buffer.from(buffer, 0, length);
    const offsets: number[] = [];
    for (let p = 0; p < length; ) {
      const messageLength = bytes.readUInt32LE(p);
      const receivedAtMs = bytes.readDoubleLE(p + 4);
      const keyLength = bytes.readUInt16LE(p + 12);
      const expires = (bytes[p + 14] & 1) === 1;
      const addressLength = bytes.readUInt16LE(p + 15);
      const q = p + HEADER_OCTETS + keyLength + addressLength;
      let exporter = lastExporter;
      if (exporter === undefined || !sameHeader(bytes, p + 12, q)) {
        const key = bytes.toString('utf8', p + HEADER_OCTETS, p + HEADER_OCTETS + keyLength);
        const address = bytes.toString('utf8', p + HEADER_OCTETS + keyLength, q);
        exporter = exporterOf(key, address, expires);
        const headerLength = q - (p + 12);
        lastExporter = headerLength <= LAST_HEADER_OCTETS ? exporter : undefined;
        if (lastExporter) lastHeaderLength = bytes.copy(lastHeader, 0, p + 12, q);
      }
      const documents = pipeline.process(bytes.subarray(q, q + messageLength), exporter, receivedAtMs);
      encoding = exporter;
      for (let i = 0; i < documents.length; i++) {
        const start = out.pos;
        if (encoder.encode(documents[i], out)) offsets.push(start);
      }
      p = q + messageLength;
    }
    const used = out.pos;
    offsets.push(used);
    const table = Uint32Array.from(offsets);
    // The whole buffer goes (no copy); the main thread gives it back once the sink has copied the documents.
    const body = out.buffer.buffer as ArrayBuffer;
    out = output();
    post({ type: 'chunk', body, length: used, offsets: table, documents: offsets.length - 1, datagrams, octets: length, batch: buffer }, [body, table.buffer, buffer]);
  }

  // Counters as increments since the last report: the main thread adds them to its own, so its /metrics is the sum
  // and never goes back when a worker is restarted.
  const reported = new Map<string, number>();
  let lastReportMs = 0;
  let reporting = Promise.resolve();
  const snapshot = async (): Promise<void> => {
    const report: MetricsReport = { counters: [], gauges: [] };
    for (const metric of await events.metrics.registry.getMetricsAsJSON()) {
      const type = metric.type as unknown as string;
      if (type === 'gauge' && WORKER_GAUGES.has(metric.name)) {
        for (const v of metric.values) report.gauges.push([metric.name, v.labels as Record<string, string>, v.value]);
      } else if (type === 'counter') {
        for (const v of metric.values) {
          const id = `${metric.name}${JSON.stringify(v.labels)}`;
          const delta = v.value - (reported.get(id) ?? 0);
          if (delta === 0) continue;
          reported.set(id, v.value);
          report.counters.push([metric.name, v.labels as Record<string, string>, delta]);
        }
      }
    }
    if (report.counters.length > 0 || report.gauges.length > 0) post({ type: 'metrics', report });
  };
  /** One report at a time, in order (each is the increments since the one before). */
  let trailing: NodeJS.Timeout | undefined;
  const report = (): Promise<void> => {
    clearTimeout(trailing);
    trailing = undefined;
    lastReportMs = Date.now();
    return (reporting = reporting.then(snapshot));
  };
  /** After a batch: a report now, or when the interval is over (the last batches of a burst are reported too). */
  const reportSoon = (): void => {
    const wait = REPORT_INTERVAL_MS - (Date.now() - lastReportMs);
    if (wait <= 0) void report();
    else trailing ??= setTimeout(() => void report(), wait);
  };

  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'batch':
        for (const b of message.spare) if (spare.length < MAX_SPARE_BUFFERS && b.byteLength >= OUTPUT_OCTETS) spare.push(b);
        decodeBatch(message.buffer, message.length, message.datagrams);
        reportSoon();
        break;
      case 'close':
        pipeline.closeExporter(message.exporter);
        exporters.delete(message.exporter.key);
        lastExporter = undefined; // its next datagram makes a new session key
        events.forgetExporter(message.exporter.key);
        post({ type: 'closed', id: message.id });
        break;
      case 'housekeeping':
        pipeline.housekeeping(message.nowMs);
        void report();
        break;
      case 'restore': {
        const { restored, refused } = pipeline.session.restore(message.templates, message.nowMs);
        post({ type: 'restored', id: message.id, restored, refused });
        break;
      }
      case 'templates':
        post({ type: 'templates', id: message.id, templates: pipeline.session.storedTemplates() });
        break;
      case 'stats': {
        const stats = pipeline.session.stats();
        post({ type: 'stats', id: message.id, templates: stats.templates, fields: stats.fields, pendingSets: stats.pendingSets });
        break;
      }
      case 'flush':
        void report().then(() => post({ type: 'flushed', id: message.id }));
        break;
      case 'crash':
        setImmediate(() => {
          throw new Error('decode worker crash requested (test hook)');
        });
        break;
    }
  });
  post({ type: 'ready' });
}

// Started as a worker thread (by workers.ts, or the single-file bundle running itself): run.
const setup = workerData as WorkerSetup | undefined;
if (!isMainThread && parentPort && setup?.elkfcDecodeWorker) runDecodeWorker(setup, parentPort);
