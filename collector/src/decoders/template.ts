import type { ElementRegistry } from '../ie/registry.js';
import { unknownElementName, type InformationElement, type ValueType } from '../ie/types.js';
import * as values from './values.js';
import type { RecordScratch } from './values.js';

/** IPFIX field length that announces a variable-length field (RFC 7011 §7). */
export const VARIABLE_LENGTH = 65535;

/** One field of a template as the exporter announced it. `scope` marks a NetFlow v9 options scope field. */
export interface FieldSpecifier {
  readonly enterprise: number;
  readonly id: number;
  readonly length: number;
  readonly scope?: boolean;
  /** Octets that carry nothing (NetFlow v5 padding). */
  readonly padding?: boolean;
}

/** A template exactly as received: what the session stores and persists. */
export interface TemplateDefinition {
  /** 5 marks the fixed NetFlow v5 record, decoded with the v9 names of its fields. */
  readonly version: 5 | 9 | 10;
  readonly templateId: number;
  readonly fields: readonly FieldSpecifier[];
  /** Options templates: how many leading fields are scope fields. */
  readonly scopeFieldCount: number;
}

/** Header values a record needs: they go into the document (version, sequence) or into time conversions. */
export interface MessageHeader {
  version: number;
  /** Observation domain (IPFIX), source id (v9), engine type and id (v5). */
  domain: number;
  sequence: number;
  exportTimeSecs: number;
  /** v5/v9 only: device uptime (ms) and the header's sub-second clock (ns, v5 only). */
  uptimeMs: number;
  unixNsecs: number;
  /** v5 only: the header fields the codec copies into every event. */
  engineType?: number;
  engineId?: number;
  samplingAlgorithm?: number;
  samplingInterval?: number;
  recordCount?: number;
}

export type DecodedRecord = Record<string, unknown>;

export type ValueKind = 'integer' | 'plain' | 'any';

/**
 * The keys every record of one compiled template has, in order (header fields, elements, reserved fields).
 * Later stages may compile their own per-layout code from it (the JSON serialiser does) and cache it by identity.
 */
export interface RecordLayout {
  readonly names: readonly string[];
  /**
   * Per name, what writers may assume of its value: `integer` is always a number or bigint (written with
   * String()), `plain` is a string needing no JSON escaping (addresses, times, hex) or undefined, `any` is
   * anything (text from the exporter, reserved fields enrichment sets, objects, floats).
   */
  readonly kinds: readonly ValueKind[];
  /**
   * Per name, which of the record's text slot entries (values.textAt) says where its text is interned, or -1;
   * absent: none has one.
   */
  readonly textEntries?: readonly number[];
  /** Reserved fields that often hold the very value of an earlier field (CompileOptions.fieldCopies). */
  readonly copies?: FieldCopies;
  /** Reserved fields that mostly hold one of a few texts (CompileOptions.fieldChoices). */
  readonly choices?: FieldChoices;
}

/** Fields a later stage mostly sets to one of a few texts, by name, with those texts: writers may pre-encode them. */
export type FieldChoices = Readonly<Record<string, readonly string[]>>;

/**
 * Fields a later stage often sets to the very value of earlier fields, by name, with the names of those fields:
 * writers may copy such a field's output from theirs (the record writer does, for enrichment's flow keys and addresses).
 */
export type FieldCopies = Readonly<Record<string, readonly string[]>>;

/** A template compiled once into a specialised function: no per-field lookups on the hot path. */
export interface CompiledTemplate {
  readonly definition: TemplateDefinition;
  readonly layout: RecordLayout;
  /** Smallest possible record: a set with fewer octets left holds only padding. */
  readonly minRecordLength: number;
  /** Decodes the record at scratch.pos (advancing it); throws RecordOverrun when the set ends inside the record. */
  readonly decode: (b: Buffer, scratch: RecordScratch, header: MessageHeader) => DecodedRecord;
}

