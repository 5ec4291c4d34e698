/**
 * Value renderers used by compiled templates: each turns bytes into the JSON value the Logstash netflow
 * codec would emit (addresses as strings, MACs with colons, octet arrays as hex, times as ISO 8601).
 * Hot path: no allocation beyond the result, no lookups by name.
 */

import { isUtf8 } from 'node:buffer';
import { latin1Slice, utf8Slice } from '../shared/buffer-access.js';
import { JsonText } from '../shared/json-text.js';

/** Per-record scratch state shared with compiled decoders. */
export interface RecordScratch {
  /** Read position; compiled decoders advance it. */
  pos: number;
  /** End of the current set. */
  end: number;
  /** Time fields left out in this message because their value is out of range. */
  badFields: number;
  /** Fields whose length did not fit their type, kept as hex under ie_<enterprise>_<id>. */
  misfits: number;
  /** Texts that had to be a JSON object and were not (left out; see jsonObject). */
  notJsonObjects: number;
  /** Where the record being decoded keeps its texts' intern slots (claimTextSlots). */
  textSlots: number;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex(b: Buffer, start: number, length: number): string {
  let s = '';
  for (let i = start, end = start + length; i < end; i++) s += HEX[b[i]];
  return s;
}

// Addresses repeat from record to record (a cluster's Pods, Nodes and Services): a direct-mapped cache of their
// text spares building the string (and its garbage) each time. A collision just replaces the entry.
const IP4_CACHE_BITS = 12;
const ip4Keys = new Float64Array(1 << IP4_CACHE_BITS).fill(-1);
const ip4Texts = new Array<string>(1 << IP4_CACHE_BITS).fill('');

export function ip4(b: Buffer, o: number): string {
  const v = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  const slot = Math.imul(v, 0x9e3779b1) >>> (32 - IP4_CACHE_BITS);
  if (ip4Keys[slot] === v) return ip4Texts[slot];
  const text = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  ip4Keys[slot] = v;
  ip4Texts[slot] = text;
  return text;
}

// IPv6 addresses repeat as IPv4 ones do, and their text costs more to build (an array and a join): the same kind of
// direct-mapped cache, keyed by the four 32-bit words of the address.
const IP6_CACHE_BITS = 12;
const ip6Words = new Int32Array(4 << IP6_CACHE_BITS);
const ip6Texts = new Array<string | undefined>(1 << IP6_CACHE_BITS).fill(undefined);

/** RFC 5952 text form: lower case, the longest run of two or more zero groups as "::", IPv4-mapped as dotted quad. */
export function ip6(b: Buffer, o: number): string {
  const w0 = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  const w1 = (b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7];
  const w2 = (b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11];
  const w3 = (b[o + 12] << 24) | (b[o + 13] << 16) | (b[o + 14] << 8) | b[o + 15];
  const slot = Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3, 0x9e3779b1), 0x9e3779b1) >>> (32 - IP6_CACHE_BITS);
  const at = slot << 2;
  const known = ip6Texts[slot];
  if (known !== undefined && ip6Words[at] === w0 && ip6Words[at + 1] === w1 && ip6Words[at + 2] === w2 && ip6Words[at + 3] === w3) return known;
  const text = ip6Text(b, o);
  ip6Words[at] = w0;
  ip6Words[at + 1] = w1;
  ip6Words[at + 2] = w2;
  ip6Words[at + 3] = w3;
  ip6Texts[slot] = text;
  return text;
}

function ip6Text(b: Buffer, o: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (b[o + 2 * i] << 8) | b[o + 2 * i + 1];
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLength).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

export function mac(b: Buffer, o: number): string {
  return `${HEX[b[o]]}:${HEX[b[o + 1]]}:${HEX[b[o + 2]]}:${HEX[b[o + 3]]}:${HEX[b[o + 4]]}:${HEX[b[o + 5]]}`;
}

