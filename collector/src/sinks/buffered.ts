import type { DocumentOptions, FlowDocument } from '../document/document.js';
import type { InternalEvents } from '../telemetry/events.js';
import type { Sink } from './types.js';

/** Flush early once this much text is buffered, whatever the interval: keeps memory and write sizes bounded. */
const FLUSH_AT_CHARS = 4 * 1024 * 1024;

/**
 * Shared by the text sinks (file, stdout): documents are serialised on arrival into one buffer, written as one
 * chunk at most every `flushIntervalMs` (or sooner when large), one write at a time.
 */
export abstract class BufferedTextSink implements Sink {
  abstract readonly name: string;
  private chunks: string[] = [];
  private chars = 0;
  private documents = 0;
  private inFlight = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  protected healthy = true;

  constructor(
    protected readonly events: InternalEvents,
    protected readonly documentOptions: DocumentOptions,
    private readonly flushIntervalMs: number,
  ) {}

  /** Text of one document as this sink writes it (ending in a newline). */
  protected abstract format(document: FlowDocument): string;
  /** Writes one chunk durably enough for this sink; rejects on failure. */
  protected abstract writeChunk(text: string, documents: number): Promise<void>;

  write(documents: readonly FlowDocument[]): void {
    if (this.closed) throw new Error(`${this.name} sink is closed`);
    for (const document of documents) {
      const text = this.format(document);
      this.chunks.push(text);
      this.chars += text.length;
    }
    this.documents += documents.length;
    if (this.chars >= FLUSH_AT_CHARS) void this.flush();
    else if (!this.timer && this.documents > 0) this.timer = setTimeout(() => void this.flush(), this.flushIntervalMs);
  }

  get queued(): number {
    return this.documents + this.inFlight;
  }

  ready(): boolean {
    return this.healthy;
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.documents === 0) return this.writing;
    const text = this.chunks.join('');
    const count = this.documents;
    this.chunks = [];
    this.chars = 0;
    this.documents = 0;
    this.inFlight += count;
    this.writing = this.writing.then(async () => {
      const started = process.hrtime.bigint();
      try {
        await this.writeChunk(text, count);
        this.healthy = true;
        this.events.sinkWritten(this.name, count, Number(process.hrtime.bigint() - started) / 1e9);
      } catch (error) {
        this.healthy = false;
        this.events.sinkFailed(this.name, count, error as Error);
      } finally {
        this.inFlight -= count;
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.release();
  }

  protected async release(): Promise<void> {}
}
