// One-off derivation, kept for provenance: writes scripts/data/tshark-vendor-elements.csv from what the installed
// tshark reports about itself, never from Wireshark's source (GPL), which was not read.
// - `tshark -G values`: the NetFlow dissector's per-enterprise field-type tables (cflow.template_<vendor>_field_type:
//   id -> name) and its NetFlow v9 field-type table (cflow.template_field_type).
// - `tshark -G fields`: each header field's abbreviation and FT_ type.
// - Which field an element is decoded as: each (enterprise, id) is sent to tshark in a hand-built IPFIX (or v9)
//   message of its own, and the field tshark decodes the value as (`-T pdml`) gives the FT_ type. An element tshark
//   names but decodes only as hex (cflow.enterprise_private_entry) is kept as octetArray.
// - Sent with 4 octets, and those tshark shows as hex again with 16, 8, 6, 2 and 1 (IPv6, MAC, 64-bit types are
//   decoded only at their own length).
// - Time fields: sent with 4 and 8 octets; the date tshark prints says the unit (seconds, milliseconds, NTP).
// Needs tshark (Debian's 4.0.17 was used). Run: node --import tsx scripts/derive-tshark-elements.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const OUT = new URL('data/tshark-vendor-elements.csv', import.meta.url).pathname;
const IE = new URL('../collector/data/ie/', import.meta.url).pathname;
const DEFINITIONS = new URL('../../shared/fixtures/logstash-codec-netflow/definitions/', import.meta.url).pathname;

/** tshark's per-enterprise tables, the enterprise number each belongs to (checked below: tshark's template
 * decoding must name this table for that number) and the prefix our names take, as the codec's names do. */
const TABLES: { table: string; pen: number; prefix: string }[] = [
  { table: 'cisco_field_type', pen: 9, prefix: 'cisco' },
  { table: 'juniper_resiliency_type', pen: 2636, prefix: 'juniper' },
  { table: 'ixia_field_type', pen: 3054, prefix: 'ixia' },
  { table: 'netscaler_field_type', pen: 5951, prefix: 'netscaler' },
  { table: 'barracuda_field_type', pen: 10704, prefix: 'barracuda' },
  { table: 'plixer_field_type', pen: 13745, prefix: 'plixer' },
  { table: 'gigamon_field_type', pen: 26866, prefix: 'gigamon' },
  { table: 'fastip_field_type', pen: 33610, prefix: 'fastip' },
  { table: 'ntop_field_type', pen: 35632, prefix: 'ntop' },
  { table: 'niagara_networks_field_type', pen: 47729, prefix: 'niagaraNetworks' },
];
/** Enterprises tshark has fields for but no field-type table: ids probed 0..PROBE_IDS-1, names from the field's
 * description, where tshark gives the vendor's name in parentheses, else its display name. */
const UNTABLED: { pen: number; prefix: string }[] = [{ pen: 32622, prefix: 'cace' }];
const PROBE_IDS = 1024;

const FT_TO_ABSTRACT: Record<string, string> = {
  FT_UINT8: 'unsigned8', FT_UINT16: 'unsigned16', FT_UINT24: 'unsigned32', FT_UINT32: 'unsigned32', FT_UINT64: 'unsigned64',
  FT_INT8: 'signed8', FT_INT16: 'signed16', FT_INT24: 'signed32', FT_INT32: 'signed32', FT_INT64: 'signed64',
  FT_IPv4: 'ipv4Address', FT_IPv6: 'ipv6Address', FT_ETHER: 'macAddress', FT_STRING: 'string', FT_STRINGZ: 'string',
  FT_BYTES: 'octetArray', FT_BOOLEAN: 'boolean', FT_FLOAT: 'float32', FT_DOUBLE: 'float64', FT_GUID: 'octetArray',
};

const tshark = (args: string[]) => execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
const version = /TShark \(Wireshark\) (\S+)/.exec(tshark(['-v']))![1];

const fields = new Map<string, { display: string; ft: string; blurb: string }>();
for (const line of tshark(['-G', 'fields']).split('\n')) {
  const c = line.split('\t');
  if (c[0] === 'F' && c[2].startsWith('cflow.')) fields.set(c[2], { display: c[1], ft: c[3], blurb: c[7] ?? '' });
}
const tables = new Map<string, Map<number, string>>();
for (const line of tshark(['-G', 'values']).split('\n')) {
  const c = line.split('\t');
  if (c[0] !== 'V' || !/^cflow\.template_\w*_type$/.test(c[1])) continue;
  if (!tables.has(c[1])) tables.set(c[1], new Map());
  tables.get(c[1])!.set(Number(c[2]), c[3]);
}