// Interned ASCII strings: names repeat from record to record (pods, namespaces, nodes, policies, label texts).
// Returning the same string instance spares the native slice and its garbage, and lets later stages compare values
// by identity (and look them up in Maps by the hash V8 keeps in them). Direct-mapped by a hash of the length and of
// all the bytes (see internSlot); a hit is then checked against a copy of the entry's bytes, which also proves it
// ASCII. A collision just replaces the entry.
// Performance: names of 8 bytes or more are hashed and compared four bytes at a time through DataViews (one per
// message, kept while records of it are read): decoding the Flow Aggregator's records took a fifth less than byte
// by byte, in alternating rounds.
const INTERN_SIZE = 8192;
const INTERN_MAX_LENGTH = 256;
const internKeys = new Array<string>(INTERN_SIZE).fill('');
const internLengths = new Int32Array(INTERN_SIZE).fill(-1);
const internBytes = new Uint8Array(INTERN_SIZE * INTERN_MAX_LENGTH);
const internView = new DataView(internBytes.buffer);
/** 1 where the slot's text needs no JSON escaping (no quote, backslash or control character). */
const internClean = new Uint8Array(INTERN_SIZE);
/** The slot of the text str() last returned, or -1 when that text was not interned. */
let lastInternSlot = -1;
let viewedBuffer: Buffer | undefined;
let bufferView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(b: Buffer): DataView<ArrayBufferLike> {
  if (b !== viewedBuffer) {
    viewedBuffer = b;
    bufferView = new DataView(b.buffer, b.byteOffset, b.length);
  }
  return bufferView;
}

function internSlot(b: Buffer, v: DataView<ArrayBufferLike>, start: number, end: number): number {
  const n = end - start;
  let hash;
  if (n >= 8) {
    // Every word: names of one cluster can share both ends (ip-10-0-16-198.ec2.internal, ip-10-0-17-96.ec2.internal)
    // or their middle (ip-192-168-1-2.us-west-2.compute.internal). Little-endian on every platform: the same slots
    // everywhere. The last word may overlap the one before it.
    hash = Math.imul(n, 0x9e3779b1);
    for (let i = start; i + 4 < end; i += 4) hash = Math.imul((hash ^ v.getInt32(i, true)) ^ (hash >>> 15), 0x85ebca6b);
    hash = Math.imul((hash ^ v.getInt32(end - 4, true)) ^ (hash >>> 15), 0xc2b2ae35);
    hash ^= hash >>> 15;
  } else {
    hash = Math.imul(0x811c9dc5 ^ n, 0x01000193);
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ b[i], 0x01000193);
  }
  return (hash >>> 0) & (INTERN_SIZE - 1);
}

/** Whether the n bytes at b[start] are those of intern slot `slot`. */
function sameBytes(b: Buffer, v: DataView<ArrayBufferLike>, start: number, n: number, slot: number): boolean {
  const base = slot * INTERN_MAX_LENGTH;
  let i = 0;
  for (; i + 4 <= n; i += 4) if (v.getInt32(start + i, true) !== internView.getInt32(base + i, true)) return false;
  for (; i < n; i++) if (internBytes[base + i] !== b[start + i]) return false;
  return true;
}

/**
 * Text with trailing NUL padding removed, as the codec's `trim_padding` does. RFC 7011 strings are UTF-8;
 * bytes that are not valid UTF-8 are read as Latin-1, one character per byte, so nothing is lost or replaced.
 */
export function str(b: Buffer, start: number, length: number): string {
  let end = start + length;
  while (end > start && b[end - 1] === 0) end--;
  const n = end - start;
  let slot = -1;
  lastInternSlot = -1;
  if (n <= INTERN_MAX_LENGTH) {
    const v = viewOf(b);
    slot = internSlot(b, v, start, end);
    if (internLengths[slot] === n && sameBytes(b, v, start, n, slot)) {
      lastInternSlot = slot;
      return internKeys[slot];
    }
  }
  // Kubernetes names are ASCII: slicing them as Latin-1 is much cheaper than decoding UTF-8.
  // The same pass tells whether the text needs JSON escaping (kept with an interned text for the writer).
  let ascii = true;
  let clean = 1;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c > 0x7f) {
      ascii = false;
      break;
    }
    if (c < 0x20 || c === 0x22 || c === 0x5c) clean = 0;
  }
  if (ascii) {
    const text = latin1Slice(b, start, end);
    if (slot >= 0) {
      internKeys[slot] = text;
      internLengths[slot] = n;
      internBytes.set(b.subarray(start, end), slot * INTERN_MAX_LENGTH);
      internClean[slot] = clean;
      lastInternSlot = slot;
    }
    return text;
  }
  const text = utf8Slice(b, start, end);
  // Not valid UTF-8 (U+FFFD came out): one character per byte instead, so nothing is replaced.
  if (text.includes('\uFFFD') && !isUtf8(b.subarray(start, end))) return latin1Slice(b, start, end);
  return text;
}

