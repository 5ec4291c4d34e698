// One-off import, kept for provenance: builds collector/data/ie/iana.csv from the IANA part (enterprise 0)
// of the Logstash netflow codec's ipfix.yaml (Apache-2.0), the only copy of the IANA registry among the
// data files this project may use. Logstash types are mapped to IANA abstract types; the eight
// flowStart/flowEnd time elements get their dateTime types, as the codec renders them as timestamps.
// Run: node --import tsx scripts/import-iana-from-logstash.ts ../shared/fixtures/logstash-codec-netflow/definitions/ipfix.yaml
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const LOGSTASH_TO_ABSTRACT: Record<string, string> = {
  uint8: 'unsigned8', uint16: 'unsigned16', uint24: 'unsigned32', uint32: 'unsigned32', uint64: 'unsigned64',
  int8: 'signed8', int16: 'signed16', int32: 'signed32', int64: 'signed64',
  float: 'float32', double: 'float64', ip4_addr: 'ipv4Address', ip6_addr: 'ipv6Address',
  mac_addr: 'macAddress', string: 'string', octetarray: 'octetArray',
};
const TIME_TYPES: Record<string, string> = {
  Seconds: 'dateTimeSeconds', Milliseconds: 'dateTimeMilliseconds',
  Microseconds: 'dateTimeMicroseconds', Nanoseconds: 'dateTimeNanoseconds',
};

// The codec skips these four; we name them (RFC 7011 paddingOctets, RFC 6313 structured data) and skip them too.
const SKIPPED_NAMES: Record<string, string> = {
  210: 'paddingOctets', 291: 'basicList', 292: 'subTemplateList', 293: 'subTemplateMultiList',
};

const source = process.argv[2];
if (!source) throw new Error('usage: import-iana-from-logstash.ts PATH/TO/ipfix.yaml');
const definitions = parse(readFileSync(source, 'utf8'), { uniqueKeys: false }) as Record<number, Record<number, [string, string?]>>;
const lines = [
  '# IANA IPFIX information elements (enterprise 0). Imported from the Logstash netflow codec ipfix.yaml',
  '# (Apache-2.0) by scripts/import-iana-from-logstash.ts; see that script for the type mapping.',
  'enterprise,id,name,type',
];
for (const [idText, entry] of Object.entries(definitions[0])) {
  const [rawType, rawName] = entry;
  const type = String(rawType).replace(/^:/, '');
  const name = rawName === undefined ? undefined : String(rawName).replace(/^:/, '');
  if (type === 'skip') {
    if (SKIPPED_NAMES[idText]) lines.push(`0,${idText},${SKIPPED_NAMES[idText]},skip`);
    continue;
  }
  if (name === undefined) continue;
  const time = /^flow(?:Start|End)(Seconds|Milliseconds|Microseconds|Nanoseconds)$/.exec(name);
  const abstract = time ? TIME_TYPES[time[1]] : LOGSTASH_TO_ABSTRACT[type];
  if (!abstract) throw new Error(`no abstract type for Logstash type ${type} (id ${idText})`);
  lines.push(`0,${idText},${name},${abstract}`);
}
writeFileSync(new URL('../collector/data/ie/iana.csv', import.meta.url), lines.join('\n') + '\n');
console.log(`wrote ${lines.length - 3} elements`);
