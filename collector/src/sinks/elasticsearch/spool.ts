import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pairOffsets, type Batch } from './batch.js';

const FILE = /^batch-(\d{16})\.ndjson$/;

/**
 * Batches waiting on disk while Elasticsearch is down or slow: one file per batch (a ready _bulk body), named in
 * order, written atomically, deleted when settled. Survives restarts: a new process picks up what is there.
 * Bounded: past maxBytes the oldest batch is deleted and reported, which is data loss by configuration.
 */
export class DiskSpool {
  private files: { name: string; bytes: number }[] = [];
  private bytes = 0;
  private counter = 0;
  private readonly leased = new Set<string>();

  constructor(
    private readonly directory: string,
    private readonly maxBytes: number,
    private readonly onEvicted: (file: string, documents: number, bytes: number) => void,
  ) {}

  async open(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const names = (await readdir(this.directory)).filter((n) => FILE.test(n)).sort();
    for (const name of names) {
      const { size } = await stat(join(this.directory, name));
      this.files.push({ name, bytes: size });
      this.bytes += size;
    }
    const last = names[names.length - 1];
    this.counter = last ? Number(FILE.exec(last)![1]) + 1 : 0;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  get batches(): number {
    return this.files.length;
  }

  async append(batch: Batch): Promise<void> {
    const name = `batch-${String(this.counter++).padStart(16, '0')}.ndjson`;
    const path = join(this.directory, name);
    await writeFile(`${path}.tmp`, batch.body);
    await rename(`${path}.tmp`, path);
    this.files.push({ name, bytes: batch.body.length });
    this.bytes += batch.body.length;
    while (this.bytes > this.maxBytes && this.files.length > 1) {
      const oldest = this.files.find((f) => !this.leased.has(f.name));
      if (!oldest || oldest.name === name) break;
      const body = await readFile(join(this.directory, oldest.name));
      await this.remove(oldest.name);
      this.onEvicted(oldest.name, pairOffsets(body).length - 1, body.length);
    }
  }

  /** The oldest batch not already being sent, or undefined. It stays on disk until settle(). */
  async take(): Promise<Batch | undefined> {
    const file = this.files.find((f) => !this.leased.has(f.name));
    if (!file) return undefined;
    this.leased.add(file.name);
    const body = await readFile(join(this.directory, file.name));
    return { body, offsets: pairOffsets(body), spoolFile: file.name };
  }

  /** The batch read from this file is indexed, dead-lettered or re-queued: the file goes. */
  async settle(file: string): Promise<void> {
    await this.remove(file);
  }

  /** A leased batch goes back to waiting (its send failed). */
  release(file: string): void {
    this.leased.delete(file);
  }

  private async remove(name: string): Promise<void> {
    const index = this.files.findIndex((f) => f.name === name);
    if (index < 0) return;
    const [file] = this.files.splice(index, 1);
    this.bytes -= file.bytes;
    this.leased.delete(name);
    await unlink(join(this.directory, name)).catch(() => {});
  }
}
