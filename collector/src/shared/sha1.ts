/**
 * SHA-1 (FIPS 180-4) of short inputs written into a scratch buffer, its digest written in base64 straight into an
 * output buffer. For the document `_id` (document-id.ts), hashed once per document on the hot path, and for a flow's
 * Community ID (document/ecs.ts) when it is not kept already.
 *
 * Why not node:crypto: `crypto.hash('sha1', text, 'base64url')` needs the input as a string and returns one. Building
 * the `_id`'s text from five numbers (most past 2^31, so each a double-to-string conversion), the native call and the
 * string it returns, and writing that string: 0.61-0.75 µs per Flow Aggregator document; its octets written in place
 * and hashed here: 0.29-0.32 µs, nothing allocated (alternating slices in one process). A JavaScript library
 * (@noble/hashes) allocates a hash object and a digest per call and runs its rounds in a loop over a schedule array
 * (not measured here; the loop form alone took twice as long, see compileBlock).
 * Checked against node:crypto on every input length up to 200 octets (test/document-id.test.ts).
 */

const K = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6];
const F = ['((b & c) | (~b & d))', '(b ^ c ^ d)', '((b & c) | (b & d) | (c & d))', '(b ^ c ^ d)'];

/**
 * The compression function, its 80 rounds unrolled over the 16 schedule words held in locals: with the rounds in
 * loops over a schedule array a block took about twice as long (bounds-checked loads and stores of that array).
 */
function compileBlock(): (h: Int32Array, v: DataView, offset: number) => void {
  let src = "'use strict';\nlet a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], t = 0;\n";
  for (let i = 0; i < 16; i++) src += `let w${i} = v.getInt32(offset + ${4 * i});\n`;
  for (let round = 0; round < 80; round++) {
    const w = `w${round % 16}`;
    if (round >= 16) src += `t = w${(round - 3) % 16} ^ w${(round - 8) % 16} ^ w${(round - 14) % 16} ^ ${w}; ${w} = (t << 1) | (t >>> 31);\n`;
    const stage = Math.floor(round / 20);
    src += `t = (((a << 5) | (a >>> 27)) + ${F[stage]} + e + ${K[stage] | 0} + ${w}) | 0; e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;\n`;
  }
  src += 'h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0; h[4] = (h[4] + e) | 0;\n';
  return new Function('h', 'v', 'offset', src) as (h: Int32Array, v: DataView, offset: number) => void;
}

const block = compileBlock();
const BASE64URL = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'latin1');
const BASE64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');

/** Characters of a SHA-1 digest in base64url without padding (160 bits in sextets). */
export const SHA1_BASE64URL_LENGTH = 27;
/** Characters of a SHA-1 digest in base64 with its padding (one `=`). */
export const SHA1_BASE64_LENGTH = 28;

export class Sha1Scratch {
  /** The input, written by the caller from offset 0; room for the padding past `maxInput` octets. */
  readonly input: Uint8Array;
  /** The longest input digest() takes. */
  readonly maxInput: number;
  private readonly view: DataView;
  private readonly h = new Int32Array(5);
  private readonly digestBytes = new Uint8Array(20);
  private readonly digestView = new DataView(this.digestBytes.buffer);

  constructor(maxInput: number) {
    this.maxInput = maxInput;
    this.input = new Uint8Array((Math.floor((maxInput + 8) / 64) + 1) * 64);
    this.view = new DataView(this.input.buffer);
  }

  /** The digest of input[0, n) (n ≤ maxInput); the padding overwrites the input past n. */
  digest(n: number): void {
    const h = this.h;
    h[0] = 0x67452301;
    h[1] = 0xefcdab89 | 0;
    h[2] = 0x98badcfe | 0;
    h[3] = 0x10325476;
    h[4] = 0xc3d2e1f0 | 0;
    const end = (Math.floor((n + 8) / 64) + 1) * 64;
    this.input[n] = 0x80;
    this.input.fill(0, n + 1, end - 4);
    this.view.setUint32(end - 4, n * 8); // the length in bits; inputs here are far below 2^29 octets
    for (let offset = 0; offset < end; offset += 64) block(h, this.view, offset);
    for (let i = 0; i < 5; i++) this.digestView.setInt32(4 * i, h[i]);
  }

  /** The last digest in base64url without padding, SHA1_BASE64URL_LENGTH octets at out[p]; returns the end. */
  writeBase64url(out: Uint8Array, p: number): number {
    return this.writeSextets(out, p, BASE64URL);
  }

  /** The last digest in base64 with its padding, SHA1_BASE64_LENGTH octets at out[p]; returns the end. */
  writeBase64(out: Uint8Array, p: number): number {
    const end = this.writeSextets(out, p, BASE64);
    out[end] = 0x3d; // '='
    return end + 1;
  }

  private writeSextets(out: Uint8Array, p: number, alphabet: Uint8Array): number {
    const d = this.digestBytes;
    for (let i = 0; i < 18; i += 3) {
      const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      out[p] = alphabet[v >>> 18];
      out[p + 1] = alphabet[(v >>> 12) & 63];
      out[p + 2] = alphabet[(v >>> 6) & 63];
      out[p + 3] = alphabet[v & 63];
      p += 4;
    }
    const v = (d[18] << 8) | d[19];
    out[p] = alphabet[v >>> 10];
    out[p + 1] = alphabet[(v >>> 4) & 63];
    out[p + 2] = alphabet[(v << 2) & 63];
    return p + 3;
  }
}
