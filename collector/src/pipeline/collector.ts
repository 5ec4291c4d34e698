import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { listenError } from '../config/checks.js';
import type { CollectorConfig } from '../config/schema.js';
import type { DocumentOptions } from '../document/document.js';
import { buildRegistry } from '../ie/configured.js';
import type { ElementRegistry } from '../ie/registry.js';
import { INPUTS } from '../inputs/registry.js';
import { hostPort, type Input, type InputHandlers } from '../inputs/types.js';
import { TemplatePersistence } from '../session/persistence.js';
import { createSink, sinkName } from '../sinks/registry.js';
import type { Sink } from '../sinks/types.js';
import { InternalEvents } from '../telemetry/events.js';
import { createMetrics } from '../telemetry/metrics.js';
import { buildHealthServer } from '../telemetry/server.js';
import { FlowPipeline, type PipelineSettings } from './flow-pipeline.js';

const HOUSEKEEPING_INTERVAL_MS = 5000;

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
  return { target: config.decoding.target, type: config.decoding.type, timestampSource: config.decoding.timestampSource };
}

export function pipelineSettings(config: CollectorConfig, registry: ElementRegistry): PipelineSettings {
  const d = config.decoding;
  return {
    registry,
    document: documentOptions(config),
    includeFlowsetId: d.includeFlowsetId,
    templateTimeoutMs: d.templateTimeoutSecs * 1000,
    pending: { maxSets: d.pendingMaxSets, maxBytes: d.pendingMaxBytes, maxAgeMs: d.pendingMaxAgeSecs * 1000 },
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
  private started = false;

  constructor(
    readonly config: CollectorConfig,
    private readonly log: Logger,
  ) {
    this.events = new InternalEvents(createMetrics(), log);
    this.pipeline = new FlowPipeline(pipelineSettings(config, buildRegistry(config)), this.events);
    const statePath = config.decoding.templateStatePath;
    this.persistence = statePath ? new TemplatePersistence(statePath) : undefined;
  }

  async start(): Promise<void> {
    const now = Date.now();
    if (this.persistence) {
      const { restored, problem } = await this.persistence.load(this.pipeline.session, now);
      if (problem) this.log.warn({ path: this.config.decoding.templateStatePath, problem }, 'saved templates not restored');
      else if (restored > 0) this.log.info({ restored }, 'templates restored from disk');
    }
    this.sink = await createSink({ config: this.config, documentOptions: documentOptions(this.config), events: this.events, log: this.log });
    const handlers: InputHandlers = {
      message: (message, exporter, receivedAtMs) => this.handle(message, exporter, receivedAtMs),
      closed: (exporter) => this.pipeline.closeExporter(exporter),
    };
    for (const [name, create] of Object.entries(INPUTS)) {
      const settings = this.config.inputs[name as keyof typeof INPUTS] as { enabled: boolean; host?: string; port?: number };
      if (!settings.enabled) continue;
      const input = create({ config: this.config, handlers, events: this.events, log: this.log.child({ input: name }) });
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
        health: { readiness: () => this.readiness() },
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

  private handle(message: Buffer, exporter: Parameters<InputHandlers['message']>[1], receivedAtMs: number): void {
    const documents = this.pipeline.process(message, exporter, receivedAtMs);
    if (documents.length === 0) return;
    const sink = this.sink!;
    const limit = this.config.output.maxQueueDocuments;
    // TCP exporters are paused past the limit; UDP cannot be, so past twice the limit its documents are
    // dropped (counted, logged as loss) rather than letting memory grow without bound.
    if (sink.queued >= 2 * limit) {
      this.events.sinkFailed(sink.name, documents.length, new Error('queue full: the sink is not keeping up'));
      return;
    }
    sink.write(documents);
    if (!this.paused && sink.queued >= limit) {
      this.paused = true;
      for (const input of this.inputs) input.pause();
      void sink.flush().then(() => this.maybeResume());
    }
  }

  private maybeResume(): void {
    if (!this.paused || !this.sink) return;
    if (this.sink.queued < this.config.output.maxQueueDocuments / 2) {
      this.paused = false;
      for (const input of this.inputs) input.resume();
    } else {
      void this.sink.flush().then(() => this.maybeResume());
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
    await Promise.all(this.inputs.map((input) => input.stop()));
    this.log.info('inputs closed: no longer receiving');
    await this.sink?.close();
    if (this.sink) this.log.info({ sink: this.sink.name }, `${this.sink.name} sink closed`);
    await this.persistTemplates(Date.now());
    await this.http?.close();
    this.started = false;
  }
}