/** Why a template cannot be used, or undefined when it can. */
export function templateProblem(definition: TemplateDefinition): string | undefined {
  if (definition.version !== 5 && definition.templateId < 256) return 'template ids below 256 are reserved';
  if (!definition.fields.some((f) => f.length > 0)) return 'every field has length 0, so records would be empty';
  return undefined;
}

/** The record runs past the end of its set: the packet is malformed. */
export class RecordOverrun extends Error {}

export interface CompileOptions {
  registry: ElementRegistry;
  /** Emit `flowset_id` for IPFIX too (the codec's include_flowset_id; v9 always has it). */
  includeFlowsetId: boolean;
  /**
   * Names a later stage will add to every record (enrichment), declared undefined in the record literal.
   * Performance: V8 turns an object that gains a dozen properties after creation into a slow dictionary, which
   * JSON.stringify then walks several times slower; declared up front, the record keeps one fast shape.
   */
  reservedFields?: readonly string[];
  /** Which reserved fields often copy which others (see FieldCopies); kept in every layout. */
  fieldCopies?: FieldCopies;
  /** Which reserved fields mostly hold which texts (see FieldChoices); kept in every layout. */
  fieldChoices?: FieldChoices;
  /** What some texts are read as (enrichment's rules for its template fields); none when left out. */
  textRules?: TextRules;
}

/**
 * Values enrichment gives template fields of text, applied as they are decoded: a record's template fields are then
 * final once decoded, and enrichment only fills the fields it reserved.
 */
export interface TextRules {
  /** Names whose empty text reads as the value given (values.emptyAs). */
  readonly emptyAs?: Readonly<Record<string, string>>;
  /** Names whose text is a JSON object, kept as JSON text or left out and counted (values.jsonObject). */
  readonly jsonObjects?: readonly string[];
}

const V9_SCOPE_NAMES: Record<number, string> = {
  1: 'scope_system', 2: 'scope_interface', 3: 'scope_line_card', 4: 'scope_netflow_cache', 5: 'scope_template',
};

// The codec's rule (flowStart*/flowEnd* by name), and Antrea's two per-Node flow end times, so that a Logstash
// definition file (which has no date type) still gives timestamps.
const IPFIX_TIME = /^flow(?:Start|End)(Seconds|Milliseconds|Microseconds|Nanoseconds)(?:From(?:Source|Destination)Node)?$/;

interface ResolvedField {
  name: string;
  type: ValueType | 'switched' | 'unknown';
  length: number;
}

function resolve(field: FieldSpecifier, definition: TemplateDefinition, registry: ElementRegistry): ResolvedField {
  if (field.padding) return { name: '', type: 'skip', length: field.length };
  if (field.scope) {
    return { name: V9_SCOPE_NAMES[field.id] ?? `scope_${field.id}`, type: 'unsigned64', length: field.length };
  }
  const element: InformationElement | undefined =
    definition.version === 10 ? registry.ipfixElement(field.enterprise, field.id) : registry.netflowElement(field.id);
  if (!element) {
    return { name: unknownElementName(field.enterprise, field.id), type: 'unknown', length: field.length };
  }
  let type: ResolvedField['type'] = element.type;
  if (definition.version !== 10 && element.name.endsWith('_switched')) type = 'switched';
  // Rendered as times by name, whatever type the definition file gives them.
  if (definition.version === 10 && !type.startsWith('dateTime')) {
    const time = IPFIX_TIME.exec(element.name);
    if (time) type = `dateTime${time[1]}` as ValueType;
  }
  return { name: element.name, type, length: field.length };
}

/**
 * Expression that reads a value of `type` from `length` octets at offset expression `at`, or undefined when
 * that length does not fit the type (a 12-octet counter, a 5-octet address).
 */
