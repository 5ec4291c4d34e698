import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { documentId, writeDocumentId, DOCUMENT_ID_ROOM } from '../collector/src/document/document-id.js';
import type { FlowDocument, RecordOrigin } from '../collector/src/document/document.js';
import { Sha1Scratch } from '../collector/src/shared/sha1.js';

const sha1Hex = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');

function digestHex(scratch: Sha1Scratch, bytes: Uint8Array): string {
  scratch.input.set(bytes);
  scratch.digest(bytes.length);
  const out = Buffer.alloc(27);
  scratch.writeBase64url(out, 0);
  return Buffer.from(out.toString('latin1'), 'base64url').toString('hex');
}

const doc = (host: string, origin: RecordOrigin): FlowDocument => ({
  timestamp: '2024-01-31T23:59:59.999Z', host, fields: {}, layout: { names: [], kinds: [] }, origin, ecs: false,
});
const idText = (d: FlowDocument) =>
  `${d.host}|${d.origin.domain}|${d.origin.exportTimeMs}|${d.origin.sequence}|${d.origin.setOffset}|${d.origin.index}`;
const expected = (d: FlowDocument) => createHash('sha1').update(idText(d)).digest('base64url');

describe('SHA-1 of the document id', () => {
  it('gives the FIPS 180 examples', () => {
    const scratch = new Sha1Scratch(200);
    expect(digestHex(scratch, Buffer.from('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(digestHex(scratch, Buffer.from(''))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(digestHex(scratch, Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))
      .toBe('84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  });

  it('equals node:crypto for every input length up to its maximum, padding over one, two and four blocks', () => {
    const scratch = new Sha1Scratch(200);
    for (let n = 0; n <= 200; n++) {
      for (let k = 0; k < 3; k++) {
        const bytes = randomBytes(n);
        expect(digestHex(scratch, bytes), `length ${n}`).toBe(sha1Hex(bytes));
      }
    }
  });
});

describe('document id', () => {
  it('is the SHA-1 of the origin text, for the numbers and addresses exporters send', () => {
    const hosts = ['10.0.0.1', '192.168.255.254', '2001:db8::1', 'fd00:10:244:1:abcd:ef01:2345:6789', '::ffff:10.1.2.3', ''];
    const numbers = [0, 1, 9, 10, 99, 100, 65_535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 1_764_003_600_000, 2 ** 53 - 1, 10 ** 15];
    let checked = 0;
    for (const host of hosts) {
      for (let i = 0; i < numbers.length; i++) {
        const origin = {
          domain: numbers[i], exportTimeMs: numbers[(i + 3) % numbers.length], sequence: numbers[(i + 5) % numbers.length],
          setOffset: numbers[(i + 7) % numbers.length], index: numbers[(i + 11) % numbers.length],
        };
        const d = doc(host, origin);
        expect(documentId(d), idText(d)).toBe(expected(d));
        checked++;
      }
    }
    expect(checked).toBe(hosts.length * numbers.length);
  });

  it('is the SHA-1 of the text for values no decoder makes: fractions, negatives, NaN, non-ASCII and long hosts', () => {
    const base = { domain: 1, exportTimeMs: 1_764_003_600_000, sequence: 2, setOffset: 16, index: 0 };
    const cases: FlowDocument[] = [
      doc('10.0.0.1', { ...base, exportTimeMs: 1.5 }),
      doc('10.0.0.1', { ...base, domain: -1 }),
      doc('10.0.0.1', { ...base, sequence: Number.NaN }),
      doc('10.0.0.1', { ...base, index: 2 ** 53 }), // past the safe integers: its text is 9007199254740992
      doc('10.0.0.1', { ...base, setOffset: 1e21 }), // written as 1e+21
      doc('10.0.0.1', { ...base, index: -0 }),
      doc('hôte-é', base),
      doc('exporter-' + 'x'.repeat(200), base), // a host longer than the scratch input: hashed from its text
      doc('e'.repeat(180), { ...base, exportTimeMs: 2 ** 53 - 1 }), // 200 octets up to the sequence number, which does not fit
      doc('e'.repeat(175), { ...base, exportTimeMs: 2 ** 53 - 1, setOffset: 1 }), // exactly 200 octets: in place
      doc(undefined as unknown as string, base), // no host at all (the type forbids it): the text says "undefined"
    ];
    for (const d of cases) expect(documentId(d), idText(d)).toBe(expected(d));
  });

  it('writes the id as a JSON string at the position given, touching nothing around it', () => {
    const d = doc('10.0.0.1', { domain: 7, exportTimeMs: 1_764_003_600_000, sequence: 123_456, setOffset: 16, index: 2 });
    for (const host of ['10.0.0.1', 'hôte']) {
      const out = Buffer.alloc(DOCUMENT_ID_ROOM + 10, 0xee);
      const end = writeDocumentId({ ...d, host }, out, 5);
      expect(end).toBe(5 + DOCUMENT_ID_ROOM);
      expect(out.toString('latin1', 5, end)).toBe(JSON.stringify(expected({ ...d, host })));
      expect([...out.subarray(0, 5), ...out.subarray(end)].every((b) => b === 0xee)).toBe(true);
    }
  });
});
