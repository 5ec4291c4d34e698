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

const output = z
  .object({
    sink: z.enum(['file', 'stdout', 'null']).default('file')
      .describe('Where documents go: `file` (Elasticsearch _bulk NDJSON files, the embedded default), `stdout` (NDJSON), `null` (serialise and discard; benchmarks).'),
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
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level (JSON lines on stderr).'),
  })
  .strict();

export const configSchema = z
  .object({
    inputs: z.object({ udp: udp.default(udp.parse({})), tcp: tcp.default(tcp.parse({})) }).strict().default({ udp: udp.parse({}), tcp: tcp.parse({}) }),
    decoding: decoding.default(decoding.parse({})),
    enrichment: enrichment.default(enrichment.parse({})),
    output: output.default(output.parse({})),
    http: http.default(http.parse({})),
    logging: logging.default(logging.parse({})),
  })
  .strict();

export type CollectorConfig = z.infer<typeof configSchema>;
