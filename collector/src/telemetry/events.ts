import type { Logger } from 'pino';
import type { ConnectionLimitReason, ConnectionLimits } from '../inputs/connections.js';
import type { DecoderNotice, FlowError } from '../decoders/types.js';
import type { SequenceInconsistency } from '../session/sequence.js';
import type { PendingSet } from '../session/template-session.js';
import type { Metrics } from './metrics.js';

const VERSION_LABELS: Record<number, string> = { 5: '5', 9: '9', 10: '10' };
const CONNECTION_LIMIT_MESSAGES: Record<ConnectionLimitReason, string> = {
  per_address_limit: 'connection refused: too many connections from this address (maxConnectionsPerAddress)',
  connection_limit: 'connection refused: every connection slot is held by an exporter (maxConnections)',
  evicted: 'connection closed to make room: it had not sent a complete message (maxConnections)',
  idle_timeout: 'connection closed: nothing received within idleTimeoutSecs',
};

/**
 * Internal events (Vector's internal_events): every drop and every notable state change is one method here,
 * which counts it and logs it, so no other module logs or counts on its own. ERROR means data loss the
 * operator can act on; WARN means data lost at or by the exporter; per-packet logs are rate-limited per kind.
 */
export class InternalEvents {
  private readonly lastLog = new Map<string, { at: number; suppressed: number }>();
  /** Exporter sessions that have sent a template, so that only the first is logged (bounded like the UDP session cache). */
  private readonly templated = new Set<string>();

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

  connectionsOpen(input: string, count: number): void {
    this.metrics.tcpConnections.set({ input }, count);
  }

  /** A stream that is not IPFIX cannot be resynchronised: its connection is closed (its data is lost). */
  streamNotIpfix(input: string, exporter: string, version: number, length: number): void {
    this.metrics.decodeErrors.inc({ kind: `${input}_framing` });
    this.limited(`framing:${input}`, (suppressed) =>
      this.log.warn({ input, exporter, version, length, suppressed }, 'stream is not IPFIX; closing the connection'),
    );
  }

  /** A client that could not complete the TLS handshake: nothing was received from it. */
  tlsHandshakeFailed(input: string, peer: string, error: Error): void {
    this.metrics.tlsHandshakeFailures.inc({ input });
    const code = (error as NodeJS.ErrnoException).code;
    this.limited(`tls:${input}`, (suppressed) =>
      this.log.warn({ input, peer, code, reason: error.message, suppressed }, 'TLS handshake failed; connection refused'),
    );
  }

  /** Certificate files changed: new connections use what was read; live connections keep theirs. */
  tlsReloaded(input: string, error?: Error): void {
    this.metrics.tlsReloads.inc({ input, outcome: error ? 'failed' : 'ok' });
    if (error) this.log.error({ input, err: error }, 'TLS certificate files changed but cannot be used; keeping the previous ones');
    else this.log.info({ input }, 'TLS certificates reloaded');
  }

  /** A JSON record that could not be used: skipped, the stream goes on. */
  jsonRecordDropped(input: string, exporter: string, kind: 'json_malformed' | 'json_line_too_long' | 'internal_error', reason: string): void {
    this.metrics.decodeErrors.inc({ kind });
    this.limited(`json:${kind}`, (suppressed) =>
      this.log.warn({ input, exporter, kind, reason, suppressed }, 'JSON record skipped'),
    );
  }

  /** A TCP exporter connected: the operator sees who sends. Rate-limited like every per-exporter line. */
  exporterConnected(input: string, exporter: string): void {
    this.limited('exporter:connected', (suppressed) => this.log.info({ input, exporter, suppressed }, `exporter connected: ${exporter}`));
  }

  /** A TCP exporter went away; its templates go with the connection. */
  exporterClosed(input: string, exporter: string): void {
    this.forgetExporter(exporter);
    this.limited('exporter:closed', (suppressed) => this.log.info({ input, exporter, suppressed }, `exporter disconnected: ${exporter}`));
  }

  /** An exporter session ended: its next template is a first one again. */
  forgetExporter(exporter: string): void {
    this.templated.delete(exporter);
  }

