import { latin1Write } from '../shared/buffer-access.js';
import { JsonText } from '../shared/json-text.js';
import type { ByteBuffer } from './bytes.js';

/**
 * JSON values written as bytes straight into the output buffer, without building strings first. Each writer takes
 * the buffer and the write position and returns the new position; `out.pos` is only brought up to date where a
 * writer falls back to a native encode (which needs it). Performance: concatenating a document as a string of
 * ~100 pieces, then flattening and encoding it, cost most of the collector's CPU and half its garbage; a byte
 * loop over the (mostly short, ASCII) values allocates nothing.
 *
 * The caller reserves room for constant text and non-string values (`NUMBER_ROOM` each); string writers reserve
 * their own.
 */

/** Room a number, boolean or null needs: the longest JavaScript number text is 24 characters. */
export const NUMBER_ROOM = 32;

/**
 * Constant bytes with the same bytes as big-endian 8-byte chunks (the last one padded with zeros), copied eight at a
 * time as doubles: half the stores of 32-bit words, a tenth less for a whole record's keys. A chunk whose bits are a
 * NaN (0x7f or 0xff, then a byte from 0xf0: DEL before a 4-byte UTF-8 sequence) might not survive a double's load and
 * store bit for bit; text with one has no `chunks` and is copied as 32-bit `words`.
 */
export interface ConstantBytes extends Uint8Array {
  readonly words: Uint32Array;
  readonly chunks: Float64Array | undefined;
}

/** Bytes past a constant's end that copying it may overwrite: room the caller reserves beyond its length. */
export const CONSTANT_OVERRUN = 7;

/** The UTF-8 bytes of constant text (keys, the envelope), to copy with constant(). */
export function textBytes(text: string): ConstantBytes {
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(4 * i);
  let chunks: Float64Array | undefined = new Float64Array(padded.length / 8);
  for (let i = 0; i < chunks.length; i++) {
    chunks[i] = view.getFloat64(8 * i);
    if (Number.isNaN(chunks[i])) chunks = undefined;
    if (chunks === undefined) break;
  }
  return Object.assign(bytes, { words, chunks });
}

/** Copies a key of `length` bytes from words [start, end) of a table of big-endian 32-bit words (room reserved by the caller). */
export function key(d: DataView, p: number, words: Uint32Array, start: number, end: number, length: number): number {
  for (let i = start, q = p; i < end; i++, q += 4) d.setUint32(q, words[i]);
  return p + length;
}

/** The same from a table of 8-byte chunks (see ConstantBytes). */
export function key8(d: DataView, p: number, chunks: Float64Array, start: number, end: number, length: number): number {
  for (let i = start, q = p; i < end; i++, q += 8) d.setFloat64(q, chunks[i]);
  return p + length;
}

/**
 * Copies constant bytes, making room for them first when the caller's reserve does not cover them (ECS writes two
 * pieces after one reserve: past the buffer's end their bytes were lost, and the buffer then grew with garbage there).
 */
export function constant(out: ByteBuffer, p: number, bytes: ConstantBytes): number {
  const n = bytes.length;
  // A chunk at a time (a byte loop cost three to four times as much for pieces of 24 to 48 bytes): the last one may
  // write up to CONSTANT_OVERRUN bytes past the piece, which what follows overwrites or which lie past what was written.
  if (p + n + CONSTANT_OVERRUN > out.buffer.length) reserve(out, p, n + CONSTANT_OVERRUN);
  const d = out.view;
  const chunks = bytes.chunks;
  if (chunks !== undefined) {
    for (let i = 0, q = p; i < chunks.length; i++, q += 8) d.setFloat64(q, chunks[i]);
  } else {
    const words = bytes.words;
    for (let i = 0, q = p; i < words.length; i++, q += 4) d.setUint32(q, words[i]);
  }
  return p + n;
}

