import { open, mkdir, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pairOffsets } from './batch.js';

/**
 * The Elasticsearch output's write-ahead log. Every sealed batch (a ready `_bulk` body) is appended here and
 * made durable before it is sent; it is settled (an acknowledgement appended) once every item is indexed, a
 * duplicate or dead-lettered. A restart sends again whatever has no acknowledgement.
 *
 * Layout: append-only segment files `segment-<16 digits>.wal`, each a sequence of entries
 *   header (32 octets): magic, type, id (48 bits), body length, documents, fill number, check
 *   body, then a trailer (8 octets): magic and the body length again.
 * A torn tail (a crash inside a write) fails the header, trailer or body check and is ignored: it was never
 * acknowledged as durable, so its batch was never sent. Appends that arrive while a write is under way are
 * written together with one writev and one fdatasync (grouped commit), so the cost is one sync per group, not
 * per batch. A new process never appends to an old segment. Segments are deleted oldest first once every batch
 * in them is settled (so an acknowledgement is never deleted before the batch it refers to).
 *
 * Entry types: a batch; acknowledgements (ids of settled batches); fills opened (a batch started filling in
 * memory: its fill number, which the batch carries once sealed); fills reported lost. A fill opened that never
 * became a batch was in memory when its process died: found at the next start and reported (counted) once.
 */

const MAGIC = 0x31574645; // "EFW1"
const TRAILER_MAGIC = 0x45574645; // "EFWE"
const HEADER = 32;
const TRAILER = 8;
const BATCH = 1;
const ACKS = 2;
const OPENED = 3;
const LOST = 4;
type Mark = typeof ACKS | typeof OPENED | typeof LOST;
const SEGMENT = /^segment-(\d{16})\.wal$/;
/** Spool files of versions before the write-ahead log: one batch per file. Imported at open. */
const LEGACY = /^batch-\d{16}\.ndjson$/;
/** Acknowledgements need no sync of their own (a lost one only re-sends a batch, refused as a duplicate). */
const ACK_DELAY_MS = 200;

export interface SpoolEntry {
  readonly id: number;
  readonly segment: number;
  /** Offset of the body in its segment file. */
  readonly offset: number;
  readonly length: number;
  readonly documents: number;
}

export interface SpoolOptions {
  directory: string;
  /** A segment is closed and a new one started past this size. */
  segmentMaxBytes: number;
  /** fdatasync each group (and the directory when a segment is created). Off: durable against kill -9 only. */
  fsync: boolean;
  /** Called after each group is written: octets, seconds spent writing and syncing, batches in the group. */
  onWrite?: (octets: number, seconds: number, batches: number) => void;
}

interface Segment {
  number: number;
  bytes: number;
  /** Batches in it not yet settled. */
  live: number;
}

interface Pending {
  body: Buffer;
  documents: number;
  fill: number;
  resolve: (entry: SpoolEntry) => void;
  reject: (error: Error) => void;
}

function check(id: number, length: number, documents: number, fill: number): number {
  return (MAGIC ^ length ^ Math.imul(documents, 31) ^ (id % 0x1_0000_0000) ^ Math.imul(fill, 17)) >>> 0;
}

function header(type: number, id: number, length: number, documents: number, fill = 0): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt8(type, 4);
  h.writeUIntLE(id, 8, 6);
  h.writeUInt32LE(length, 16);
  h.writeUInt32LE(documents, 20);
  h.writeUInt32LE(fill, 24);
  h.writeUInt32LE(check(id, length, documents, fill), 28);
  return h;
}

function trailer(length: number): Buffer {
  const t = Buffer.alloc(TRAILER);
  t.writeUInt32LE(TRAILER_MAGIC, 0);
  t.writeUInt32LE(length, 4);
  return t;
}

const segmentName = (n: number) => `segment-${String(n).padStart(16, '0')}.wal`;

export class WriteAheadSpool {
  private readonly segments: Segment[] = [];
  private readonly live = new Map<number, SpoolEntry>();
  private current: { segment: Segment; file: FileHandle } | undefined;
  private nextId = 1;
  private nextSegment = 0;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  /** Acknowledgements, fills opened, fills reported lost: written with the next group, never synced on their own. */
  private marks: Record<Mark, number[]> = { [ACKS]: [], [OPENED]: [], [LOST]: [] };
  private nextFill = 1;
  /** Fill numbers of batches an earlier process was filling when it died (found by open()). */
  lostFills: number[] = [];
  private ackTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private liveDocuments = 0;
  private closed = false;

  constructor(private readonly options: SpoolOptions) {}

