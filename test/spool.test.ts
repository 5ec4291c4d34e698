// The Elasticsearch output's write-ahead spool on its own: what a restart finds after settled batches, a torn
// write (a crash inside an append), and a spool left by the previous format.
import { appendFileSync, mkdtempSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WriteAheadSpool } from '../collector/src/sinks/elasticsearch/spool.js';

const body = (n: number) => Buffer.from(`{"create":{"_index":"flow-2023.11.14","_id":"id-${n}"}}\n{"n":${n}}\n`);
const spool = (directory: string, segmentMaxBytes = 1 << 20) => new WriteAheadSpool({ directory, segmentMaxBytes, fsync: true });

describe('write-ahead spool', () => {
  it('groups appends that arrive together into one write, and a restart finds exactly the batches not settled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-wal-'));
    const groups: number[] = [];
    const first = new WriteAheadSpool({ directory: dir, segmentMaxBytes: 1 << 20, fsync: true, onWrite: (_o, _s, batches) => groups.push(batches) });
    expect(await first.open()).toEqual([]);
    const entries = await Promise.all(Array.from({ length: 10 }, (_, i) => first.append(body(i), 1, 0)));
    expect(groups[0]).toBe(1); // the first write starts at once; the nine that came meanwhile share the next
    expect(groups.slice(1)).toEqual([9]);
    expect(first.documents).toBe(10);
    for (const e of entries.filter((_, i) => i % 2 === 0)) first.settle(e);
    expect(first.documents).toBe(5);
    expect((await first.read(entries[3])).toString()).toBe(body(3).toString());
    await first.close();

    const second = spool(dir);
    const left = await second.open();
    expect(await Promise.all(left.map(async (e) => (await second.read(e)).toString()))).toEqual([1, 3, 5, 7, 9].map((n) => body(n).toString()));
    for (const e of left) second.settle(e);
    await second.close();
    // Everything settled: a third start finds nothing, and the old segments are gone.
    const third = spool(dir);
    expect(await third.open()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ignores a torn last append (it was never reported durable, so never sent) and keeps what came before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-wal-'));
    const first = spool(dir);
    await first.open();
    await first.append(body(1), 1, 0);
    await first.append(body(2), 1, 0);
    await first.close();
    const [segment] = readdirSync(dir);
    truncateSync(join(dir, segment), statSync(join(dir, segment)).size - 5); // the second append cut short
    appendFileSync(join(dir, segment), Buffer.alloc(3)); // and garbage after it
    const second = spool(dir);
    const left = await second.open();
    expect(left).toHaveLength(1);
    expect((await second.read(left[0])).toString()).toBe(body(1).toString());
    // New appends go to a new segment, never after the torn tail.
    await second.append(body(3), 1, 0);
    await second.close();
    expect(readdirSync(dir)).toHaveLength(2);
    expect((await spool(dir).open()).map((e) => e.documents)).toEqual([1, 1]);
  });

  it('deletes segments oldest first once all of their batches are settled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-wal-'));
    const s = spool(dir, 64 * 1024);
    await s.open();
    const big = (n: number) => Buffer.concat([body(n), Buffer.from(`${' '.repeat(40_000)}\n`)]).subarray(0, 40_000);
    const entries = [];
    for (let i = 0; i < 4; i++) entries.push(await s.append(big(i), 1, 0));
    expect(readdirSync(dir)).toHaveLength(4); // a second 40 kB batch would take a segment past 64 kB
    const before = s.sizeBytes;
    s.settle(entries[1]); // a newer segment settled first stays until the older one is
    await new Promise((r) => setTimeout(r, 20));
    expect(s.sizeBytes).toBe(before);
    s.settle(entries[0]);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.sizeBytes).toBeLessThan(before);
    await s.close();
  });

  it('finds, at the next start, a batch that was being filled when its process died, and reports it only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-wal-'));
    const first = spool(dir);
    await first.open();
    const sealed = first.openFill();
    await first.append(body(1), 1, sealed);
    first.openFill(); // filling, never sealed: the process is killed now (no close)
    await new Promise((r) => setTimeout(r, 50));
    const second = spool(dir);
    await second.open();
    expect(second.lostFills).toHaveLength(1);
    await second.close();
    const third = spool(dir);
    await third.open();
    expect(third.lostFills).toEqual([]);
    await third.close();
  });

  it('carries a spool of the previous format (one _bulk file per batch) over into the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-wal-'));
    writeFileSync(join(dir, 'batch-0000000000000007.ndjson'), Buffer.concat([body(1), body(2)]));
    writeFileSync(join(dir, 'batch-0000000000000008.ndjson'), '{"create":{}}\n{"torn'); // a torn write of the old version
    const s = spool(dir);
    const left = await s.open();
    expect(left.map((e) => e.documents)).toEqual([2]);
    await s.close();
    expect(readdirSync(dir).filter((n) => n.endsWith('.ndjson'))).toEqual(['batch-0000000000000008.ndjson']);
  });
});
