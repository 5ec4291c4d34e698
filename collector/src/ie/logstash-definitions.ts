import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { InformationElement, ValueType } from './types.js';

/** A definition file that cannot be used: stops start-up, naming the file and the entry. */
export class DefinitionError extends Error {}

// Logstash's integer types are read at whatever length the template gives (RFC 7011 reduced-size encoding),
// so only their family matters here; a bare number N in netflow.yaml means "unsigned, default N octets".
const LOGSTASH_TYPES: Record<string, ValueType> = {
  uint8: 'unsigned8', uint15: 'unsigned16', uint16: 'unsigned16', uint24: 'unsigned32', uint32: 'unsigned32',
  uint64: 'unsigned64', int8: 'signed8', int16: 'signed16', int24: 'signed32', int32: 'signed32', int64: 'signed64',
  float: 'float32', double: 'float64', ip4_addr: 'ipv4Address', ip6_addr: 'ipv6Address', mac_addr: 'macAddress',
  string: 'string', octetarray: 'octetArray', skip: 'skip', forwarding_status: 'forwardingStatus',
  application_id: 'applicationId', acl_id_asa: 'aclIdAsa', mpls_label_stack_octets: 'mplsLabelStackOctets',
};

function symbol(value: unknown): string {
  return String(value).replace(/^:/, '');
}

function element(entry: unknown, enterprise: number, id: number, file: string): InformationElement | undefined {
  if (!Array.isArray(entry) || entry.length === 0) {
    throw new DefinitionError(`${file}: entry ${enterprise}/${id} must be a list [type, name]`);
  }
  const rawType = entry[0];
  const type: ValueType | undefined = typeof rawType === 'number' ? 'unsigned64' : LOGSTASH_TYPES[symbol(rawType)];
  if (!type) throw new DefinitionError(`${file}: entry ${enterprise}/${id} has unknown type ${symbol(rawType)}`);
  if (entry.length < 2) {
    if (type === 'skip') return { enterprise, id, name: `skip_${enterprise}_${id}`, type };
    throw new DefinitionError(`${file}: entry ${enterprise}/${id} has no name`);
  }
  return { enterprise, id, name: symbol(entry[1]), type };
}

function readYaml(file: string): unknown {
  try {
    // Logstash's own ipfix.yaml repeats keys (Ruby keeps the last): accept that, last one wins.
    return parse(readFileSync(file, 'utf8'), { uniqueKeys: false });
  } catch (error) {
    throw new DefinitionError(`${file}: ${(error as Error).message}`);
  }
}

function entries(value: unknown, file: string, what: string): [number, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DefinitionError(`${file}: ${what} must be a mapping`);
  }
  return Object.entries(value).map(([k, v]) => {
    const n = Number(k);
    if (!Number.isInteger(n) || n < 0) throw new DefinitionError(`${file}: ${what} key ${k} is not a number`);
    return [n, v];
  });
}

/** Reads an `ipfix_definitions` file: `enterprise: { id: [type, name] }`. */
export function loadIpfixDefinitions(file: string): InformationElement[] {
  const result: InformationElement[] = [];
  for (const [enterprise, ids] of entries(readYaml(file), file, 'the top level')) {
    for (const [id, entry] of entries(ids, file, `enterprise ${enterprise}`)) {
      const e = element(entry, enterprise, id, file);
      if (e) result.push(e);
    }
  }
  return result;
}

/** Reads a `netflow_definitions` file: `id: [type, name]`. */
export function loadNetflowDefinitions(file: string): InformationElement[] {
  const result: InformationElement[] = [];
  for (const [id, entry] of entries(readYaml(file), file, 'the top level')) {
    const e = element(entry, 0, id, file);
    if (e) result.push(e);
  }
  return result;
}
