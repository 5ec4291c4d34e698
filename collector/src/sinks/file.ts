import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferedSink } from './buffered.js';
import { countedFailure, createEncoder } from './encoders.js';
import type { SinkContext, SinkFactory } from './types.js';

const FILE_PATTERN = /^flows-(\d{4}\.\d\d\.\d\d)-(\d{4})\.ndjson$/;

/**
 * The embedded default: Elasticsearch `_bulk` NDJSON files (a `create` action line with the document's deterministic
 * `_id`, then the document), one
 * series per day, a new part past maxFileBytes, the oldest parts deleted past maxTotalBytes. Any file loads with
 * `curl -H 'Content-Type: application/x-ndjson' --data-binary @FILE http://ES:9200/_bulk`.
 */
class FileSink extends BufferedSink {
  readonly name = 'file';
  private handle: FileHandle | undefined;
  private day = '';
  private part = 0;
  private size = 0;

  constructor(private readonly context: SinkContext) {
    const { config, events, documentOptions } = context;
    // The Elasticsearch output's pairs and _id: a file loaded twice (or after the output shipped it) indexes each record once.
    super(events, createEncoder('file', config, documentOptions, countedFailure(events)), config.output.file.flushIntervalMs);
  }

  private get settings() {
    return this.context.config.output.file;
  }

  protected async writeChunk(chunk: Buffer): Promise<void> {
    const bytes = chunk.length;
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '.');
    if (!this.handle || today !== this.day || (this.size > 0 && this.size + bytes > this.settings.maxFileBytes)) {
      await this.rotate(today);
    }
    await this.handle!.write(chunk);
    this.size += bytes;
  }

  /** Opens the next part (continuing after what a previous run left for the day) and enforces the total bound. */
  private async rotate(today: string): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    await mkdir(this.settings.directory, { recursive: true });
    if (today !== this.day) {
      this.day = today;
      const parts = (await this.files()).filter((f) => f.day === today).map((f) => f.part);
      this.part = parts.length > 0 ? Math.max(...parts) : 0;
    }
    this.part++;
    const name = `flows-${today}-${String(this.part).padStart(4, '0')}.ndjson`;
    this.handle = await open(join(this.settings.directory, name), 'a');
    this.size = (await this.handle.stat()).size;
    await this.enforceTotal(name);
  }

  private async files() {
    const names = await readdir(this.settings.directory);
    return names
      .map((name) => ({ name, match: FILE_PATTERN.exec(name) }))
      .filter((f) => f.match)
      .map((f) => ({ name: f.name, day: f.match![1], part: Number(f.match![2]) }))
      .sort((a, b) => (a.day === b.day ? a.part - b.part : a.day < b.day ? -1 : 1));
  }

  private async enforceTotal(current: string): Promise<void> {
    const files = await this.files();
    const sizes = await Promise.all(files.map((f) => stat(join(this.settings.directory, f.name)).then((s) => s.size)));
    let total = sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; i < files.length && total > this.settings.maxTotalBytes; i++) {
      if (files[i].name === current) break;
      await unlink(join(this.settings.directory, files[i].name));
      total -= sizes[i];
      this.events.sinkDiscarded(this.name, files[i].name, sizes[i]);
    }
  }

  protected override async release(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

export const createFileSink: SinkFactory = async (context) => {
  await mkdir(context.config.output.file.directory, { recursive: true });
  return new FileSink(context);
};