// ---- Hand-built messages in one pcap, one element per message (template and data record together).
function pcap(payloads: { port: number; bytes: Buffer }[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0); header.writeUInt16LE(2, 4); header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16); header.writeUInt32LE(1, 20);
  const parts = [header];
  payloads.forEach(({ port, bytes }, i) => {
    const udp = Buffer.alloc(8); udp.writeUInt16BE(40000, 0); udp.writeUInt16BE(port, 2); udp.writeUInt16BE(8 + bytes.length, 4);
    const ip = Buffer.from([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
    ip.writeUInt16BE(28 + bytes.length, 2);
    const eth = Buffer.concat([Buffer.alloc(12), Buffer.from([8, 0]), ip, udp, bytes]);
    const rec = Buffer.alloc(16); rec.writeUInt32LE(1700000000 + i, 0); rec.writeUInt32LE(eth.length, 8); rec.writeUInt32LE(eth.length, 12);
    parts.push(rec, eth);
  });
  return Buffer.concat(parts);
}
const value = (length: number) => Buffer.from(Array.from({ length }, (_, i) => i + 1));
// Each message under an observation domain (source id) of its own: tshark keeps the first template it sees per domain.
function ipfixMessage(pen: number, id: number, length: number, domain: number): Buffer {
  const t = Buffer.alloc(16); t.writeUInt16BE(2, 0); t.writeUInt16BE(16, 2); t.writeUInt16BE(256, 4); t.writeUInt16BE(1, 6);
  t.writeUInt16BE(id | 0x8000, 8); t.writeUInt16BE(length, 10); t.writeUInt32BE(pen, 12);
  const d = Buffer.alloc(4); d.writeUInt16BE(256, 0); d.writeUInt16BE(4 + length, 2);
  const h = Buffer.alloc(16); h.writeUInt16BE(10, 0); h.writeUInt16BE(16 + 16 + 4 + length, 2); h.writeUInt32BE(1700000000, 4); h.writeUInt32BE(domain, 12);
  return Buffer.concat([h, t, d, value(length)]);
}
function v9Message(id: number, length: number, domain: number): Buffer {
  const t = Buffer.alloc(12); t.writeUInt16BE(0, 0); t.writeUInt16BE(12, 2); t.writeUInt16BE(256, 4); t.writeUInt16BE(1, 6);
  t.writeUInt16BE(id, 8); t.writeUInt16BE(length, 10);
  const padded = length + ((4 - (length % 4)) % 4);
  const d = Buffer.alloc(4 + padded); d.writeUInt16BE(256, 0); d.writeUInt16BE(4 + padded, 2); value(length).copy(d, 4);
  const h = Buffer.alloc(20); h.writeUInt16BE(9, 0); h.writeUInt16BE(2, 2); h.writeUInt32BE(1000, 4); h.writeUInt32BE(1700000000, 8); h.writeUInt32BE(domain, 16);
  return Buffer.concat([h, t, d]);
}

interface Probe { pen: number | 'v9'; id: number; length: number }
/** The data-record field tshark decodes each probe's value as, with what it shows, and the template table it names. */
function decode(probes: Probe[]): { field?: string; show?: string; size?: number; table?: string }[] {
  const dir = mkdtempSync(join(tmpdir(), 'tshark-elements-'));
  writeFileSync(join(dir, 'p.pcap'), pcap(probes.map((p, i) => p.pen === 'v9'
    ? { port: 2055, bytes: v9Message(p.id, p.length, i + 1) }
    : { port: 4739, bytes: ipfixMessage(p.pen, p.id, p.length, i + 1) })));
  const pdml = tshark(['-r', join(dir, 'p.pcap'), '-d', 'udp.port==4739,cflow', '-d', 'udp.port==2055,cflow', '-T', 'pdml']);
  return pdml.split('<packet>').slice(1).map((packet) => {
    const out: { field?: string; show?: string; size?: number; table?: string } = {};
    let inData = false;
    for (const m of packet.matchAll(/<field name="([^"]+)"(?: showname="[^"]*")?(?: hide="yes")? size="(\d+)" pos="(\d+)" show="([^"]*)"/g)) {
      const [, name, size, , show] = m;
      if (/^cflow\.template_\w*_type$/.test(name)) out.table = name;
      if (name === 'cflow.flowset_id' && show === '256') inData = true;
      if (!inData || out.field || size === '0' || !name.startsWith('cflow.')) continue;
      if (['cflow.flowset_id', 'cflow.flowset_length', 'cflow.template_frame', 'cflow.padding'].includes(name)) continue;
      if (fields.get(name)?.ft === 'FT_NONE') continue;
      out.field = name; out.show = show; out.size = Number(size);
    }
    return out;
  });
}

