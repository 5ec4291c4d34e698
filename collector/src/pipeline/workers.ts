import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CollectorConfig } from '../config/schema.js';
import type { ExporterSessionKey, StoredTemplate } from '../session/template-session.js';
import type { EncodedChunk } from '../sinks/encoders.js';
import type { InternalEvents } from '../telemetry/events.js';
import { HEADER_OCTETS, workerFor, type FromWorker, type MetricsReport, type ToWorker, type WorkerSetup } from './worker-protocol.js';

/**
 * A batch is handed to its worker once it holds this much, or BATCH_WAIT_MS after its first datagram. Not at the
 * end of every event-loop turn: a batch costs some 100 µs of postMessage and bookkeeping on both sides, and at
 * moderate rates each turn holds a few datagrams only (measured: 8,000 datagrams/s in 1 ms turns cost the main
 * thread 11 µs per datagram). A few milliseconds of latency are nothing beside the sinks' own batching.
 */
const BATCH_OCTETS = 256 * 1024;
const BATCH_WAIT_MS = 5;
/** Room for one more record past BATCH_OCTETS: a datagram is at most 65,535 octets, with its header. */
const BATCH_CAPACITY = BATCH_OCTETS + 66 * 1024;
/**
 * Batch buffers kept for reuse per worker: each answer gives its batch's buffer back. Performance: with a new buffer
 * per batch (and output buffers that grew), two workers at 50,000 records/s from 4 exporters cost 34 µs of CPU per
 * record, with reuse 25–29 µs, V8's helper threads a sixth to a third less. The main thread's V8 still runs a
 * mark-compact one to two times a second (13–14 in 8 s, one exporter, one worker, 50,000 records/s), and not because
 * of these buffers: with both kinds shared instead (SharedArrayBuffer, nothing transferred) there were as many. Its
 * heap is small, so its old generation's limit is low, and V8 starts marking once the room left under that limit is
 * near its young generation's size (which Node's receive garbage keeps large): with the limit raised
 * (`node --initial-old-space-size=128`) there were none, and 2.4 µs less CPU per record over 300 s, but RSS grew
 * by 8 MiB every 30 s (README, Decode workers).
 */
const MAX_FREE_BATCHES = 4;
/**
 * Batches a worker has been sent and not yet answered. Beyond it, datagrams gather in the next batch: at low
 * rates each batch is the one datagram of a loop turn, under load batches grow, and postMessage costs stay small.
 */
const MAX_BATCHES_IN_FLIGHT = 2;
/**
 * Octets of datagrams one worker may have waiting: as deep as the UDP receive buffer the collector asks for by
 * default (about a second of a busy exporter's stream). A worker that has just started, its code not yet optimised,
 * falls behind for a second or so: 8 MiB lost 1–5 % at 50,000 records/s from 4 exporters on the 2-core machine,
 * 32 MiB nothing. A worker that cannot keep up gets no deeper queue, only more latency and memory. Past half of it
 * TCP exporters are paused, past it messages for that worker are dropped (counted), whatever output.maxQueueBytes
 * allows.
 */
export const WORKER_QUEUE_OCTETS = 32 * 1024 * 1024;
const RESTART_WINDOW_MS = 60_000;
/**
 * Exporter sessions whose worker is remembered (see slotFor). Past it (a flood of spoofed sources), new sessions go
 * to their hash's worker, unremembered: memory stays bounded, and the known exporters stay where their templates are.
 */
const MAX_ASSIGNED_EXPORTERS = 65_536;
/** Output buffers going back to a worker at once (about what is in flight). */
const MAX_SPARE_BUFFERS = 4;
/** Documents' octets per datagram octet before any answer has said (Antrea records: about 3). */
const INITIAL_EXPANSION = 4;

/**
 * The cores this process may use: os.availableParallelism() (the CPU affinity mask), lowered by a CPU quota of
 * its cgroup (a Kubernetes CPU limit): cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us.
 */
export function availableCores(read: (path: string) => string | undefined = readText): number {
  const cores = availableParallelism();
  let quota: number | undefined;
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2[0] !== 'max' && Number(v2[1]) > 0) quota = Number(v2[0]) / Number(v2[1]);
  if (quota === undefined) {
    const q = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim());
    const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim());
    if (q > 0 && period > 0) quota = q / period;
  }
  return quota !== undefined && quota > 0 ? Math.max(1, Math.min(cores, Math.ceil(quota))) : cores;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * decoding.workers as a number of threads. `auto`: the cores the process may use but one, which the main thread's
 * receiving and writing need (at least one worker): on 2 cores, two workers each spent about 20.6 µs of CPU per
 * record against 15.4 for one worker doing all of it (the same 4 exporters, 50,000 records/s, per thread from /proc).
 */
