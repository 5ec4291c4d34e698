// The ConfigMap folder (manifests/elk-flow-collector/): its configuration is valid for the collector, its Antrea
// definitions decode as the built-in ones, and the ConfigMap `kubectl create configmap --from-file` makes of it
// stays under Kubernetes' 1 MiB object limit.
import { readdirSync, readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { loadIpfixDefinitions } from '../collector/src/ie/logstash-definitions.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { decodeAll, testPipeline } from './support/offline.js';

const folder = new URL('../manifests/elk-flow-collector/', import.meta.url).pathname;

/** What `kubectl create configmap NAME --from-file=FOLDER --dry-run=client -o yaml` prints: UTF-8 files under data, others base64 under binaryData. */
function configMapYaml(name: string): string {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const file of readdirSync(folder).sort()) {
    const bytes = readFileSync(join(folder, file));
    if (isUtf8(bytes)) data[file] = bytes.toString('utf8');
    else binaryData[file] = bytes.toString('base64');
  }
  return stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'elk-flow-collector' }, data, binaryData }, { lineWidth: 0 });
}

describe('ConfigMap folder', () => {
  it('holds a configuration the collector accepts', () => {
    const config = loadConfig(join(folder, 'collector.yml'), { ELASTICSEARCH_URL: 'https://elasticsearch:9200' });
    expect(config.output.sink).toBe('elasticsearch');
    expect(config.decoding.ipfixDefinitions).toEqual(['/etc/elk-flow-collector/antrea-ipfix.yml']);
  });

  it('has Antrea definitions that decode records exactly as the built-in elements do', () => {
    const registry = ElementRegistry.builtin().extend(loadIpfixDefinitions(join(folder, 'antrea-ipfix.yml')), []);
    const layout = aggregatorLayout(4);
    const header = { exportTimeSecs: 1_700_000_000, sequence: 0, domain: 1 };
    const messages = [templateMessage(header, 300, layout), dataMessage(header, 300, layout, [aggregatorRecord(1)])];
    const withFile = decodeAll(testPipeline({ registry }).pipeline, messages)[0].fields;
    const builtin = decodeAll(testPipeline().pipeline, messages)[0].fields;
    expect(withFile).toEqual(builtin);
    expect(withFile.flowEndSecondsFromSourceNode).toBe('2023-11-14T22:14:21.000Z');
  });

  it('makes a ConfigMap under the 1 MiB object limit', () => {
    const size = Buffer.byteLength(configMapYaml('elk-flow-collector'));
    expect(size).toBeLessThan(1024 * 1024);
  });
});
