import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { listenError } from '../config/checks.js';
import { ConfigError } from '../config/load.js';
import type { CollectorConfig } from '../config/schema.js';
import type { FlowDocument } from '../document/document.js';
import { buildRegistry } from '../ie/configured.js';
import { INPUTS } from '../inputs/registry.js';
import { hostPort, type Input, type InputHandlers } from '../inputs/types.js';
import { templateFileBound, TemplatePersistence } from '../session/persistence.js';
import type { ExporterSessionKey } from '../session/template-session.js';
import type { EncodedChunk } from '../sinks/encoders.js';
import { createSink, sinkName } from '../sinks/registry.js';
import type { Sink } from '../sinks/types.js';
import { InternalEvents } from '../telemetry/events.js';
import { createMetrics } from '../telemetry/metrics.js';
import { buildHealthServer } from '../telemetry/server.js';
import { FlowPipeline } from './flow-pipeline.js';
import { documentOptions, pipelineSettings, templateLimits } from './settings.js';
import { DecodeWorkers, workerCount } from './workers.js';

// Where they used to live: the offline commands and tests import them from here too.
export { documentOptions, pipelineSettings, templateLimits } from './settings.js';

const HOUSEKEEPING_INTERVAL_MS = 5000;
/** While paused, how often the backlog is looked at again (it drains without new documents arriving). */
const RESUME_CHECK_MS = 100;

/** Where the configured sink ships to, for the start-up line: never a credential (URLs lose their user and password). */
export function sinkTarget(config: CollectorConfig, sink = sinkName(config)): string {
  switch (sink) {
    case 'file':
      return config.output.file.directory;
    case 'elasticsearch': {
      const es = config.elasticsearch;
      const urls = es.urls.map((u) => {
        const url = new URL(u);
        url.username = '';
        url.password = '';
        return url.origin + (url.pathname === '/' ? '' : url.pathname);
      });
      return `${urls.join(', ')} (${es.indexMode === 'dataStream' ? `data stream ${es.dataStream}` : `daily indices ${es.dailyIndexPrefix}YYYY.MM.dd`})`;
    }
    case 'null':
      return 'nothing (documents are discarded)';
    default:
      return sink;
  }
}

/**
 * The running collector: inputs → decode (FlowPipeline, in decode workers or on this thread) → sink, with template
 * persistence, housekeeping, backpressure and the health server. `stop` is the graceful shutdown: stop receiving,
 * flush, persist templates. With decode workers (decoding.workers), exporter messages go to the worker that owns
 * their session and come back as serialised documents; the JSON input's records are decoded on this thread.
 */