function readExpression(type: ResolvedField['type'], length: number, at: string, textEntry: string | undefined): string | undefined {
  const fixed = length !== VARIABLE_LENGTH;
  const n = fixed ? String(length) : 'n';
  switch (type) {
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'unsigned64':
      if (length === 1) return `b[${at}]`;
      if (length === 2) return `V.u16(b, ${at})`;
      if (length === 4) return `V.u32(b, ${at})`;
      if (length === 8) return values.u64Expression(at);
      if (fixed && length <= 8) return `V.uint(b, ${at}, ${length})`;
      break;
    case 'signed8': case 'signed16': case 'signed32': case 'signed64':
      if (length === 1) return `b.readInt8(${at})`;
      if (length === 2) return `b.readInt16BE(${at})`;
      if (length === 4) return `b.readInt32BE(${at})`;
      if (fixed && length <= 8) return `V.int(b, ${at}, ${length})`;
      break;
    case 'float32': case 'float64':
      if (length === 4) return `b.readFloatBE(${at})`;
      if (length === 8) return `b.readDoubleBE(${at})`;
      break;
    case 'boolean':
      if (length === 1) return `V.bool(b[${at}])`;
      break;
    case 'ipv4Address':
      if (length === 4) return `V.ip4(b, ${at})`;
      break;
    case 'ipv6Address':
      if (length === 16) return `V.ip6(b, ${at})`;
      break;
    case 'macAddress':
      if (length === 6) return `V.mac(b, ${at})`;
      break;
    case 'string':
      return textEntry === undefined ? `V.str(b, ${at}, ${n})` : `V.textAt(b, ${at}, ${n}, ${textEntry})`;
    case 'dateTimeSeconds':
      if (length >= 1 && length <= 6) return `V.isoMillis(b.readUIntBE(${at}, ${length}) * 1000, s)`;
      break;
    case 'dateTimeMilliseconds':
      if (length >= 1 && length <= 8) return `V.isoMillis(V.uint(b, ${at}, ${length}), s)`;
      break;
    case 'dateTimeMicroseconds': case 'dateTimeNanoseconds':
      if (length === 8) return `V.isoNtp(V.u32(b, ${at}), V.u32(b, ${at} + 4), s)`;
      break;
    case 'switched':
      if (length >= 1 && length <= 6) return `V.switched(b.readUIntBE(${at}, ${length}), h.uptimeMs, h.exportTimeSecs, h.unixNsecs, s)`;
      break;
    case 'forwardingStatus':
      if (length >= 1) return `V.forwardingStatus(b[${at}])`;
      break;
    case 'applicationId':
      return `V.applicationId(b, ${at}, ${n})`;
    case 'aclIdAsa':
      return `V.aclIdAsa(b, ${at}, ${n})`;
    case 'mplsLabelStackOctets':
      if (length >= 3 && fixed) return `V.mplsLabelStackOctets(b, ${at}, ${length})`;
      break;
    case 'octetArray': case 'unknown':
      return `V.hex(b, ${at}, ${n})`;
  }
  return undefined;
}

/**
 * How a field is decoded. Unknown elements are kept as hex under ie_<enterprise>_<id>. A known element whose
 * length does not fit its type is kept the same way (so the field keeps one type in Elasticsearch and nothing
 * is lost) and counted as a misfit each time it is decoded.
 */
function fieldReader(field: ResolvedField, element: FieldSpecifier, at: string, rules: TextRules | undefined, textEntry: string | undefined): { name: string; expression: string; misfit: boolean } {
  let expression = readExpression(field.type, field.length, at, textEntry);
  if (expression !== undefined && field.type === 'string' && rules) {
    const empty = rules.emptyAs?.[field.name];
    if (empty !== undefined) expression = `V.emptyAs(${expression}, ${JSON.stringify(empty)})`;
    else if (rules.jsonObjects?.includes(field.name)) expression = `V.jsonObject(${expression}, s)`;
  }
  if (expression !== undefined) return { name: field.name, expression, misfit: false };
  const n = field.length === VARIABLE_LENGTH ? 'n' : String(field.length);
  return { name: unknownElementName(element.enterprise, element.id), expression: `V.hex(b, ${at}, ${n})`, misfit: true };
}

