// One-off import, kept for provenance and re-run when a source changes: builds the element tables in
// collector/data/ie from data files this project may use.
// - iana.csv: IANA's registry as ../shared/ie-registries/iana-2018.iespec has it (elements 1-433, names and
//   abstract types), checked against IANA's 2013 CSV export for the elements both list, and the elements IANA
//   assigned after 433 from scripts/data/iana-after-2018.csv (each row names its source).
// - vendor.csv (IPFIX enterprise elements) and netflow-v9.csv (NetFlow v9 field types IANA does not assign):
//   the Logstash netflow codec's ipfix.yaml and netflow.yaml (Apache-2.0), with Logstash types mapped to IANA
//   abstract types and the corrections listed below.
// - The enterprise elements and NetFlow v9 vendor field types only tshark names, from
//   scripts/data/tshark-vendor-elements.csv (derived from the installed tshark's own listings by
//   scripts/derive-tshark-elements.ts), appended to vendor.csv and netflow-v9.csv: never over IANA's or the codec's.
// Run: node --import tsx scripts/import-element-tables.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const OUT = new URL('../collector/data/ie/', import.meta.url).pathname;
const DEFINITIONS = `${SHARED}fixtures/logstash-codec-netflow/definitions/`;
const AFTER_2018 = new URL('data/iana-after-2018.csv', import.meta.url).pathname;
const TSHARK = new URL('data/tshark-vendor-elements.csv', import.meta.url).pathname;

// RFC 6313 structured data: not decoded as lists (yet); kept as hex so that nothing is lost. paddingOctets carry
// nothing and are skipped.
const IANA_TYPE_OVERRIDES: Record<number, { type: string; why: string }> = {
  210: { type: 'skip', why: 'paddingOctets: padding, nothing to keep' },
  291: { type: 'octetArray', why: 'basicList (RFC 6313): kept as hex' },
  292: { type: 'octetArray', why: 'subTemplateList (RFC 6313): kept as hex' },
  293: { type: 'octetArray', why: 'subTemplateMultiList (RFC 6313): kept as hex' },
};
// Both IANA files predate the rename of 278 (connectionCountNew) to newConnectionDeltaCount, the registry's
// current name, which the codec and our earlier documents use.
const IANA_NAME_OVERRIDES: Record<number, string> = { 278: 'newConnectionDeltaCount' };
// Abstract types of the later elements that the decoder does not read as such: RFC 6313 lists as above, and
// RFC 9740's unsigned256 (bit sets of up to 256 bits, beyond any JSON number), all kept as hex.
const AS_HEX = new Set(['basicList', 'subTemplateList', 'subTemplateMultiList', 'unsigned256']);

const LOGSTASH_TO_ABSTRACT: Record<string, string> = {
  uint8: 'unsigned8', uint15: 'unsigned16', uint16: 'unsigned16', uint24: 'unsigned32', uint32: 'unsigned32', uint64: 'unsigned64',
  int8: 'signed8', int16: 'signed16', int24: 'signed32', int32: 'signed32', int64: 'signed64',
  float: 'float32', double: 'float64', ip4_addr: 'ipv4Address', ip6_addr: 'ipv6Address',
  mac_addr: 'macAddress', string: 'string', octetarray: 'octetArray', skip: 'skip',
  forwarding_status: 'forwardingStatus', application_id: 'applicationId', acl_id_asa: 'aclIdAsa',
  mpls_label_stack_octets: 'mplsLabelStackOctets',
};

/** Vendor elements whose codec type is not what the value is (key `enterprise/id`, v9 as `v9/id`). */
const VENDOR_CORRECTIONS: Record<string, { type: string; why: string }> = {};

const symbol = (v: unknown) => String(v).replace(/^:/, '');

