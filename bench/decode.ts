// Decode + enrich + serialise in one thread, without sockets: the work the collector does per record, for
// realistic Antrea records (bench/cluster.ts). CPU time per record from process.cpuUsage(), five trials.
import { pino } from 'pino';
import { ByteBuffer } from '../collector/src/document/bytes.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { FlowPipeline } from '../collector/src/pipeline/flow-pipeline.js';
import { dailyIndex, writeBulkCreate } from '../collector/src/sinks/bulk.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { ipfixStream, makeCluster, type Exporter } from './cluster.js';
import { spread, type Spread } from './proc.js';

export interface DecodeResult {
  exporter: Exporter;
  cpuMicrosPerRecord: Spread;
  recordsPerSec: Spread;
  octetsPerRecord: number;
  recordsPerMessage: number;
}

/** What a run leaves out, to tell what each stage costs by difference: the ECS fields, enrichment, serialisation. */
export interface Stages {
  ecs?: boolean;
  enrich?: boolean;
  serialise?: boolean;
}

/**
 * `ecs: false` measures the Logstash shape alone, so that the difference is what the ECS fields cost; without
 * enrichment and serialisation it measures decoding alone.
 */
/** The collector's pipeline with the defaults, one exporter's stream of realistic records, its templates learnt. */
export function benchPipeline(exporter: Exporter, stages: Stages = {}) {
  const events = new InternalEvents(createMetrics({ processMetrics: false }), pino({ level: 'silent' }));
  const documentOptions = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const, ecs: stages.ecs !== false };
  const pipeline = new FlowPipeline({
    registry: ElementRegistry.builtin(),
    document: documentOptions,
    includeFlowsetId: true,
    templateTimeoutMs: 1_800_000,
    pending: { maxSets: 1000, maxBytes: 1 << 20, maxAgeMs: 60_000 },
    enrichment: stages.enrich === false ? undefined : { throughputMaxKeys: 100_000, throughputIdleTimeoutMs: 3_600_000 },
  }, events);
  const stream = ipfixStream(makeCluster(1), exporter, 40_000);
  const session = { key: 'udp:10.0.0.1:4739', address: '10.0.0.1', expires: true };
  for (const template of stream.templates) pipeline.process(template, session, 0);
  return { pipeline, stream, session, documentOptions };
}

export function benchDecode(exporter: Exporter, seconds: number, trials = 5, stages: Stages = {}): DecodeResult {
  const serialise = stages.serialise !== false;
  const { pipeline, stream, session, documentOptions } = benchPipeline(exporter, stages);
  let records = 0;
  let octets = 0;
  const out = new ByteBuffer(8 << 20);
  const run = (deadline: number) => {
    while (Date.now() < deadline) {
      for (const message of stream.messages) {
        // What the Elasticsearch output does per document: its _id, the create action and the document, as bytes
        // in the output buffer, taken as one batch every 4 MiB and its buffer given back to be filled again (as the
        // output does once a batch is indexed).
        const documents = pipeline.process(message, session, 0);
        records += documents.length;
        if (!serialise) continue;
        for (const document of documents) writeBulkCreate(document, dailyIndex('flow-', document.timestamp), documentOptions, out, true);
        if (out.length >= 4 << 20) {
          const batch = out.take();
          octets += batch.length;
          out.giveBack(batch);
        }
      }
    }
  };
  run(Date.now() + 1500); // warm-up: let the JIT settle
  const cpu: number[] = [];
  const rates: number[] = [];
  let totalRecords = 0;
  let totalOctets = 0;
  for (let trial = 0; trial < trials; trial++) {
    records = 0;
    octets = 0;
    const started = process.hrtime.bigint();
    const startedCpu = process.cpuUsage();
    run(Date.now() + (seconds * 1000) / trials);
    const used = process.cpuUsage(startedCpu);
    cpu.push((used.user + used.system) / records);
    rates.push(records / (Number(process.hrtime.bigint() - started) / 1e9));
    totalRecords += records;
    totalOctets += octets;
  }
  return {
    exporter,
    cpuMicrosPerRecord: spread(cpu),
    recordsPerSec: spread(rates),
    octetsPerRecord: serialise ? totalOctets / totalRecords : 0,
    recordsPerMessage: stream.records / stream.messages.length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const exporter of ['aggregator', 'agent'] as const) console.log(JSON.stringify(benchDecode(exporter, Number(process.env.BENCH_SECONDS ?? 5))));
}
