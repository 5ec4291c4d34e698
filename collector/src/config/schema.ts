import { z } from 'zod';
import { indexSettingsProblems } from '../../../elasticsearch/src/patterns.js';
import { TEMPLATE_LIMIT_DEFAULTS } from '../session/template-session.js';

/**
 * The collector's configuration. This schema is its documentation: docs/configuration.md is generated from it
 * (descriptions, defaults, environment variable names). Every name that holds a quantity carries its unit.
 * Objects are strict, so a misspelt key stops start-up with its name instead of being ignored.
 */

const MiB = 1024 * 1024;
const port = z.number().int().min(0).max(65535); // 0 picks a free port (tests)
const positive = z.number().int().positive();

const udp = z
  .object({
    enabled: z.boolean().default(true).describe('Receive NetFlow/IPFIX over UDP.'),
    host: z.string().min(1).default('::').describe('Address to bind; `::` takes IPv6 and IPv4 (falls back to 0.0.0.0 where IPv6 is off).'),
    port: port.default(4739).describe('UDP port (4739 is the IPFIX port Antrea exports to).'),
    receiveBufferBytes: z.number().int().min(65536).default(32 * MiB)
      .describe('Socket receive buffer (SO_RCVBUF). Bursts beyond it are dropped by the kernel; raise net.core.rmem_max to match.'),
    receiveDropsCheckIntervalMs: positive.default(5000)
      .describe('How often the kernel\'s drop counter of the socket is read (/proc/net/udp, Linux); growth is counted in elkfc_udp_receive_drops_total and logged at ERROR.'),
  })
  .strict();

const tcp = z
  .object({
    enabled: z.boolean().default(true).describe('Receive IPFIX over TCP (messages framed by their length field).'),
    host: z.string().min(1).default('::').describe('Address to bind; `::` takes IPv6 and IPv4.'),
    port: port.default(4739).describe('TCP port.'),
    maxConnections: positive.default(1000)
      .describe('Exporter connections open at once. At the limit, the oldest connection that has not yet sent a complete IPFIX message is closed to admit a new one; when every connection has, the new one is refused (counted in elkfc_connections_limited_total).'),
    maxConnectionsPerAddress: positive.default(64)
      .describe('Exporter connections open at once from one source address; more are refused. Antrea opens one per Flow Exporter or Flow Aggregator.'),
    idleTimeoutSecs: positive.default(900)
      .describe('A connection that sends nothing for this long is closed (not while the collector pauses exporters). Longer than any Antrea export interval; an exporter whose connection was closed reconnects.'),
  })
  .strict();

/**
 * TLS listener keys, shared by IPFIX over TLS (`inputs.tls`) and the JSON input (`inputs.json.tls`). The
 * listener is on when both certFile and keyFile are set; changed files are read again without dropping connections.
 */
function tlsKeys<P extends z.ZodType>(portKey: P) {
  return z
    .object({
      host: z.string().min(1).default('::').describe('Address to bind; `::` takes IPv6 and IPv4.'),
      port: portKey,
      certFile: z.string().min(1).nullable().default(null)
        .describe('PEM file of the server certificate (with its intermediates). With keyFile set, the TLS listener is on.'),
      keyFile: z.string().min(1).nullable().default(null).describe('PEM file of the server certificate\'s private key.'),
      clientCaFile: z.string().min(1).nullable().default(null)
        .describe('PEM file of the CA that signs exporters\' client certificates. Set: a client certificate signed by it is required (mutual TLS); unset: any client is accepted.'),
      minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Oldest TLS version accepted.'),
    })
    .strict();
}

const tls = tlsKeys(port.default(4740).describe('TCP port of IPFIX over TLS (4740 is IANA\'s ipfixs port). Connections at once: inputs.tcp.maxConnections.'));
const jsonTls = tlsKeys(port.nullable().default(null)
  .describe('TCP port of JSON over TLS; null: inputs.json.port, where TLS then replaces plain TCP (UDP stays plain).'));

const json = z
  .object({
    host: z.string().min(1).default('::').describe('Address to bind (TCP and UDP); `::` takes IPv6 and IPv4.'),
    port: port.nullable().default(null)
      .describe('Port for the Flow Aggregator\'s JSON records (recordFormat JSON), on TCP and on UDP (one record per datagram); 4736 is what Antrea\'s Logstash-based collector used. Set, the input is on; null, off.'),
    maxLineBytes: z.number().int().min(1024).max(16 * MiB).default(1 * MiB)
      .describe('Longest JSON record accepted; a longer line is counted and skipped. Bounds the memory one connection can hold.'),
    tls: jsonTls.default(jsonTls.parse({})),
  })
  .strict();