  /** Reads what earlier processes left: the batches not settled, oldest first. */
  async open(): Promise<SpoolEntry[]> {
    const { directory } = this.options;
    await mkdir(directory, { recursive: true });
    const names = (await readdir(directory)).sort();
    const batches: SpoolEntry[] = [];
    const acked = new Set<number>();
    const fills = { opened: new Set<number>(), sealed: new Set<number>(), lost: new Set<number>() };
    for (const name of names) {
      const m = SEGMENT.exec(name);
      if (!m) continue;
      const segment: Segment = { number: Number(m[1]), bytes: (await stat(join(directory, name))).size, live: 0 };
      this.segments.push(segment);
      this.nextSegment = segment.number + 1;
      await this.scan(segment, batches, acked, fills);
    }
    for (const set of Object.values(fills)) for (const f of set) this.nextFill = Math.max(this.nextFill, f + 1);
    this.lostFills = [...fills.opened].filter((f) => !fills.sealed.has(f) && !fills.lost.has(f));
    // Reported once: noted in the log so that the next start does not report them again.
    if (this.lostFills.length > 0) this.mark(LOST, this.lostFills);
    for (const entry of batches) {
      this.nextId = Math.max(this.nextId, entry.id + 1);
      if (acked.has(entry.id)) continue;
      this.live.set(entry.id, entry);
      this.liveDocuments += entry.documents;
      this.segments.find((s) => s.number === entry.segment)!.live++;
    }
    for (const id of acked) this.nextId = Math.max(this.nextId, id + 1);
    await this.collect();
    const recovered = [...this.live.values()];
    // The previous spool format (one batch per file): carried over into the log, then removed.
    for (const name of names.filter((n) => LEGACY.test(n))) {
      const body = await readFile(join(directory, name));
      try {
        recovered.push(await this.append(body, pairOffsets(body).length - 1, 0));
      } catch {
        continue; // not a whole bulk body: a write torn by a crash of the old version, never sent
      }
      await unlink(join(directory, name));
    }
    return recovered;
  }

  private async scan(
    segment: Segment,
    batches: SpoolEntry[],
    acked: Set<number>,
    fills: { opened: Set<number>; sealed: Set<number>; lost: Set<number> },
  ): Promise<void> {
    const file = await open(join(this.options.directory, segmentName(segment.number)), 'r');
    try {
      const h = Buffer.alloc(HEADER);
      const t = Buffer.alloc(TRAILER);
      for (let at = 0; at + HEADER + TRAILER <= segment.bytes; ) {
        await file.read(h, 0, HEADER, at);
        const type = h.readUInt8(4);
        const id = h.readUIntLE(8, 6);
        const length = h.readUInt32LE(16);
        const documents = h.readUInt32LE(20);
        const fill = h.readUInt32LE(24);
        const end = at + HEADER + length + TRAILER;
        if (h.readUInt32LE(0) !== MAGIC || h.readUInt32LE(28) !== check(id, length, documents, fill) || end > segment.bytes) break;
        await file.read(t, 0, TRAILER, at + HEADER + length);
        if (t.readUInt32LE(0) !== TRAILER_MAGIC || t.readUInt32LE(4) !== length) break;
        if (type === BATCH) {
          batches.push({ id, segment: segment.number, offset: at + HEADER, length, documents });
          if (fill > 0) fills.sealed.add(fill);
        } else {
          const body = Buffer.alloc(length);
          await file.read(body, 0, length, at + HEADER);
          const into = type === ACKS ? acked : type === OPENED ? fills.opened : type === LOST ? fills.lost : undefined;
          for (let i = 0; into && i + 8 <= length; i += 8) into.add(body.readUIntLE(i, 6));
        }
        at = end;
      }
    } finally {
      await file.close();
    }
  }

