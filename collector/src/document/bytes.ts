import { latin1Write, utf8Write } from '../shared/buffer-access.js';

/**
 * A growable output buffer that documents are serialised straight into. Performance: building JSON as
 * strings and encoding them afterwards costs twice (rope flattening, then UTF-8 encoding); writing bytes once
 * into the buffer that goes to the file or the socket is the cheapest way out.
 */
const viewOf = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.length);

/** Buffers given back kept for take(): the one being filled takes turns with those being written or sent. */
const SPARE_BUFFERS = 2;

export class ByteBuffer {
  buffer: Buffer;
  /** The same bytes, for the compiled writers' 32-bit stores (record-writer.ts). */
  view: DataView;
  pos = 0;
  private readonly spares: Buffer[] = [];

  /** A new buffer of `initial` bytes, or the given one to write into from its start. */
  constructor(initial: number | Buffer = 1 << 20) {
    this.buffer = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
    this.view = viewOf(this.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
    this.view = viewOf(grown);
  }

  /** Text known to be ASCII (keys, numbers, addresses, times). */
  ascii(text: string): void {
    this.ensure(text.length);
    this.pos += latin1Write(this.buffer, text, this.pos);
  }

  utf8(text: string): void {
    this.ensure(text.length * 3);
    this.pos += utf8Write(this.buffer, text, this.pos);
  }

  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.pos++] = value;
  }

  get length(): number {
    return this.pos;
  }

  /**
   * The bytes written so far; writing continues in a buffer given back (giveBack) or a fresh one of the same capacity
   * (no copy).
   */
  take(): Buffer {
    const out = this.buffer.subarray(0, this.pos);
    const spare = this.spares.pop();
    this.buffer = spare !== undefined && spare.length >= this.buffer.length ? spare : Buffer.allocUnsafe(this.buffer.length);
    this.view = viewOf(this.buffer);
    this.pos = 0;
    return out;
  }

  /**
   * Bytes take() returned, no longer needed (written, sent): their buffer is filled again by a later take(), up to
   * SPARE_BUFFERS of them; anything else (a copy, a buffer of another size) is left to the garbage collector.
   * Performance: a fresh multi-MiB buffer per chunk or batch was memory the kernel faulted in page by page, and
   * external memory that made V8 run a mark-compact several times a second; with them the pipeline's own functions
   * ran 1.5 to 4 times slower per record (caches). The outputs' own comments give what it cost them.
   */
  giveBack(taken: Buffer): void {
    if (taken.byteOffset !== 0 || taken.buffer.byteLength !== this.buffer.length || this.spares.length >= SPARE_BUFFERS) return;
    this.spares.push(Buffer.from(taken.buffer, 0, taken.buffer.byteLength));
  }

  /** A copy of the bytes written so far, of their own size; writing starts over in this buffer. */
  takeCopy(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buffer.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }

  /** The bytes written so far as text; the buffer starts over. */
  takeString(): string {
    const text = this.buffer.toString('utf8', 0, this.pos);
    this.pos = 0;
    return text;
  }
}
