import type { DecoderSession, ExporterSessionKey } from '../session/template-session.js';
import { compileTemplate, type CompiledTemplate, type CompileOptions, type FieldSpecifier, type MessageHeader } from './template.js';
import { addFieldFaults, decodeRecords, emptyResult, FlowError, newScratch, type Decoder, type DecodeResult } from './types.js';

const HEADER_LENGTH = 24;
const RECORD_LENGTH = 48;
const MAX_RECORDS = 30;

// The fixed v5 record as NetFlow v9 field types, so it is named like v9 (IANA names, or Logstash's with netflow.yaml).
const field = (id: number, length: number): FieldSpecifier => ({ enterprise: 0, id, length });
const pad = (length: number): FieldSpecifier => ({ enterprise: 0, id: 0, length, padding: true });
const V5_RECORD: FieldSpecifier[] = [
  field(8, 4), field(12, 4), field(15, 4), field(10, 2), field(14, 2), field(2, 4), field(1, 4), field(22, 4), field(21, 4),
  field(7, 2), field(11, 2), pad(1), field(6, 1), field(4, 1), field(5, 1), field(16, 2), field(17, 2), field(9, 1),
  field(13, 1), pad(2),
];

/** NetFlow version 5: a fixed record layout, compiled once with the same options as any template. */
export function createNetflow5Decoder(options: CompileOptions): Decoder {
  const template: CompiledTemplate = compileTemplate({ version: 5, templateId: 0, fields: V5_RECORD, scopeFieldCount: 0 }, options);
  return {
    version: 5,
    decode(message: Buffer, exporter: ExporterSessionKey, _session: DecoderSession, _receivedAtMs: number): DecodeResult {
      if (message.length < HEADER_LENGTH) {
        throw new FlowError('truncated_header', exporter.key, 5, `message of ${message.length} octets is shorter than the v5 header`);
      }
      const count = message.readUInt16BE(2);
      // The complete records the packet holds (at most 30) are decoded even when the header's count disagrees
      // (too many, more than 30, more than the packet holds), as tshark decodes them; the mismatch is counted.
      const present = Math.min(Math.floor((message.length - HEADER_LENGTH) / RECORD_LENGTH), MAX_RECORDS);
      const decoded = count >= 1 && count <= present ? count : present;
      if (decoded < 1) {
        throw new FlowError('bad_record_count', exporter.key, 5, `header announces ${count} records in ${message.length} octets`);
      }
      const sampling = message.readUInt16BE(22);
      const header: MessageHeader = {
        version: 5,
        domain: (message[20] << 8) | message[21],
        uptimeMs: message.readUInt32BE(4),
        exportTimeSecs: message.readUInt32BE(8),
        unixNsecs: message.readUInt32BE(12),
        sequence: message.readUInt32BE(16),
        engineType: message[20],
        engineId: message[21],
        samplingAlgorithm: sampling >> 14,
        samplingInterval: sampling & 0x3fff,
        recordCount: count,
      };
      const result = emptyResult();
      const scratch = newScratch();
      decodeRecords(template, message, HEADER_LENGTH, HEADER_LENGTH + decoded * RECORD_LENGTH, header, scratch, result.records);
      if (decoded !== count) result.notices.push({ kind: 'record_count_mismatch', domain: header.domain, announced: count, decoded });
      addFieldFaults(result, scratch);
      // v5 sequence numbers count flows.
      result.sequence = { domain: header.domain, sequence: header.sequence, advance: count };
      return result;
    },
  };
}
