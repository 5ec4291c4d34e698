// The index mapping is derived from the field catalog: every field maps with the catalog's type, the ECS aliases
// point at real fields, and the field count stays within the limit the settings raise.
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

  it('has ECS aliases that point at mapped fields, and no dynamic text', () => {
    const aliases = [...fields].filter(([, p]) => p.type === 'alias') as [string, estypes.MappingFieldAliasProperty][];
    expect(aliases.map(([path]) => path)).toEqual(expect.arrayContaining(['source.ip', 'destination.ip', 'source.port', 'destination.port', 'network.transport', 'network.bytes', 'network.packets']));
    for (const [, alias] of aliases) expect(fields.has(alias.path!)).toBe(true);
    expect(mapping.dynamic).toBe('strict');
    expect(JSON.stringify(mapping)).not.toContain('"text"');
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
    expect((netflow.get('source.ip') as estypes.MappingFieldAliasProperty).path).toBe('netflow.sourceIP');
  });
});