function readIana(): Map<number, { name: string; type: string }> {
  const elements = new Map<number, { name: string; type: string }>();
  for (const line of readFileSync(`${SHARED}ie-registries/iana-2018.iespec`, 'utf8').split('\n')) {
    const m = /^(\w+)\((\d+)\)<(\w+)>\[(\d+)\]/.exec(line.trim());
    if (m) elements.set(Number(m[2]), { name: m[1], type: m[3] });
  }
  // The 2013 CSV: the RFC 6313 list elements the 2018 file leaves out; everything else must agree by name.
  for (const line of readFileSync(`${SHARED}ie-registries/iana-2013-with-semantics.csv`, 'utf8').split('\n')) {
    const m = /^(\d+),(\w+),(\w+),/.exec(line);
    if (!m) continue;
    const id = Number(m[1]);
    const known = elements.get(id);
    if (!known) {
      if (IANA_TYPE_OVERRIDES[id]) elements.set(id, { name: m[2], type: m[3] });
      continue;
    }
    if (known.name !== m[2] && !IANA_NAME_OVERRIDES[id]) throw new Error(`IANA files disagree on ${id}: ${known.name} / ${m[2]}`);
  }
  for (const [id, o] of Object.entries(IANA_TYPE_OVERRIDES)) elements.get(Number(id))!.type = o.type;
  for (const [id, name] of Object.entries(IANA_NAME_OVERRIDES)) elements.get(Number(id))!.name = name;
  // Elements assigned after 433: new ids only, names IANA does not use for another id.
  const names = new Set([...elements.values()].map((e) => e.name));
  for (const line of readFileSync(AFTER_2018, 'utf8').split('\n')) {
    const m = /^(\d+),(\w+),(\w+),\S/.exec(line);
    if (!m) continue;
    const id = Number(m[1]);
    if (elements.has(id) || names.has(m[2])) throw new Error(`iana-after-2018.csv: ${id} ${m[2]} is already known`);
    names.add(m[2]);
    elements.set(id, { name: m[2], type: AS_HEX.has(m[3]) ? 'octetArray' : m[3] });
  }
  return elements;
}

function logstashEntry(entry: unknown, where: string): { name: string; type: string } | undefined {
  const [rawType, rawName] = entry as [unknown, unknown];
  const type = typeof rawType === 'number' ? 'unsigned64' : LOGSTASH_TO_ABSTRACT[symbol(rawType)];
  if (!type) throw new Error(`${where}: no abstract type for ${symbol(rawType)}`);
  if (rawName === undefined || type === 'skip') return undefined;
  return { name: symbol(rawName), type };
}

const iana = readIana();
const ianaNames = new Map([...iana.values()].map((e) => [e.name, e.type]));
const ianaLines = [
  '# IANA IPFIX information elements (enterprise 0): names and abstract types from IANA\'s registry as',
  '# ../shared/ie-registries/iana-2018.iespec has it (1-433) and scripts/data/iana-after-2018.csv (434 on, each',
  '# row with its source), by scripts/import-element-tables.ts (see there for the few overrides: RFC 6313 lists',
  '# and unsigned256 kept as hex, 278\'s current name).',
  'enterprise,id,name,type',
  ...[...iana].sort(([a], [b]) => a - b).map(([id, e]) => `0,${id},${e.name},${e.type}`),
];
writeFileSync(`${OUT}iana.csv`, `${ianaLines.join('\n')}\n`);

// A vendor name that IANA uses for another type would give one field two types: such an element keeps its
// codec name with the enterprise number appended.
const used = new Map<string, string>(ianaNames);
const INTEGER = /^(un)?signed\d+$/;
function vendorName(name: string, type: string, suffix: string): string {
  const known = used.get(name);
  // Integers of one signedness are read at whatever length the template gives: one field type fits both.
  if (known === undefined || known === type || (INTEGER.test(known) && INTEGER.test(type) && known[0] === type[0])) {
    if (known === undefined) used.set(name, type);
    return name;
  }
  const renamed = `${name}_${suffix}`;
  used.set(renamed, type);
  return renamed;
}

