// A version that adds a field upgrades cleanly with setup: the new mapping is put on the data stream's write index
// and, where that index refuses it (the field was mapped dynamically before, or by an older version as another
// type), the data stream is rolled over, as Fleet does, and setup says so. Against the local Elasticsearch, which
// creates indices from templates, maps unknown fields dynamically and refuses type changes as Elasticsearch does.
import { afterEach, describe, expect, it } from 'vitest';
import type { estypes } from '@elastic/elasticsearch';
import { loadConfig } from '../collector/src/config/load.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { createElasticsearchClient } from '../collector/src/sinks/elasticsearch/client.js';
import { MAPPINGS_COMPONENT } from '../elasticsearch/src/assets.js';
import { installAssets, stampedAssets } from '../elasticsearch/src/install.js';
import { startFakeElasticsearch, type FakeElasticsearch } from './support/fake-elasticsearch.js';

const servers: FakeElasticsearch[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function cluster() {
  const es = await startFakeElasticsearch();
  servers.push(es);
  const config = loadConfig(undefined, { ELASTICSEARCH_URL: es.url });
  const client = createElasticsearchClient(config);
  const bulk = async (index: string, documents: Record<string, unknown>[]) => {
    const body = documents.map((d, i) => `{"create":{"_index":"${index}","_id":"${index}-${es.documents.size + i}"}}\n${JSON.stringify(d)}\n`).join('');
    const response = await fetch(`${es.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    expect(response.status).toBe(200);
  };
  return { es, config, client, bulk };
}

const doc = (ipfix: Record<string, unknown>) => ({ '@timestamp': '2026-12-01T10:00:00.000Z', '@version': '1', host: '192.0.2.1', type: 'ipfix', ipfix: { version: 10, ...ipfix } });
// A later version knows an element this one does not: until then it is a string under ipfix, mapped keyword.
const later = ElementRegistry.builtin().extend([{ enterprise: 56506, id: 900, name: 'laterAddress', type: 'ipv4Address' }], []);
const laterCounter = ElementRegistry.builtin().extend([{ enterprise: 56506, id: 901, name: 'laterCounter', type: 'unsigned32' }], []);

describe('setup after a mapping change', () => {
  it('rolls the data stream over when its write index mapped the new field dynamically, and says so', async () => {
    const { es, config, client, bulk } = await cluster();
    try {
      const first = await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      expect(first.filter((r) => r.kind === 'data stream')).toEqual([]); // nothing written yet: no data stream
      await bulk('flow-antrea', [doc({ laterAddress: '10.1.2.3' })]);
      const [writeIndex] = es.dataStreams.get('flow-antrea')!;
      expect(es.indices.get(writeIndex)!.get('ipfix.laterAddress')).toBe('keyword'); // the dynamic template, no IP guessed

      const report = await installAssets(client, stampedAssets(config, later));
      expect(report.find((r) => r.kind === 'component template' && r.name === MAPPINGS_COMPONENT)?.action).toBe('updated');
      const rolled = report.find((r) => r.kind === 'data stream');
      expect(rolled).toMatchObject({ name: 'flow-antrea', action: 'rolled over' });
      expect(rolled?.detail).toContain(`the write index ${writeIndex} refused the new mapping (mapper [ipfix.laterAddress] cannot be changed from type [keyword] to [ip])`);
      const backing = es.dataStreams.get('flow-antrea')!;
      expect(backing).toHaveLength(2);
      expect(es.indices.get(backing[1])!.get('ipfix.laterAddress')).toBe('ip');
      expect(es.indices.get(backing[0])!.get('ipfix.laterAddress')).toBe('keyword'); // the old index keeps its mapping

      // Run again: nothing to change, no further rollover.
      const again = await installAssets(client, stampedAssets(config, later));
      expect(again.filter((r) => r.action !== 'unchanged')).toEqual([]);
      expect(es.dataStreams.get('flow-antrea')).toHaveLength(2);
    } finally {
      await client.close();
    }
  });

  it('updates the write index in place when the new field can be added, without a rollover', async () => {
    const { es, config, client, bulk } = await cluster();
    try {
      await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      await bulk('flow-antrea', [doc({ sourcePodName: 'a' })]);
      const report = await installAssets(client, stampedAssets(config, laterCounter));
      expect(report.find((r) => r.kind === 'data stream')).toEqual({ kind: 'data stream', name: 'flow-antrea', action: 'mapping updated' });
      const backing = es.dataStreams.get('flow-antrea')!;
      expect(backing).toHaveLength(1);
      expect(es.indices.get(backing[0])!.get('ipfix.laterCounter')).toBe('long');
    } finally {
      await client.close();
    }
  });

  it('upgrades from the release whose mapping had ECS aliases: rolled over, the new write index has the real fields', async () => {
    const { es, config, client, bulk } = await cluster();
    try {
      const old = stampedAssets(config, ElementRegistry.builtin());
      const mappings = old.componentTemplates.find((t) => t.name === MAPPINGS_COMPONENT)!.template.mappings!;
      const properties = mappings.properties as Record<string, estypes.MappingProperty>;
      properties.source = { properties: { ip: { type: 'alias', path: 'ipfix.sourceIP' } } };
      for (const t of [...old.componentTemplates, ...old.indexTemplates]) t._meta = { ...t._meta, version: 'previous release' };
      await installAssets(client, old);
      await bulk('flow-antrea', [doc({ sourceIP: '10.0.0.1' })]);
      const report = await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      expect(report.find((r) => r.kind === 'data stream')).toMatchObject({ action: 'rolled over', detail: expect.stringContaining('[source.ip]') });
      const backing = es.dataStreams.get('flow-antrea')!;
      expect(es.indices.get(backing[1])!.get('source.ip')).toBe('ip');
    } finally {
      await client.close();
    }
  });

  it('leaves daily indices that refuse the mapping as they are and says the next day takes it', async () => {
    const { es, config, client, bulk } = await cluster();
    try {
      await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      await bulk('flow-2026.12.01', [doc({ laterAddress: '10.1.2.3' })]);
      const report = await installAssets(client, stampedAssets(config, later));
      expect(report.find((r) => r.kind === 'daily indices')).toMatchObject({ name: 'flow-2*', action: 'mapping kept', detail: expect.stringContaining("the next day's index takes the new one") });
      expect(es.indices.get('flow-2026.12.01')!.get('ipfix.laterAddress')).toBe('keyword');
      await bulk('flow-2026.12.02', [doc({ laterAddress: '10.1.2.3' })]);
      expect(es.indices.get('flow-2026.12.02')!.get('ipfix.laterAddress')).toBe('ip');
    } finally {
      await client.close();
    }
  });

  it('with a user who may not manage indices (the collector\'s own, at run), reports it and goes on instead of failing', async () => {
    const { es, config, client, bulk } = await cluster();
    try {
      await installAssets(client, stampedAssets(config, ElementRegistry.builtin()));
      await bulk('flow-antrea', [doc({ laterAddress: '10.1.2.3' })]);
      es.faults.forbidIndexAdmin = true;
      const report = await installAssets(client, stampedAssets(config, later));
      expect(report.filter((r) => r.action === 'not permitted').map((r) => r.kind)).toEqual(['data stream', 'daily indices']);
      expect(report.find((r) => r.kind === 'data stream')?.detail).toContain('run setup as a user who may');
      expect(es.dataStreams.get('flow-antrea')).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});
