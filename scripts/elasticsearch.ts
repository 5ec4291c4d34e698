// elasticsearch/generated/*.json: the lifecycle policies and templates `setup` installs with the default
// configuration, as request bodies, for reading and for installing by hand (PUT each body to its path).
import { join } from 'node:path';
import { loadConfig } from '../collector/src/config/load.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { stampedAssets } from '../elasticsearch/src/install.js';
import type { Artefact } from './artefacts.js';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export function elasticsearchArtefacts(root: string): Artefact[] {
  const assets = stampedAssets(loadConfig(undefined, {}), ElementRegistry.builtin());
  const dir = join(root, 'elasticsearch/generated');
  const artefacts: Artefact[] = [];
  for (const { name, policy } of assets.lifecyclePolicies) {
    artefacts.push({ path: join(dir, `_ilm-policy-${name}.json`), content: json({ policy }) });
  }
  for (const { name, ...body } of assets.componentTemplates) {
    artefacts.push({ path: join(dir, `_component_template-${name}.json`), content: json(body) });
  }
  for (const { name, ...body } of assets.indexTemplates) {
    artefacts.push({ path: join(dir, `_index_template-${name}.json`), content: json(body) });
  }
  return artefacts;
}
