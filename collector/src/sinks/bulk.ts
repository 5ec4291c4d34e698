import type { estypes } from '@elastic/elasticsearch';
import type { ByteBuffer } from '../document/bytes.js';
import { writeDocument, type DocumentOptions, type FlowDocument } from '../document/document.js';

/** `flow-YYYY.MM.dd` of a document: the daily index Antrea's Logstash pipeline wrote to. */
export function dailyIndex(prefix: string, timestamp: string): string {
  return `${prefix}${timestamp.slice(0, 4)}.${timestamp.slice(5, 7)}.${timestamp.slice(8, 10)}`;
}

/**
 * The action line's shape, checked against the client's type at compile time; the hot path below writes it as
 * text (index names and ids need no escaping) rather than building and serialising an object per document.
 */
export const CREATE_ACTION_SHAPE = { create: { _index: 'flow-antrea', _id: 'id' } } satisfies estypes.BulkOperationContainer;

/** One `_bulk` create action (with the document's `_id` when given) and its document, each on its own line. */
export function writeBulkCreate(document: FlowDocument, index: string, options: DocumentOptions, out: ByteBuffer, id?: string): void {
  out.ascii(id === undefined ? `{"create":{"_index":"${index}"}}\n` : `{"create":{"_index":"${index}","_id":"${id}"}}\n`);
  writeDocument(document, options, out);
  out.byte(0x0a);
}