const ipfix = parse(readFileSync(`${DEFINITIONS}ipfix.yaml`, 'utf8'), { uniqueKeys: false }) as Record<string, Record<string, unknown>>;
const vendorLines = [
  '# IPFIX enterprise elements from the Logstash netflow codec\'s ipfix.yaml (Apache-2.0), by',
  '# scripts/import-element-tables.ts. Reverse elements (29305) are derived from IANA\'s, not listed.',
  'enterprise,id,name,type',
];
for (const [enterpriseText, ids] of Object.entries(ipfix)) {
  const enterprise = Number(enterpriseText);
  if (enterprise === 0 || enterprise === 29305) continue;
  for (const [idText, entry] of Object.entries(ids)) {
    const e = logstashEntry(entry, `ipfix.yaml ${enterprise}/${idText}`);
    if (!e) continue;
    let type = VENDOR_CORRECTIONS[`${enterprise}/${idText}`]?.type ?? e.type;
    const name = vendorName(e.name, type, String(enterprise));
    if (used.get(name) !== type && INTEGER.test(type)) type = used.get(name)!;
    vendorLines.push(`${enterprise},${idText},${name},${type}`);
  }
}
const tshark = readFileSync(TSHARK, 'utf8').split('\n').map((line) => /^(\d+|v9),(\d+),(\w+),(\w+),\S/.exec(line)).filter((m) => m !== null);
const codecKeys = new Set(vendorLines.map((l) => /^(\d+),(\d+),/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]}/${m[2]}`));
for (const line of readFileSync(`${OUT}vendor-extra.csv`, 'utf8').split('\n')) {
  const m = /^(\d+),(\d+),/.exec(line);
  if (m) codecKeys.add(`${m[1]}/${m[2]}`);
}
const clashes: string[] = [];
let fromTshark = 0;
for (const [, pen, id, tsharkName, tsharkType] of tshark) {
  if (pen === 'v9') continue;
  if (codecKeys.has(`${pen}/${id}`)) { clashes.push(`${pen}/${id} ${tsharkName}`); continue; }
  const name = vendorName(tsharkName, tsharkType, pen);
  const type = used.get(name) !== tsharkType && INTEGER.test(tsharkType) ? used.get(name)! : tsharkType;
  vendorLines.push(`${pen},${id},${name},${type}`);
  fromTshark++;
}
vendorLines.splice(2, 0, '# Then the enterprise elements only tshark names, from scripts/data/tshark-vendor-elements.csv (see there).');
writeFileSync(`${OUT}vendor.csv`, `${vendorLines.join('\n')}\n`);

const netflow = parse(readFileSync(`${DEFINITIONS}netflow.yaml`, 'utf8'), { uniqueKeys: false }) as Record<string, unknown>;
const v9Lines = [
  '# NetFlow v9 field types IANA does not assign (vendor types, many above 32767), from the Logstash netflow',
  '# codec\'s netflow.yaml (Apache-2.0), by scripts/import-element-tables.ts. Types IANA assigns are named as',
  '# IANA names them (iana.csv), so v9 and IPFIX land in one schema.',
  'id,name,type',
];
for (const [idText, entry] of Object.entries(netflow)) {
  const id = Number(idText);
  if (iana.has(id)) continue;
  const e = logstashEntry(entry, `netflow.yaml ${idText}`);
  if (!e) continue;
  let type = VENDOR_CORRECTIONS[`v9/${idText}`]?.type ?? e.type;
  const name = vendorName(e.name, type, 'v9');
  if (used.get(name) !== type && INTEGER.test(type)) type = used.get(name)!;
  v9Lines.push(`${id},${name},${type}`);
}
const v9Ids = new Set(v9Lines.map((l) => Number(/^(\d+),/.exec(l)?.[1])));
for (const [, pen, idText, tsharkName, tsharkType] of tshark) {
  const id = Number(idText);
  if (pen !== 'v9') continue;
  if (iana.has(id) || v9Ids.has(id)) { clashes.push(`v9/${id} ${tsharkName}`); continue; }
  // A name an IPFIX element already has with this type (ntop's, fastip's) is shared on purpose: one field.
  const name = used.get(tsharkName) === tsharkType ? tsharkName : vendorName(tsharkName, tsharkType, 'v9');
  const type = used.get(name) !== tsharkType && INTEGER.test(tsharkType) ? used.get(name)! : tsharkType;
  v9Lines.push(`${id},${name},${type}`);
  fromTshark++;
}
v9Lines.splice(3, 0, '# Then the v9 vendor types only tshark names, from scripts/data/tshark-vendor-elements.csv (see there).');
writeFileSync(`${OUT}netflow-v9.csv`, `${v9Lines.join('\n')}\n`);
if (clashes.length) console.log(`tshark rows IANA or the codec already define (theirs kept): ${clashes.join(', ')}`);
console.log(`${fromTshark} elements from tshark`);
console.log(`iana.csv ${ianaLines.length - 4}, vendor.csv ${vendorLines.length - 4}, netflow-v9.csv ${v9Lines.length - 5} elements`);
