import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { brotliDecompressSync } from 'node:zlib';
import { destination, pino } from 'pino';
import { ConfigError, loadConfig } from '../config/load.js';
import { installAssets, stampedAssets } from '../../../elasticsearch/src/install.js';
import { DEFAULT_ROUTE, HOME_DASHBOARD_ID, kibanaNdjson } from '../../../kibana/src/dashboards.js';
import { KibanaUrlError, importSavedObjects, kibanaBaseUrl, kibanaStatus, setDefaultRoute, type KibanaConnection } from '../../../kibana/src/import.js';
import { buildRegistry } from '../ie/configured.js';
import { Collector } from '../pipeline/collector.js';
import { createElasticsearchClient } from '../sinks/elasticsearch/client.js';
import { decodeFiles } from './decode.js';
import { replay } from './replay.js';

const USAGE = `elk-flow-collector: NetFlow v5/v9 and IPFIX collector for Antrea flows

Usage:
  elk-flow-collector [run] [--config FILE]
      Receive on UDP and TCP 4739 and ship documents (default: _bulk files under data/flows).
  elk-flow-collector decode [--config FILE] [--ipfix-definitions FILE]... [--netflow-definitions FILE]...
                            [--target NAME] [--no-enrich] [--exporter ADDRESS] FILE...
      Print, one per line, the documents run would ship for pcap files (each UDP payload is a message from
      its source) or raw payload files (.dat: all of them one stream from one exporter, in order).
  elk-flow-collector replay FILE... --to HOST:PORT [--protocol udp|tcp] [--rate MESSAGES_PER_SEC] [--repeat N]
      Send the export messages of captures to a collector.
  elk-flow-collector setup [--config FILE] [--dry-run] [--kibana-url URL] [--kibana-objects FILE]
      Install or update the Elasticsearch lifecycle policies and templates (ELASTICSEARCH_URL), saying what changed,
      and import the dashboards into Kibana (KIBANA_URL, KIBANA_USERNAME/KIBANA_PASSWORD or KIBANA_API_KEY):
      the built-in ones (kibana/kibana.ndjson), or a saved-objects file (.ndjson, or brotli-compressed .ndjson.br).

Configuration: docs/configuration.md (YAML file plus ELKFC_* environment variables).`;

/** Exit codes: 0 done, 1 runtime failure, 2 bad usage or configuration (start-up refused). */
const EXIT_USAGE = 2;

function fail(message: string, code = EXIT_USAGE): never {
  process.stderr.write(`elk-flow-collector: ${message}\n`);
  process.exit(code);
}

async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const config = loadConfig(values.config);
  const log = pino({ level: config.logging.level }, destination(2));
  const collector = new Collector(config, log);
  await collector.start();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no longer receiving, flushing documents, saving templates');
    try {
      await collector.stop();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function decode(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'ipfix-definitions': { type: 'string', multiple: true },
      'netflow-definitions': { type: 'string', multiple: true },
      target: { type: 'string' },
      'no-enrich': { type: 'boolean' },
      exporter: { type: 'string' },
    },
  });
  if (positionals.length === 0) fail('decode needs at least one capture file');
  if (values.exporter !== undefined && isIP(values.exporter) === 0) fail(`--exporter takes an IP address, not ${values.exporter}`);
  const config = loadConfig(values.config);
  config.decoding.ipfixDefinitions.push(...(values['ipfix-definitions'] ?? []));
  config.decoding.netflowDefinitions.push(...(values['netflow-definitions'] ?? []));
  if (values.target) config.decoding.target = values.target;
  if (values['no-enrich']) config.enrichment.enabled = false;
  const out: string[] = [];
  const flush = () => {
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  };
  const summary = await decodeFiles(config, positionals, (line) => {
    out.push(line);
    if (out.length >= 1000) flush();
  }, { address: values.exporter ?? '127.0.0.1', port: 0 });
  flush();
  process.stderr.write(`decoded ${summary.documents} documents from ${summary.messages} messages; ${summary.dropped} malformed packets dropped\n`);
}

async function replayCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      protocol: { type: 'string', default: 'udp' },
      rate: { type: 'string', default: '0' },
      repeat: { type: 'string', default: '1' },
    },
  });
  if (positionals.length === 0) fail('replay needs at least one capture file');
  const target = /^\[?([^\]]+?)\]?:(\d+)$/.exec(values.to ?? '');
  if (!target) fail('replay needs --to HOST:PORT');
  if (values.protocol !== 'udp' && values.protocol !== 'tcp') fail('--protocol is udp or tcp');
  const rate = Number(values.rate);
  const repeat = Number(values.repeat);
  if (!Number.isFinite(rate) || rate < 0) fail('--rate is a number of messages per second (0: no limit)');
  if (!Number.isInteger(repeat) || repeat < 1) fail('--repeat is a whole number, at least 1');
  const started = Date.now();
  const sent = await replay({ files: positionals, host: target[1], port: Number(target[2]), protocol: values.protocol, rate, repeat });
  process.stderr.write(`sent ${sent} messages in ${((Date.now() - started) / 1000).toFixed(2)} s\n`);
}

