import type { RecordLayout } from '../decoders/template.js';
import type { ByteBuffer } from './bytes.js';
import * as W from './json-bytes.js';

/** JSON of a value the record writer has no fast path for (objects, arrays, bigints in arrays). */
export type ValueWriter = (value: unknown) => string;

/** Writes one record's JSON object at out.pos and advances it. */
export type RecordWriter = (fields: Record<string, unknown>, out: ByteBuffer) => void;

/**
 * The JSON writer of one record layout, compiled: constant keys as pre-encoded bytes, and per value only the
 * dispatch its kind needs, every byte written straight into the output buffer (json-bytes.ts). Fields come out in
 * layout order; undefined values are left out, as JSON.stringify does.
 */
export function compileRecordWriter(layout: RecordLayout, fallback: ValueWriter): RecordWriter {
  // Every record starts with `version`, always set: so every later key is written with its leading comma.
  if (layout.names[0] !== 'version') throw new Error(`record layout must start with version, not ${layout.names[0]}`);
  const keys = layout.names.map((name, i) => W.asciiBytes(i === 0 ? `{${JSON.stringify(name)}:` : `,${JSON.stringify(name)}:`));
  // Keys as straight-line 32-bit stores: a copy loop per key cost more than all the values together.
  const store = (bytes: Uint8Array) => {
    const code: string[] = [];
    let j = 0;
    for (; j + 4 <= bytes.length; j += 4) code.push(`d.setUint32(p + ${j}, ${(((bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3]) >>> 0)});`);
    for (; j < bytes.length; j++) code.push(`b[p + ${j}] = ${bytes[j]};`);
    return `${code.join(' ')} p += ${bytes.length};`;
  };
  const lines = ['let p = out.pos; let b = out.buffer; let d = out.view; let v;'];
  layout.names.forEach((name, i) => {
    const write = layout.kinds[i] === 'integer' ? 'W.number(out, p, v)' : 'W.value(out, p, v, J)';
    // Room for the key and a number; strings make their own room.
    const room = keys[i].length + W.NUMBER_ROOM;
    const reserve = `if (p + ${room} > b.length) { W.reserve(out, p, ${room}); b = out.buffer; d = out.view; }`;
    if (i === 0) {
      lines.push(reserve, store(keys[0]), 'p = W.number(out, p, f.version); b = out.buffer; d = out.view;');
      return;
    }
    lines.push(`v = f[${JSON.stringify(name)}];`, `if (v !== undefined) { ${reserve} ${store(keys[i])} p = ${write}; b = out.buffer; d = out.view; }`);
  });
  lines.push('if (p + 1 > b.length) { W.reserve(out, p, 1); b = out.buffer; d = out.view; }', 'b[p] = 0x7d;', 'out.pos = p + 1;');
  return new Function('W', 'J', `return function writeRecord(f, out) {\n${lines.join('\n')}\n};`)(W, fallback) as RecordWriter;
}
