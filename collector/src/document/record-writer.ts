import type { DecodedRecord, RecordLayout } from '../decoders/template.js';

/** JSON of a value the record writer has no fast path for (objects, bigints in arrays, floats...). */
export type ValueWriter = (value: unknown) => string;

export type RecordSerializer = (fields: DecodedRecord) => string;

const LEARN_RECORDS = 1024;
const REVIEW_EVERY_RECORDS = 65_536;
const STABLE_MISS_RATE = 0.02;
const BLOCK_MISS_RATE = 0.25;

/**
 * The JSON writer of one record layout, compiled: constant pre-escaped keys, and per value only the checks its
 * kind needs. Performance (numbers from npm run bench, 80-field Antrea records):
 * - each field keeps its last value and its JSON fragment (`,"key":value`), flattened once: values repeat from
 *   one record to the next, and a repeated fragment is one flat piece instead of several small ones;
 * - after the first records, fields that almost never change (names, namespaces, nodes, policies, addresses of
 *   Services) are written as one cached block, rebuilt only when one of them changes, and the others one by one.
 *   That halves the pieces V8 must concatenate and then flatten when the document is encoded. Fields then come
 *   out in another order (stable block first), which JSON readers do not see; the content is the same.
 * Undefined values are left out, as JSON.stringify does.
 */
export function compileRecordWriter(layout: RecordLayout, escapeFree: boolean, writeValue: ValueWriter, escapes: RegExp): RecordSerializer {
  // Every record starts with `version`, always set: so every later key is written with its leading comma.
  const [first, ...rest] = layout.names;
  if (first !== 'version') throw new Error(`record layout must start with version, not ${first}`);
  const last = new Array<unknown>(rest.length).fill(undefined);
  const fragments = new Array<string>(rest.length).fill('');
  const misses = new Uint32Array(rest.length);

  /** Code that sets `t` to the fragment of field i for value `v` (cached in L/F), or '' when v is undefined. */
  const fragmentCode = (name: string, i: number): string => {
    const key = JSON.stringify(name);
    const prefix = JSON.stringify(`,${key}:`);
    const quoted = JSON.stringify(`,${key}:"`);
    let fresh: string;
    switch (layout.kinds[i + 1]) {
      case 'integer': // always set, a number or a bigint: its text is exact for both
        fresh = `${prefix} + v`;
        break;
      case 'plain':
        fresh = `${quoted} + v + '"'`;
        break;
      default:
        // Strings of a record the decoder found escape-free (and what enrichment derives from them) skip the check.
        fresh = escapeFree
          ? `(typeof v === 'string' ? ${quoted} + v + '"' : ${prefix} + J(v))`
          : `(typeof v === 'string' && !E.test(v) ? ${quoted} + v + '"' : ${prefix} + J(v))`;
    }
    return `v = f[${key}]; if (v === undefined) t = ''; else if (v === L[${i}]) t = F[${i}]; else { M[${i}]++; L[${i}] = v; t = F[${i}] = ${fresh}; t.charCodeAt(0); }`;
  };

  const build = (stable: number[]): RecordSerializer => {
    const stableSet = new Set(stable);
    const volatile = rest.map((_, i) => i).filter((i) => !stableSet.has(i));
    const lines = [`let s = '{"version":' + f_version; let v; let t;`];
    if (stable.length > 0) {
      const same = stable.map((i, j) => `f[${JSON.stringify(rest[i])}] === S[${j}]`).join(' && ');
      lines.push(`if (${same}) s += B[0]; else {`, '  BM[0]++; let b = \'\';');
      stable.forEach((i, j) => lines.push(`  ${fragmentCode(rest[i], i)} S[${j}] = v; b += t;`));
      lines.push('  b.charCodeAt(0); B[0] = b; s += b;', '}');
    }
    for (const i of volatile) lines.push(`${fragmentCode(rest[i], i)} s += t;`);
    lines.push('C[0]++; if (C[0] === C[1]) R();', "return s + '}';");
    const body = lines.join('\n').replace('f_version', 'f.version');
    const state = { S: new Array<unknown>(stable.length).fill(Symbol('unset')), B: [''], BM: new Uint32Array(1) };
    const writer = new Function('J', 'E', 'L', 'F', 'M', 'S', 'B', 'BM', 'C', 'R', `return function writeRecord(f) {\n${body}\n};`)(
      writeValue, escapes, last, fragments, misses, state.S, state.B, state.BM, counter, review,
    ) as RecordSerializer;
    blockMisses = state.BM;
    return writer;
  };

  // C[0]: records written in this phase; C[1]: when to review the phase.
  const counter = new Float64Array([0, LEARN_RECORDS]);
  let blockMisses = new Uint32Array(1);
  let learning = true;
  let current: RecordSerializer;
  function review(): void {
    const records = counter[0];
    if (learning) {
      const stable = rest.map((_, i) => i).filter((i) => misses[i] / records < STABLE_MISS_RATE);
      learning = false;
      current = build(stable);
      counter[1] = REVIEW_EVERY_RECORDS;
    } else if (blockMisses[0] / records > BLOCK_MISS_RATE) {
      // The traffic changed (the block is rebuilt too often): learn again which fields are stable.
      learning = true;
      current = build([]);
      counter[1] = LEARN_RECORDS;
    } else {
      blockMisses[0] = 0;
    }
    counter[0] = 0;
    misses.fill(0);
  }
  current = build([]);
  return (fields) => current(fields);
}