const decoding = z
  .object({
    target: z.string().regex(/^[A-Za-z_][\w-]*$/).default('ipfix')
      .describe('Object the decoded record goes under: `ipfix` as in Antrea\'s Logstash pipeline, `netflow` as in Logstash\'s default.'),
    type: z.string().default('ipfix').describe('Value of the document\'s `type` field.'),
    includeFlowsetId: z.boolean().default(true)
      .describe('Add `flowset_id` (the template id) to IPFIX documents, as Antrea\'s pipeline did (v9 documents always have it).'),
    timestampSource: z.enum(['export', 'flowEnd', 'receive']).default('export')
      .describe('`@timestamp` from the message export time (the codec\'s choice), the flow end time, or the time of receipt.'),
    ipfixDefinitions: z.array(z.string()).default([])
      .describe('Logstash-format `ipfix_definitions` files (`enterprise: {id: [type, name]}`) that extend or override the built-in elements.'),
    netflowDefinitions: z.array(z.string()).default([])
      .describe('Logstash-format `netflow_definitions` files (`id: [type, name]`); Logstash\'s netflow.yaml gives its v9 names.'),
    templateTimeoutSecs: positive.default(1800)
      .describe('UDP templates not refreshed for this long are dropped (three times go-ipfix\'s 600 s refresh). TCP templates live as long as their connection.'),
    templateStatePath: z.string().nullable().default('data/templates.json')
      .describe('File that keeps UDP templates across restarts, so a restarted collector decodes at once; null turns it off.'),
    templatePersistIntervalSecs: positive.default(30).describe('How often changed templates are written to templateStatePath.'),
    maxFieldsPerTemplate: positive.default(TEMPLATE_LIMIT_DEFAULTS.maxFieldsPerTemplate)
      .describe('Templates with more fields are refused (counted in elkfc_templates_refused_total, logged). Antrea\'s have under 100.'),
    maxTemplatesPerExporter: positive.default(TEMPLATE_LIMIT_DEFAULTS.maxTemplatesPerExporter)
      .describe('Templates kept per exporter address (all its sessions and observation domains); more are refused.'),
    maxTemplates: positive.default(TEMPLATE_LIMIT_DEFAULTS.maxTemplates).describe('Templates kept in total; more are refused.'),
    maxTemplateFields: positive.default(TEMPLATE_LIMIT_DEFAULTS.maxTemplateFields)
      .describe('Fields of all kept templates together; a template that would pass it is refused. This bounds template memory (about 400 octets of heap per field once decoded and written: 100 MB at the default) and the size of templateStatePath (under 64 octets per field).'),
    pendingMaxSets: z.number().int().min(0).default(10_000).describe('Data sets held while their template has not arrived (0 holds none).'),
    pendingMaxBytes: z.number().int().min(0).default(16 * MiB).describe('Octets of data sets held while their template has not arrived.'),
    pendingMaxAgeSecs: positive.default(120).describe('Held data sets older than this are dropped and counted.'),
    workers: z.union([z.literal('auto'), z.number().int().min(0).max(256)], { error: 'expected auto or a whole number of threads from 0 to 256' }).default(0)
      .describe('Decode threads (worker threads): each exporter session (source address and port, or connection) is decoded by one of them (the one with the fewest sessions when it first appears), which holds its templates; the main thread receives and writes. `auto`: the cores the process may use (os.availableParallelism(), lowered by a cgroup CPU quota, cgroup v2 cpu.max or v1 cpu.cfs_quota_us) but one, left to the main thread (at least 1). 0 (the default): decode on the main thread; on a 2-core machine workers were measured to cost more CPU per record and twice the memory for a fifth more capacity with several exporters (README, Performance). The held-data and throughput bounds (pendingMaxSets, pendingMaxBytes, enrichment.throughputMaxKeys) are shared out among the workers; the template limits count over all of them.'),
  })
  .strict();

