import { z } from 'zod';

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
  })
  .strict();

const tcp = z
  .object({
    enabled: z.boolean().default(true).describe('Receive IPFIX over TCP (messages framed by their length field).'),
    host: z.string().min(1).default('::').describe('Address to bind; `::` takes IPv6 and IPv4.'),
    port: port.default(4739).describe('TCP port.'),
    maxConnections: positive.default(1000).describe('Exporter connections accepted at once; more are refused.'),
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
    pendingMaxSets: z.number().int().min(0).default(10_000).describe('Data sets held while their template has not arrived (0 holds none).'),
    pendingMaxBytes: z.number().int().min(0).default(16 * MiB).describe('Octets of data sets held while their template has not arrived.'),
    pendingMaxAgeSecs: positive.default(120).describe('Held data sets older than this are dropped and counted.'),
  })
  .strict();

const enrichment = z
  .object({
    enabled: z.boolean().default(true)
      .describe('Derive the Antrea fields (flow keys, names of types and actions, throughput). Off: documents are exactly the codec\'s.'),
    throughputMaxKeys: positive.default(100_000).describe('Flows whose last report time is remembered for derived throughput (least recently seen go first).'),
    throughputIdleTimeoutSecs: positive.default(3600).describe('A flow not reported for this long is forgotten by the throughput state.'),
  })
  .strict();

const file = z
  .object({
    directory: z.string().default('data/flows').describe('Where the daily `_bulk` files are written.'),
    indexPrefix: z.string().default('flow-').describe('Index named in each bulk action: prefix plus the document\'s day, `flow-YYYY.MM.dd`.'),
    maxFileBytes: z.number().int().min(MiB).default(256 * MiB).describe('A file is closed and a new part started past this size.'),
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
    indexMode: z.enum(['dataStream', 'daily']).default('dataStream')
      .describe('`dataStream` (rollover and retention by ILM) or `daily` indices flow-YYYY.MM.dd as the Logstash pipeline wrote.'),
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
    maxMemoryBatches: positive.default(8).describe('Sealed batches held in memory; further ones go to the disk spool.'),
    retryInitialBackoffMs: positive.default(250).describe('First wait before a retry; doubles each time, with jitter.'),
    retryMaxBackoffMs: positive.default(30_000).describe('Longest wait between retries.'),
    spoolDirectory: z.string().default('data/spool').describe('Where batches wait on disk while Elasticsearch is down or slow; survives restarts.'),
    spoolMaxBytes: z.number().int().min(MiB).default(4096 * MiB)
      .describe('Spool size bound: past it the oldest spooled batch is deleted, counted and logged as data loss. Size it as records/s × 3 kB × the outage to ride out (1,000 records/s for 10 minutes: 1.8 GB).'),
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
      .describe('Decoded documents waiting for the sink. Past it TCP exporters are paused; UDP datagrams wait in the socket buffer.'),
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
    inputs: z.object({ udp: udp.default(udp.parse({})), tcp: tcp.default(tcp.parse({})) }).strict().default({ udp: udp.parse({}), tcp: tcp.parse({}) }),
    decoding: decoding.default(decoding.parse({})),
    enrichment: enrichment.default(enrichment.parse({})),
    output: output.default(output.parse({})),
    elasticsearch: elasticsearch.default(elasticsearch.parse({})),
    http: http.default(http.parse({})),
    logging: logging.default(logging.parse({})),
  })
  .strict();

export type CollectorConfig = z.infer<typeof configSchema>;
