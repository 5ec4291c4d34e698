import * as crypto from 'node:crypto';
import { latin1Write } from '../shared/buffer-access.js';
import { Sha1Scratch, SHA1_BASE64URL_LENGTH } from '../shared/sha1.js';
import type { FlowDocument } from './document.js';

/**
 * The document `_id`: SHA-1, in base64url, of the text `host|domain|exportTimeMs|sequence|setOffset|index` (where the
 * record came from: exporter address, observation domain, export time, message sequence number, set offset, index
 * in the set), so that a record sent twice (a retry after a timeout, a spool replayed after a crash, a message the
 * exporter resent) is indexed once: `create` refuses the second. The text is that of a template literal of those
 * values; its octets are written here without building it (see shared/sha1.ts for why).
 */

/** Inputs of more octets than this (only with host names far longer than any address) are hashed by node:crypto from their text. */
const MAX_INPUT = 200;
const sha1 = new Sha1Scratch(MAX_INPUT);
const input = sha1.input;
const PIPE = 0x7c;

/** Octets of an ASCII text at input[n]; -1 when it is not ASCII (or no text at all) or does not fit. */
function text(value: string, n: number): number {
  if (n < 0 || typeof value !== 'string' || n + value.length > MAX_INPUT) return -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) return -1;
    input[n++] = c;
  }
  return n;
}

/** `${value}` at input[n], its digits computed for the integers origins hold; -1 when it does not fit. */
function number(value: number, n: number): number {
  if (n < 0) return -1;
  if (!(Number.isSafeInteger(value) && value >= 0)) return text(String(value), n);
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  if (n + digits > MAX_INPUT) return -1;
  let rest = value;
  for (let i = n + digits - 1; i >= n; i--) {
    const next = Math.floor(rest / 10);
    input[i] = 0x30 + (rest - next * 10);
    rest = next;
  }
  return n + digits;
}

/** The `_id` text's octets in the scratch input, or -1 where only the text itself will do. */
function writeInput(doc: FlowDocument): number {
  const o = doc.origin;
  let n = text(doc.host, 0);
  if (n >= 0) input[n++] = PIPE;
  n = number(o.domain, n);
  if (n >= 0) input[n++] = PIPE;
  n = number(o.exportTimeMs, n);
  if (n >= 0) input[n++] = PIPE;
  n = number(o.sequence, n);
  if (n >= 0) input[n++] = PIPE;
  n = number(o.setOffset, n);
  if (n >= 0) input[n++] = PIPE;
  return number(o.index, n);
}

function idText(doc: FlowDocument): string {
  const o = doc.origin;
  return `${doc.host}|${o.domain}|${o.exportTimeMs}|${o.sequence}|${o.setOffset}|${o.index}`;
}

const fallback: (text: string) => string = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha1', text, 'base64url')
  : (text) => crypto.createHash('sha1').update(text).digest('base64url');

/** Octets writeDocumentId writes: the `_id` as a JSON string. */
export const DOCUMENT_ID_ROOM = SHA1_BASE64URL_LENGTH + 2;

/** Writes the document's `_id` as a JSON string at out[p] (DOCUMENT_ID_ROOM octets, reserved by the caller); returns the end. */
export function writeDocumentId(doc: FlowDocument, out: Buffer, p: number): number {
  out[p] = 0x22;
  const n = writeInput(doc);
  let end: number;
  if (n >= 0) {
    sha1.digest(n);
    end = sha1.writeBase64url(out, p + 1);
  } else {
    end = p + 1 + latin1Write(out, fallback(idText(doc)), p + 1);
  }
  out[end] = 0x22;
  return end + 1;
}

const scratch = Buffer.alloc(DOCUMENT_ID_ROOM);

/** The document's `_id` as text (what writeDocumentId writes, unquoted). */
export function documentId(doc: FlowDocument): string {
  const end = writeDocumentId(doc, scratch, 0);
  return scratch.toString('latin1', 1, end - 1);
}