/** seconds / milliseconds / NTP from the year tshark prints for 01 02 03 04 (4 octets) and 01..08 (8 octets). */
function timeType(show4?: string, show8?: string): string | undefined {
  const year = (s?: string) => Number(/\b(\d{4})\b/.exec(s ?? '')?.[1]);
  if (year(show4) === 1970 && /Jul 15, 1970/.test(show4!)) return 'dateTimeSeconds';
  if (year(show4) === 1970 && /Jan +1, 1970/.test(show4!)) return 'dateTimeMilliseconds';
  if (year(show8) === 1900) return 'dateTimeNanoseconds';
  if (year(show8) > 4000) return 'dateTimeMilliseconds';
  return undefined;
}

function camel(words: string, prefix: string): string {
  const parts = words.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[^A-Za-z0-9]+/).filter(Boolean);
  const cased = parts.map((p, i) => (i === 0 && !prefix ? p[0].toLowerCase() : p[0].toUpperCase()) + p.slice(1).toLowerCase());
  return prefix + cased.join('');
}

// ---- Already known: IANA's ids (v9 types IANA assigns are IANA's), the codec's (PEN, id) and v9 types.
const ianaIds = new Set(readFileSync(`${IE}iana.csv`, 'utf8').split('\n').map((l) => /^0,(\d+),/.exec(l)?.[1]).filter(Boolean).map(Number));
const ipfixYaml = parse(readFileSync(`${DEFINITIONS}ipfix.yaml`, 'utf8'), { uniqueKeys: false }) as Record<string, Record<string, unknown>>;
const codec = new Set<string>();
for (const [pen, ids] of Object.entries(ipfixYaml)) for (const id of Object.keys(ids)) codec.add(`${pen}/${id}`);
const netflowYaml = parse(readFileSync(`${DEFINITIONS}netflow.yaml`, 'utf8'), { uniqueKeys: false }) as Record<string, unknown>;
for (const id of Object.keys(netflowYaml)) codec.add(`v9/${id}`);
for (const line of readFileSync(`${IE}vendor-extra.csv`, 'utf8').split('\n')) {
  const m = /^(\d+),(\d+),/.exec(line);
  if (m) codec.add(`${m[1]}/${m[2]}`);
}

interface Candidate { pen: number | 'v9'; id: number; tsharkName?: string; prefix: string }
const candidates: Candidate[] = [];
for (const { table, pen, prefix } of TABLES) {
  const names = tables.get(`cflow.template_${table}`);
  if (!names) throw new Error(`tshark has no table cflow.template_${table}`);
  for (const [id, name] of names) candidates.push({ pen, id, tsharkName: name, prefix });
}
for (const { pen, prefix } of UNTABLED) for (let id = 0; id < PROBE_IDS; id++) candidates.push({ pen, id, prefix });
// v9 types below 1024 are IANA's space (416 and 419 are IANA's deprecated duplicates of 352 and 353).
for (const [id, name] of tables.get('cflow.template_field_type')!) if (!ianaIds.has(id) && id >= 1024) candidates.push({ pen: 'v9', id, tsharkName: name, prefix: '' });

const first = decode(candidates.map((c) => ({ pen: c.pen, id: c.id, length: 4 })));
// tshark decodes an IPv6 address, a MAC address, a 64-bit integer or float only at its own length (else as hex): the
// elements 4 octets did not give a field are sent again at those lengths, and the first that gives one counts.
const decoded = (r: { field?: string }) => r.field !== undefined && r.field !== 'cflow.enterprise_private_entry' && !r.field.startsWith('cflow.unknown');
for (const length of [16, 8, 6, 2, 1]) {
  const retry = candidates.map((c, i) => ({ c, i })).filter(({ i }) => !decoded(first[i]));
  const again = decode(retry.map(({ c }) => ({ pen: c.pen, id: c.id, length })));
  retry.forEach(({ i }, k) => { if (decoded(again[k])) first[i] = { ...again[k], size: again[k].size === length ? 4 : again[k].size }; });
}
const timeProbes = candidates.map((c, i) => ({ c, i })).filter(({ i }) => fields.get(first[i].field ?? '')?.ft === 'FT_ABSOLUTE_TIME');
const eight = decode(timeProbes.map(({ c }) => ({ pen: c.pen, id: c.id, length: 8 })));
const show8 = new Map(timeProbes.map(({ i }, k) => [i, eight[k].show]));

