import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { configSchema, type CollectorConfig } from './schema.js';

/**
 * A configuration or environment that cannot be used (a bad key, a port in use, an unwritable directory):
 * start-up stops with this one-line message, which names the key and its source, and exit code 2.
 */
export class ConfigError extends Error {}

/** Where every key is documented (generated from the schema). */
export const CONFIG_DOCS = 'docs/configuration.md';

export const ENV_PREFIX = 'ELKFC_';

/** A leaf of the schema: its dotted path, environment variable, and the schema that validates it. */
export interface ConfigLeaf {
  path: string[];
  env: string;
  schema: z.ZodType;
}

function inner(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { _zod: { def: { innerType?: z.ZodType } } };
  while (s._zod.def.innerType) s = s._zod.def.innerType as typeof s;
  return s;
}

const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Every settable key, derived from the schema so that docs, environment overrides and validation cannot drift. */
export function configLeaves(schema: z.ZodType = configSchema, path: string[] = []): ConfigLeaf[] {
  const core = inner(schema);
  if (core instanceof z.ZodObject) {
    return Object.entries(core.shape as Record<string, z.ZodType>).flatMap(([key, child]) => configLeaves(child, [...path, key]));
  }
  return [{ path, env: ENV_PREFIX + path.map(snake).join('_'), schema }];
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/**
 * Loads the configuration: the YAML file (optional: without one the embedded defaults apply), then
 * `ELKFC_*` environment variables, one per key (e.g. ELKFC_INPUTS_UDP_PORT), whose values are read as YAML
 * scalars; a list key takes a comma-separated value (`a,b`) or a YAML/JSON list (`[a, b]`). Unknown keys and
 * unknown ELKFC_ variables are errors, not silently ignored.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read configuration file ${file}: ${(error as Error).message}`);
    }
    try {
      raw = parse(text) ?? {};
    } catch (error) {
      throw new ConfigError(`configuration file ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`configuration file ${file} must hold a mapping at the top`);
  }
  const leaves = new Map(configLeaves().map((leaf) => [leaf.env, leaf]));
  const fromEnv = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const leaf = leaves.get(name);
    if (!leaf) throw new ConfigError(`environment variable ${name} names no configuration key (see ${CONFIG_DOCS})`);
    let parsed: unknown;
    if (inner(leaf.schema) instanceof z.ZodArray && !value.trimStart().startsWith('[')) {
      // Shells and Kubernetes manifests write lists as a,b: split on commas (a JSON or YAML list works too).
      parsed = value.split(',').map((item) => item.trim()).filter(Boolean);
    } else {
      try {
        parsed = parse(value);
      } catch {
        parsed = value;
      }
    }
    // A string-typed key keeps the text as given (a port number meant as a host name stays a string).
    if (inner(leaf.schema) instanceof z.ZodString && typeof parsed !== 'string' && parsed !== null) parsed = value;
    setPath(raw as Record<string, unknown>, leaf.path, parsed);
    fromEnv.set(leaf.path.join('.'), name);
  }
  // The names Elastic's own tools use, for the connection only (ELKFC_ELASTICSEARCH_* work as for any key).
  const es = ((raw as Record<string, unknown>).elasticsearch ??= {}) as Record<string, unknown>;
  const wellKnown: [string, string, (v: string) => unknown][] = [
    ['ELASTICSEARCH_URL', 'urls', (v) => v.split(',').map((u) => u.trim()).filter(Boolean)],
    ['ELASTICSEARCH_USERNAME', 'username', (v) => v],
    ['ELASTICSEARCH_PASSWORD', 'password', (v) => v],
    ['ELASTICSEARCH_API_KEY', 'apiKey', (v) => v],
    ['ELASTICSEARCH_CA_CERT', 'caCertPath', (v) => v],
  ];
  for (const [name, key, convert] of wellKnown) {
    const value = env[name];
    if (value === undefined || value === '' || fromEnv.has(`elasticsearch.${key}`)) continue;
    es[key] = convert(value);
    fromEnv.set(`elasticsearch.${key}`, name);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k].join('.')) : [issue.path.join('.')];
      // A list key's issues carry the item index (elasticsearch.urls.0): name the variable of the whole key.
      const source = (k: string) => [...fromEnv].find(([key]) => k === key || k.startsWith(`${key}.`))?.[1];
      const where = keys.map((k) => `${k || '(top level)'} (${source(k) ? `from ${source(k)}` : `in ${file ?? 'the defaults'}`})`).join(', ');
      return `${where}: ${issue.message}`;
    });
    // One line, however many problems: each names its key and where its value came from.
    throw new ConfigError(`invalid configuration: ${problems.join('; ')} (see ${CONFIG_DOCS})`);
  }
  return result.data;
}