// NetFlow v5/v9 uptime elements (IANA 22 flowStartSysUpTime, 21 flowEndSysUpTime) and the absolute IANA
// elements (152 flowStartMilliseconds, 153 flowEndMilliseconds) they are given as, beside the raw value.
const ABSOLUTE_UPTIMES: readonly [uptimeId: number, name: string][] = [[22, 'flowStartMilliseconds'], [21, 'flowEndMilliseconds']];

/**
 * v5/v9 records get absolute start and end times from their uptime elements and the header, unless the template
 * carries those absolute elements itself or the uptime elements are read as the codec's `*_switched` times.
 */
function addAbsoluteUptimes(
  definition: TemplateDefinition,
  fields: readonly ResolvedField[],
  valueNames: Map<string, string[]>,
  note: (name: string, expression: string) => void,
  lines: string[],
): void {
  if (definition.version === 10) return;
  for (const [uptimeId, name] of ABSOLUTE_UPTIMES) {
    if (valueNames.has(name)) continue;
    const index = definition.fields.findIndex((f, i) =>
      f.id === uptimeId && !f.scope && !f.padding && fields[i].type.startsWith('unsigned') && f.length >= 1 && f.length <= 4 && f.length !== VARIABLE_LENGTH);
    if (index < 0 || !valueNames.get(fields[index].name)?.includes(`v${index}`)) continue;
    const expression = `V.uptimeMillis(v${index}, h.uptimeMs, h.exportTimeSecs, h.unixNsecs, s)`;
    note(name, expression);
    lines.push(`const a${uptimeId} = ${expression};`);
    valueNames.set(name, [`a${uptimeId}`]);
  }
}

function headerFields(definition: TemplateDefinition, options: CompileOptions): string[] {
  const fsid = JSON.stringify(definition.templateId);
  if (definition.version === 5) {
    return [
      'version: h.version', 'flow_seq_num: h.sequence', 'engine_type: h.engineType', 'engine_id: h.engineId',
      'sampling_algorithm: h.samplingAlgorithm', 'sampling_interval: h.samplingInterval', 'flow_records: h.recordCount',
    ];
  }
  if (definition.version === 9) return ['version: h.version', 'flow_seq_num: h.sequence', `flowset_id: ${fsid}`];
  return options.includeFlowsetId ? ['version: h.version', `flowset_id: ${fsid}`] : ['version: h.version'];
}

/**
 * Compiles a template into a function that decodes one record into the codec's event shape.
 * Fixed-length templates check bounds once per record; variable-length fields check their own length.
 */
