import { latin1Write, utf8Write } from '../shared/buffer-access.js';

/**
 * A growable output buffer that documents are serialised straight into. Performance: building JSON as
 * strings and encoding them afterwards costs twice (rope flattening, then UTF-8 encoding); writing bytes once
 * into the buffer that goes to the file or the socket is the cheapest way out.
 */
const viewOf = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.length);

export class ByteBuffer {
  buffer: Buffer;
  /** The same bytes, for the compiled writers' 32-bit stores (record-writer.ts). */
  view: DataView;
  pos = 0;

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
   * The bytes written so far; writing continues in `next` (a buffer given back, see the Elasticsearch output) or a
   * fresh buffer of the same capacity (no copy).
   */
  take(next?: Buffer): Buffer {
    const out = this.buffer.subarray(0, this.pos);
    this.buffer = next !== undefined && next.length >= this.buffer.length ? next : Buffer.allocUnsafe(this.buffer.length);
    this.view = viewOf(this.buffer);
    this.pos = 0;
    return out;
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
