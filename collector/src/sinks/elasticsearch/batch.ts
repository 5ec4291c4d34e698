/**
 * A bulk request body: `create` action lines, each followed by its document, and where each pair starts, so that
 * the items Elasticsearch answers with can be matched to their lines (item i is pair i).
 */
export interface Batch {
  body: Buffer;
  /** Offset of each action line in body, plus body.length at the end. */
  offsets: number[];
}

export const batchDocuments = (batch: Batch): number => batch.offsets.length - 1;

/** Pairs [i] of a batch, as a new batch (the items to retry). */
export function subBatch(batch: Batch, indexes: number[]): Batch {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let length = 0;
  for (const i of indexes) {
    const part = batch.body.subarray(batch.offsets[i], batch.offsets[i + 1]);
    offsets.push(length);
    parts.push(part);
    length += part.length;
  }
  offsets.push(length);
  return { body: Buffer.concat(parts, length), offsets };
}

/** Offsets of the pairs of a body read back from disk (two lines per document). */
export function pairOffsets(body: Buffer): number[] {
  const offsets = [0];
  let lines = 0;
  for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) {
    if (++lines % 2 === 0) offsets.push(i + 1);
  }
  if (offsets[offsets.length - 1] !== body.length) throw new Error('bulk body does not end with a whole document');
  return offsets;
}

/** The action and document of pair i, as text (for the dead-letter file). */
export function pairText(batch: Batch, i: number): { action: string; document: string } {
  const text = batch.body.toString('utf8', batch.offsets[i], batch.offsets[i + 1]);
  const newline = text.indexOf('\n');
  return { action: text.slice(0, newline), document: text.slice(newline + 1, text.length - 1) };
}