const enrichment = z
  .object({
    enabled: z.boolean().default(true)
      .describe('Derive the Antrea fields (flow keys, names of types and actions, throughput). Off: documents are exactly the codec\'s (with document.ecs off too).'),
    throughputMaxKeys: positive.default(100_000).describe('Flows whose last report time is remembered for derived throughput (least recently seen go first).'),
    throughputIdleTimeoutSecs: positive.default(3600).describe('A flow not reported for this long is forgotten by the throughput state.'),
  })
  .strict();

const document = z
  .object({
    ecs: z.boolean().default(true)
      .describe('Add Elastic Common Schema fields (event.*, source.*, destination.*, network.* with community_id, related.ip, observer.ip) beside the Logstash-shaped target object. Off: the Logstash shape alone.'),
  })
  .strict();

const file = z
  .object({
    directory: z.string().default('data/flows').describe('Where the daily `_bulk` files are written.'),
    indexPrefix: z.string().default('flow-').describe('Index named in each bulk action: prefix plus the document\'s day, `flow-YYYY.MM.dd`.'),
    maxFileBytes: z.number().int().min(MiB).default(64 * MiB)
      .describe('A file is closed and a new part started past this size. Keep it under the cluster\'s http.max_content_length (100 MB by default) so that each file loads as one _bulk request.'),
    maxTotalBytes: z.number().int().min(MiB).default(2048 * MiB)
      .describe('Oldest files are deleted (logged as data loss) to keep the directory under this size.'),
    flushIntervalMs: positive.default(1000).describe('Longest time a decoded document waits in memory before it is written.'),
  })
  .strict();

const elasticsearch = z
  .object({
    urls: z.array(z.string().url()).default([])
      .describe('Elasticsearch node URLs (environment: ELASTICSEARCH_URL, comma-separated). Empty: no Elasticsearch, the file sink is used.'),
    username: z.string().nullable().default(null).describe('Basic authentication user (ELASTICSEARCH_USERNAME).'),
    password: z.string().nullable().default(null).describe('Basic authentication password (ELASTICSEARCH_PASSWORD). Never logged.'),
    passwordFile: z.string().nullable().default(null).describe('File holding the password (a mounted Secret), instead of password.'),
    apiKey: z.string().nullable().default(null).describe('API key, base64 id:key as Elasticsearch returns it (ELASTICSEARCH_API_KEY). Never logged.'),
    apiKeyFile: z.string().nullable().default(null).describe('File holding the API key, instead of apiKey.'),
    caCertPath: z.string().nullable().default(null).describe('PEM file of the CA that signed the cluster\'s certificate (ELASTICSEARCH_CA_CERT).'),
    tlsVerify: z.boolean().default(true).describe('Verify the cluster\'s TLS certificate. Turn off only for tests.'),
    requestTimeoutMs: positive.default(30_000).describe('A bulk request not answered within this time is retried.'),
    indexMode: z.enum(['daily', 'dataStream']).default('daily')
      .describe('`daily`: indices flow-YYYY.MM.dd chosen by each record\'s export time, as the Logstash pipeline wrote; every record is indexed exactly once, retries and replays included. `dataStream`: rollover by ILM; a retry or replay that straddles a rollover can index a second copy (see README).'),
    dataStream: z.string().regex(/^flow-[a-z0-9._-]+$/).default('flow-antrea').describe('Data stream name; must match flow-* for the dashboards.'),
    dailyIndexPrefix: z.string().regex(/^flow-/).default('flow-').describe('Prefix of daily indices (indexMode daily).'),
    retentionDays: positive.default(30).describe('Documents older than this are deleted by the lifecycle policy.'),
    rolloverMaxPrimaryShardSizeGb: positive.default(50).describe('The data stream rolls over to a new backing index at this primary shard size...'),
    rolloverMaxAgeHours: positive.default(24).describe('...or at this age.'),
    installTemplates: z.boolean().default(true)
      .describe('Before the first document, install or update the lifecycle policies and templates when missing or older (what setup does). Off: only check, and hold documents in the spool until setup has run.'),
    batchMaxDocuments: positive.default(5000).describe('Documents per bulk request at most.'),
    batchMaxBytes: z.number().int().min(65_536).default(10 * MiB).describe('Octets per bulk request at most.'),
    batchMaxWaitMs: positive.default(1000).describe('Longest time a document waits for its batch to fill.'),
    maxInFlightRequests: positive.default(2).describe('Bulk requests under way at once.'),
    maxMemoryBatches: positive.default(8).describe('Spooled batches whose body is also kept in memory, ready to send; the rest are read back from the spool when their turn comes.'),
    retryInitialBackoffMs: positive.default(250).describe('First wait before a retry; doubles each time, with jitter.'),
    retryMaxBackoffMs: positive.default(30_000).describe('Longest wait between retries.'),
    spoolDirectory: z.string().default('data/spool')
      .describe('The write-ahead spool: every batch is written here before it is sent and stays until Elasticsearch has settled every item; survives restarts. Must be writable.'),
    spoolMaxBytes: z.number().int().min(MiB).default(4096 * MiB)
      .describe('Spool size bound: past it new documents are dropped, counted and logged as data loss (nothing spooled is deleted). Size it as records/s × 3 kB × the outage to ride out (1,000 records/s for 10 minutes: 1.8 GB).'),
    spoolHighWaterPercent: z.number().int().min(1).max(100).default(80)
      .describe('Past this share of spoolMaxBytes, TCP exporters are paused (they hold their records) until the spool is below it again.'),
    spoolSegmentBytes: z.number().int().min(64 * 1024).default(64 * MiB)
      .describe('Size of one spool segment file (at most an eighth of spoolMaxBytes is used); a segment is deleted once all of it is settled.'),
    spoolFsync: z.boolean().default(true)
      .describe('fdatasync each grouped spool write and the dead-letter file: batches survive a power loss or kernel crash, not only kill -9. Off saves the sync (one per group of batches).'),
    deadLetterPath: z.string().default('data/dead-letter.ndjson')
      .describe('Documents Elasticsearch refuses for good (mapping errors, 400s), one JSON line each with the reason.'),
  })
  .strict();

