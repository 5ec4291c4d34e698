import type { estypes } from '@elastic/elasticsearch';
import type { ByteBuffer } from '../document/bytes.js';
import { DOCUMENT_ID_ROOM, writeDocumentId } from '../document/document-id.js';
import { writeDocument, type DocumentOptions, type FlowDocument } from '../document/document.js';
import { constant, reserve, string, textBytes } from '../document/json-bytes.js';

let lastPrefix = '';
let lastTimestamp = '';
let lastIndex = '';

/** `flow-YYYY.MM.dd` of a document: the daily index Antrea's Logstash pipeline wrote to. */
export function dailyIndex(prefix: string, timestamp: string): string {
  // Documents of one message share their timestamp (the same string): name the index once.
  if (timestamp !== lastTimestamp || prefix !== lastPrefix) {
    lastPrefix = prefix;
    lastTimestamp = timestamp;
    lastIndex = `${prefix}${timestamp.slice(0, 4)}.${timestamp.slice(5, 7)}.${timestamp.slice(8, 10)}`;
  }
  return lastIndex;
}

/**
 * The action line's shape, checked against the client's type at compile time; the hot path below writes it as
 * bytes rather than building and serialising an object per document.
 */
export const CREATE_ACTION_SHAPE = { create: { _index: 'flow-antrea', _id: 'id' } } satisfies estypes.BulkOperationContainer;

const CREATE = textBytes('{"create":{"_index":');
const ID = textBytes(',"_id":');
const END = textBytes('}}\n');
const ROOM = CREATE.length + ID.length + END.length;

/** One `_bulk` create action (with the document's `_id` when asked, see document-id.ts) and its document, each on its own line. */
export function writeBulkCreate(document: FlowDocument, index: string, options: DocumentOptions, out: ByteBuffer, withId: boolean): void {
  let p = out.pos;
  reserve(out, p, ROOM);
  p = constant(out, p, CREATE);
  p = string(out, p, index);
  if (withId) {
    reserve(out, p, ROOM + DOCUMENT_ID_ROOM);
    p = constant(out, p, ID);
    p = writeDocumentId(document, out.buffer, p);
  }
  reserve(out, p, ROOM);
  out.pos = constant(out, p, END);
  writeDocument(document, options, out);
  out.byte(0x0a);
}
