import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the collector exports, on a registry of its own (tests run several collectors in one process).
 * Names follow Prometheus conventions: `_total` counters, base units in the name.
 */
export function createMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  // Process metrics (CPU, memory, event loop lag, GC), prefixed like ours; not in decode workers, whose counts the
  // main thread's registry sums (pipeline/workers.ts).
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'elkfc_' });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: `elkfc_${name}`, help, labelNames, registers: [registry] });
  // Counted per message on the hot path: kept as plain integers and added to the counter when it is read (a
  // prom-client increment with labels hashes them, several times the cost of decoding a small message).
  const tallied = <L extends string>(name: string, help: string, label: L) => {
    const pending = new Map<string, number>();
    const metric = new Counter<L>({
      name: `elkfc_${name}`, help, labelNames: [label], registers: [registry],
      collect() {
        for (const [value, n] of pending) this.inc({ [label]: value } as Partial<Record<L, string>>, n);
        pending.clear();
      },
    });
    return Object.assign(metric, {
      /** Adds n (> 0) under the label's value, published at the next read. */
      add(value: string, n: number) {
        pending.set(value, (pending.get(value) ?? 0) + n);
      },
    });
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name: `elkfc_${name}`, help, labelNames, registers: [registry] });
  return {
    registry,
    packetsReceived: tallied('packets_received_total', 'Export messages received, per input.', 'input'),
    bytesReceived: tallied('bytes_received_total', 'Octets of export messages received, per input.', 'input'),
    udpReceiveDrops: counter(
      'udp_receive_drops_total',
      'Datagrams the kernel dropped for the UDP input\'s socket (its receive buffer was full), read from /proc/net/udp: data loss.',
    ),
    recordsDecoded: tallied('records_decoded_total', 'Flow records decoded, per protocol version.', 'version'),
    decodeErrors: counter('decode_errors_total', 'Malformed packets dropped, per kind of fault.', ['kind']),
    fieldsSkipped: counter(
      'fields_skipped_total',
      'Field values not rendered as their type: time_out_of_range (left out), length_mismatch (kept as hex under ie_<enterprise>_<id>), pod_labels_not_json (left out).',
      ['kind'],
    ),
    templatesLearned: counter('templates_learned_total', 'Template records received (new or refreshed).'),
    templatesWithdrawn: counter('templates_withdrawn_total', 'Templates withdrawn by their exporter.'),
    templatesExpired: counter('templates_expired_total', 'UDP templates dropped after templateTimeoutSecs without refresh.'),
    templatesInvalid: counter('templates_invalid_total', 'Template records refused (reserved id, no data).'),
    templatesActive: gauge('templates_active', 'Templates currently known.'),
    templateFields: gauge('template_fields', 'Fields of the templates currently known (bounded by decoding.maxTemplateFields).'),
    templatesRefused: counter(
      'templates_refused_total',
      'Templates not kept because of a template limit (decoding.maxFieldsPerTemplate, maxTemplatesPerExporter, maxTemplates, maxTemplateFields), per limit; their data sets are held, then dropped.',
      ['limit'],
    ),
    pendingSets: gauge('pending_sets', 'Data sets held while waiting for their template.'),
    pendingBytes: gauge('pending_bytes', 'Octets of data sets held while waiting for their template.'),
    pendingHeld: counter('pending_sets_held_total', 'Data sets that arrived before their template and were held.'),
    pendingExpired: counter('pending_sets_expired_total', 'Held data sets never decoded (no template in time, bound reached, or connection closed).', ['reason']),
    sequenceLost: counter('sequence_lost_total', 'Lost in transit (UDP) by sequence numbers: records for IPFIX and v5, packets for v9.', ['version']),
    headerInconsistencies: counter(
      'header_inconsistencies_total',
      'Packets decoded as far as they hold records though their header says otherwise: v5_record_count (the v5 header\'s record count is not the number of complete records).',
      ['kind'],
    ),
    sequenceInconsistencies: counter(
      'sequence_inconsistencies_total',
      'Messages whose sequence number the exporter got wrong, not loss in transit: gap (a forward jump over TCP, where nothing can be lost), backwards (an exporter reset or a reordered datagram).',
      ['kind', 'version'],
    ),
    // Tallied: the null sink counts every message's documents (the bench's sink).
    documentsWritten: tallied('sink_documents_written_total', 'Documents the sink wrote.', 'sink'),
    documentsFailed: counter('sink_documents_failed_total', 'Documents the sink could not write.', ['sink']),
    sinkDiscardedBytes: counter('sink_discarded_bytes_total', 'Octets of written files the file sink deleted to stay under maxTotalBytes (data loss by configuration).', ['sink']),
    esIndexed: counter('es_documents_indexed_total', 'Documents Elasticsearch indexed.'),
    esDuplicates: counter('es_documents_duplicate_total', 'Documents Elasticsearch already had (same _id): a retry or a replay, not indexed twice.'),
    esRetried: counter('es_documents_retried_total', 'Documents sent again (whole request failed, or their item answered 429/5xx).'),
    esDeadLettered: counter('es_documents_dead_lettered_total', 'Documents Elasticsearch refused for good, written to the dead-letter file.'),
    esSpooled: counter('es_documents_spooled_total', 'Documents written ahead to the disk spool (every batch is, before it is sent).'),
    esSpoolDropped: counter('es_documents_spool_dropped_total', 'Documents dropped because the spool was full (elasticsearch.spoolMaxBytes): data loss.'),
    esLostInCrash: counter('es_batches_lost_in_crash_total', 'Batches an earlier process was filling in memory when it died (kill -9, OOM kill), found at start: each lost up to batchMaxDocuments records (batchMaxWaitMs of them).'),
    esSpoolBytes: gauge('es_spool_bytes', 'Octets of spool segments on disk (what spoolMaxBytes bounds).'),
    esSpoolDocuments: gauge('es_spool_documents', 'Documents in the spool not yet indexed, duplicates or dead-lettered.'),
    esSpoolWrittenBytes: counter('es_spool_written_bytes_total', 'Octets appended to the spool (batches, retried items, acknowledgements).'),
    esSpoolWriteSeconds: new Histogram({
      name: 'elkfc_es_spool_write_seconds',
      help: 'Time of one grouped spool write (writev, and fdatasync with spoolFsync), by what it carried.',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    esAvailable: gauge('es_available', 'Whether Elasticsearch took the last bulk request (1) or not (0: documents wait in the spool; also 0 before the first answer, see /readyz).'),
    esRequestSeconds: new Histogram({
      name: 'elkfc_es_request_seconds',
      help: 'Bulk request latency, by outcome (ok, partial, failed).',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    packetsDropped: counter(
      'packets_dropped_total',
      'Export messages received and never decoded, per reason: queue_full (their decode worker\'s queue was full, 32 MiB, or the workers\' and the sink\'s backlog past twice output.maxQueueBytes), worker_died (a decode worker held them when it died). Data loss.',
      ['reason'],
    ),
    decodeWorkers: gauge('decode_workers', 'Decode worker threads running (decoding.workers; 0: decoding on the main thread).'),
    decodeWorkerRestarts: counter('decode_worker_restarts_total', 'Decode workers that died (a bug) and were started again.'),
    queueDepth: gauge('queue_depth', 'Documents decoded and not yet written by the sink.'),
    inputsPaused: gauge('inputs_paused', 'Whether TCP exporters are paused (1): the sink\'s memory queue or its spool is past its high-water mark.'),
    tcpConnections: new Gauge({
      name: 'elkfc_tcp_connections', help: 'Open exporter connections, per stream input (tcp, tls).', labelNames: ['input'], registers: [registry],
    }),
    connectionsLimited: counter(
      'connections_limited_total',
      'Exporter connections refused or closed by the connection limits, per input and reason: per_address_limit and connection_limit (refused on accept), evicted (closed at the limit to admit a newcomer: it had not sent one complete message), idle_timeout.',
      ['input', 'reason'],
    ),
    tlsHandshakeFailures: counter('tls_handshake_failures_total', 'TLS handshakes that failed (no or untrusted client certificate, expired, not TLS), per input.', ['input']),
    tlsReloads: counter('tls_certificate_reloads_total', 'Certificate files read again after they changed, per input and outcome (ok, failed: the previous ones stay).', ['input', 'outcome']),
    sinkWriteSeconds: new Histogram({
      name: 'elkfc_sink_write_seconds',
      help: 'Time a sink write (one batch) took.',
      labelNames: ['sink'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
