import type { DecoderSession, ExporterSessionKey } from '../session/template-session.js';
import { addFieldFaults, decodeReleased, emptyResult, errorsFor, handleDataSet, learnTemplate, newScratch, type Decoder, type DecodeResult, type FlowError } from './types.js';
import { type FieldSpecifier, type MessageHeader, type TemplateDefinition } from './template.js';

const HEADER_LENGTH = 16;
const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;

/** IPFIX (RFC 7011), NetFlow version 10. */
export const ipfixDecoder: Decoder = {
  version: 10,
  decode(message: Buffer, exporter: ExporterSessionKey, session: DecoderSession, receivedAtMs: number): DecodeResult {
    const fail = errorsFor(exporter, 10);
    if (message.length < HEADER_LENGTH) throw fail('truncated_header', `message of ${message.length} octets is shorter than the IPFIX header`);
    const length = message.readUInt16BE(2);
    if (length < HEADER_LENGTH || length > message.length) {
      throw fail('bad_length', `message length ${length} does not fit the ${message.length} octets received`);
    }
    const domain = message.readUInt32BE(12);
    const header: MessageHeader = {
      version: 10,
      domain,
      exportTimeSecs: message.readUInt32BE(4),
      sequence: message.readUInt32BE(8),
      uptimeMs: 0,
      unixNsecs: 0,
    };
    const result = emptyResult();
    const scratch = newScratch();
    let unknownRecordCount = false;
    let ownRecords = 0;
    let offset = HEADER_LENGTH;
    while (offset + 4 <= length) {
      const setId = message.readUInt16BE(offset);
      const setLength = message.readUInt16BE(offset + 2);
      // Some exporters pad the message with zeros after the last set.
      if (setId === 0 && setLength === 0 && message.subarray(offset, length).every((x) => x === 0)) break;
      if (setLength < 4 || offset + setLength > length) {
        throw fail('bad_set_length', `set ${setId} at offset ${offset} has length ${setLength}, ${length - offset} octets left`, domain);
      }
      const bodyStart = offset + 4;
      const setEnd = offset + setLength;
      if (setId === TEMPLATE_SET || setId === OPTIONS_TEMPLATE_SET) {
        readTemplates(message, bodyStart, setEnd, setId === OPTIONS_TEMPLATE_SET, domain, exporter, session, receivedAtMs, result, fail);
      } else if (setId >= 256) {
        const decoded = handleDataSet(message, setId, bodyStart, setEnd, header, domain, exporter, session, receivedAtMs, scratch, result);
        if (decoded === undefined) unknownRecordCount = true;
        else ownRecords += decoded;
      } else {
        result.notices.push({ kind: 'set_reserved', domain, setId });
      }
      offset = setEnd;
    }
    addFieldFaults(result, scratch);
    // IPFIX sequence numbers count data records; records held for a template leave the count unknown.
    result.sequence = { domain, sequence: header.sequence, advance: unknownRecordCount ? undefined : ownRecords };
    return result;
  },
};

function readTemplates(
  b: Buffer,
  start: number,
  end: number,
  options: boolean,
  domain: number,
  exporter: ExporterSessionKey,
  session: DecoderSession,
  receivedAtMs: number,
  result: DecodeResult,
  fail: (kind: 'bad_template', text: string, domain?: number, templateId?: number) => FlowError,
): void {
  let p = start;
  const learned = new Set<number>();
  // A template record is at least 4 octets; fewer left is set padding.
  while (end - p >= 4) {
    const templateId = b.readUInt16BE(p);
    const fieldCount = b.readUInt16BE(p + 2);
    if (templateId === 0 && fieldCount === 0) break; // zero padding to the end of the set
    p += 4;
    if (fieldCount === 0) {
      // RFC 7011 §8.1: withdrawal; id 2 (or 3) withdraws every data (or options) template of the domain.
      const which = templateId === TEMPLATE_SET ? 'data' : templateId === OPTIONS_TEMPLATE_SET ? 'options' : templateId;
      const count = session.withdraw(exporter, domain, which);
      result.notices.push({ kind: 'template_withdrawn', domain, templateId: which, count });
      continue;
    }
    let scopeFieldCount = 0;
    if (options) {
      if (p + 2 > end) throw fail('bad_template', `options template ${templateId} is truncated`, domain, templateId);
      scopeFieldCount = b.readUInt16BE(p);
      p += 2;
      if (scopeFieldCount === 0 || scopeFieldCount > fieldCount) {
        throw fail('bad_template', `options template ${templateId} has scope field count ${scopeFieldCount} of ${fieldCount}`, domain, templateId);
      }
    }
    const fields: FieldSpecifier[] = [];
    for (let i = 0; i < fieldCount; i++) {
      if (p + 4 > end) throw fail('bad_template', `template ${templateId} is truncated at field ${i + 1} of ${fieldCount}`, domain, templateId);
      const rawId = b.readUInt16BE(p);
      const fieldLength = b.readUInt16BE(p + 2);
      p += 4;
      let enterprise = 0;
      if (rawId & 0x8000) {
        if (p + 4 > end) throw fail('bad_template', `template ${templateId} is truncated in an enterprise number`, domain, templateId);
        enterprise = b.readUInt32BE(p);
        p += 4;
      }
      fields.push({ enterprise, id: rawId & 0x7fff, length: fieldLength });
    }
    const definition: TemplateDefinition = { version: 10, templateId, fields, scopeFieldCount };
    if (learnTemplate(session, exporter, domain, definition, receivedAtMs, result)) learned.add(templateId);
  }
  decodeReleased(session, exporter, domain, learned, result);
}
