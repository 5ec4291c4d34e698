import type { RecordLayout } from '../decoders/template.js';
import { internTable, textSlots } from '../decoders/values.js';
import type { ByteBuffer } from './bytes.js';
import * as W from './json-bytes.js';

/** JSON of a value the record writer has no fast path for (objects, arrays, bigints in arrays). */
export type ValueWriter = (value: unknown) => string;

/**
 * Writes one record's JSON object at out.pos and advances it. `textSlots` is where its decoder noted its texts'
 * intern slots (values.textAt; values.NO_TEXT_SLOTS for none).
 */
export type RecordWriter = (fields: Record<string, unknown>, out: ByteBuffer, textSlots: number) => void;

/**
 * Fields per compiled part (see compileRecordWriter). Writer stage alone, 60 alternating slices in one process: parts
 * of 8 took 0.5-0.65 µs less per Flow Aggregator record than one function; 4 and 16 the same as 8.
 */
const FIELDS_PER_PART = 8;

/**
 * The JSON writer of one record layout, compiled: constant keys as pre-encoded bytes, and per value only the
 * dispatch its kind needs, every byte written straight into the output buffer (json-bytes.ts). Fields come out in
 * layout order; undefined values are left out, as JSON.stringify does.
 */
export function compileRecordWriter(layout: RecordLayout, fallback: ValueWriter): RecordWriter {
  // Every record starts with `version`, always set: so every later key is written with its leading comma.
  if (layout.names[0] !== 'version') throw new Error(`record layout must start with version, not ${layout.names[0]}`);
  const keys = layout.names.map((name, i) => W.textBytes(i === 0 ? `{${JSON.stringify(name)}:` : `,${JSON.stringify(name)}:`));
  // Keys as 8-byte chunks (or 32-bit words, see ConstantBytes), a chunk per store (a byte loop cost more than all the
  // values together). A key's chunks are straight-line stores, not a loop: in one function for a whole record they
  // took TurboFan seconds to compile, in the parts below (FIELDS_PER_PART) milliseconds, and the writer stage took
  // 0.4-0.6 µs less per record than with the loop (alternating slices, each order once). A key's last chunk may run
  // past its end: the value after it overwrites those bytes, and the room reserved covers them.
  const chunks: number[] = [];
  const words: number[] = [];
  const at: number[] = [];
  for (const bytes of keys) {
    at.push(bytes.chunks ? chunks.length : words.length);
    if (bytes.chunks) chunks.push(...bytes.chunks);
    else words.push(...bytes.words);
  }
  const chunkTable = new Float64Array(chunks);
  const wordTable = new Uint32Array(words);
  const store = (i: number) => keys[i].chunks
    ? `${Array.from(keys[i].chunks!, (_, k) => `d.setFloat64(p${k ? ` + ${8 * k}` : ''}, C[${at[i] + k}]);`).join(' ')} p += ${keys[i].length};`
    : `p = W.key(d, p, K, ${at[i]}, ${at[i] + keys[i].words.length}, ${keys[i].length});`;
  // A field holding the very value of an earlier one (layout.copies) has that one's JSON copied from where it was
  // written: each source keeps the value it wrote (c<i>) and where its JSON lies (s<i>, e<i>).
  const sourcesOf = new Map<number, number[]>();
  for (const [copy, names] of Object.entries(layout.copies ?? {})) {
    const at = layout.names.indexOf(copy);
    const sources = names.map((name) => layout.names.indexOf(name)).filter((j) => j > 0 && j < at);
    if (at > 0 && sources.length > 0) sourcesOf.set(at, sources);
  }
  const sources = [...new Set([...sourcesOf.values()].flat())];
  // Source state lives in the factory's scope, shared by the parts (see below); reset for each record.
  const state = sources.map((j) => `let c${j}, s${j} = 0, e${j} = 0;`);
  const reset = sources.map((j) => `c${j} = undefined;`).join(' ');
  const fieldLines: string[][] = [];
  const choices: W.ConstantBytes[] = [];
  const head: string[] = [];
  layout.names.forEach((name, i) => {
    const entry = layout.textEntries?.[i] ?? -1;
    // A text still in the intern slot its decoder noted (and needing no escapes) is copied from the slot's bytes.
    let write = layout.kinds[i] === 'integer' ? 'W.number(out, p, v)'
      : entry >= 0 ? `((x = T[t + ${entry}]) >= 0 && IT[x] === v && IC[x] === 1 ? W.internedText(out, p, IB, x * ${internTable.slotOctets}, v.length) : W.value(out, p, v, J))`
        : layout.kinds[i] === 'plain' ? 'W.plain(out, p, v, J)' : 'W.value(out, p, v, J)';
    // c<j> stays undefined while its field is unwritten (and v is not undefined here).
    for (const j of [...(sourcesOf.get(i) ?? [])].reverse()) write = `(v === c${j} ? W.written(out, p, s${j}, e${j}) : ${write})`;
    if (sources.includes(i)) write = `(s${i} = p, e${i} = ${write}, c${i} = v, e${i})`;
    // One of the few texts the field mostly holds (layout.choices): its JSON pre-encoded.
    for (const choice of [...(layout.choices?.[name] ?? [])].reverse()) {
      write = `(v === ${JSON.stringify(choice)} ? W.constant(out, p, CH[${choices.length}]) : ${write})`;
      choices.push(W.textBytes(JSON.stringify(choice)));
    }
    // Room for the key (and its last chunk) and a number; strings make their own room.
    const room = keys[i].length + W.CONSTANT_OVERRUN + W.NUMBER_ROOM;
    const reserve = `if (p + ${room} > b.length) { W.reserve(out, p, ${room}); b = out.buffer; d = out.view; }`;
    if (i === 0) {
      head.push(reserve, store(0), 'p = W.number(out, p, f.version);');
      return;
    }
    fieldLines.push([`v = f[${JSON.stringify(name)}];`, `if (v !== undefined) { ${reserve} ${store(i)} p = ${write}; b = out.buffer; d = out.view; }`]);
  });
  // The fields are written by parts of FIELDS_PER_PART each: TurboFan inlines callees into a function only up to a
  // budget of their bytecode, which one function for a whole record spent on a dozen of its 170 calls (the Flow
  // Aggregator's layout, node --trace-turbo-inlining), leaving the rest as calls.
  const parts: string[] = [];
  for (let k = 0; k < fieldLines.length; k += FIELDS_PER_PART) {
    parts.push(`function part${parts.length}(f, out, p, t) {\nlet b = out.buffer; let d = out.view; let v; let x;\n${fieldLines.slice(k, k + FIELDS_PER_PART).flat().join('\n')}\nreturn p;\n}`);
  }
  const body = ['let p = out.pos; let b = out.buffer; let d = out.view;', reset, ...head, ...parts.map((_, k) => `p = part${k}(f, out, p, t);`),
    'b = out.buffer;', 'if (p + 1 > b.length) { W.reserve(out, p, 1); b = out.buffer; }', 'b[p] = 0x7d;', 'out.pos = p + 1;'];
  // Strict: a name the generated code failed to declare is an error, not a global.
  return new Function('W', 'J', 'C', 'K', 'T', 'IT', 'IC', 'IB', 'CH', `'use strict';\n${state.join('\n')}\n${parts.join('\n')}\nreturn function writeRecord(f, out, t) {\n${body.join('\n')}\n};`)(
    W, fallback, chunkTable, wordTable, textSlots, internTable.texts, internTable.clean, internTable.bytes, choices) as RecordWriter;
}