/** Text JSON.stringify would escape: quotes, backslashes, control characters, and (lone) surrogates. */
export const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A character that is not printable ASCII or that JSON escapes (a quote, a backslash). */
const NOT_PLAIN = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/** From this length, a plain text is checked by NOT_PLAIN and copied by the native Latin-1 encoder. */
const NATIVE_STRING_LENGTH = 32;

/**
 * A JSON string. ASCII that needs no escaping (Kubernetes names, addresses, times) is copied a byte per character,
 * or from NATIVE_STRING_LENGTH characters on, checked by a regular expression and copied natively (enrichment's flow
 * keys, about 80 characters: 40 % less than the loop in a loop over such strings alone, a native call costing more
 * than the loop below 32); anything else is written exactly as JSON.stringify would, as UTF-8.
 */
export function string(out: ByteBuffer, p: number, s: string): number {
  const n = s.length;
  if (n >= NATIVE_STRING_LENGTH && !NOT_PLAIN.test(s)) return plainText(out, p, s);
  reserve(out, p, n + 2);
  const b = out.buffer;
  b[p] = 0x22;
  let q = p + 1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) return encoded(out, p, NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
    b[q++] = c;
  }
  b[q] = 0x22;
  return q + 1;
}

/**
 * A JSON string of n ASCII bytes that need no escaping, copied eight at a time from `bytes` at `at` (the intern
 * table's, values.internTable: n is at most its slot's size, and no chunk of it is a NaN's bits). Performance: the
 * characters of a Flow Aggregator record's interned texts (names of Pods, Nodes, namespaces, policies; about 260
 * per record) cost about 2 ns each one at a time.
 */
export function internedText(out: ByteBuffer, p: number, bytes: DataView, at: number, n: number): number {
  if (p + n + 2 + CONSTANT_OVERRUN > out.buffer.length) reserve(out, p, n + 2 + CONSTANT_OVERRUN);
  const b = out.buffer;
  const d = out.view;
  b[p] = 0x22;
  const q = p + 1;
  for (let i = 0; i < n; i += 8) d.setFloat64(q + i, bytes.getFloat64(at + i, true), true);
  b[q + n] = 0x22;
  return q + n + 1;
}

/**
 * A string the layout marks `plain` (addresses, times, hex: ASCII needing no escaping, see RecordLayout), copied
 * without the check string() makes per character; anything else (no decoder of the layout wrote it) as value() would.
 */
export function plain(out: ByteBuffer, p: number, v: unknown, fallback: (v: unknown) => string): number {
  return typeof v === 'string' ? plainText(out, p, v) : value(out, p, v, fallback);
}

/** A JSON string of printable ASCII needing no escaping (its caller knows or checked), copied as it is. */
function plainText(out: ByteBuffer, p: number, s: string): number {
  const n = s.length;
  reserve(out, p, n + 2);
  const b = out.buffer;
  b[p] = 0x22;
  let q = p + 1;
  if (n >= NATIVE_STRING_LENGTH) q += latin1Write(b, s, q);
  else for (let i = 0; i < n; i++) b[q++] = s.charCodeAt(i);
  b[q] = 0x22;
  return q + 1;
}

/** The bytes [start, end) already written earlier in the buffer, again at p (a field holding another's very value). */
export function written(out: ByteBuffer, p: number, start: number, end: number): number {
  const n = end - start;
  reserve(out, p, n);
  out.buffer.copyWithin(p, start, end);
  return p + n;
}

/** Past this length, the native UTF-8 encoder copies text faster than a loop (it flattens a concatenation too). */
const NATIVE_COPY_LENGTH = 24;

/** JSON text written as it is (already valid JSON), as UTF-8. */
export function raw(out: ByteBuffer, p: number, text: string): number {
  const n = text.length;
  if (n > NATIVE_COPY_LENGTH) return encoded(out, p, text);
  reserve(out, p, n);
  const b = out.buffer;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return encoded(out, p, text);
    b[p + i] = c;
  }
  return p + n;
}