export class Collector {
  readonly events: InternalEvents;
  /** Decodes on this thread: everything with `decoding.workers: 0`, the JSON input's records otherwise. */
  readonly pipeline: FlowPipeline;
  /** The decode workers, once started (none with `decoding.workers: 0`). */
  workers: DecodeWorkers | undefined;
  private readonly inputs: Input[] = [];
  private sink: Sink | undefined;
  private http: FastifyInstance | undefined;
  private readonly persistence: TemplatePersistence | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private lastPersistMs = 0;
  private paused = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    readonly config: CollectorConfig,
    private readonly log: Logger,
  ) {
    this.events = new InternalEvents(createMetrics(), log);
    this.pipeline = new FlowPipeline(pipelineSettings(config, buildRegistry(config)), this.events);
    const statePath = config.decoding.templateStatePath;
    this.persistence = statePath ? new TemplatePersistence(statePath, templateFileBound(templateLimits(config))) : undefined;
  }

  async start(): Promise<void> {
    const workers = workerCount(this.config);
    this.events.metrics.decodeWorkers.set(workers);
    if (workers > 0) {
      this.workers = new DecodeWorkers({
        config: this.config, workers, sink: sinkName(this.config), events: this.events, log: this.log,
        deliver: (chunk) => this.deliverEncoded(chunk),
      });
    }
    try {
      await this.workers?.start();
      await this.startParts();
    } catch (error) {
      // Nothing may keep running after a start-up that failed (a port in use): the caller exits or tries again.
      await this.workers?.terminate();
      throw error;
    }
  }

  private async startParts(): Promise<void> {
    const now = Date.now();
    if (this.persistence) {
      const workers = this.workers;
      const { restored, refused, problem } = workers
        ? await this.persistence.restoreWith((templates) => workers.restore(templates, now))
        : await this.persistence.load(this.pipeline.session, now);
      if (problem) this.log.warn({ path: this.config.decoding.templateStatePath, problem }, 'saved templates not restored');
      else if (restored > 0) this.log.info({ restored }, 'templates restored from disk');
      if (refused) this.events.templatesRefusedOnRestore(refused);
    }
    const handlers: InputHandlers = {
      message: this.workers
        ? (message, exporter, receivedAtMs) => this.submit(message, exporter, receivedAtMs)
        : (message, exporter, receivedAtMs) => this.deliver(this.pipeline.process(message, exporter, receivedAtMs)),
      decoded: (result, exporter, receivedAtMs) => this.deliver(this.pipeline.processDecoded(result, exporter, receivedAtMs)),
      compile: this.pipeline.compile,
      closed: (exporter) => {
        this.pipeline.closeExporter(exporter);
        return this.workers?.closeExporter(exporter);
      },
    };
    // All made before any listens, so that a bad input configuration (a certificate file) stops start-up at once.
    const inputs = Object.entries(INPUTS).map(([name, create]) =>
      [name, create({ config: this.config, handlers, events: this.events, log: this.log.child({ input: name }) })] as const);
    this.sink = await createSink({ config: this.config, documentOptions: documentOptions(this.config), events: this.events, log: this.log });
    for (const [name, input] of inputs) {
      if (!input) continue;
      const settings = this.config.inputs[name as keyof typeof INPUTS] as { host?: string; port?: number | null };
      this.inputs.push(input);
      try {
        await input.start();
      } catch (error) {
        // An input with several listeners (json: TCP or TLS, UDP) names the one that failed itself.
        throw error instanceof ConfigError ? error : listenError(`inputs.${name}.port`, settings.host ?? '', settings.port ?? 0, error);
      }
    }
    this.housekeeping = setInterval(() => void this.upkeep(Date.now()), HOUSEKEEPING_INTERVAL_MS);
    this.housekeeping.unref();
    if (this.config.http.enabled) {
      this.http = await buildHealthServer({
        metrics: this.events.metrics.registry,
        health: { readiness: () => this.readiness(), details: () => ({ sink: this.sink?.name, ...this.sink?.status?.() }) },
      });
      try {
        await this.http.listen({ host: this.config.http.host, port: this.config.http.port });
      } catch (error) {
        throw listenError('http.port', this.config.http.host, this.config.http.port, error);
      }
    }
    // Announced only once everything is bound: a start-up that fails on a later port prints just its error.
    for (const input of this.inputs) input.announce();
    if (this.http) this.log.info({ address: this.http.addresses() }, 'health and metrics server listening');
    this.started = true;
    this.logStarted();
  }

  /** One line that says what the collector is doing: where it listens, where documents go, where to look. */
  private logStarted(): void {
    const listeners = this.inputs.map((i) => {
      const a = i.address();
      return a ? `${i.name} ${hostPort(a.address, a.port)}` : i.name;
    });
    const sink = sinkName(this.config);
    const target = sinkTarget(this.config, sink);
    const http = this.http?.server.address();
    const health = http && typeof http === 'object' ? `http://${hostPort(http.address, http.port)}` : undefined;
    const workers = this.workers?.count ?? 0;
    const decoding = workers > 0 ? `decoding in ${workers} worker thread${workers === 1 ? '' : 's'}` : 'decoding on the main thread';
    this.log.info(
      { listeners, sink, target, health, workers },
      `collector started: receiving on ${listeners.join(', ') || 'no input'}; ${sink} sink → ${target}; ${decoding}` +
        (health ? `; /healthz, /readyz and /metrics on ${health}` : ''),
    );
  }

  readiness(): Record<string, boolean> {
    return {
      inputs: this.started && this.inputs.every((i) => i.address() !== undefined),
      sink: this.sink?.ready() ?? false,
    };
  }

  inputAddress(name: string) {
    return this.inputs.find((i) => i.name === name)?.address();
  }

  httpPort(): number | undefined {
    const address = this.http?.server.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** What the template sessions hold now (every decode worker's, or this thread's). */
  async templateStats(): Promise<{ templates: number; fields: number; pendingSets: number }> {
    if (this.workers) return this.workers.stats();
    const { templates, fields, pendingSets } = this.pipeline.session.stats();
    return { templates, fields, pendingSets };
  }

  /** Octets held in memory on their way to the destination: datagrams at the decode workers, serialised documents at the sink. */
  private backlogBytes(): number {
    return (this.workers?.queuedBytes ?? 0) + (this.sink?.queuedBytes ?? 0);
  }

  /**
   * A message for the decode workers. Their backlog counts toward output.maxQueueBytes: past it TCP exporters are
   * paused; past twice it, messages are dropped here, counted and logged as loss, rather than memory growing.
   */
  private submit(message: Buffer, exporter: ExporterSessionKey, receivedAtMs: number): void {
    const backlog = this.backlogBytes();
    const { maxQueueBytes } = this.config.output;
    if (backlog >= 2 * maxQueueBytes) {
      this.events.messagesDropped('queue_full', 1, backlog);
      return;
    }
    const outcome = this.workers!.submit(message, exporter, receivedAtMs);
    if (outcome === 'dropped') this.events.messagesDropped('queue_full', 1, backlog);
    else if (!this.paused && (outcome === 'congested' || this.mustPause(this.sink!))) this.pause(this.sink!);
  }

  private deliver(documents: FlowDocument[]): void {
    if (documents.length === 0) return;
    const sink = this.sink!;
    if (this.overflowing(sink, documents.length)) return;
    sink.write(documents); // a sink whose spool is full drops (and counts) them itself
    if (!this.paused && this.mustPause(sink)) this.pause(sink);
  }

  /** Documents a decode worker made, serialised for the sink. */
  private deliverEncoded(chunk: EncodedChunk): void {
    const sink = this.sink;
    if (!sink) return;
    // A chunk answers a whole batch of messages: what would take the sink past twice its bounds is dropped
    // (counted, as in overflowing), so that the bounds hold to a document, as they do without workers.
    const { maxQueueDocuments, maxQueueBytes } = this.config.output;
    const room = Math.min(2 * maxQueueDocuments - sink.queued, chunk.documents);
    const roomBytes = 2 * maxQueueBytes - (sink.queuedBytes ?? 0);
    let take = 0;
    while (take < room && chunk.offsets[take + 1] - chunk.offsets[0] <= roomBytes) take++;
    if (take < chunk.documents) {
      this.events.sinkFailed(sink.name, chunk.documents - take, new Error('queue full: the sink is not keeping up'));
      if (take === 0) return;
      chunk = { body: chunk.body.subarray(0, chunk.offsets[take]), offsets: Array.prototype.slice.call(chunk.offsets, 0, take + 1) as number[], documents: take };
    }
    sink.writeEncoded(chunk);
    if (!this.paused && this.mustPause(sink)) this.pause(sink);
  }

  /**
   * TCP exporters are paused past the limits; UDP cannot be, so past twice a limit its documents are dropped
   * (counted, logged as loss) rather than letting memory grow without bound.
   */
  private overflowing(sink: Sink, documents: number): boolean {
    const { maxQueueDocuments, maxQueueBytes } = this.config.output;
    if (sink.queued < 2 * maxQueueDocuments && (sink.queuedBytes ?? 0) < 2 * maxQueueBytes) return false;
    this.events.sinkFailed(sink.name, documents, new Error('queue full: the sink is not keeping up'));
    return true;
  }

  private pause(sink: Sink): void {
    this.paused = true;
    this.events.metrics.inputsPaused.set(1);
    for (const input of this.inputs) input.pause();
    // Pausing for memory is routine under load; pausing for the spool means the cluster has been away long.
    if (sink.backpressure?.().pause) this.log.warn({ queued: sink.queued, ...sink.status?.() }, 'spool past its high-water mark: TCP exporters paused');
    this.resumeTimer = setInterval(() => this.maybeResume(), RESUME_CHECK_MS);
  }

  /**
   * Memory past maxQueueDocuments or maxQueueBytes, or the sink's durable backlog (the spool) past its high-water
   * mark, or about to pass it with what the decode workers hold.
   */
  private mustPause(sink: Sink): boolean {
    const { maxQueueDocuments, maxQueueBytes } = this.config.output;
    if (sink.queued >= maxQueueDocuments || this.backlogBytes() >= maxQueueBytes) return true;
    const backpressure = sink.backpressure?.();
    return backpressure !== undefined && (backpressure.pause || (this.workers?.queuedBytes ?? 0) >= backpressure.roomBytes);
  }

  private maybeResume(): void {
    if (!this.paused || !this.sink) return;
    const { maxQueueDocuments, maxQueueBytes } = this.config.output;
    const drained = this.sink.queued < maxQueueDocuments / 2 && this.backlogBytes() < maxQueueBytes / 2 && !this.workers?.congested;
    const backpressure = this.sink.backpressure?.();
    if (drained && !(backpressure && (backpressure.pause || (this.workers?.queuedBytes ?? 0) >= backpressure.roomBytes))) {
      this.paused = false;
      this.events.metrics.inputsPaused.set(0);
      clearInterval(this.resumeTimer);
      for (const input of this.inputs) input.resume();
      if (this.sink.backpressure) this.log.info({ queued: this.sink.queued }, 'backlog below its high-water mark: TCP exporters resumed');
    }
  }

  private async upkeep(nowMs: number): Promise<void> {
    this.pipeline.housekeeping(nowMs);
    if (this.workers) {
      this.workers.housekeeping(nowMs);
      this.workers.publishGauges(); // the main thread's pipeline (JSON records only) set them to its own: zero
    }
    this.events.metrics.queueDepth.set(this.sink?.queued ?? 0);
    if (this.persistence && nowMs - this.lastPersistMs >= this.config.decoding.templatePersistIntervalSecs * 1000) {
      this.lastPersistMs = nowMs;
      await this.persistTemplates(nowMs);
    }
  }

  private async persistTemplates(nowMs: number): Promise<void> {
    if (!this.persistence) return;
    try {
      const templates = this.workers ? await this.workers.storedTemplates() : this.pipeline.session.storedTemplates();
      await this.persistence.saveTemplates(templates, nowMs);
    } catch (error) {
      this.log.error({ err: error, path: this.config.decoding.templateStatePath }, 'templates could not be saved');
    }
  }

  /**
   * Graceful shutdown: stop receiving, let the decode workers answer everything they were given, persist
   * templates, stop the workers, write what is decoded; each step logged as it ends.
   */
  async stop(): Promise<void> {
    if (this.housekeeping) clearInterval(this.housekeeping);
    clearInterval(this.resumeTimer);
    await Promise.all(this.inputs.map((input) => input.stop()));
    this.log.info('inputs closed: no longer receiving');
    if (this.workers) {
      await this.workers.flush();
      await this.persistTemplates(Date.now());
      await this.workers.terminate();
      this.log.info({ workers: this.workers.count }, 'decode workers done');
    }
    await this.sink?.close();
    if (this.sink) this.log.info({ sink: this.sink.name }, `${this.sink.name} sink closed`);
    if (!this.workers) await this.persistTemplates(Date.now());
    await this.http?.close();
    this.started = false;
  }
}
