import { createDecoders, decodeMessage } from '../decoders/registry.js';
import { sharedTemplateCompiler } from '../decoders/template-cache.js';
import { FlowError, type Decoder } from '../decoders/types.js';
import { buildDocument, type DocumentOptions, type FlowDocument } from '../document/document.js';
import { AntreaEnricher, ENRICHMENT_FIELDS, type EnrichmentIssues, type EnrichmentOptions } from '../enrich/antrea.js';
import type { ElementRegistry } from '../ie/registry.js';
import { SequenceTracker } from '../session/sequence.js';
import { TemplateSession, type ExporterSessionKey, type PendingLimits } from '../session/template-session.js';
import type { InternalEvents } from '../telemetry/events.js';

export interface PipelineSettings {
  registry: ElementRegistry;
  document: DocumentOptions;
  includeFlowsetId: boolean;
  templateTimeoutMs: number;
  pending: PendingLimits;
  /** Undefined switches enrichment off: documents are then exactly what the Logstash codec emits. */
  enrichment: EnrichmentOptions | undefined;
}

/**
 * Where a packet goes: decoder (by version) → document → enrichment. Synchronous and shared by every input,
 * by `run` and by `decode`, so both produce the same documents. A malformed packet is counted and dropped
 * here; nothing an exporter sends can throw out of `process`.
 */
export class FlowPipeline {
  readonly session: TemplateSession;
  private readonly decoders: ReadonlyMap<number, Decoder>;
  private readonly sequences = new SequenceTracker();
  private readonly enricher: AntreaEnricher | undefined;
  private readonly issues: EnrichmentIssues = { badLabels: 0 };

  constructor(
    private readonly settings: PipelineSettings,
    private readonly events: InternalEvents,
  ) {
    const compileOptions = {
      registry: settings.registry,
      includeFlowsetId: settings.includeFlowsetId,
      reservedFields: settings.enrichment ? ENRICHMENT_FIELDS : [],
    };
    this.session = new TemplateSession(sharedTemplateCompiler(compileOptions), settings.templateTimeoutMs, settings.pending);
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
    this.events.fieldsSkipped('time_out_of_range', result.badFields, { exporter: exporter.key });
    this.events.fieldsSkipped('length_mismatch', result.misfits, { exporter: exporter.key });
    if (result.sequence) {
      const { domain, sequence, advance } = result.sequence;
      const lost = this.sequences.observe(exporter.key, domain, sequence, advance);
      if (lost > 0) this.events.sequenceLoss(exporter.key, domain, version, lost);
    }
    this.events.recordsDecoded(version, result.records.length);
    const documents = new Array<FlowDocument>(result.records.length);
    const options = this.settings.document;
    for (let i = 0; i < result.records.length; i++) {
      const doc = buildDocument(result.records[i], exporter.address, receivedAtMs, options);
      this.enricher?.enrich(doc, receivedAtMs, this.issues);
      documents[i] = doc;
    }
    if (this.issues.badLabels > 0) {
      this.events.fieldsSkipped('pod_labels_not_json', this.issues.badLabels, { exporter: exporter.key });
      this.issues.badLabels = 0;
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
    this.events.metrics.pendingSets.set(stats.pendingSets);
    this.events.metrics.pendingBytes.set(stats.pendingBytes);
  }

  /** A TCP exporter went away: its templates and held data go with it (RFC 7011 §8). */
  closeExporter(exporter: ExporterSessionKey): void {
    this.events.pendingLost('closed', this.session.closeExporter(exporter));
    this.sequences.forget(exporter.key);
  }
}