/**
 * Where each record's texts were interned, so that the record writer can copy an interned text's bytes from the
 * intern table eight at a time instead of its characters one by one (record-writer.ts): a record claims one entry
 * per text field of its template, in a ring, and its document keeps where they start. An entry is only a hint: the
 * writer uses it only while the slot still holds that very string (entries and slots are reused), so a hint gone
 * stale costs the character copy, never a wrong byte.
 */
const TEXT_SLOT_RING = 1 << 16;
/** Text fields of one template given entries; any after these are written from their characters. */
export const MAX_RECORD_TEXTS = 1024;
export const textSlots = new Int32Array(TEXT_SLOT_RING + MAX_RECORD_TEXTS).fill(-1);
/** Entries that are always -1: for records that were not decoded by a compiled template. */
export const NO_TEXT_SLOTS = TEXT_SLOT_RING;
let textSlotCursor = 0;

/** The first of `count` ring entries for the texts of the record about to be decoded. */
export function claimTextSlots(count: number): number {
  let start = textSlotCursor;
  if (start + count > TEXT_SLOT_RING) start = 0;
  textSlotCursor = start + count;
  return start;
}

/** str(), noting at ring entry `entry` where the text is interned (-1: it is not). */
export function textAt(b: Buffer, start: number, length: number, entry: number): string {
  const text = str(b, start, length);
  textSlots[entry] = lastInternSlot;
  return text;
}

/**
 * The intern table, read by the record writer: a slot's string, whether it needs no escaping, and its bytes
 * (`slotOctets` per slot from the start of `bytes`). Only ASCII is interned, so no 8 of those bytes are a NaN's bits.
 */
export const internTable = { texts: internKeys, clean: internClean, bytes: internView, slotOctets: INTERN_MAX_LENGTH } as const;

const TWO_32 = 4294967296;
const SAFE_HIGH = 0x200000; // high word below 2^21 keeps hi * 2^32 + lo below 2^53

