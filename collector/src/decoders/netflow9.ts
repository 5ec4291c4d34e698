import type { DecoderSession, ExporterSessionKey } from '../session/template-session.js';
import { addFieldFaults, decodeReleased, emptyResult, errorsFor, handleDataSet, learnTemplate, newScratch, type Decoder, type DecodeResult, type FlowError } from './types.js';
import { type FieldSpecifier, type MessageHeader } from './template.js';

const HEADER_LENGTH = 20;
const TEMPLATE_FLOWSET = 0;
const OPTIONS_TEMPLATE_FLOWSET = 1;

/** NetFlow version 9 (RFC 3954). Template state is keyed by exporter session and source id. */
export const netflow9Decoder: Decoder = {
  version: 9,
  decode(message: Buffer, exporter: ExporterSessionKey, session: DecoderSession, receivedAtMs: number): DecodeResult {
    const fail = errorsFor(exporter, 9);
    if (message.length < HEADER_LENGTH) throw fail('truncated_header', `message of ${message.length} octets is shorter than the v9 header`);
    const domain = message.readUInt32BE(16);
    const header: MessageHeader = {
      version: 9,
      domain,
      uptimeMs: message.readUInt32BE(4),
      exportTimeSecs: message.readUInt32BE(8),
      sequence: message.readUInt32BE(12),
      unixNsecs: 0,
    };
    const result = emptyResult();
    const scratch = newScratch();
    const length = message.length;
    let offset = HEADER_LENGTH;
    // Fewer than 4 octets after the last flowset are padding (and so is a run of zeros).
    while (offset + 4 <= length) {
      const flowsetId = message.readUInt16BE(offset);
      const flowsetLength = message.readUInt16BE(offset + 2);
      if (flowsetId === 0 && flowsetLength === 0 && message.subarray(offset).every((x) => x === 0)) break;
      if (flowsetLength < 4 || offset + flowsetLength > length) {
        throw fail('bad_set_length', `flowset ${flowsetId} at offset ${offset} has length ${flowsetLength}, ${length - offset} octets left`, domain);
      }
      const bodyStart = offset + 4;
      const end = offset + flowsetLength;
      if (flowsetId === TEMPLATE_FLOWSET || flowsetId === OPTIONS_TEMPLATE_FLOWSET) {
        const definitions = flowsetId === TEMPLATE_FLOWSET
          ? readTemplates(message, bodyStart, end, domain, fail)
          : readOptionsTemplates(message, bodyStart, end, domain, fail);
        const learned = new Set<number>();
        for (const definition of definitions) {
          if (learnTemplate(session, exporter, domain, definition, receivedAtMs, result)) learned.add(definition.templateId);
        }
        decodeReleased(session, exporter, domain, learned, result);
      } else if (flowsetId >= 256) {
        handleDataSet(message, flowsetId, bodyStart, end, header, domain, exporter, session, receivedAtMs, scratch, result);
      } else {
        result.notices.push({ kind: 'set_reserved', domain, setId: flowsetId });
      }
      offset = end;
    }
    addFieldFaults(result, scratch);
    // v9 sequence numbers count export packets, whatever they hold.
    result.sequence = { domain, sequence: header.sequence, advance: 1 };
    return result;
  },
};

type Fail = (kind: 'bad_template', text: string, domain?: number, templateId?: number) => FlowError;

function readFields(b: Buffer, p: number, count: number, end: number, scope: boolean, templateId: number, domain: number, fail: Fail) {
  const fields: FieldSpecifier[] = [];
  for (let i = 0; i < count; i++, p += 4) {
    if (p + 4 > end) throw fail('bad_template', `template ${templateId} is truncated at field ${i + 1} of ${count}`, domain, templateId);
    fields.push({ enterprise: 0, id: b.readUInt16BE(p), length: b.readUInt16BE(p + 2), ...(scope ? { scope: true } : {}) });
  }
  return fields;
}

function readTemplates(b: Buffer, p: number, end: number, domain: number, fail: Fail) {
  const definitions = [];
  while (end - p >= 4) {
    const templateId = b.readUInt16BE(p);
    const fieldCount = b.readUInt16BE(p + 2);
    if (templateId === 0 && fieldCount === 0) break; // padding
    p += 4;
    const fields = readFields(b, p, fieldCount, end, false, templateId, domain, fail);
    p += fieldCount * 4;
    definitions.push({ version: 9 as const, templateId, fields, scopeFieldCount: 0 });
  }
  return definitions;
}

function readOptionsTemplates(b: Buffer, p: number, end: number, domain: number, fail: Fail) {
  const start = p;
  const definitions = [];
  while (end - p >= 6) {
    const templateId = b.readUInt16BE(p);
    const scopeLength = b.readUInt16BE(p + 2);
    const optionLength = b.readUInt16BE(p + 4);
    if (templateId === 0) break; // padding
    if (scopeLength % 4 !== 0 || optionLength % 4 !== 0) {
      throw fail('bad_template', `options template ${templateId} has scope length ${scopeLength}, option length ${optionLength}`, domain, templateId);
    }
    p += 6;
    const scope = readFields(b, p, scopeLength / 4, end, true, templateId, domain, fail);
    p += scopeLength;
    const options = readFields(b, p, optionLength / 4, end, false, templateId, domain, fail);
    p += optionLength;
    definitions.push({ version: 9 as const, templateId, fields: [...scope, ...options], scopeFieldCount: scope.length });
    // RFC 3954 pads each options template record to a 4-octet boundary.
    p += (4 - ((p - start) % 4)) % 4;
  }
  return definitions;
}
