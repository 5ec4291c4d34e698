import type { Logger } from 'pino';
import type { DecoderNotice, FlowError } from '../decoders/types.js';
import type { PendingSet } from '../session/template-session.js';
import type { Metrics } from './metrics.js';

const VERSION_LABELS: Record<number, string> = { 5: '5', 9: '9', 10: '10' };

/**
 * Internal events (Vector's internal_events): every drop and every notable state change is one method here,
 * which counts it and logs it, so no other module logs or counts on its own. ERROR means data loss the
 * operator can act on; WARN means data lost at or by the exporter; per-packet logs are rate-limited per kind.
 */
export class InternalEvents {
  private readonly lastLog = new Map<string, { at: number; suppressed: number }>();

  constructor(
    readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly logIntervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  messageReceived(input: string, octets: number): void {
    this.metrics.packetsReceived.add(input, 1);
    this.metrics.bytesReceived.add(input, octets);
  }

  packetDropped(error: FlowError): void {
    this.metrics.decodeErrors.inc({ kind: error.kind });
    this.limited(`drop:${error.kind}`, (suppressed) =>
      this.log.warn(
        { exporter: error.exporter, version: error.version, domain: error.domain, templateId: error.templateId, kind: error.kind, suppressed },
        `malformed packet dropped: ${error.message}`,
      ),
    );
  }

  recordsDecoded(version: number, count: number): void {
    if (count > 0) this.metrics.recordsDecoded.add(VERSION_LABELS[version] ?? String(version), count);
  }

  fieldsSkipped(kind: string, count: number, detail?: Record<string, unknown>): void {
    if (count === 0) return;
    this.metrics.fieldsSkipped.inc({ kind }, count);
    this.limited(`field:${kind}`, (suppressed) => this.log.warn({ kind, suppressed, ...detail }, 'field value could not be rendered as its type'));
  }

  decoderNotices(exporter: string, notices: readonly DecoderNotice[]): void {
    for (const notice of notices) {
      switch (notice.kind) {
        case 'template_learned':
          this.metrics.templatesLearned.inc();
          break;
        case 'template_withdrawn':
          this.metrics.templatesWithdrawn.inc(notice.count);
          this.log.info({ exporter, domain: notice.domain, templateId: notice.templateId, count: notice.count }, 'template withdrawn');
          break;
        case 'template_invalid':
          this.metrics.templatesInvalid.inc();
          this.limited('template_invalid', (suppressed) =>
            this.log.warn({ exporter, domain: notice.domain, templateId: notice.templateId, suppressed }, `template refused: ${notice.reason}`),
          );
          break;
        case 'set_held':
          this.metrics.pendingHeld.inc();
          break;
        case 'pending_evicted':
          this.pendingLost('bound', notice.sets);
          break;
        case 'pending_set_malformed':
          this.metrics.decodeErrors.inc({ kind: 'record_overrun' });
          this.limited('pending_malformed', (suppressed) =>
            this.log.warn({ exporter, domain: notice.domain, templateId: notice.templateId, suppressed }, `held data set dropped: ${notice.reason}`),
          );
          break;
        case 'set_reserved':
          this.limited('set_reserved', (suppressed) =>
            this.log.warn({ exporter, domain: notice.domain, setId: notice.setId, suppressed }, 'set with a reserved id skipped'),
          );
          break;
      }
    }
  }

  /** Held data sets that will never decode: records lost, which the operator can fix at the exporter. */
  pendingLost(reason: 'age' | 'bound' | 'closed', sets: readonly PendingSet[]): void {
    if (sets.length === 0) return;
    this.metrics.pendingExpired.inc({ reason }, sets.length);
    const templates = [...new Set(sets.map((s) => s.templateId))];
    this.limited(`pending:${reason}`, (suppressed) =>
      this.log.error({ reason, sets: sets.length, templates, suppressed }, 'data sets dropped undecoded: their template never arrived'),
    );
  }

  templatesExpired(count: number): void {
    if (count === 0) return;
    this.metrics.templatesExpired.inc(count);
    this.log.info({ count }, 'templates expired without refresh');
  }

  sequenceLoss(exporter: string, domain: number, version: number, lost: number): void {
    this.metrics.sequenceLost.inc({ version: String(version) }, lost);
    this.limited(`seq:${exporter}`, (suppressed) =>
      this.log.warn({ exporter, domain, version, lost, suppressed }, 'sequence gap: flow data lost between exporter and collector'),
    );
  }

  sinkWritten(sink: string, count: number, seconds: number): void {
    this.metrics.documentsWritten.inc({ sink }, count);
    this.metrics.sinkWriteSeconds.observe({ sink }, seconds);
  }

  /** Documents a sink lost: always data loss. */
  sinkFailed(sink: string, count: number, error: Error): void {
    this.metrics.documentsFailed.inc({ sink }, count);
    this.limited(`sink:${sink}`, (suppressed) => this.log.error({ sink, count, err: error, suppressed }, 'sink failed to write documents'));
  }

  /** Documents a bounded sink deleted to stay within its size: data loss by configuration. */
  sinkDiscarded(sink: string, what: string, octets: number): void {
    this.metrics.sinkDiscardedBytes.inc({ sink }, octets);
    this.log.error({ sink, what, octets }, 'sink deleted old data to stay within its size bound');
  }

  esIndexed(count: number, duplicates: number, seconds: number, outcome: 'ok' | 'partial'): void {
    this.metrics.esIndexed.inc(count);
    if (duplicates > 0) this.metrics.esDuplicates.inc(duplicates);
    this.metrics.esRequestSeconds.observe({ outcome }, seconds);
    this.metrics.documentsWritten.inc({ sink: 'elasticsearch' }, count + duplicates);
  }

  /** A bulk request failed as a whole: it is retried later (nothing lost yet). */
  esRequestFailed(documents: number, reason: string, retryInMs: number, seconds: number): void {
    this.metrics.esRetried.inc(documents);
    this.metrics.esRequestSeconds.observe({ outcome: 'failed' }, seconds);
    this.limited('es:request', (suppressed) =>
      this.log.warn({ documents, reason, retryInMs, suppressed }, 'Elasticsearch request failed; will retry'),
    );
  }

  esItemsRetried(documents: number, reason: string): void {
    this.metrics.esRetried.inc(documents);
    this.limited('es:items', (suppressed) => this.log.warn({ documents, reason, suppressed }, 'Elasticsearch refused items for now; will retry them'));
  }

  /** Refused for good: not lost (the dead-letter file has them) but needs the operator. */
  esDeadLettered(documents: number, reason: string, path: string): void {
    this.metrics.esDeadLettered.inc(documents);
    this.limited('es:dead', (suppressed) =>
      this.log.error({ documents, reason, path, suppressed }, 'Elasticsearch refused documents; written to the dead-letter file'),
    );
  }

  esSpooled(documents: number, spoolBytes: number): void {
    this.metrics.esSpooled.inc(documents);
    this.metrics.esSpoolBytes.set(spoolBytes);
  }

  /** The spool was full: the oldest spooled documents were deleted. Data loss. */
  esSpoolDropped(documents: number, file: string): void {
    this.metrics.esSpoolDropped.inc(documents);
    this.log.error({ documents, file }, 'spool full (elasticsearch.spoolMaxBytes): oldest spooled documents deleted');
  }

  private limited(key: string, write: (suppressed: number) => void): void {
    const now = this.now();
    const entry = this.lastLog.get(key);
    if (entry && now - entry.at < this.logIntervalMs) {
      entry.suppressed++;
      return;
    }
    write(entry?.suppressed ?? 0);
    this.lastLog.set(key, { at: now, suppressed: 0 });
  }
}