// Byte arithmetic rather than readUInt16BE/readUInt32BE (here and in u64): bounds are already checked, and it
// decoded the Flow Aggregator's records 3–5 % faster in alternating rounds.
export function u16(b: Buffer, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u32(b: Buffer, o: number): number {
  return b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

/** Unsigned 64-bit integer, the common counter size; exact above 2^53 as a bigint. */
export function u64(b: Buffer, o: number): number | bigint {
  const hi = b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
  const lo = b[o + 4] * 0x1000000 + ((b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]);
  if (hi < SAFE_HIGH) return hi * TWO_32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * u64 at offset expression `at` as the code of a compiled template: the common case (below 2^53) in line, the call
 * for the rest. TurboFan left most of a template's u64 calls as calls, its inlining budget spent (node
 * --trace-turbo-inlining). The same test and arithmetic as u64: high octet 0 and the next below SAFE_HIGH's.
 */
export function u64Expression(at: string): string {
  const hi = `((b[${at} + 1] << 16) | (b[${at} + 2] << 8) | b[${at} + 3])`;
  const lo = `(b[${at} + 4] * 0x1000000 + ((b[${at} + 5] << 16) | (b[${at} + 6] << 8) | b[${at} + 7]))`;
  return `(b[${at}] === 0 && b[${at} + 1] < ${SAFE_HIGH >>> 16} ? ${hi} * ${TWO_32} + ${lo} : V.u64(b, ${at}))`;
}

/** Unsigned integer of 1 to 8 octets (reduced-size encoding); exact above 2^53 as a bigint. */
export function uint(b: Buffer, o: number, length: number): number | bigint {
  if (length <= 6) return b.readUIntBE(o, length);
  const hiLength = length - 4;
  const hi = b.readUIntBE(o, hiLength);
  const lo = b.readUInt32BE(o + hiLength);
  if (hi < SAFE_HIGH) return hi * TWO_32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function int(b: Buffer, o: number, length: number): number | bigint {
  if (length <= 6) return b.readIntBE(o, length);
  const value = length === 8 ? b.readBigInt64BE(o) : BigInt.asIntN(length * 8, BigInt(`0x${hex(b, o, length)}`));
  if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return value;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let dayNumber = NaN;
let dayText = '';

/** toISOString without a Date: the day's text is kept, the time of day built from digit tables. */
function formatIso(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  if (day !== dayNumber) {
    const iso = new Date(day * 86_400_000).toISOString();
    // Years outside 0000-9999 are written with a sign by toISOString: leave those to it entirely.
    if (iso.length !== 24) return new Date(ms).toISOString();
    dayNumber = day;
    dayText = iso.slice(0, 11);
  }
  let rest = ms - day * 86_400_000;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  return `${dayText}${TWO_DIGITS[(rest - (rest % 60)) / 60]}:${TWO_DIGITS[rest % 60]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}

// Flow times cluster (records of one export share their end times within seconds): a small direct-mapped
// cache of formatted times saves most of the Date allocations and formatting.
const ISO_CACHE_SIZE = 4096;
const isoKeys = new Float64Array(ISO_CACHE_SIZE).fill(NaN);
const isoValues = new Array<string>(ISO_CACHE_SIZE);

/** ISO 8601 from milliseconds since the epoch; undefined (field skipped and counted) when out of range. */
export function isoMillis(ms: number | bigint, scratch: RecordScratch): string | undefined {
  const n = typeof ms === 'bigint' ? Number(ms) : ms;
  if (!Number.isFinite(n) || Math.abs(n) > 8.64e15) {
    scratch.badFields++;
    return undefined;
  }
  const slot = ((n / 1000) ^ n) & (ISO_CACHE_SIZE - 1);
  if (isoKeys[slot] === n) return isoValues[slot];
  const text = formatIso(n);
  isoKeys[slot] = n;
  isoValues[slot] = text;
  return text;
}

const NTP_EPOCH_OFFSET_SECS = 2208988800; // 1900-01-01 to 1970-01-01

const SIX_DIGITS = (n: number) => String(n).padStart(6, '0');

/**
 * dateTimeMicroseconds/Nanoseconds are NTP timestamps (RFC 7011 §6.1.9): seconds since 1900 and a 2^-32 s
 * fraction. Written with nine fraction digits (nanoseconds, floored), so nothing the exporter sent is cut to
 * milliseconds; Elasticsearch keeps them in `date_nanos` fields. The fraction is not masked for microseconds:
 * RFC 7011 lets a collector ignore its low 11 bits, but those are the exporter's and we keep what it sent.
 */
export function isoNtp(seconds: number, fraction: number, scratch: RecordScratch): string | undefined {
  // fraction × 10^9 / 2^32 = fraction × 5^9 / 2^23, exact in a double (below 2^53).
  const nanos = Math.floor((fraction * 1953125) / 8388608);
  const millis = isoMillis((seconds - NTP_EPOCH_OFFSET_SECS) * 1000 + Math.floor(nanos / 1_000_000), scratch);
  return millis === undefined ? undefined : `${millis.slice(0, -1)}${SIX_DIGITS(nanos % 1_000_000)}Z`;
}

/**
 * NetFlow v5/v9 `*_switched` times are the device's uptime in milliseconds; the codec turns them into absolute
 * times from the header's uptime and clock, with Ruby's floor division (so a time past the uptime lands in the future).
 */
export function switched(value: number, uptimeMs: number, unixSecs: number, unixNsecs: number, scratch: RecordScratch): string | undefined {
  const millis = uptimeMs - value;
  let seconds = unixSecs - Math.floor(millis / 1000);
  let micros = Math.floor(unixNsecs / 1000) - (((millis % 1000) + 1000) % 1000) * 1000;
  if (micros < 0) {
    seconds -= 1;
    micros += 1_000_000;
  }
  return isoMillis(seconds * 1000 + Math.floor(micros / 1000), scratch);
}

const TWO_31 = 2147483648;

/**
 * Absolute time of a NetFlow v5/v9 uptime value (flowStartSysUpTime, flowEndSysUpTime: the device's uptime in ms
 * when the flow started or ended), as IANA's flowStartMilliseconds/flowEndMilliseconds would carry it: the
 * header's clock (unix secs and, v5 only, nsecs) minus how long before the header's uptime the value lies.
 * Uptime is 32 bits and wraps after 49.7 days: the difference is taken modulo 2^32, and one more than 2^31
 * behind is read as slightly ahead of the header (a flow that ended as the packet was built), not 49 days old.
 */
export function uptimeMillis(value: number, uptimeMs: number, unixSecs: number, unixNsecs: number, scratch: RecordScratch): string | undefined {
  let behind = (uptimeMs - value) >>> 0;
  if (behind >= TWO_31) behind -= TWO_32;
  return isoMillis(unixSecs * 1000 + Math.floor(unixNsecs / 1_000_000) - behind, scratch);
}

/** RFC 7011 boolean: 1 is true, 2 is false; anything else is kept as the number. */
export function bool(v: number): boolean | number {
  return v === 1 ? true : v === 2 ? false : v;
}

export function forwardingStatus(v: number): { status: number; reason: number } {
  return { status: v >> 6, reason: v & 0x3f };
}

const PANA_L7_PEN = 20;

/** A selector of any length: an integer up to 8 octets (exact), longer ones as 0x-prefixed hex (nothing cut). */
function selector(b: Buffer, o: number, length: number): string {
  return length <= 8 ? String(uint(b, o, length)) : `0x${hex(b, o, length)}`;
}

/**
 * applicationId (RFC 6759): the classification engine id, "..", the selector id (the codec's rendering). Engine
 * 20 (PANA-L7-PEN) puts a private enterprise number before the vendor's selector: `20..<pen>..<selector>`.
 */
export function applicationId(b: Buffer, o: number, length: number): string {
  if (length < 2) return String(b[o] ?? '');
  if (b[o] === PANA_L7_PEN && length >= 6) return `${PANA_L7_PEN}..${b.readUInt32BE(o + 1)}..${selector(b, o + 5, length - 5)}`;
  return `${b[o]}..${selector(b, o + 1, length - 1)}`;
}

/** Cisco ASA ACL id: three 32-bit words in hex, joined by '-'. */
export function aclIdAsa(b: Buffer, o: number, length: number): string {
  const words: string[] = [];
  for (let i = 0; i + 4 <= length; i += 4) words.push(hex(b, o + i, 4));
  return words.join('-');
}

export function mplsLabelStackOctets(b: Buffer, o: number, length: number) {
  const top = (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
  return {
    label: top >>> 4,
    experimental: (top >>> 1) & 0x7,
    bottom_of_stack: top & 0x1,
    ttl: length >= 4 ? b[o + 3] : 0,
  };
}

/** Text an exporter left empty, read as the value a rule gives it (Antrea's "N/A" for no policy). */
export function emptyAs(text: string, value: string): string {
  return text === '' ? value : text;
}

// Texts already validated: a Pod's labels come with each of its records, so each text is parsed once. Bounded in
// entries and in characters (an exporter can send texts of 64 KiB): past either, the cache starts again.
const JSON_OBJECT_CACHE_SIZE = 10_000;
const JSON_OBJECT_CACHE_CHARS = 4 * 1024 * 1024;
const knownJsonObjects = new Map<string, JsonText | object>();
let knownJsonObjectChars = 0;

/**
 * Text that must be a JSON object (Antrea's Pod labels): valid JSON on one line is kept as that text (JsonText,
 * written out as received), JSON spanning lines as the parsed object; empty text is no value. Anything else would
 * give the field two types in Elasticsearch: left out and counted.
 */
export function jsonObject(text: string, scratch: RecordScratch): JsonText | object | undefined {
  if (text === '') return undefined;
  const known = knownJsonObjects.get(text);
  if (known !== undefined) return known;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    scratch.notJsonObjects++;
    return undefined;
  }
  const value = /[\r\n]/.test(text) ? parsed : new JsonText(text);
  if (knownJsonObjects.size >= JSON_OBJECT_CACHE_SIZE || knownJsonObjectChars + text.length > JSON_OBJECT_CACHE_CHARS) {
    knownJsonObjects.clear();
    knownJsonObjectChars = 0;
  }
  knownJsonObjects.set(text, value);
  knownJsonObjectChars += text.length;
  return value;
}
