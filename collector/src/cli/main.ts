import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import { checkCaptureFiles, checkWritablePaths } from '../config/checks.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { installAssets, stampedAssets } from '../../../elasticsearch/src/install.js';
import { DEFAULT_ROUTE, HOME_DASHBOARD_ID, kibanaNdjson } from '../../../kibana/src/dashboards.js';
import { KibanaUrlError, importSavedObjects, kibanaBaseUrl, kibanaStatus, setDefaultRoute, type KibanaConnection } from '../../../kibana/src/import.js';
import { buildRegistry } from '../ie/configured.js';
import { PcapError } from '../pcap/pcap.js';
import { Collector } from '../pipeline/collector.js';
import { createElasticsearchClient } from '../sinks/elasticsearch/client.js';
import { sinkName } from '../sinks/registry.js';
import { createLogger } from '../telemetry/logger.js';
import { VERSION } from '../version.js';
import { COMMANDS, commandHelp, parseCommand, programHelp, PROGRAM, UsageError, type CommandName } from './commands.js';
import { counted, decodeFiles, decodeSummaryLine } from './decode.js';
import { progress } from './progress.js';
import { replay, ReplayError } from './replay.js';
import { applyV8Flags } from './v8-flags.js';

/** Exit codes: 0 done, 1 runtime failure, 2 bad usage, configuration or environment (start-up refused). */
const EXIT_USAGE = 2;

function fail(message: string, code = EXIT_USAGE): never {
  process.stderr.write(`${PROGRAM}: ${message}\n`);
  process.exit(code);
}

async function run(args: string[]): Promise<void> {
  const { values } = parseCommand('run', args);
  const config = loadConfig(values.config);
  const log = createLogger(config.logging);
  checkWritablePaths(config, sinkName(config));
  const collector = new Collector(config, log);
  // Handlers first, so that a signal during start-up also ends in a clean stop. Repeated signals are ignored
  // while stopping: a Ctrl-C under `npm start` reaches the collector twice (from the terminal and from npm).
  let signalled: string | undefined;
  let started = false;
  const shutdown = async () => {
    log.info({ signal: signalled }, `stopping (${signalled}): no longer receiving, writing what was decoded, saving templates`);
    try {
      await collector.stop();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    if (started) void shutdown();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await collector.start();
  started = true;
  if (signalled) await shutdown();
}

async function decode(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('decode', args);
  if (positionals.length === 0) throw new UsageError('decode', 'needs at least one capture FILE');
  if (values.exporter !== undefined && isIP(values.exporter) === 0) throw new UsageError('decode', `--exporter takes an IP address, not ${values.exporter}`);
  const config = loadConfig(values.config);
  config.decoding.ipfixDefinitions.push(...(values['ipfix-definitions'] ?? []));
  config.decoding.netflowDefinitions.push(...(values['netflow-definitions'] ?? []));
  if (values.target) config.decoding.target = values.target;
  if (values['no-enrich']) config.enrichment.enabled = false;
  checkCaptureFiles(positionals);
  const out: string[] = [];
  const flush = () => {
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  };
  const summary = await decodeFiles(config, positionals, (line) => {
    out.push(line);
    if (out.length >= 1000) flush();
  }, { address: values.exporter ?? '127.0.0.1', port: 0 }, progress());
  flush();
  process.stderr.write(`${decodeSummaryLine(summary)}\n`);
}

async function replayCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('replay', args);
  if (positionals.length === 0) throw new UsageError('replay', 'needs at least one capture FILE');
  if (values.to === undefined) throw new UsageError('replay', 'needs --to HOST:PORT');
  const target = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)$/.exec(values.to);
  if (!target || Number(target[3]) > 65535) throw new UsageError('replay', `--to takes HOST:PORT ([::1]:4739 for IPv6), not ${values.to}`);
  const protocol = values.protocol ?? 'udp';
  if (protocol !== 'udp' && protocol !== 'tcp') throw new UsageError('replay', `--protocol is udp or tcp, not ${protocol}`);
  const rate = Number(values.rate ?? '0');
  const repeat = Number(values.repeat ?? '1');
  if (!Number.isFinite(rate) || rate < 0) throw new UsageError('replay', `--rate is a number of messages per second (0: no limit), not ${values.rate}`);
  if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError('replay', `--repeat is a whole number, at least 1, not ${values.repeat}`);
  checkCaptureFiles(positionals);
  const started = Date.now();
  const sent = await replay({ files: positionals, host: target[1] ?? target[2], port: Number(target[3]), protocol, rate, repeat, progress: progress() });
  process.stderr.write(`sent ${counted(sent, 'message')} in ${((Date.now() - started) / 1000).toFixed(2)} s\n`);
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
  const { values } = parseCommand('setup', args);
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

const HANDLERS: Record<CommandName, (args: string[]) => Promise<void>> = { run, decode, replay: replayCommand, setup };

// Before any command runs: the process's V8 settings (v8-flags.ts).
applyV8Flags();

export async function main(argv: string[]): Promise<void> {
  try {
    if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') return void process.stdout.write(`${VERSION}\n`);
    // `help`, `help COMMAND`, `--help`, `COMMAND --help`.
    const asksHelp = argv[0] === 'help';
    const rest = asksHelp ? argv.slice(1) : argv;
    // No command, or options first: run (the default command).
    const named = rest[0] !== undefined && !rest[0].startsWith('-');
    const name = named ? rest[0] : 'run';
    const args = named ? rest.slice(1) : rest;
    if (!named && (asksHelp || args[0] === '--help' || args[0] === '-h')) return void process.stdout.write(programHelp(VERSION));
    if (!(name in HANDLERS)) throw new UsageError(undefined, `unknown command ${name}: the commands are ${Object.keys(HANDLERS).join(', ')}`);
    const command = name as CommandName;
    if (asksHelp || args.includes('--help') || args.includes('-h')) return void process.stdout.write(commandHelp(COMMANDS[command]));
    await HANDLERS[command](args);
  } catch (error) {
    // Mistakes the operator can fix (usage, configuration, environment, capture files): one line, exit 2.
    if (error instanceof ConfigError || error instanceof PcapError) fail(error.message);
    if (error instanceof ReplayError) fail(error.message, 1);
    fail((error as Error).stack ?? String(error), 1);
  }
}