const rows: string[] = [];
const skipped: string[] = [];
// ntop's and fastip's IPFIX elements by tshark name, for their v9 types (ntop 57472 + id, fastip 33610 + id): one
// field whichever protocol carries it.
const byTsharkName = new Map<string, { name: string; type: string }>();
const V9_OF: Record<number, [number, number]> = { 35632: [57472, 65535], 33610: [33610, 33700] };
candidates.forEach((c, i) => {
  const key = `${c.pen}/${c.id}`;
  const got = first[i];
  const table = TABLES.find((t) => t.pen === c.pen)?.table;
  if (table && got.table !== `cflow.template_${table}`) throw new Error(`${key}: tshark names it from ${got.table}`);
  const field = decoded(got) ? got.field : undefined;
  if (c.tsharkName === undefined && !field) return; // untabled enterprise: nothing at this id
  const f = field ? fields.get(field)! : undefined;
  let type: string = f ? FT_TO_ABSTRACT[f.ft] : 'octetArray';
  let how = f ? `${field} ${f.ft}` : 'named in its table; tshark decodes it as hex, so octetArray';
  if (f?.ft === 'FT_ABSOLUTE_TIME') {
    type = timeType(got.show, show8.get(i)) ?? 'octetArray';
    how += ` (4 octets shown as ${got.show}; 8 as ${show8.get(i)})`;
  } else if (f?.ft === 'FT_RELATIVE_TIME') {
    // A duration: read as the integer it is on the wire; the unit is what tshark shows for 01 02 03 04.
    type = 'unsigned64';
    how += ` (a duration: 01 02 03 04 shown as ${got.show})`;
  } else if (f && got.size! < 4) {
    // tshark reads a part (a length octet) and then the rest: kept whole.
    type = 'octetArray';
    how += ` read as ${got.size} octet(s) and more: octetArray`;
  } else if (f && !type) {
    type = 'octetArray';
    how += ' (no abstract type for it: octetArray)';
  }
  const vendorWord = c.tsharkName ?? (/\(([A-Za-z][\w]*)\)\s*$/.exec(f!.blurb)?.[1] ?? f!.display);
  let name = c.tsharkName === undefined && /^[a-z]+[A-Z]/.test(vendorWord) ? vendorWord : camel(vendorWord, c.prefix);
  const range = typeof c.pen === 'number' ? V9_OF[c.pen] : undefined;
  if (range && c.tsharkName) byTsharkName.set(`${range[0]}/${c.tsharkName}`, { name, type });
  if (c.pen === 'v9') {
    const base = Object.values(V9_OF).find(([lo, hi]) => c.id >= lo && c.id <= hi)?.[0];
    const same = byTsharkName.get(`${base}/${c.tsharkName}`);
    if (same) {
      if (same.type !== type) how = `${f ? how : 'named in its table; tshark decodes it as hex'}; type of the IPFIX element of that name`;
      ({ name, type } = same);
    }
  }
  if (codec.has(key)) { skipped.push(`${key},${name},${type}`); return; }
  rows.push(`${c.pen},${c.id},${name},${type},tshark ${version}: ${c.tsharkName ? `"${c.tsharkName}"; ` : ''}${how}`.replace(/,(?=[^,]*$)/, ','));
});
const clean = (s: string) => s.replace(/"/g, '');
const header = [
  `# Enterprise IPFIX elements and NetFlow v9 vendor field types that Wireshark's tshark ${version} names but neither IANA's`,
  '# registry nor the Logstash codec\'s definition files define. Derived by scripts/derive-tshark-elements.ts from what',
  '# the installed tshark reports about itself only (`tshark -G values` for the names, `tshark -G fields` for the FT_',
  '# types, and tshark\'s own decoding of a hand-built message per element for which field it is); Wireshark\'s source',
  '# (GPL) was not read or copied. pen is the enterprise number, or v9 for a NetFlow v9 field type. Names are the vendor\'s',
  '# as tshark names them, camelCased, with the vendor as prefix as the codec\'s names have; ntop\'s v9 types (57472 + id)',
  '# take the name of its IPFIX element. Merged by scripts/import-element-tables.ts, which never lets these override',
  '# IANA or the codec. No commas in a cell.',
  'pen,id,name,type,source',
];
writeFileSync(OUT, `${[...header, ...rows.map((r) => { const c = r.split(','); return [...c.slice(0, 4), clean(c.slice(4).join(';'))].join(','); })].join('\n')}\n`);
console.log(`${rows.length} rows; ${skipped.length} the codec already has (theirs kept; tshark's name and type):\n${skipped.join('\n')}`);