const output = z
  .object({
    sink: z.enum(['auto', 'elasticsearch', 'file', 'stdout', 'null']).default('auto')
      .describe('Where documents go: `auto` (Elasticsearch when elasticsearch.urls is set, else the file sink), `elasticsearch`, `file` (_bulk NDJSON files, the embedded default), `stdout` (NDJSON), `null` (serialise and discard; benchmarks).'),
    file: file.default(file.parse({})),
    maxQueueDocuments: positive.default(100_000)
      .describe('Decoded documents waiting in memory for the sink. Past it TCP exporters are paused; past twice it, documents from UDP are dropped, counted and logged as loss.'),
    maxQueueBytes: z.number().int().min(MiB).default(128 * MiB)
      .describe('Octets of serialised documents waiting in memory for a file or stdout sink (a slow disk). Past it TCP exporters are paused; past twice it, documents from UDP are dropped, counted and logged as loss.'),
  })
  .strict();

const http = z
  .object({
    enabled: z.boolean().default(true).describe('Serve /healthz, /readyz and /metrics.'),
    host: z.string().default('0.0.0.0').describe('Address of the health and metrics server.'),
    port: port.default(9600).describe('Port of the health and metrics server (Logstash\'s API port).'),
  })
  .strict();

const logging = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Least severe level logged (on stderr).'),
    format: z.enum(['auto', 'text', 'json']).default('auto')
      .describe('`text` (one readable line per event), `json` (one JSON object per line, for log collectors), or `auto`: text when stderr is a terminal, JSON otherwise.'),
  })
  .strict();

export const configSchema = z
  .object({
    inputs: z
      .object({ udp: udp.default(udp.parse({})), tcp: tcp.default(tcp.parse({})), tls: tls.default(tls.parse({})), json: json.default(json.parse({})) })
      .strict()
      .default({ udp: udp.parse({}), tcp: tcp.parse({}), tls: tls.parse({}), json: json.parse({}) }),
    decoding: decoding.default(decoding.parse({})),
    enrichment: enrichment.default(enrichment.parse({})),
    document: document.default(document.parse({})),
    output: output.default(output.parse({})),
    elasticsearch: elasticsearch.default(elasticsearch.parse({})),
    http: http.default(http.parse({})),
    logging: logging.default(logging.parse({})),
  })
  .strict()
  // The index templates of every mode are installed together: their patterns must never overlap (see patterns.ts).
  .superRefine((config, context) => {
    const { dataStream, dailyIndexPrefix } = config.elasticsearch;
    for (const [key, message] of indexSettingsProblems({ dataStream, dailyIndexPrefix, fileIndexPrefix: config.output.file.indexPrefix })) {
      context.addIssue({ code: 'custom', path: key.split('.'), message });
    }
  });

export type CollectorConfig = z.infer<typeof configSchema>;