/**
 * A JsonText's bytes, a chunk at a time. Performance: a Pod's labels (about 80 characters) come with each of its
 * records as the same JsonText (values.jsonObject keeps them), and the native encoder raw() hands them to cost
 * about as much per call as copying the chunks of a whole record's keys.
 */
export function jsonText(out: ByteBuffer, p: number, v: JsonText): number {
  if (v.chunks === undefined) {
    const bytes = textBytes(v.text);
    v.chunks = bytes.chunks ?? null;
    v.octets = bytes.length;
  }
  const chunks = v.chunks;
  if (chunks === null) return raw(out, p, v.text);
  const n = v.octets;
  if (p + n + CONSTANT_OVERRUN > out.buffer.length) reserve(out, p, n + CONSTANT_OVERRUN);
  return key8(out.view, p, chunks, 0, chunks.length, n);
}

/** Text encoded as UTF-8 by the native encoder, from position p. */
export function encoded(out: ByteBuffer, p: number, text: string): number {
  out.pos = p;
  out.utf8(text);
  return out.pos;
}

// Two ASCII digits for each of 0..99.
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

function digitCount(v: number): number {
  if (v < 10) return 1;
  if (v < 100) return 2;
  if (v < 1e3) return 3;
  if (v < 1e4) return 4;
  if (v < 1e5) return 5;
  if (v < 1e6) return 6;
  if (v < 1e7) return 7;
  if (v < 1e8) return 8;
  return 9;
}

/** Digits of 0 <= v < 1e9 ending just before `end`, exactly `count` of them (leading zeros when needed). */
function digitsBefore(b: Buffer, end: number, v: number, count: number): void {
  let q = end;
  let left = count;
  while (left >= 2) {
    const r = v % 100;
    v = (v - r) / 100;
    q -= 2;
    b[q] = PAIRS[2 * r];
    b[q + 1] = PAIRS[2 * r + 1];
    left -= 2;
  }
  if (left === 1) b[q - 1] = 0x30 + (v % 10);
}

/** A non-negative safe integer's digits (room reserved by the caller). */
function unsigned(b: Buffer, p: number, v: number): number {
  if (v < 1e9) {
    const n = digitCount(v);
    digitsBefore(b, p + n, v | 0, n);
    return p + n;
  }
  // Below 2^53 the high part is below 1e8 and both divisions are exact.
  const low = v % 1e9;
  const high = (v - low) / 1e9;
  const n = digitCount(high);
  digitsBefore(b, p + n, high | 0, n);
  digitsBefore(b, p + n + 9, low | 0, 9);
  return p + n + 9;
}

/** A number as JSON.stringify writes it (non-finite as null), a bigint as its exact digits. Room reserved by the caller. */
export function number(out: ByteBuffer, p: number, v: number | bigint): number {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      const b = out.buffer;
      if (v < 0) {
        b[p] = 0x2d;
        return unsigned(b, p + 1, -v);
      }
      return unsigned(b, p, v);
    }
    return encoded(out, p, Number.isFinite(v) ? String(v) : 'null');
  }
  return encoded(out, p, v.toString());
}

const TRUE = textBytes('true');
const FALSE = textBytes('false');
const NULL = textBytes('null');

/**
 * Any value, as JSON.stringify writes it; `fallback` gives the JSON text of objects and arrays. Room for a number
 * reserved by the caller.
 */
export function value(out: ByteBuffer, p: number, v: unknown, fallback: (v: unknown) => string): number {
  switch (typeof v) {
    case 'string':
      return string(out, p, v);
    case 'number':
    case 'bigint':
      return number(out, p, v);
    case 'boolean':
      return constant(out, p, v ? TRUE : FALSE);
    default:
      if (v === null) return constant(out, p, NULL);
      if (v instanceof JsonText) return jsonText(out, p, v);
      return encoded(out, p, fallback(v));
  }
}

/** Makes room for `n` more bytes at p. */
export function reserve(out: ByteBuffer, p: number, n: number): void {
  if (p + n > out.buffer.length) {
    out.pos = p;
    out.ensure(n);
  }
}
