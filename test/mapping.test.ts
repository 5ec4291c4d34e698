// The index mapping is derived from the field catalog: every field maps with the catalog's type, the ECS fields are
// real fields with ECS's types (no aliases: an alias cannot sum two directions or lowercase a name), what the catalog
// does not know under the target object maps by the dynamic templates, and the field count stays within the limit.
import { describe, expect, it } from 'vitest';
import type { estypes } from '@elastic/elasticsearch';
import { loadConfig } from '../collector/src/config/load.js';
import { fieldCatalog } from '../collector/src/document/catalog.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { flowMappings } from '../elasticsearch/src/assets.js';
import { stampedAssets } from '../elasticsearch/src/install.js';

function leaves(properties: Record<string, estypes.MappingProperty>, prefix = ''): Map<string, estypes.MappingProperty> {
  const out = new Map<string, estypes.MappingProperty>();
  for (const [name, property] of Object.entries(properties)) {
    const path = prefix + name;
    out.set(path, property);
    const nested = (property as estypes.MappingObjectProperty).properties;
    if (nested && property.type === 'object') for (const [p, v] of leaves(nested, `${path}.`)) out.set(p, v);
  }
  return out;
}

describe('index mapping', () => {
  const mapping = flowMappings(ElementRegistry.builtin(), 'ipfix');
  const fields = leaves(mapping.properties!);

  it('maps every catalog field with its type', () => {
    const wrong = fieldCatalog().filter((f) => fields.get(f.path)?.type !== f.type).map((f) => `${f.path}: ${fields.get(f.path)?.type} != ${f.type}`);
    expect(wrong).toEqual([]);
  });

  it('has the ECS fields as real fields with ECS types, no aliases, and no dynamic text', () => {
    expect([...fields].filter(([, p]) => p.type === 'alias')).toEqual([]);
    const ecs = Object.fromEntries(['source.ip', 'destination.ip', 'source.port', 'source.bytes', 'destination.packets', 'network.bytes',
      'network.transport', 'network.iana_number', 'network.community_id', 'event.duration', 'event.start', 'related.ip', 'observer.ip']
      .map((path) => [path, fields.get(path)?.type]));
    expect(ecs).toEqual({
      'source.ip': 'ip', 'destination.ip': 'ip', 'source.port': 'long', 'source.bytes': 'long', 'destination.packets': 'long', 'network.bytes': 'long',
      'network.transport': 'keyword', 'network.iana_number': 'keyword', 'network.community_id': 'keyword', 'event.duration': 'long',
      'event.start': 'date', 'related.ip': 'ip', 'observer.ip': 'ip',
    });
    expect(mapping.dynamic).toBe('strict');
    expect(JSON.stringify(mapping)).not.toContain('"text"');
  });

  it('maps what the catalog does not know under the target by dynamic templates: keyword strings, no dates or IPs guessed', () => {
    expect(mapping.date_detection).toBe(false);
    expect(mapping.numeric_detection).toBe(false);
    expect((mapping.properties!.ipfix as estypes.MappingObjectProperty).dynamic).toBe(true);
    const templates = Object.fromEntries(mapping.dynamic_templates!.flatMap((t) => Object.entries(t))) as Record<string, estypes.MappingDynamicTemplate>;
    // Elasticsearch takes the first dynamic template that matches: unknown elements, then any string, then numbers.
    const match = (path: string, type: string) => Object.entries(templates).find(([, t]) =>
      (t.path_match === undefined || new RegExp(`^${String(t.path_match).replaceAll('.', '\\.').replaceAll('*', '.*')}$`).test(path))
      && (t.match_mapping_type === undefined || t.match_mapping_type === type))?.[1]?.mapping;
    expect(match('ipfix.ie_9_12235', 'string')).toEqual({ type: 'keyword', ignore_above: 8191 });
    expect(match('ipfix.ie_9_12235', 'long')).toEqual({ type: 'keyword', ignore_above: 8191 });
    expect(match('ipfix.newAddressElement', 'string')).toEqual({ type: 'keyword', ignore_above: 8191 });
    expect(match('ipfix.someCounter', 'double')).toEqual({ type: 'double' });
    expect(match('ipfix.someCounter', 'long')).toBeUndefined(); // long, Elasticsearch's default for integers
    expect(match('source.extra', 'string')).toBeUndefined(); // the root is strict: refused, not mapped
  });

  it('stays under the total fields limit it sets', () => {
    const assets = stampedAssets(loadConfig(undefined, {}), ElementRegistry.builtin());
    const settings = assets.componentTemplates[1].template.settings as { index: { mapping: { total_fields: { limit: number } } } };
    expect(fields.size).toBeLessThan(settings.index.mapping.total_fields.limit);
  });

  it('follows decoding.target and takes fields from Logstash definition files', () => {
    const registry = ElementRegistry.builtin().extend([{ enterprise: 9, id: 12235, name: 'ciscoSomething', type: 'string' }], []);
    const netflow = leaves(flowMappings(registry, 'netflow').properties!);
    expect(netflow.get('netflow.ciscoSomething')?.type).toBe('keyword');
    expect(netflow.get('source.ip')?.type).toBe('ip');
    expect(netflow.has('ipfix.sourceIP')).toBe(false);
  });
});
