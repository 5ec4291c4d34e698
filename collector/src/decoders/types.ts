import type { DecoderSession, ExporterSessionKey, PendingSet, TemplateLimitName } from '../session/template-session.js';
import type { CompiledTemplate, DecodedRecord, MessageHeader, RecordLayout, TemplateDefinition } from './template.js';
import { RecordOverrun, templateProblem } from './template.js';
import type { RecordScratch } from './values.js';

/** One decoded flow record and what the document builder needs from its message. */
export interface FlowRecord {
  readonly fields: DecodedRecord;
  /** The keys `fields` has (those of its template). */
  readonly layout: RecordLayout;
  readonly version: number;
  /** Export time from the message header, in milliseconds. */
  readonly exportTimeMs: number;
  /**
   * Where the record sits in what the exporter sent: its message (domain, sequence, export time), the offset of
   * its set in that message and its index in the set. Identifies the record, for deduplication downstream.
   */
  readonly domain: number;
  readonly sequence: number;
  readonly setOffset: number;
  readonly index: number;
  /** Where its texts' intern slots are noted (values.textAt): a hint for the record writer. */
  readonly textSlots: number;
}

/** Things a decoder did or met that are not records; the pipeline turns each into a log line and a metric. */
export type DecoderNotice =
  | { kind: 'template_learned'; domain: number; templateId: number }
  | { kind: 'template_withdrawn'; domain: number; templateId: number | 'data' | 'options'; count: number }
  | { kind: 'template_invalid'; domain: number; templateId: number; reason: string }
  | { kind: 'template_refused'; domain: number; templateId: number; limit: TemplateLimitName; reason: string }
  | { kind: 'set_held'; domain: number; templateId: number }
  | { kind: 'pending_evicted'; sets: PendingSet[] }
  | { kind: 'pending_set_malformed'; domain: number; templateId: number; reason: string }
  | { kind: 'set_reserved'; domain: number; setId: number }
  /** A v5 header announcing another number of records than the packet holds: the complete ones were decoded. */
  | { kind: 'record_count_mismatch'; domain: number; announced: number; decoded: number };

/** Sequence number of a message, for loss accounting (records for IPFIX and v5, packets for v9). */
export interface SequenceReport {
  readonly domain: number;
  readonly sequence: number;
  /** How far the next message's sequence should advance; undefined when unknown (data held for a template). */
  readonly advance: number | undefined;
}

export interface DecodeResult {
  records: FlowRecord[];
  notices: DecoderNotice[];
  /** Time fields left out (value out of range). */
  badFields: number;
  /** Fields kept as hex because their length did not fit their type. */
  misfits: number;
  /** Texts left out because they had to be a JSON object and were not. */
  notJsonObjects: number;
  sequence?: SequenceReport;
}

/** Why a packet was dropped. Every kind is a label of the decode-errors metric. */
export type FlowErrorKind =
  | 'unknown_version'
  | 'truncated_header'
  | 'bad_length'
  | 'bad_set_length'
  | 'bad_template'
  | 'record_overrun'
  | 'bad_record_count'
  /** A decoder threw something other than a FlowError: a bug, counted apart so that it shows (the fuzz test asserts zero). */
  | 'internal_error';

/** A malformed packet: it is dropped whole and counted, carrying what identifies its origin (goflow2's FlowError). */
export class FlowError extends Error {
  constructor(
    readonly kind: FlowErrorKind,
    readonly exporter: string,
    readonly version: number | undefined,
    message: string,
    readonly domain?: number,
    readonly templateId?: number,
  ) {
    super(message);
  }
}

/**
 * A protocol decoder: bytes, the exporter they came from and a session in, records out.
 * Pure: no sockets, no clock (the receive time is given), no knowledge of where records go.
 */
export interface Decoder {
  readonly version: number;
  decode(message: Buffer, exporter: ExporterSessionKey, session: DecoderSession, receivedAtMs: number): DecodeResult;
}

/** Makes the FlowErrors of one message: its exporter and version filled in. */
export function errorsFor(exporter: ExporterSessionKey, version: number) {
  return (kind: FlowErrorKind, text: string, domain?: number, templateId?: number) => new FlowError(kind, exporter.key, version, text, domain, templateId);
}

export function newScratch(): RecordScratch {
  return { pos: 0, end: 0, badFields: 0, misfits: 0, notJsonObjects: 0, textSlots: 0 };
}

/**
 * A template record: checked, then kept by the session unless it passes the session's limits. Returns whether it
 * was learned; either way a notice says what happened.
 */
