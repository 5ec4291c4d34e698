// Opt-in: runs against a real Elasticsearch 8.x/9.x when ELASTICSEARCH_URL is set (with ELASTICSEARCH_USERNAME /
// ELASTICSEARCH_PASSWORD, ELASTICSEARCH_API_KEY, ELASTICSEARCH_CA_CERT as needed); reported as skipped otherwise.
// It installs the assets under a test-only data stream, indexes decoded Antrea records through the real output,
// checks the mapping of every field (ECS included), runs the dashboards' kinds of queries, ECS queries that must give
// the dashboards' sums, a rollover after a mapping change, and every Vega panel's request (drawn
// from the cluster's answer and from the in-memory search the previews use, which must agree), and deletes what it
// created.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { ECS_FIELDS, fieldCatalog } from '../collector/src/document/catalog.js';
import { ecsJson } from '../collector/src/document/ecs.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { createElasticsearchClient } from '../collector/src/sinks/elasticsearch/client.js';
import { createElasticsearchSink } from '../collector/src/sinks/elasticsearch/sink.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { installAssets, stampedAssets } from '../elasticsearch/src/install.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { decodeAll, testPipeline } from './support/offline.js';

const url = process.env.ELASTICSEARCH_URL;

describe.skipIf(!url)(`real Elasticsearch cluster${url ? '' : ' (not run: ELASTICSEARCH_URL is not set)'}`, () => {
  it('installs the assets, indexes records, maps every field as the catalog says, and answers dashboard queries', async () => {
    const dataStream = `flow-elkfc-test-${Date.now()}`;
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-real-'));
    const config = loadConfig(undefined, {
      ...process.env,
      // A test data stream of its own (the default, daily indices, would share the cluster's flow-YYYY.MM.dd).
      ELKFC_ELASTICSEARCH_INDEX_MODE: 'dataStream',
      ELKFC_ELASTICSEARCH_DATA_STREAM: dataStream,
      ELKFC_ELASTICSEARCH_SPOOL_DIRECTORY: join(dir, 'spool'),
      ELKFC_ELASTICSEARCH_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
      ELKFC_ELASTICSEARCH_BATCH_MAX_WAIT_MS: '100',
    });
    const client = createElasticsearchClient(config);
    try {
      await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      const metrics = createMetrics();
      const sink = await createElasticsearchSink({
        config, documentOptions: { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }, events: new InternalEvents(metrics, pino({ level: 'silent' })), log: pino({ level: 'silent' }),
      });
      const { pipeline } = testPipeline({ document: { target: 'ipfix', type: 'ipfix', timestampSource: 'export', ecs: true } });
      const layout = aggregatorLayout(4);
      const header = { exportTimeSecs: Math.floor(Date.now() / 1000), sequence: 0, domain: 1 };
      const records = Array.from({ length: 60 }, (_, i) => aggregatorRecord(i, { flowStartSeconds: header.exportTimeSecs - 60, flowEndSeconds: header.exportTimeSecs }));
      const docs = decodeAll(pipeline, [templateMessage(header, 300, layout), dataMessage(header, 300, layout, records.slice(0, 30)), dataMessage({ ...header, sequence: 30 }, 300, layout, records.slice(30))]);
      sink.write(docs);
      await sink.flush();
      await sink.close();
      await client.indices.refresh({ index: dataStream });
      expect((await client.count({ index: dataStream })).count).toBe(60);

      const mapping = await client.indices.getFieldMapping({ index: dataStream, fields: '*' });
      const mapped = new Map<string, string>();
      for (const index of Object.values(mapping)) {
        for (const [path, field] of Object.entries(index.mappings)) mapped.set(path, Object.values(field.mapping)[0]?.type as string);
      }
      const sent = new Set(docs.flatMap((d) => Object.keys(d.fields).filter((k) => d.fields[k] !== undefined).map((k) => `ipfix.${k}`)));
      for (const field of fieldCatalog().filter((f) => sent.has(f.path))) expect(`${field.path} ${mapped.get(field.path)}`).toBe(`${field.path} ${field.type}`);
      // These records carry every ECS field.
      for (const field of ECS_FIELDS) expect(`${field.path} ${mapped.get(field.path)}`).toBe(`${field.path} ${field.type}`);

      const result = await client.search({
        index: dataStream,
        size: 0,
        aggs: {
          pods: { terms: { field: 'ipfix.sourcePodName', size: 100 }, aggs: { bytes: { sum: { field: 'ipfix.bytes' } } } },
          namespaces: { terms: { field: 'ipfix.destinationPodNamespace' } },
          nodes: { terms: { field: 'ipfix.sourceNodeName' } },
          policies: { terms: { field: 'ipfix.ingressNetworkPolicyName' } },
          pairs: { composite: { sources: [{ src: { terms: { field: 'ipfix.sourcePodName' } } }, { dst: { terms: { field: 'ipfix.destinationPodName' } } }] } },
          total: { sum: { field: 'ipfix.bytes' } },
          byEcs: { terms: { field: 'source.ip', size: 5 } },
          // ECS queries give the dashboards' numbers: the dashboards sum the delta counters of both directions.
          dashboardTx: { sum: { field: 'ipfix.octetDeltaCount' } },
          dashboardRx: { sum: { field: 'ipfix.reverseOctetDeltaCount' } },
          ecsSource: { sum: { field: 'source.bytes' } },
          ecsDestination: { sum: { field: 'destination.bytes' } },
          ecsNetwork: { sum: { field: 'network.bytes' } },
          transports: { terms: { field: 'network.transport' } },
          communities: { cardinality: { field: 'network.community_id' } },
          duration: { max: { field: 'event.duration' } },
          kinds: { terms: { field: 'event.kind' } },
          observers: { terms: { field: 'observer.ip' } },
        },
      });
      const aggs = result.aggregations as Record<string, { buckets?: unknown[]; value?: number }>;
      expect(aggs.pods.buckets).toHaveLength(50);
      expect(aggs.total.value).toBe(records.reduce((s, r) => s + (r.octetTotalCount as number), 0));
      expect(aggs.pairs.buckets!.length).toBeGreaterThan(0);
      expect(aggs.byEcs.buckets!.length).toBeGreaterThan(0);
      expect(aggs.ecsSource.value).toBe(aggs.dashboardTx.value);
      expect(aggs.ecsDestination.value).toBe(aggs.dashboardRx.value);
      expect(aggs.ecsNetwork.value).toBe(aggs.dashboardTx.value! + aggs.dashboardRx.value!);
      expect(aggs.transports.buckets).toEqual([{ key: 'tcp', doc_count: 60 }]);
      expect(aggs.communities.value).toBe(new Set(docs.map((d) => /"community_id":"([^"]+)"/.exec(ecsJson(d.fields, d.host))![1])).size);
      expect(aggs.duration.value).toBe(60e9);
      expect(aggs.kinds.buckets).toEqual([{ key: 'event', doc_count: 60 }]);
      expect(aggs.observers.buckets).toEqual([{ key: '192.0.2.1', doc_count: 60 }]);
    } finally {
      await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
      await client.close();
    }
  });

  it('rolls the data stream over when a later version maps a field its write index mapped dynamically', async () => {
    const dataStream = `flow-elkfc-upgrade-${Date.now()}`;
    const config = loadConfig(undefined, { ...process.env, ELKFC_ELASTICSEARCH_DATA_STREAM: dataStream });
    const client = createElasticsearchClient(config);
    try {
      await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      const document = { '@timestamp': new Date().toISOString(), '@version': '1', host: '192.0.2.1', type: 'ipfix', ipfix: { version: 10, laterAddress: '10.1.2.3' } };
      expect((await client.bulk({ refresh: true, operations: [{ create: { _index: dataStream } }, document] })).errors).toBe(false);
      const typeOf = async (index: string) => {
        const m = await client.indices.getFieldMapping({ index, fields: 'ipfix.laterAddress' });
        return Object.values(Object.values(m)[0].mappings['ipfix.laterAddress'].mapping)[0]?.type;
      };
      const [before] = (await client.indices.getDataStream({ name: dataStream })).data_streams[0].indices;
      expect(await typeOf(before.index_name)).toBe('keyword');
      const later = ElementRegistry.builtin().extend([{ enterprise: 56506, id: 900, name: 'laterAddress', type: 'ipv4Address' }], []);
      const report = await installAssets(client, stampedAssets(config, later));
      expect(report.find((r) => r.kind === 'data stream')).toMatchObject({ name: dataStream, action: 'rolled over' });
      const indices = (await client.indices.getDataStream({ name: dataStream })).data_streams[0].indices;
      expect(indices).toHaveLength(2);
      expect(await typeOf(indices[1].index_name)).toBe('ip');
      expect((await client.bulk({ refresh: true, operations: [{ create: { _index: dataStream } }, document] })).errors).toBe(false);
    } finally {
      await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
      await client.close();
    }
  });

  it('answers every Vega panel\'s request as the in-memory search the previews use does', async () => {
    const { demoDocuments } = await import('../kibana/preview/demo-cluster.js');
    const { vegaPanels } = await import('../kibana/preview/previews.js');
    const { renderVega } = await import('../kibana/preview/render.js');
    const dataStream = `flow-elkfc-vega-${Date.now()}`;
    const config = loadConfig(undefined, { ...process.env, ELKFC_ELASTICSEARCH_DATA_STREAM: dataStream });
    const client = createElasticsearchClient(config);
    try {
      await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      const documents = demoDocuments();
      const bulk = await client.bulk({ refresh: true, operations: documents.flatMap((d) => [{ create: { _index: dataStream } }, d]) });
      expect(bulk.errors).toBe(false);
      for (const panel of vegaPanels()) {
        const real = await renderVega(panel.specText, documents, panel.context, async (body) => client.search({ index: dataStream, ...(body as object) }));
        const local = await renderVega(panel.specText, documents, panel.context);
        expect(real.marks, panel.visualization.id).toEqual(local.marks);
        expect(real.svg, panel.visualization.id).toBe(local.svg);
      }
    } finally {
      await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
      await client.close();
    }
  });
});
