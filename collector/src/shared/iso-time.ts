/**
 * ISO 8601 UTC times read back to numbers, as Date.parse reads them. The decoders write them in one shape
 * (`YYYY-MM-DDTHH:MM:SS.mmmZ`, or with 6 or 9 fraction digits), which is read here from its characters; any other
 * text goes to Date.parse. Performance: a cache of Date.parse by text (16,384 times) was emptied again and again by
 * a cluster's 20,000 connections (each its own start time), and ECS's times took about 0.9 µs per record, a twentieth
 * of the decode worker's time at 50,000 records/s.
 */

// The last day read (times of one export share it): Date.UTC once per day, not per time.
let lastDayKey = -1;
let lastDayMs = 0;

/** The number of `count` decimal digits at `from`, or -1 if any is no digit. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Whether text has the decoders' shape: its length, Z at the end, the punctuation in place (digits checked later). */
function decoderShaped(text: string): boolean {
  const n = text.length;
  if ((n !== 24 && n !== 27 && n !== 30) || text.charCodeAt(n - 1) !== 0x5a) return false;
  return text.charCodeAt(4) === 0x2d && text.charCodeAt(7) === 0x2d && text.charCodeAt(10) === 0x54 // - - T
    && text.charCodeAt(13) === 0x3a && text.charCodeAt(16) === 0x3a && text.charCodeAt(19) === 0x2e; // : : .
}

/** Epoch milliseconds of an ISO time, as Date.parse gives them (NaN when it is none). */
export function parseIsoMs(text: string): number {
  if (!decoderShaped(text)) return Date.parse(text);
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const millis = digitsAt(text, 20, 3);
  const finer = text.length === 24 ? 0 : digitsAt(text, 23, text.length - 24);
  // Date.UTC reads years below 100 as 19xx, and Date.parse has its own rule for hour 24: those, and anything not all
  // digits, are Date.parse's to decide. A day past its month's end (Feb 30) runs on into the next, in both.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59
    || second < 0 || second > 59 || millis < 0 || finer < 0) return Date.parse(text);
  const dayKey = (year * 16 + month) * 32 + day;
  if (dayKey !== lastDayKey) {
    lastDayMs = Date.UTC(year, month - 1, day);
    lastDayKey = dayKey;
  }
  return lastDayMs + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
}

/** Nanoseconds past the millisecond of an ISO time: its fraction digits after the third (0 when it has none). */
export function isoNanosWithinMs(text: string): number {
  const n = text.length;
  if (decoderShaped(text)) {
    const digits = n === 24 ? 0 : n === 27 ? digitsAt(text, 23, 3) * 1000 : digitsAt(text, 23, 6);
    if (digits >= 0) return digits;
  }
  const dot = text.indexOf('.');
  if (dot <= 0) return 0;
  const digits = text.slice(dot + 4, n - 1); // past the millisecond digits, before the Z
  return digits.length > 0 ? Number(digits.padEnd(6, '0').slice(0, 6)) : 0;
}