  /** Octets on disk, plus those waiting to be written: what the spool bound and backpressure are measured on. */
  get sizeBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0) + this.pendingBytes;
  }

  /** Documents in batches not settled. */
  get documents(): number {
    return this.liveDocuments;
  }

  get batches(): number {
    return this.live.size;
  }

  /**
   * A batch starts filling in memory: its fill number is noted (with the next write, unsynced: a process death,
   * not a power loss, is what it is there for) so that a start after a crash can tell that it was lost.
   */
  openFill(): number {
    const fill = this.nextFill++;
    if (!this.closed) this.mark(OPENED, [fill]);
    return fill;
  }

  /**
   * Appends a batch (its fill number, or 0 for a batch of retried items); resolves once it is written (and
   * synced, with fsync on), together with whatever came meanwhile.
   */
  append(body: Buffer, documents: number, fill: number): Promise<SpoolEntry> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ body, documents, fill, resolve, reject });
      this.pendingBytes += HEADER + body.length + TRAILER;
      this.schedule();
    });
  }

  /** A spooled batch's body (when it is no longer held in memory). */
  async read(entry: SpoolEntry): Promise<Buffer> {
    const file = await open(join(this.options.directory, segmentName(entry.segment)), 'r');
    try {
      const body = Buffer.allocUnsafe(entry.length);
      const { bytesRead } = await file.read(body, 0, entry.length, entry.offset);
      if (bytesRead !== entry.length) throw new Error(`spool segment ${segmentName(entry.segment)} is shorter than its index`);
      return body;
    } finally {
      await file.close();
    }
  }

  /** Every item of the batch is done with: acknowledged (written with the next group), its segment freed when empty. */
  settle(entry: SpoolEntry): void {
    if (!this.live.delete(entry.id)) return;
    this.liveDocuments -= entry.documents;
    const segment = this.segments.find((s) => s.number === entry.segment);
    if (segment) segment.live--;
    if (this.closed) return;
    this.mark(ACKS, [entry.id]);
    void this.collect();
  }

  private mark(type: Mark, values: number[]): void {
    this.marks[type].push(...values);
    if (type === OPENED) this.schedule(); // at once (or with the write under way's successor): a crash may come any time
    else this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      this.schedule();
    }, ACK_DELAY_MS);
  }

  private get marksPending(): boolean {
    return this.marks[ACKS].length + this.marks[OPENED].length + this.marks[LOST].length > 0;
  }

  /** Writes what is pending (acknowledgements included) and closes the segment. */
  async close(): Promise<void> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    while (this.writing || this.pending.length > 0 || this.marksPending) {
      this.schedule();
      await this.writing;
    }
    this.closed = true;
    await this.current?.file.close();
    this.current = undefined;
  }

  private schedule(): void {
    if (this.writing || this.closed) return;
    if (this.pending.length === 0 && !this.marksPending) return;
    this.writing = this.writeGroup().finally(() => {
      this.writing = undefined;
      if (this.pending.length > 0 || this.marks[OPENED].length > 0) this.schedule();
    });
  }

  private async writeGroup(): Promise<void> {
    const group = this.pending;
    const marks = this.marks;
    this.pending = [];
    this.marks = { [ACKS]: [], [OPENED]: [], [LOST]: [] };
    const groupBytes = this.pendingBytes;
    const started = process.hrtime.bigint();
    try {
      const buffers: Buffer[] = [];
      for (const type of [ACKS, OPENED, LOST] as const) {
        const values = marks[type];
        if (values.length === 0) continue;
        const body = Buffer.alloc(values.length * 8);
        values.forEach((v, i) => body.writeUIntLE(v, i * 8, 6));
        buffers.push(header(type, 0, body.length, values.length), body, trailer(body.length));
      }
      const ackBytes = buffers.reduce((n, b) => n + b.length, 0);
      const current = await this.segmentFor(groupBytes + ackBytes);
      let at = current.segment.bytes + ackBytes;
      const entries: SpoolEntry[] = [];
      for (const p of group) {
        const id = this.nextId++;
        buffers.push(header(BATCH, id, p.body.length, p.documents, p.fill), p.body, trailer(p.body.length));
        entries.push({ id, segment: current.segment.number, offset: at + HEADER, length: p.body.length, documents: p.documents });
        at += HEADER + p.body.length + TRAILER;
      }
      await current.file.writev(buffers);
      if (this.options.fsync && group.length > 0) await current.file.datasync();
      current.segment.bytes = at;
      this.pendingBytes -= groupBytes;
      for (const [i, entry] of entries.entries()) {
        this.live.set(entry.id, entry);
        this.liveDocuments += entry.documents;
        current.segment.live++;
        group[i].resolve(entry);
      }
      this.options.onWrite?.(groupBytes + ackBytes, Number(process.hrtime.bigint() - started) / 1e9, group.length);
    } catch (error) {
      this.pendingBytes -= groupBytes;
      // The segment may hold a partial write now: start a new one for what comes next.
      await this.current?.file.close().catch(() => {});
      this.current = undefined;
      for (const p of group) p.reject(error as Error);
    }
  }

  /** The segment to append `bytes` to: the current one, or a new one past segmentMaxBytes. */
  private async segmentFor(bytes: number): Promise<{ segment: Segment; file: FileHandle }> {
    if (this.current && this.current.segment.bytes > 0 && this.current.segment.bytes + bytes > this.options.segmentMaxBytes) {
      await this.current.file.close();
      this.current = undefined;
      void this.collect();
    }
    if (!this.current) {
      const segment: Segment = { number: this.nextSegment++, bytes: 0, live: 0 };
      const file = await open(join(this.options.directory, segmentName(segment.number)), 'wx');
      if (this.options.fsync) {
        const dir = await open(this.options.directory, 'r');
        await dir.sync().finally(() => dir.close());
      }
      this.segments.push(segment);
      this.current = { segment, file };
    }
    return this.current;
  }

  /** Deletes settled segments, oldest first, never the one being written. */
  private async collect(): Promise<void> {
    while (this.segments.length > 0) {
      const oldest = this.segments[0];
      if (oldest.live > 0 || oldest === this.current?.segment) return;
      this.segments.shift();
      await unlink(join(this.options.directory, segmentName(oldest.number))).catch(() => {});
    }
  }
}