export function compileTemplate(definition: TemplateDefinition, options: CompileOptions): CompiledTemplate {
  const fields = definition.fields.map((f) => resolve(f, definition, options.registry));
  const lines: string[] = [];
  const valueNames = new Map<string, string[]>();
  const kinds = new Map<string, ValueKind>();
  const note = (name: string, expression: string) => {
    const kind: ValueKind = /^(b\[[^\]]+\]|b\.readInt(8|16BE|32BE)\(|V\.(u16|u32|u64|uint|int)\(|\(b\[[^\]]+\] === 0 && )/.test(expression)
      ? 'integer'
      : /^V\.(ip4|ip6|mac|hex|isoMillis|isoNtp|switched|uptimeMillis|aclIdAsa)\(/.test(expression) ? 'plain' : 'any';
    // A repeated element (an array) or one name read two ways is anything.
    kinds.set(name, kinds.has(name) ? 'any' : kind);
  };
  // Each text field's entry among the record's text slots (values.textAt), by the name it is decoded as.
  const textEntries = new Map<string, number>();
  let texts = 0;
  const textEntry = (field: ResolvedField): string | undefined => {
    if (field.type !== 'string' || texts >= values.MAX_RECORD_TEXTS) return undefined;
    textEntries.set(field.name, texts);
    return `t + ${texts++}`;
  };
  let fixedOffset = 0;
  let variable = false;
  let minRecordLength = 0;
  const allFixed = fields.every((f) => f.length !== VARIABLE_LENGTH);
  if (allFixed) {
    const total = fields.reduce((sum, f) => sum + f.length, 0);
    lines.push(`const p = s.pos; if (p + ${total} > s.end) throw new Overrun();`);
  } else {
    lines.push('let p = s.pos; let n = 0;');
  }
  fields.forEach((field, index) => {
    const at = variable ? 'p' : `p + ${fixedOffset}`;
    if (field.length === VARIABLE_LENGTH) {
      minRecordLength += 1;
      if (!variable) {
        lines.push(`p += ${fixedOffset};`);
        variable = true;
      }
      lines.push(
        'if (p + 1 > s.end) throw new Overrun();',
        'n = b[p++];',
        'if (n === 255) { if (p + 2 > s.end) throw new Overrun(); n = b.readUInt16BE(p); p += 2; }',
        'if (p + n > s.end) throw new Overrun();',
      );
      if (field.type !== 'skip') {
        const reader = fieldReader(field, definition.fields[index], 'p', options.textRules, textEntry(field));
        note(reader.name, reader.expression);
        lines.push(`const v${index} = ${reader.expression};`);
        if (reader.misfit) lines.push('s.misfits++;');
        valueNames.set(reader.name, [...(valueNames.get(reader.name) ?? []), `v${index}`]);
      }
      lines.push('p += n;');
      return;
    }
    minRecordLength += field.length;
    if (variable) {
      lines.push(`if (p + ${field.length} > s.end) throw new Overrun();`);
    }
    // Zero-length fields (v9 templates have them) carry no value; skip fields only take space.
    if (field.length > 0 && field.type !== 'skip') {
      const reader = fieldReader(field, definition.fields[index], at, options.textRules, textEntry(field));
      note(reader.name, reader.expression);
      lines.push(`const v${index} = ${reader.expression};`);
      if (reader.misfit) lines.push('s.misfits++;');
      valueNames.set(reader.name, [...(valueNames.get(reader.name) ?? []), `v${index}`]);
    }
    if (variable) lines.push(`p += ${field.length};`);
    else fixedOffset += field.length;
  });
  lines.push(variable ? 's.pos = p;' : `s.pos = p + ${fixedOffset};`);
  addAbsoluteUptimes(definition, fields, valueNames, note, lines);
  // An object literal gives every record of a template the same hidden class, which JSON.stringify is fastest on.
  // The same element repeated in one template keeps every value, in order, as an array.
  const properties = [...headerFields(definition, options)];
  for (const [name, vars] of valueNames) {
    properties.push(`${JSON.stringify(name)}: ${vars.length === 1 ? vars[0] : `[${vars.join(', ')}]`}`);
  }
  const headerNames = headerFields(definition, options).map((p) => p.slice(0, p.indexOf(':')));
  const names = [...headerNames, ...valueNames.keys()];
  const layoutKinds: ValueKind[] = [...headerNames.map((): ValueKind => 'integer'), ...[...valueNames.keys()].map((name) => kinds.get(name)!)];
  for (const name of options.reservedFields ?? []) {
    if (valueNames.has(name)) continue;
    properties.push(`${JSON.stringify(name)}: undefined`);
    names.push(name);
    layoutKinds.push('any');
  }
  lines.unshift(texts > 0 ? `const t = s.textSlots = V.claimTextSlots(${texts});` : `s.textSlots = ${values.NO_TEXT_SLOTS};`);
  lines.push(`return { ${properties.join(', ')} };`);
  const factory = new Function('V', 'Overrun', `return function decodeRecord(b, s, h) {\n${lines.join('\n')}\n};`);
  return {
    definition,
    layout: {
      names, kinds: layoutKinds,
      // A name repeated in the template holds an array, no text.
      textEntries: texts > 0 ? names.map((name) => valueNames.get(name)?.length === 1 ? textEntries.get(name) ?? -1 : -1) : undefined,
      copies: options.fieldCopies,
      choices: options.fieldChoices,
    },
    minRecordLength,
    decode: factory(values, RecordOverrun) as CompiledTemplate['decode'],
  };
}