export function workerCount(config: CollectorConfig, cores = availableCores()): number {
  const setting = config.decoding.workers;
  return setting === 'auto' ? Math.max(1, cores - 1) : setting;
}

/** How a worker is started: the compiled worker.js beside this file, the TypeScript source through tsx (tests), or the bundle itself. */
function workerScript(): { url: URL | string; eval?: boolean } {
  const here = import.meta.url;
  if (here.endsWith('/pipeline/workers.js')) return { url: new URL('./worker.js', here) };
  if (here.endsWith('/pipeline/workers.ts')) {
    // Under a TypeScript runner (vitest, tsx): the worker registers tsx before it loads the source.
    const tsx = import.meta.resolve('tsx/esm/api');
    const source = new URL('./worker.ts', here).href;
    return { url: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); })`, eval: true };
  }
  return { url: new URL(here) }; // the single-file bundle: entry.ts runs the worker when started as one
}

interface Batch {
  buffer: ArrayBuffer;
  length: number;
  datagrams: number;
}

type Outgoing = { batch: Batch } | { control: ToWorker };

interface Slot {
  index: number;
  /** Started when first needed (its first exporter, templates to restore): none until then. */
  worker: Worker | undefined;
  buffer: Buffer;
  pos: number;
  datagrams: number;
  /** What waits to be posted, in order (batches and control messages: a close must not overtake its exporter's datagrams). */
  outbox: Outgoing[];
  /** Batches posted and not answered, oldest first. */
  inFlight: Batch[];
  /** Octets in this slot's batch, outbox and in flight. */
  queuedBytes: number;
  gauges: Map<string, [string, Record<string, string | number>, number]>;
  requests: Map<number, { resolve: (message: FromWorker | undefined) => void }>;
  /** Its stored templates as last gathered: what a restarted worker starts from. */
  templates: StoredTemplate[];
  lastError?: Error;
  /** Output buffers of its answers, copied by the sink, to go back with the next batch. */
  spare: ArrayBuffer[];
  /** Batch buffers its answers gave back, to be filled again. */
  freeBatches: ArrayBuffer[];
  /** After a death, no new thread before this time (restarts back off). */
  holdUntil: number;
}

/** Header bytes of an exporter session (key, flags, address), made once per session object. */
interface ExporterRoute {
  slot: number;
  header: Buffer;
}

export interface DecodeWorkersOptions {
  config: CollectorConfig;
  workers: number;
  sink: string;
  events: InternalEvents;
  log: Logger;
  /** Where the workers' documents go (the sink), with the datagrams they answer. */
  deliver(chunk: EncodedChunk): void;
}

/**
 * The main thread's side of the decode workers. Datagrams are appended to their worker's batch (exporter
 * affinity: each session stays on the worker it was given, see slotFor, so one worker holds an exporter's templates
 * and sees its messages in order); batches are posted BATCH_WAIT_MS after their first datagram, or when full, at most
 * MAX_BATCHES_IN_FLIGHT per worker. The workers answer with serialised documents. A worker that dies is logged,
 * counted and restarted.
 */
export class DecodeWorkers {
  private readonly slots: Slot[] = [];
  private readonly routes = new WeakMap<ExporterSessionKey, ExporterRoute>();
  /** The worker of each exporter session key seen (see slotFor), and how many each worker has. */
  private readonly assigned = new Map<string, number>();
  private readonly assignedPerSlot: number[];
  /** [templates, fields] of all workers, then of each (see TemplateSession): a dead worker's are taken off. */
  private readonly templateCounts: SharedArrayBuffer;
  private total = 0;
  /** Octets of serialised documents per octet of datagram, as the workers' answers go (a moving average). */
  private expansion = INITIAL_EXPANSION;
  private scheduled = false;
  private nextRequest = 1;
  private stopping = false;
  /** While start() waits: a worker that cannot load fails start-up instead of being restarted. */
  private starting = false;
  private readonly deaths: number[] = [];

  constructor(private readonly options: DecodeWorkersOptions) {
    this.templateCounts = new SharedArrayBuffer(8 * (options.workers + 1));
    this.assignedPerSlot = new Array<number>(options.workers).fill(0);
    for (let index = 0; index < options.workers; index++) {
      this.slots.push({
        index, worker: undefined, buffer: Buffer.allocUnsafeSlow(BATCH_CAPACITY), pos: 0, datagrams: 0, outbox: [], inFlight: [],
        queuedBytes: 0, gauges: new Map(), requests: new Map(), templates: [], holdUntil: 0, spare: [], freeBatches: [],
      });
    }
  }

  get count(): number {
    return this.options.workers;
  }

  /**
   * Octets of the documents that the datagrams taken and not yet answered will make (their octets times what
   * datagrams have been growing to): what they will add to the sink's backlog, counted toward output.maxQueueBytes.
   */
  get queuedBytes(): number {
    return Math.ceil(this.total * this.expansion);
  }

  /**
   * Starts every worker thread and resolves once each has loaded (about half a second of CPU each), before the
   * inputs listen: datagrams wait in the kernel's buffer meanwhile, not in a queue here. A worker that cannot
   * load stops start-up.
   */
  async start(): Promise<void> {
    this.starting = true;
    try {
      await this.startAll();
    } finally {
      this.starting = false;
    }
  }

  private async startAll(): Promise<void> {
    await Promise.all(this.slots.map((slot) => new Promise<void>((resolve, reject) => {
      const worker = this.spawn(slot);
      const ready = (message: FromWorker) => {
        if (message.type !== 'ready') return;
        worker.off('message', ready).off('exit', failed);
        resolve();
      };
      const failed = (code: number) => reject(slot.lastError ?? new Error(`decode worker ${slot.index} exited with code ${code} before it was ready`));
      worker.on('message', ready).on('exit', failed);
    })));
  }

  /**
   * Starts worker `slot`'s thread (at start, and again after a death). Messages posted while it loads wait for it.
   * One that fails to load after start-up is handled as one that died: logged at ERROR, counted, tried again.
   */
  private spawn(slot: Slot): Worker {
    const { config, sink, log } = this.options;
    const setup: WorkerSetup = {
      elkfcDecodeWorker: true, index: slot.index, workers: this.options.workers, config, sink,
      logLevel: log.level, templateCounts: this.templateCounts,
    };
    const script = workerScript();
    const worker = new Worker(script.url, { eval: script.eval, workerData: setup, stdout: false, stderr: false });
    slot.worker = worker;
    slot.lastError = undefined;
    worker.on('message', (message: FromWorker) => this.received(slot, message));
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker && !this.starting) this.died(slot, code);
    });
    // A restarted worker starts from the templates its predecessor held when they were last gathered.
    if (slot.templates.length > 0) void this.request(slot, { type: 'restore', id: 0, templates: slot.templates, nowMs: Date.now() }, true);
    return worker;
  }

  /** True while some worker holds more than half of WORKER_QUEUE_OCTETS: TCP exporters are to wait. */
  get congested(): boolean {
    return this.slots.some((slot) => slot.queuedBytes >= WORKER_QUEUE_OCTETS / 2);
  }

  /**
   * One datagram for the worker that owns its exporter session. 'dropped' when that worker's queue is full
   * (the caller counts it), 'congested' when it is past half full.
   */
  submit(message: Buffer, exporter: ExporterSessionKey, receivedAtMs: number): 'taken' | 'congested' | 'dropped' {
    let route = this.routes.get(exporter);
    if (!route) route = this.route(exporter);
    const slot = this.slots[route.slot];
    if (slot.queuedBytes >= WORKER_QUEUE_OCTETS) return 'dropped';
    const header = route.header;
    const need = HEADER_OCTETS - 5 + header.length + message.length;
    if (slot.pos + need > slot.buffer.length) this.seal(slot);
    const b = slot.buffer;
    let p = slot.pos;
    b.writeUInt32LE(message.length, p);
    b.writeDoubleLE(receivedAtMs, p + 4);
    p += 12;
    b.set(header, p); // TypedArray.set: a memcpy, cheaper than Buffer.copy's checks for small copies
    p += header.length;
    b.set(message, p);
    p += message.length;
    slot.pos = p;
    slot.datagrams++;
    slot.queuedBytes += need;
    this.total += need;
    if (slot.pos >= BATCH_OCTETS) {
      this.seal(slot);
      this.pump(slot);
    } else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(this.endOfTurn, BATCH_WAIT_MS);
    }
    return slot.queuedBytes >= WORKER_QUEUE_OCTETS / 2 ? 'congested' : 'taken';
  }

  private route(exporter: ExporterSessionKey): ExporterRoute {
    const key = Buffer.from(exporter.key, 'utf8');
    const address = Buffer.from(exporter.address, 'utf8');
    const header = Buffer.allocUnsafe(5 + key.length + address.length);
    header.writeUInt16LE(key.length, 0);
    header[2] = exporter.expires ? 1 : 0;
    header.writeUInt16LE(address.length, 3);
    key.copy(header, 5);
    address.copy(header, 5 + key.length);
    const route = { slot: this.slotFor(exporter.key), header };
    this.routes.set(exporter, route);
    return route;
  }

  /**
   * The worker of an exporter session: the one it has, else the one with the fewest exporter sessions (its hash's
   * among equals), so that a few exporters share the workers evenly (by hash alone, 3 of 4 could land on one of two).
   * It stays there while the collector runs: its templates are there. Restored templates are placed the same way.
   */
  private slotFor(key: string): number {
    const known = this.assigned.get(key);
    if (known !== undefined) return known;
    const hashed = workerFor(key, this.options.workers);
    if (this.assigned.size >= MAX_ASSIGNED_EXPORTERS) return hashed;
    let slot = hashed;
    for (let i = 0; i < this.assignedPerSlot.length; i++) if (this.assignedPerSlot[i] < this.assignedPerSlot[slot]) slot = i;
    this.assigned.set(key, slot);
    this.assignedPerSlot[slot]++;
    return slot;
  }

  /** Whatever gathered meanwhile goes to workers that are not busy; busy ones get it with their next answer. */
  private readonly endOfTurn = (): void => {
    this.scheduled = false;
    for (const slot of this.slots) {
      if (slot.pos > 0 && slot.inFlight.length < MAX_BATCHES_IN_FLIGHT && !slot.outbox.some((o) => 'batch' in o)) {
        this.seal(slot);
        this.pump(slot);
      }
    }
  };

  /** The batch being filled goes to the outbox (its buffer with it); the next is filled in a given-back buffer. */
  private seal(slot: Slot): void {
    if (slot.pos === 0) return;
    const buffer = slot.buffer.buffer as ArrayBuffer;
    const free = slot.freeBatches.pop();
    slot.buffer = free ? Buffer.from(free) : Buffer.allocUnsafeSlow(BATCH_CAPACITY);
    slot.outbox.push({ batch: { buffer, length: slot.pos, datagrams: slot.datagrams } });
    slot.pos = 0;
    slot.datagrams = 0;
  }

  private pump(slot: Slot, all = false): void {
    if (slot.outbox.length === 0 || this.stopping) return;
    if (!slot.worker && Date.now() < slot.holdUntil) return; // restarting after a death: its timer pumps
    const worker = slot.worker ?? this.spawn(slot);
    while (slot.outbox.length > 0) {
      const next = slot.outbox[0];
      if ('batch' in next) {
        if (!all && slot.inFlight.length >= MAX_BATCHES_IN_FLIGHT) return;
        const { buffer, length, datagrams } = next.batch;
        slot.inFlight.push(next.batch);
        const spare = slot.spare.splice(0);
        worker.postMessage({ type: 'batch', buffer, length, datagrams, spare } satisfies ToWorker, [buffer, ...spare]);
      } else {
        worker.postMessage(next.control);
      }
      slot.outbox.shift();
    }
  }

  private received(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'chunk': {
        const batch = slot.inFlight.shift();
        if (batch) {
          slot.queuedBytes -= batch.length;
          this.total -= batch.length;
          const ratio = message.length / batch.length;
          this.expansion = Math.min(20, Math.max(0.5, 0.7 * this.expansion + 0.3 * ratio));
        }
        if (message.documents > 0) {
          // Sinks copy what they are given before returning: the buffer can go back to the worker.
          this.options.deliver({ body: Buffer.from(message.body, 0, message.length), offsets: message.offsets, documents: message.documents });
        }
        if (message.body.byteLength > 0 && slot.spare.length < MAX_SPARE_BUFFERS) slot.spare.push(message.body);
        if (message.batch.byteLength === BATCH_CAPACITY && slot.freeBatches.length < MAX_FREE_BATCHES) slot.freeBatches.push(message.batch);
        if (slot.pos > 0 && !slot.outbox.some((o) => 'batch' in o)) this.seal(slot);
        this.pump(slot);
        break;
      }
      case 'metrics':
        this.applyMetrics(slot, message.report);
        break;
      case 'log':
        this.relayLog(message.line);
        break;
      case 'ready':
        break;
      default: {
        const pending = slot.requests.get(message.id);
        slot.requests.delete(message.id);
        pending?.resolve(message);
      }
    }
  }

  /** Counters are increments, added to the main thread's; gauges are each worker's, shown as their sum. */
  private applyMetrics(slot: Slot, report: MetricsReport): void {
    const registry = this.options.events.metrics.registry;
    for (const [name, labels, delta] of report.counters) {
      (registry.getSingleMetric(name) as { inc?(labels: Record<string, string | number>, n: number): void } | undefined)?.inc?.(labels, delta);
    }
    for (const gauge of report.gauges) slot.gauges.set(`${gauge[0]}${JSON.stringify(gauge[1])}`, gauge);
    if (report.gauges.length > 0) this.publishGauges();
  }

  /** Sets each gauge the workers report to its sum over the workers. */
  publishGauges(): void {
    const sums = new Map<string, [string, Record<string, string | number>, number]>();
    for (const slot of this.slots) {
      for (const [id, [name, labels, value]] of slot.gauges) {
        const sum = sums.get(id);
        if (sum) sum[2] += value;
        else sums.set(id, [name, labels, value]);
      }
    }
    const registry = this.options.events.metrics.registry;
    for (const [name, labels, value] of sums.values()) {
      (registry.getSingleMetric(name) as { set?(labels: Record<string, string | number>, v: number): void } | undefined)?.set?.(labels, value);
    }
  }

  /** A worker's log line, written by the main thread's logger (pino's JSON line: level, msg, and the fields). */
  private relayLog(line: string): void {
    const log = this.options.log;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { level, msg, ...fields } = entry;
    const label = log.levels.labels[Number(level)] as 'info' | undefined;
    if (label && typeof log[label] === 'function') log[label](fields, typeof msg === 'string' ? msg : '');
  }

  /** A message the worker answers (matched by id); `first` puts it before what already waits. */
  private request(slot: Slot, message: Extract<ToWorker, { id: number }>, first = false): Promise<FromWorker | undefined> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      if (this.stopping) return resolve(undefined); // stopped: nobody will answer
      // A worker not started holds nothing: nothing to flush, close, count or gather (what it is to restore is in slot.templates).
      if (!slot.worker && message.type !== 'restore') {
        return resolve(message.type === 'templates' ? { type: 'templates', id, templates: slot.templates } : undefined);
      }
      slot.requests.set(id, { resolve });
      const item = { control: { ...message, id } };
      if (first) slot.outbox.unshift(item);
      else slot.outbox.push(item);
      this.pump(slot);
    });
  }

  /** A TCP exporter's session ended: its worker forgets it, after the datagrams it already has; resolves once it has. */
  async closeExporter(exporter: ExporterSessionKey): Promise<void> {
    const index = this.routes.get(exporter)?.slot ?? this.slotFor(exporter.key);
    const slot = this.slots[index];
    this.seal(slot);
    // Forgotten at once: a new connection with the same key starts without templates, on whichever worker it gets.
    if (this.assigned.get(exporter.key) === index) {
      this.assigned.delete(exporter.key);
      this.assignedPerSlot[index]--;
    }
    this.routes.delete(exporter);
    await this.request(slot, { type: 'close', id: 0, exporter: { key: exporter.key, address: exporter.address, expires: exporter.expires } });
  }

  housekeeping(nowMs: number): void {
    for (const slot of this.slots) {
      if (!slot.worker) continue;
      slot.outbox.push({ control: { type: 'housekeeping', nowMs } });
      this.pump(slot);
    }
  }

  /** Saved templates, each to the worker that owns its exporter session. */
  async restore(templates: readonly StoredTemplate[], nowMs: number): Promise<{ restored: number; refused: number }> {
    const parts = this.slots.map(() => [] as StoredTemplate[]);
    for (const t of templates) parts[this.slotFor(t.exporter)].push(t);
    const answers = await Promise.all(this.slots.map((slot, i) => {
      if (parts[i].length === 0) return undefined;
      const answer = this.request(slot, { type: 'restore', id: 0, templates: parts[i], nowMs });
      slot.templates = parts[i]; // after: the thread just started restores these once, from the request
      return answer;
    }));
    let restored = 0;
    let refused = 0;
    for (const a of answers) {
      if (a?.type !== 'restored') continue;
      restored += a.restored;
      refused += a.refused;
    }
    return { restored, refused };
  }

  /** Every worker's stored templates (what persistence saves); each slot keeps its own for a restart. */
  async storedTemplates(): Promise<StoredTemplate[]> {
    const answers = await Promise.all(this.slots.map((slot) => this.request(slot, { type: 'templates', id: 0 })));
    return answers.flatMap((a, i) => {
      if (a?.type !== 'templates') return [];
      this.slots[i].templates = a.templates;
      return a.templates;
    });
  }

  /** What the workers' sessions hold now (templates, fields, held sets). */
  async stats(): Promise<{ templates: number; fields: number; pendingSets: number; templatesPerWorker: number[] }> {
    const answers = await Promise.all(this.slots.map((slot) => this.request(slot, { type: 'stats', id: 0 })));
    const total = { templates: 0, fields: 0, pendingSets: 0, templatesPerWorker: [] as number[] };
    for (const a of answers) {
      total.templatesPerWorker.push(a?.type === 'stats' ? a.templates : 0);
      if (a?.type !== 'stats') continue;
      total.templates += a.templates;
      total.fields += a.fields;
      total.pendingSets += a.pendingSets;
    }
    return total;
  }

  /** Sends every batch, however many are in flight, and resolves once each worker has answered them all. */
  async flush(): Promise<void> {
    await Promise.all(this.slots.map((slot) => {
      this.seal(slot);
      if (!slot.worker && slot.outbox.length > 0) this.spawn(slot); // restarting: what waits for it is decoded now
      const done = this.request(slot, { type: 'flush', id: 0 });
      this.pump(slot, true);
      return done;
    }));
  }

  /** Tests only: makes worker `index` throw, as a bug in it would. */
  crash(index: number): void {
    this.slots[index].worker?.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  /** Requests it will never answer: answered empty, so that a stop or a save does not wait for a dead worker. */
  private abandonRequests(slot: Slot): void {
    for (const pending of slot.requests.values()) pending.resolve(undefined);
    slot.requests.clear();
  }

  private died(slot: Slot, code: number): void {
    this.abandonRequests(slot);
    if (this.stopping) return;
    const lost = slot.inFlight.reduce((n, b) => n + b.datagrams, 0);
    const octets = slot.inFlight.reduce((n, b) => n + b.length, 0);
    slot.inFlight = [];
    slot.queuedBytes -= octets;
    this.total -= octets;
    slot.gauges.clear();
    this.publishGauges();
    // Its templates went with it: out of the totals the template limits are checked against.
    const all = new Int32Array(this.templateCounts, 0, 2);
    const own = new Int32Array(this.templateCounts, 8 * (slot.index + 1), 2);
    for (const i of [0, 1]) Atomics.sub(all, i, Atomics.exchange(own, i, 0));
    // Control messages already posted went with it; the outbox (not yet posted) goes to its successor.
    const now = Date.now();
    while (this.deaths.length > 0 && now - this.deaths[0] > RESTART_WINDOW_MS) this.deaths.shift();
    this.deaths.push(now);
    const delayMs = Math.min(10_000, 100 * 2 ** (this.deaths.length - 1)) - 100;
    this.options.events.decodeWorkerDied(slot.index, slot.lastError ?? new Error(`exited with code ${code}`), lost, delayMs);
    slot.worker = undefined;
    slot.holdUntil = now + delayMs;
    const restart = () => {
      if (!this.stopping && !slot.worker) this.spawn(slot);
      this.pump(slot);
    };
    if (delayMs > 0) setTimeout(restart, delayMs).unref();
    else restart();
  }

  /** Stops the workers (after flush: nothing is lost). */
  async terminate(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((slot) => slot.worker?.terminate()));
    for (const slot of this.slots) this.abandonRequests(slot);
  }
}