/** A saved-objects file to import instead of the built-in dashboards: NDJSON, or brotli-compressed NDJSON (.br). */
function readKibanaObjects(path: string): string {
  try {
    const bytes = readFileSync(path);
    return (path.endsWith('.br') ? brotliDecompressSync(bytes) : bytes).toString('utf8');
  } catch (error) {
    return fail(`--kibana-objects ${path}: ${(error as Error).message}`);
  }
}

/** The Kibana to import into, its URL checked before anything is sent (a bad one is a usage error). */
function kibanaConnection(url: string, source: string): KibanaConnection {
  try {
    kibanaBaseUrl(url);
  } catch (error) {
    if (error instanceof KibanaUrlError) fail(`${source}: ${error.message}`);
    throw error;
  }
  return { url, username: process.env.KIBANA_USERNAME, password: process.env.KIBANA_PASSWORD, apiKey: process.env.KIBANA_API_KEY };
}

/**
 * Imports the saved objects (built-in, or a --kibana-objects file) and makes Kibana open on the Overview dashboard;
 * with --dry-run, only checks that Kibana answers. False when something failed (said on stderr or stdout).
 */
async function setupKibana(kibana: KibanaConnection, dryRun: boolean, objects: string | undefined): Promise<boolean> {
  const where = `Kibana at ${kibana.url}`;
  try {
    if (dryRun) {
      const status = await kibanaStatus(kibana);
      process.stdout.write(`${where} is reachable: version ${status.version ?? 'not shown'}, status ${status.level}; would import the saved objects\n`);
      return true;
    }
    const ndjson = objects ?? kibanaNdjson();
    const report = await importSavedObjects(kibana, ndjson);
    for (const o of report.imported) process.stdout.write(`imported: ${o.type} ${o.title ?? o.id}\n`);
    for (const o of report.rejected) process.stdout.write(`rejected by Kibana: ${o.type} ${o.title ?? o.id}: ${o.reason}\n`);
    if (report.imported.some((o) => o.type === 'dashboard' && o.id === HOME_DASHBOARD_ID)) {
      const route = await setDefaultRoute(kibana, DEFAULT_ROUTE);
      if (route.action === 'kept') process.stdout.write(`default route kept at ${route.route}: ${route.reason}\n`);
      else if (route.action === 'unavailable') process.stdout.write(`default route not set: ${route.reason}; set defaultRoute to ${DEFAULT_ROUTE} in Advanced Settings\n`);
      else process.stdout.write(`default route ${route.action}: Kibana opens on the Overview dashboard (${route.route})\n`);
    }
    return report.rejected.length === 0;
  } catch (error) {
    process.stderr.write(`elk-flow-collector: ${where}: ${(error as Error).message}\n`);
    return false;
  }
}

async function setup(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, 'dry-run': { type: 'boolean' }, 'kibana-url': { type: 'string' }, 'kibana-objects': { type: 'string' } },
  });
  const config = loadConfig(values.config);
  // An empty KIBANA_URL (a manifest's placeholder) means no Kibana, as it did before URLs were checked.
  const kibanaUrl = values['kibana-url'] ?? (process.env.KIBANA_URL || undefined);
  const kibana = kibanaUrl === undefined ? undefined : kibanaConnection(kibanaUrl, values['kibana-url'] !== undefined ? '--kibana-url' : 'KIBANA_URL');
  const objects = values['kibana-objects'] ? readKibanaObjects(values['kibana-objects']) : undefined;
  if (config.elasticsearch.urls.length === 0 && !kibanaUrl) fail('setup needs ELASTICSEARCH_URL (or elasticsearch.urls), KIBANA_URL (or --kibana-url), or both');
  let failed = false;
  if (config.elasticsearch.urls.length > 0) {
    const client = createElasticsearchClient(config);
    try {
      const report = await installAssets(client, stampedAssets(config, buildRegistry(config)), values['dry-run'] ?? false);
      for (const r of report) process.stdout.write(`${values['dry-run'] && r.action !== 'unchanged' ? `would be ${r.action}` : r.action}: ${r.kind} ${r.name}${r.detail ? `: ${r.detail}` : ''}\n`);
      failed ||= report.some((r) => r.action === 'not permitted');
    } catch (error) {
      process.stderr.write(`elk-flow-collector: Elasticsearch at ${config.elasticsearch.urls.join(', ')}: ${(error as Error).message}\n`);
      failed = true;
    } finally {
      await client.close();
    }
  }
  if (kibana) failed = !(await setupKibana(kibana, values['dry-run'] ?? false, objects)) || failed;
  if (failed) process.exit(1);
}

export async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  const commands: Record<string, (args: string[]) => Promise<void>> = { run, decode, replay: replayCommand, setup };
  try {
    if (first === undefined || first.startsWith('-')) {
      if (first === '--help' || first === '-h') return void process.stdout.write(USAGE + '\n');
      return await run(argv);
    }
    if (first === 'help') return void process.stdout.write(USAGE + '\n');
    const command = commands[first];
    if (!command) fail(`unknown command ${first}\n\n${USAGE}`);
    await command(rest);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    if ((error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail((error as Error).message);
    fail((error as Error).stack ?? String(error), 1);
  }
}
