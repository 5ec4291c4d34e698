import { parseArgs } from 'node:util';
import { CONFIG_DOCS, ConfigError } from '../config/load.js';

/**
 * The commands and their options, in one table: the parser, `--help` and the README's command-line section are
 * all made from it, so an option cannot exist without being documented.
 */

export const PROGRAM = 'elk-flow-collector';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's placeholder in help (FILE, URL...), for string options. */
  value?: string;
  /** Shown in the usage line; the command checks it. */
  required?: boolean;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** Positional arguments in the usage line (e.g. `FILE...`), when the command takes any. */
  positionals?: string;
  summary: string;
  options: Record<string, OptionSpec>;
}

const config = {
  type: 'string', short: 'c', value: 'FILE',
  help: `YAML configuration file; ELKFC_* environment variables override it, one per key (${CONFIG_DOCS}). Without it, the embedded defaults.`,
} as const satisfies OptionSpec;
const help = { type: 'boolean', short: 'h', help: 'Show this help.' } as const satisfies OptionSpec;

export const COMMANDS = {
  run: {
    name: 'run',
    summary: 'Receive NetFlow v5/v9 and IPFIX (UDP and TCP 4739 by default) and ship one document per flow record: to Elasticsearch when ELASTICSEARCH_URL (elasticsearch.urls) is set, else as _bulk files under data/flows. The default command. SIGTERM or Ctrl-C stops it: it stops receiving, writes what it decoded, saves its templates and exits 0.',
    options: { config, help },
  },
  decode: {
    name: 'decode',
    positionals: 'FILE...',
    summary: 'Print, one per line on stdout, exactly the documents run would ship for capture files: pcap files (each UDP payload is a message from its source address and port) or raw payload files (.dat: all of them one stream from one exporter, in the order given). Logs and a summary go to stderr, with progress when it is a terminal.',
    options: {
      config,
      'ipfix-definitions': { type: 'string', multiple: true, value: 'FILE', help: 'Logstash-format ipfix_definitions file to add (repeatable; decoding.ipfixDefinitions).' },
      'netflow-definitions': { type: 'string', multiple: true, value: 'FILE', help: 'Logstash-format netflow_definitions file to add (repeatable; decoding.netflowDefinitions).' },
      target: { type: 'string', value: 'NAME', help: 'Object the decoded record goes under (decoding.target; default ipfix, Logstash\'s is netflow).' },
      'no-enrich': { type: 'boolean', help: 'No Antrea enrichment (enrichment.enabled: false); with ELKFC_DOCUMENT_ECS=false too, exactly the Logstash codec\'s documents.' },
      exporter: { type: 'string', value: 'ADDRESS', help: 'Exporter IP address the .dat files came from (default 127.0.0.1).' },
      help,
    },
  },
  replay: {
    name: 'replay',
    positionals: 'FILE...',
    summary: 'Send the export messages of capture files (pcap or .dat) to a collector, for demos and tests. Progress on stderr when it is a terminal.',
    options: {
      to: { type: 'string', value: 'HOST:PORT', required: true, help: 'Where to send; an IPv6 address in brackets: [::1]:4739.' },
      protocol: { type: 'string', value: 'udp|tcp', help: 'Transport (default udp). TCP carries IPFIX only.' },
      rate: { type: 'string', value: 'N', help: 'Messages per second (default 0: as fast as the socket takes them).' },
      repeat: { type: 'string', value: 'N', help: 'Send the captures N times (default 1).' },
      help,
    },
  },
  setup: {
    name: 'setup',
    summary: 'Install or update the Elasticsearch lifecycle policies and templates (ELASTICSEARCH_URL, ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD or ELASTICSEARCH_API_KEY), saying what changed, and import the dashboards into Kibana (KIBANA_URL, KIBANA_USERNAME/KIBANA_PASSWORD or KIBANA_API_KEY). Idempotent.',
    options: {
      config,
      'dry-run': { type: 'boolean', help: 'Only report what would change.' },
      'kibana-url': { type: 'string', value: 'URL', help: 'Kibana to import the dashboards into (instead of KIBANA_URL).' },
      'kibana-objects': { type: 'string', value: 'FILE', help: 'Saved-objects file to import instead of the built-in dashboards (kibana/kibana.ndjson): .ndjson, or brotli-compressed .ndjson.br.' },
      help,
    },
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** A mistake in the command line: one line naming the option or argument, exit code 2. */
export class UsageError extends ConfigError {
  constructor(
    readonly command: string | undefined,
    message: string,
  ) {
    super(`${command ? `${command}: ` : ''}${message} (see ${PROGRAM}${command ? ` ${command}` : ''} --help)`);
  }
}

function optionLabel(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
}

/** The usage line of a command, e.g. `elk-flow-collector decode [options] FILE...`. */
export function usageLine(spec: CommandSpec): string {
  const required = Object.entries(spec.options).filter(([, o]) => o.required);
  return [PROGRAM, spec.name, ...required.map(([n, o]) => `--${n} ${o.value}`), '[options]', spec.positionals].filter(Boolean).join(' ');
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

export const EXIT_CODES = 'Exit codes: 0 done, 1 runtime failure, 2 bad usage, configuration or environment (one line names what to fix).';

/** `elk-flow-collector COMMAND --help`. */
export function commandHelp(spec: CommandSpec): string {
  const labels = Object.entries(spec.options).map(([name, o]) => [optionLabel(name, o), o.help] as const);
  const column = Math.max(...labels.map(([l]) => l.length)) + 4;
  return [
    `Usage: ${usageLine(spec)}`,
    '',
    wrap(spec.summary, 100, ''),
    '',
    'Options:',
    ...labels.map(([label, text]) => `  ${label.padEnd(column)}${wrap(text, 100 - column, ' '.repeat(column + 2))}`),
    '',
    `Configuration: every key, its environment variable, type and default: ${CONFIG_DOCS}.`,
    EXIT_CODES,
    '',
  ].join('\n');
}

/** `elk-flow-collector --help`: the commands. */
export function programHelp(version: string): string {
  const specs = Object.values(COMMANDS) as CommandSpec[];
  return [
    `${PROGRAM} ${version}: NetFlow v5/v9 and IPFIX collector for Antrea flow records, shipping to Elasticsearch`,
    '',
    `Usage: ${PROGRAM} [COMMAND] [options]`,
    '',
    'Commands:',
    ...specs.map((s) => `  ${s.name.padEnd(8)}${wrap(s.summary.split('. ')[0].replace(/\.$/, ''), 90, ' '.repeat(10))}.`),
    '',
    `Without a command: run. ${PROGRAM} COMMAND --help for a command's options; ${PROGRAM} --version.`,
    `Configuration: ${CONFIG_DOCS}.`,
    EXIT_CODES,
    '',
  ].join('\n');
}

const quoted = (message: string) => /'([^']+)'/.exec(message)?.[1];

/** The parsed values of a command's options: strings, string lists (repeatable options) and booleans. */
export type CommandValues<C extends CommandName> = {
  [K in keyof (typeof COMMANDS)[C]['options']]?: (typeof COMMANDS)[C]['options'][K] extends { type: 'boolean' } ? boolean
    : (typeof COMMANDS)[C]['options'][K] extends { multiple: true } ? string[] : string;
};

/** Parses a command's arguments against its table; every mistake is a UsageError that names the option. */
export function parseCommand<C extends CommandName>(name: C, args: string[]): { values: CommandValues<C>; positionals: string[] } {
  const spec = COMMANDS[name] as CommandSpec;
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([n, o]) => [n, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: spec.positionals !== undefined, strict: true });
    return { values: values as CommandValues<C>, positionals };
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const what = quoted(message) ?? '';
    const option = what.split(' ').find((w) => w.startsWith('--')) ?? what;
    switch (code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(name, `unknown option ${what}`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        if (/does not take an argument/.test(message)) throw new UsageError(name, `${option} takes no value`);
        throw new UsageError(name, `${option} needs a value (${spec.options[option.slice(2)]?.value ?? 'a value'})`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(name, `unexpected argument ${what}: ${name} takes ${spec.positionals ? `only ${spec.positionals}` : 'no arguments, only options'}`);
      default:
        throw error;
    }
  }
}
