import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { listenError } from '../config/checks.js';
import type { CollectorConfig } from '../config/schema.js';
import type { DocumentOptions, FlowDocument } from '../document/document.js';
import { buildRegistry } from '../ie/configured.js';
import type { ElementRegistry } from '../ie/registry.js';
import { INPUTS } from '../inputs/registry.js';
import { hostPort, type Input, type InputHandlers } from '../inputs/types.js';
import { templateFileBound, TemplatePersistence } from '../session/persistence.js';
import type { TemplateLimits } from '../session/template-session.js';
import { createSink, sinkName } from '../sinks/registry.js';
import type { Sink } from '../sinks/types.js';
import { InternalEvents } from '../telemetry/events.js';
import { createMetrics } from '../telemetry/metrics.js';
import { buildHealthServer } from '../telemetry/server.js';
import { FlowPipeline, type PipelineSettings } from './flow-pipeline.js';

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

export function documentOptions(config: CollectorConfig): DocumentOptions {
  return { target: config.decoding.target, type: config.decoding.type, timestampSource: config.decoding.timestampSource, ecs: config.document.ecs };
}

export function templateLimits(config: CollectorConfig): TemplateLimits {
  const { maxFieldsPerTemplate, maxTemplatesPerExporter, maxTemplates, maxTemplateFields } = config.decoding;
  return { maxFieldsPerTemplate, maxTemplatesPerExporter, maxTemplates, maxTemplateFields };
}

export function pipelineSettings(config: CollectorConfig, registry: ElementRegistry): PipelineSettings {
  const d = config.decoding;
  return {
    registry,
    document: documentOptions(config),
    includeFlowsetId: d.includeFlowsetId,
    templateTimeoutMs: d.templateTimeoutSecs * 1000,
    pending: { maxSets: d.pendingMaxSets, maxBytes: d.pendingMaxBytes, maxAgeMs: d.pendingMaxAgeSecs * 1000 },
    templates: templateLimits(config),
    enrichment: config.enrichment.enabled
      ? { throughputMaxKeys: config.enrichment.throughputMaxKeys, throughputIdleTimeoutMs: config.enrichment.throughputIdleTimeoutSecs * 1000 }
      : undefined,
  };
}

/**
 * The running collector: inputs → FlowPipeline → sink, with template persistence, housekeeping, backpressure
 * and the health server. `stop` is the graceful shutdown: stop receiving, flush, persist templates.
 */
export class Collector {
  readonly events: InternalEvents;
  readonly pipeline: FlowPipeline;
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
    const now = Date.now();
    if (this.persistence) {
      const { restored, refused, problem } = await this.persistence.load(this.pipeline.session, now);
      if (problem) this.log.warn({ path: this.config.decoding.templateStatePath, problem }, 'saved templates not restored');
      else if (restored > 0) this.log.info({ restored }, 'templates restored from disk');
      if (refused) this.events.templatesRefusedOnRestore(refused);
    }
    const handlers: InputHandlers = {
      message: (message, exporter, receivedAtMs) => this.deliver(this.pipeline.process(message, exporter, receivedAtMs)),
      decoded: (result, exporter, receivedAtMs) => this.deliver(this.pipeline.processDecoded(result, exporter, receivedAtMs)),
      compile: this.pipeline.compile,
      closed: (exporter) => this.pipeline.closeExporter(exporter),
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
        throw listenError(`inputs.${name}.port`, settings.host ?? '', settings.port ?? 0, error);
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
      this.log.info({ address: this.http.addresses() }, 'health and metrics server listening');
    }
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
    this.log.info(
      { listeners, sink, target, health },
      `collector started: receiving on ${listeners.join(', ') || 'no input'}; ${sink} sink → ${target}` +
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

  private deliver(documents: FlowDocument[]): void {
    if (documents.length === 0) return;
    const sink = this.sink!;
    const { maxQueueDocuments, maxQueueBytes } = this.config.output;
    // TCP exporters are paused past the limits; UDP cannot be, so past twice a limit its documents are
    // dropped (counted, logged as loss) rather than letting memory grow without bound.
    if (sink.queued >= 2 * maxQueueDocuments || (sink.queuedBytes ?? 0) >= 2 * maxQueueBytes) {
      this.events.sinkFailed(sink.name, documents.length, new Error('queue full: the sink is not keeping up'));
      return;
    }
    sink.write(documents); // a sink whose spool is full drops (and counts) them itself
    if (!this.paused && this.mustPause(sink)) {
      this.paused = true;
      this.events.metrics.inputsPaused.set(1);
      for (const input of this.inputs) input.pause();
      // Pausing for memory is routine under load; pausing for the spool means the cluster has been away long.
      if (sink.backpressure?.().pause) this.log.warn({ queued: sink.queued, ...sink.status?.() }, 'spool past its high-water mark: TCP exporters paused');
      this.resumeTimer = setInterval(() => this.maybeResume(), RESUME_CHECK_MS);
    }
  }

  /** Memory past maxQueueDocuments or maxQueueBytes, or the sink's durable backlog (the spool) past its high-water mark. */
  private mustPause(sink: Sink): boolean {
    const { maxQueueDocuments, maxQueueBytes } = this.config.output;
    return sink.queued >= maxQueueDocuments || (sink.queuedBytes ?? 0) >= maxQueueBytes || (sink.backpressure?.().pause ?? false);
  }

  private maybeResume(): void {
    if (!this.paused || !this.sink) return;
    const { maxQueueDocuments, maxQueueBytes } = this.config.output;
    const drained = this.sink.queued < maxQueueDocuments / 2 && (this.sink.queuedBytes ?? 0) < maxQueueBytes / 2;
    if (drained && !(this.sink.backpressure?.().pause ?? false)) {
      this.paused = false;
      this.events.metrics.inputsPaused.set(0);
      clearInterval(this.resumeTimer);
      for (const input of this.inputs) input.resume();
      if (this.sink.backpressure) this.log.info({ queued: this.sink.queued }, 'backlog below its high-water mark: TCP exporters resumed');
    }
  }

  private async upkeep(nowMs: number): Promise<void> {
    this.pipeline.housekeeping(nowMs);
    this.events.metrics.queueDepth.set(this.sink?.queued ?? 0);
    if (this.persistence && nowMs - this.lastPersistMs >= this.config.decoding.templatePersistIntervalSecs * 1000) {
      this.lastPersistMs = nowMs;
      await this.persistTemplates(nowMs);
    }
  }

  private async persistTemplates(nowMs: number): Promise<void> {
    try {
      await this.persistence?.save(this.pipeline.session, nowMs);
    } catch (error) {
      this.log.error({ err: error, path: this.config.decoding.templateStatePath }, 'templates could not be saved');
    }
  }

  /** Graceful shutdown: stop receiving, flush what is decoded, persist templates; each step logged as it ends. */
  async stop(): Promise<void> {
    if (this.housekeeping) clearInterval(this.housekeeping);
    clearInterval(this.resumeTimer);
    await Promise.all(this.inputs.map((input) => input.stop()));
    this.log.info('inputs closed: no longer receiving');
    await this.sink?.close();
    if (this.sink) this.log.info({ sink: this.sink.name }, `${this.sink.name} sink closed`);
    await this.persistTemplates(Date.now());
    await this.http?.close();
    this.started = false;
  }
}