  /** The first datagram from a UDP exporter (source address and port) not seen before. */
  exporterSeen(input: string, exporter: string): void {
    this.limited('exporter:seen', (suppressed) => this.log.info({ input, exporter, suppressed }, `new exporter: ${exporter}`));
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

  /** Records decoded, per protocol version (`json` for the Flow Aggregator's JSON records). */
  recordsDecoded(version: number | 'json', count: number): void {
    if (count > 0) this.metrics.recordsDecoded.add(typeof version === 'number' ? (VERSION_LABELS[version] ?? String(version)) : version, count);
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
          if (!this.templated.has(exporter)) {
            if (this.templated.size >= 65536) this.templated.clear();
            this.templated.add(exporter);
            this.limited('template:first', (suppressed) =>
              this.log.info({ exporter, domain: notice.domain, templateId: notice.templateId, suppressed }, `first template from ${exporter} (domain ${notice.domain}, template ${notice.templateId})`),
            );
          }
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
        case 'template_refused':
          this.metrics.templatesRefused.inc({ limit: notice.limit });
          this.limited(`template_refused:${notice.limit}`, (suppressed) =>
            this.log.error(
              { exporter, domain: notice.domain, templateId: notice.templateId, limit: notice.limit, suppressed },
              `template refused: ${notice.reason}; its records cannot be decoded`,
            ),
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
        case 'record_count_mismatch':
          this.metrics.headerInconsistencies.inc({ kind: 'v5_record_count' });
          this.limited('record_count_mismatch', (suppressed) =>
            this.log.warn(
              { exporter, domain: notice.domain, announced: notice.announced, decoded: notice.decoded, suppressed },
              'v5 header announces another number of records than the packet holds: the complete records were decoded',
            ),
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

  /** Saved templates a restart left out: the file holds more than the template limits now allow. */
  templatesRefusedOnRestore(count: number): void {
    this.metrics.templatesRefused.inc({ limit: 'restore' }, count);
    this.log.error({ count }, 'saved templates not restored: past the template limits (decoding.maxTemplate*)');
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

  /** A connection refused or closed by the connection limits: nothing it sent was accepted, so no record is lost here. */
  connectionLimited(input: string, reason: ConnectionLimitReason, address: string, limits: ConnectionLimits): void {
    this.metrics.connectionsLimited.inc({ input, reason });
    this.limited(`conn:${input}:${reason}`, (suppressed) =>
      this.log.warn({ input, reason, address, ...limits, suppressed }, CONNECTION_LIMIT_MESSAGES[reason]),
    );
  }

  /** The kernel dropped datagrams for the UDP socket (receive buffer full): data loss the operator can act on. */
  udpReceiveDropped(count: number, total: number): void {
    this.metrics.udpReceiveDrops.inc(count);
    this.limited('udp:drops', (suppressed) =>
      this.log.error(
        { dropped: count, total, suppressed },
        'the kernel dropped UDP datagrams: the receive buffer was full (raise inputs.udp.receiveBufferBytes and net.core.rmem_max, or add collectors)',
      ),
    );
  }

  /**
   * The exporter's sequence numbers do not add up, though nothing was lost in transit (a jump over TCP), or they
   * went backwards (a reset, a reordered datagram). Not data loss the collector could see: INFO, rate-limited.
   */
  sequenceInconsistency(exporter: string, domain: number, version: number, kind: SequenceInconsistency, by: number): void {
    this.metrics.sequenceInconsistencies.inc({ kind, version: String(version) });
    this.limited(`seqx:${exporter}`, (suppressed) =>
      this.log.info({ exporter, domain, version, kind, by, suppressed }, kind === 'gap'
        ? 'sequence numbers skip ahead on a reliable transport: the exporter\'s count is inconsistent, nothing was lost in transit'
        : 'sequence number went backwards: exporter reset or reordered message, not loss'),
    );
  }

  /** Messages refused before decoding: the decode workers and the sink are too far behind. Data loss. */
  messagesDropped(reason: 'queue_full', count: number, queuedBytes: number): void {
    this.metrics.packetsDropped.inc({ reason }, count);
    this.limited(`dropped:${reason}`, (suppressed) =>
      this.log.error({ reason, count, queuedBytes, suppressed }, 'export messages dropped undecoded: the decode workers cannot keep up (a worker\'s queue is full, or with the sink past twice output.maxQueueBytes)'),
    );
  }

  /** A decode worker died (a bug of ours): what it held is lost; it is started again. */
  decodeWorkerDied(index: number, error: Error, lostMessages: number, restartInMs: number): void {
    this.metrics.decodeWorkerRestarts.inc();
    if (lostMessages > 0) this.metrics.packetsDropped.inc({ reason: 'worker_died' }, lostMessages);
    this.log.error({ worker: index, err: error, lostMessages, restartInMs }, `decode worker ${index} died; ${lostMessages} messages it held are lost; restarting it`);
  }

  /** Documents a sink wrote; `seconds` is how long its write (a batch) took, left out by the null sink, which writes nothing. */
  sinkWritten(sink: string, count: number, seconds?: number): void {
    if (count > 0) this.metrics.documentsWritten.add(sink, count);
    if (seconds !== undefined) this.metrics.sinkWriteSeconds.observe({ sink }, seconds);
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
    if (count + duplicates > 0) this.metrics.documentsWritten.add('elasticsearch', count + duplicates);
  }

  esRequestSeconds(outcome: 'failed', seconds: number): void {
    this.metrics.esRequestSeconds.observe({ outcome }, seconds);
  }

  /** A bulk request failed as a whole: it stays in the spool and is sent again later (nothing lost). */
  esRequestFailed(documents: number, reason: string, retryInMs: number): void {
    this.metrics.esRetried.inc(documents);
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

  /** Elasticsearch stopped or started taking documents (logged once per change, not per request). */
  esAvailability(available: boolean, reason: string, spoolDocuments: number): void {
    this.metrics.esAvailable.set(available ? 1 : 0);
    if (available) this.log.info({ spoolDocuments }, 'Elasticsearch available again; shipping the spool');
    else this.log.warn({ reason, spoolDocuments }, 'Elasticsearch unavailable; documents wait in the spool (still accepting)');
  }

  /** Documents written ahead to the spool (every sealed batch is). */
  esSpooled(documents: number, spoolBytes: number, spoolDocuments: number): void {
    this.metrics.esSpooled.inc(documents);
    this.esSpoolLevel(spoolBytes, spoolDocuments);
  }

  esSpoolLevel(spoolBytes: number, spoolDocuments: number): void {
    this.metrics.esSpoolBytes.set(spoolBytes);
    this.metrics.esSpoolDocuments.set(spoolDocuments);
  }

  /** One grouped write of the spool (one writev and, with spoolFsync, one fdatasync). */
  esSpoolWritten(octets: number, seconds: number, batches: number): void {
    this.metrics.esSpoolWrittenBytes.inc(octets);
    this.metrics.esSpoolWriteSeconds.observe({ kind: batches > 0 ? 'batches' : 'acknowledgements' }, seconds);
  }

  /** An earlier process died (kill -9, OOM kill) with batches being filled in memory: found at start. Data loss. */
  esLostInCrash(batches: number, maxDocuments: number, maxWaitMs: number): void {
    this.metrics.esLostInCrash.inc(batches);
    this.log.error(
      { batches, maxDocumentsEach: maxDocuments, maxWaitMs },
      'the previous process died while filling a batch: its records (at most batchMaxDocuments, batchMaxWaitMs of them, per batch) were lost',
    );
  }

  /** The spool is full (elasticsearch.spoolMaxBytes): documents refused at the door. Data loss. */
  esSpoolFull(documents: number, spoolBytes: number): void {
    this.metrics.esSpoolDropped.inc(documents);
    this.limited('es:spool-full', (suppressed) =>
      this.log.error({ documents, spoolBytes, suppressed }, 'spool full (elasticsearch.spoolMaxBytes): documents dropped'),
    );
  }

  private limited(key: string, write: (suppressed: number) => void): void {
    const now = this.now();
    const entry = this.lastLog.get(key);
    if (entry && now - entry.at < this.logIntervalMs) {
      entry.suppressed++;
      return;
    }
    write(entry?.suppressed ?? 0);
    // Some keys name an exporter: keep the map bounded when sources are many (spoofed UDP). Entries past their
    // interval would log anyway, so forgetting them changes nothing.
    if (!entry && this.lastLog.size >= 10_000) {
      for (const [k, e] of this.lastLog) if (now - e.at >= this.logIntervalMs) this.lastLog.delete(k);
      if (this.lastLog.size >= 10_000) this.lastLog.clear();
    }
    this.lastLog.set(key, { at: now, suppressed: 0 });
  }
}
