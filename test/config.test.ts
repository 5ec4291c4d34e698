import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configLeaves, loadConfig } from '../collector/src/config/load.js';
import { buildRegistry } from '../collector/src/ie/configured.js';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'elkfc-config-')), 'collector.yml');
  writeFileSync(path, text);
  return path;
};

describe('configuration', () => {
  it('has an embedded default: UDP and TCP 4739, the file sink, Antrea\'s target', () => {
    const config = loadConfig(undefined, {});
    expect(config.inputs.udp).toMatchObject({ enabled: true, port: 4739 });
    expect(config.inputs.tcp).toMatchObject({ enabled: true, port: 4739 });
    expect(config.output.sink).toBe('auto'); // the file sink unless an Elasticsearch URL is configured
    expect(config.elasticsearch.urls).toEqual([]);
    expect(config.decoding).toMatchObject({ target: 'ipfix', templateTimeoutSecs: 1800, includeFlowsetId: true });
  });

  it('names the misspelt key and the file', () => {
    const path = file('inputs:\n  udp:\n    prot: 2055\n');
    expect(() => loadConfig(path, {})).toThrow(ConfigError);
    expect(() => loadConfig(path, {})).toThrow(new RegExp(`inputs\\.udp\\.prot \\(in ${path}\\)`));
  });

  it('names the key of a bad value', () => {
    expect(() => loadConfig(file('decoding:\n  templateTimeoutSecs: -5\n'), {})).toThrow(/decoding\.templateTimeoutSecs/);
    expect(() => loadConfig(file('output:\n  sink: kafka\n'), {})).toThrow(/output\.sink/);
  });

  it('refuses a file that is not YAML, or not a mapping', () => {
    expect(() => loadConfig(file('inputs: [\n'), {})).toThrow(/not valid YAML/);
    expect(() => loadConfig(file('- a\n'), {})).toThrow(/mapping/);
    expect(() => loadConfig('/nonexistent/collector.yml', {})).toThrow(/cannot read/);
  });

  it('takes one ELKFC_ environment variable per key, and names the variable when its value is bad', () => {
    const config = loadConfig(file('inputs:\n  udp:\n    port: 2055\n'), {
      ELKFC_INPUTS_UDP_PORT: '9995',
      ELKFC_DECODING_IPFIX_DEFINITIONS: '[/a.yml, /b.yml]',
      ELKFC_DECODING_TEMPLATE_STATE_PATH: 'null',
      ELKFC_HTTP_HOST: '127.0.0.1',
    });
    expect(config.inputs.udp.port).toBe(9995);
    expect(config.decoding.ipfixDefinitions).toEqual(['/a.yml', '/b.yml']);
    expect(config.decoding.templateStatePath).toBeNull();
    expect(() => loadConfig(undefined, { ELKFC_INPUTS_UDP_PORT: 'many' })).toThrow(/inputs\.udp\.port \(from ELKFC_INPUTS_UDP_PORT\)/);
    expect(() => loadConfig(undefined, { ELKFC_INPUTS_UPD_PORT: '1' })).toThrow(/ELKFC_INPUTS_UPD_PORT names no configuration key/);
  });

  it('takes lists from the environment comma-separated or as JSON, and says where a bad value came from, on one line', () => {
    const env = { ELKFC_ELASTICSEARCH_URLS: 'http://a:9200, http://b:9200', ELKFC_DECODING_NETFLOW_DEFINITIONS: '["/n.yml"]' };
    expect(loadConfig(undefined, env).elasticsearch.urls).toEqual(['http://a:9200', 'http://b:9200']);
    expect(loadConfig(undefined, env).decoding.netflowDefinitions).toEqual(['/n.yml']);
    expect(loadConfig(undefined, { ELKFC_DECODING_IPFIX_DEFINITIONS: '/a.yml' }).decoding.ipfixDefinitions).toEqual(['/a.yml']);
    const error = (() => {
      try {
        loadConfig(file('http:\n  port: -1\n'), { ELKFC_ELASTICSEARCH_URLS: 'http://a:9200,nope' });
      } catch (e) {
        return (e as Error).message;
      }
    })()!;
    expect(error).not.toContain('\n');
    expect(error).not.toContain('embedded defaults');
    expect(error).toMatch(/elasticsearch\.urls\.1 \(from ELKFC_ELASTICSEARCH_URLS\): .*; http\.port \(in \/.*collector\.yml\): /);
    expect(error).toContain('docs/configuration.md');
  });

  it('loads the README\'s example configuration as written', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration\n'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1];
    const config = loadConfig(file(example), {});
    expect(config.output.file.directory).toBe('data/flows');
    expect(config.logging.format).toBe('auto');
    expect(config.decoding.ipfixDefinitions).toEqual([]);
  });

  it('derives every environment variable from the schema', () => {
    const names = configLeaves().map((l) => l.env);
    expect(names).toContain('ELKFC_DECODING_TEMPLATE_TIMEOUT_SECS');
    expect(names).toContain('ELKFC_OUTPUT_FILE_FLUSH_INTERVAL_MS');
    expect(new Set(names).size).toBe(names.length);
  });

  it('stops on a definition file that cannot be used, naming the key', () => {
    const config = loadConfig(undefined, {});
    config.decoding.ipfixDefinitions = [file('0:\n  1: [:no_such_type, :x]\n')];
    expect(() => buildRegistry(config)).toThrow(/decoding\.ipfixDefinitions: .*unknown type no_such_type/);
    config.decoding.ipfixDefinitions = ['/nonexistent/ipfix.yml'];
    expect(() => buildRegistry(config)).toThrow(/decoding\.ipfixDefinitions/);
  });

  it('takes the Elastic environment names for the cluster connection, and picks the Elasticsearch sink then', async () => {
    const { sinkName } = await import('../collector/src/sinks/registry.js');
    const config = loadConfig(undefined, {
      ELASTICSEARCH_URL: 'https://es-0:9200, https://es-1:9200',
      ELASTICSEARCH_USERNAME: 'elastic',
      ELASTICSEARCH_PASSWORD: 'secret',
      ELASTICSEARCH_CA_CERT: '/etc/certs/ca.crt',
    });
    expect(config.elasticsearch).toMatchObject({
      urls: ['https://es-0:9200', 'https://es-1:9200'], username: 'elastic', password: 'secret', caCertPath: '/etc/certs/ca.crt',
    });
    expect(sinkName(config)).toBe('elasticsearch');
    expect(sinkName(loadConfig(undefined, {}))).toBe('file');
    expect(() => loadConfig(undefined, { ELASTICSEARCH_URL: 'not a url' })).toThrow(/elasticsearch\.urls.*\(from ELASTICSEARCH_URL\)/);
  });
});