export function learnTemplate(
  session: DecoderSession, exporter: ExporterSessionKey, domain: number, definition: TemplateDefinition, receivedAtMs: number, result: DecodeResult,
): boolean {
  const { templateId } = definition;
  const problem = templateProblem(definition);
  if (problem) {
    result.notices.push({ kind: 'template_invalid', domain, templateId, reason: problem });
    return false;
  }
  const learned = session.learn(exporter, domain, definition, receivedAtMs);
  if ('refused' in learned) {
    result.notices.push({ kind: 'template_refused', domain, templateId, limit: learned.refused, reason: learned.reason });
    return false;
  }
  result.notices.push({ kind: 'template_learned', domain, templateId });
  return true;
}

/**
 * A data set: decoded with its template, or held until the template arrives. Returns the records it decoded,
 * or undefined when it was held (so the message's record count is unknown). A record running past the set
 * throws the FlowError that drops the packet.
 */
export function handleDataSet(
  b: Buffer, setId: number, bodyStart: number, end: number, header: MessageHeader, domain: number,
  exporter: ExporterSessionKey, session: DecoderSession, receivedAtMs: number, scratch: RecordScratch, result: DecodeResult,
): number | undefined {
  const template = session.template(exporter, domain, setId);
  if (!template) {
    const body = Buffer.from(b.subarray(bodyStart, end));
    const evicted = session.hold(exporter, domain, { templateId: setId, body, header, receivedAtMs, setOffset: bodyStart });
    result.notices.push({ kind: 'set_held', domain, templateId: setId });
    if (evicted.length > 0) result.notices.push({ kind: 'pending_evicted', sets: evicted });
    return undefined;
  }
  const before = result.records.length;
  try {
    decodeRecords(template, b, bodyStart, end, header, scratch, result.records);
  } catch (error) {
    if (error instanceof RecordOverrun) {
      throw new FlowError('record_overrun', exporter.key, header.version, `a record of template ${setId} runs past its set`, domain, setId);
    }
    throw error;
  }
  return result.records.length - before;
}

/** Decodes every record of a data set body [start, end); what is left shorter than a record is padding. */
export function decodeRecords(
  template: CompiledTemplate,
  b: Buffer,
  start: number,
  end: number,
  header: MessageHeader,
  scratch: RecordScratch,
  out: FlowRecord[],
  setOffset = start,
): void {
  const exportTimeMs = header.exportTimeSecs * 1000 + Math.floor(header.unixNsecs / 1e6);
  scratch.pos = start;
  scratch.end = end;
  const min = template.minRecordLength;
  let index = 0;
  while (end - scratch.pos >= min) {
    const before = scratch.pos;
    const fields = template.decode(b, scratch, header);
    out.push({
      fields, layout: template.layout, version: header.version, exportTimeMs,
      domain: header.domain, sequence: header.sequence, setOffset, index: index++, textSlots: scratch.textSlots,
    });
    if (scratch.pos === before) break;
  }
}

/**
 * Decodes the sets held for templates a template set just brought, in arrival order; a malformed one is
 * reported and does not stop the others.
 */
export function decodeReleased(
  session: DecoderSession,
  exporter: ExporterSessionKey,
  domain: number,
  learned: ReadonlySet<number>,
  result: DecodeResult,
): void {
  if (learned.size === 0) return;
  const scratch = newScratch();
  for (const set of session.release(exporter, domain, learned)) {
    const template = session.template(exporter, domain, set.templateId)!;
    const records: FlowRecord[] = [];
    try {
      decodeRecords(template, set.body, 0, set.body.length, set.header, scratch, records, set.setOffset);
      result.records.push(...records);
    } catch (error) {
      if (!(error instanceof RecordOverrun)) throw error;
      result.notices.push({ kind: 'pending_set_malformed', domain, templateId: set.templateId, reason: 'record overruns its set' });
    }
  }
  addFieldFaults(result, scratch);
}

/** Moves what a scratch counted of skipped fields into a result: the scratch counts from zero again. */
export function addFieldFaults(result: DecodeResult, scratch: RecordScratch): void {
  result.badFields += scratch.badFields;
  result.misfits += scratch.misfits;
  result.notJsonObjects += scratch.notJsonObjects;
  scratch.badFields = 0;
  scratch.misfits = 0;
  scratch.notJsonObjects = 0;
}

export function emptyResult(): DecodeResult {
  return { records: [], notices: [], badFields: 0, misfits: 0, notJsonObjects: 0 };
}
