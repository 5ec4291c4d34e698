import { createDecoders, decodeMessage } from '../decoders/registry.js';
import type { CompiledTemplate, TemplateDefinition } from '../decoders/template.js';
import { sharedTemplateCompiler } from '../decoders/template-cache.js';
import { FlowError, type Decoder, type DecodeResult } from '../decoders/types.js';
import { buildDocument, type DocumentOptions, type FlowDocument } from '../document/document.js';
import { AntreaEnricher, ENRICHMENT_CHOICES, ENRICHMENT_COPIES, ENRICHMENT_FIELDS, ENRICHMENT_TEXT_RULES, type EnrichmentOptions } from '../enrich/antrea.js';
import type { ElementRegistry } from '../ie/registry.js';
import { SequenceTracker } from '../session/sequence.js';
import { reliableTransport, TemplateSession, type ExporterSessionKey, type PendingLimits, type SharedTemplateCounts, type TemplateLimits } from '../session/template-session.js';
import type { InternalEvents } from '../telemetry/events.js';

export interface PipelineSettings {
  registry: ElementRegistry;
  document: DocumentOptions;
  includeFlowsetId: boolean;
  templateTimeoutMs: number;
  pending: PendingLimits;
  /** Bounds on template state; the defaults when left out. */
  templates?: TemplateLimits;
  /** Template and field counts shared with the other decode workers' sessions (see TemplateSession). */
  templateCounts?: SharedTemplateCounts;
  /** Undefined switches enrichment off: documents are then exactly what the Logstash codec emits. */
  enrichment: EnrichmentOptions | undefined;
}

/**
 * Where a packet goes: decoder (by version) → document → enrichment (the ECS fields are written with the document,
 * see ecs.ts). Synchronous and shared by every input, by `run` and by `decode`, so both produce the same documents.
 * A malformed packet is counted and dropped here; nothing an exporter sends can throw out of `process`.
 */
export class FlowPipeline {
  readonly session: TemplateSession;
  private readonly decoders: ReadonlyMap<number, Decoder>;
  private readonly sequences = new SequenceTracker();
  private readonly enricher: AntreaEnricher | undefined;
  /** Compiles a template as the session does: inputs that decode records themselves (JSON) use it. */
  readonly compile: (definition: TemplateDefinition) => CompiledTemplate;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly events: InternalEvents,
  ) {
    const compileOptions = {
      registry: settings.registry,
      includeFlowsetId: settings.includeFlowsetId,
      reservedFields: settings.enrichment ? ENRICHMENT_FIELDS : [],
      fieldCopies: settings.enrichment ? ENRICHMENT_COPIES : undefined,
      fieldChoices: settings.enrichment ? ENRICHMENT_CHOICES : undefined,
      textRules: settings.enrichment ? ENRICHMENT_TEXT_RULES : undefined,
    };
    this.compile = sharedTemplateCompiler(compileOptions);
    this.session = new TemplateSession(this.compile, settings.templateTimeoutMs, settings.pending, settings.templates, settings.templateCounts);
    this.decoders = createDecoders(compileOptions);
    this.enricher = settings.enrichment ? new AntreaEnricher(settings.enrichment) : undefined;
  }

  process(message: Buffer, exporter: ExporterSessionKey, receivedAtMs: number): FlowDocument[] {
    let result;
    try {
      result = decodeMessage(this.decoders, message, exporter, this.session, receivedAtMs);
    } catch (error) {
      if (error instanceof FlowError) {
        this.events.packetDropped(error);
        return [];
      }
      // A decoder bug must not stop the collector or other exporters: count it as a packet of its own kind.
      this.events.packetDropped(new FlowError('internal_error', exporter.key, message.length >= 2 ? message.readUInt16BE(0) : undefined,
        `decoder failure: ${(error as Error).message}`));
      return [];
    }
    const version = message.readUInt16BE(0);
    this.events.decoderNotices(exporter.key, result.notices);
    if (result.sequence) {
      const { domain, sequence, advance } = result.sequence;
      const outcome = this.sequences.observe(exporter.key, domain, sequence, advance, reliableTransport(exporter));
      if (outcome.kind === 'lost') this.events.sequenceLoss(exporter.key, domain, version, outcome.count);
      else if (outcome.kind === 'inconsistent') this.events.sequenceInconsistency(exporter.key, domain, version, outcome.inconsistency, outcome.count);
    }
    return this.documents(result, exporter, receivedAtMs, version);
  }

  /** Records an input decoded itself (JSON records): the same documents and enrichment as decoded messages. */
  processDecoded(result: DecodeResult, exporter: ExporterSessionKey, receivedAtMs: number): FlowDocument[] {
    return this.documents(result, exporter, receivedAtMs, 'json');
  }

  private documents(result: DecodeResult, exporter: ExporterSessionKey, receivedAtMs: number, version: number | 'json'): FlowDocument[] {
    // Tested here, not only in fieldsSkipped: the detail object would be made for every message.
    if (result.badFields > 0) this.events.fieldsSkipped('time_out_of_range', result.badFields, { exporter: exporter.key });
    if (result.misfits > 0) this.events.fieldsSkipped('length_mismatch', result.misfits, { exporter: exporter.key });
    if (result.notJsonObjects > 0) this.events.fieldsSkipped('pod_labels_not_json', result.notJsonObjects, { exporter: exporter.key });
    this.events.recordsDecoded(version, result.records.length);
    const documents: FlowDocument[] = [];
    const options = this.settings.document;
    for (let i = 0; i < result.records.length; i++) {
      const record = result.records[i];
      try {
        const doc = buildDocument(record, exporter.address, receivedAtMs, options);
        this.enricher?.enrich(doc, receivedAtMs);
        documents.push(doc);
      } catch (error) {
        // A bug of ours in documents or enrichment must not stop the collector: that record is dropped and
        // counted as an internal error, as a decoder failure is, and the others go on.
        this.events.packetDropped(new FlowError('internal_error', exporter.key, typeof version === 'number' ? version : undefined,
          `document failure: ${(error as Error).message}`, record.domain));
      }
    }
    return documents;
  }

  /** Periodic upkeep: template and pending-data expiry, throughput state expiry. */
  housekeeping(nowMs: number): void {
    const expired = this.session.expire(nowMs);
    this.events.templatesExpired(expired.templates);
    this.events.pendingLost('age', expired.pendingSets);
    this.enricher?.expire(nowMs);
    const stats = this.session.stats();
    this.events.metrics.templatesActive.set(stats.templates);
    this.events.metrics.templateFields.set(stats.fields);
    this.events.metrics.pendingSets.set(stats.pendingSets);
    this.events.metrics.pendingBytes.set(stats.pendingBytes);
  }

  /** A TCP exporter went away: its templates and held data go with it (RFC 7011 §8). */
  closeExporter(exporter: ExporterSessionKey): void {
    this.events.pendingLost('closed', this.session.closeExporter(exporter));
    this.sequences.forget(exporter.key);
  }
}
