import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applicationId, ip6, isoMillis, isoNtp, str, uptimeMillis, type RecordScratch } from '../collector/src/decoders/values.js';
import { compileTemplate, type MessageHeader } from '../collector/src/decoders/template.js';
import { decodeRecords, newScratch, type FlowRecord } from '../collector/src/decoders/types.js';
import { ByteBuffer } from '../collector/src/document/bytes.js';
import { documentId } from '../collector/src/document/document-id.js';
import { buildDocument, serializeDocument, writeDocument, type FlowDocument } from '../collector/src/document/document.js';
import { textBytes } from '../collector/src/document/json-bytes.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { isoNanosWithinMs, parseIsoMs } from '../collector/src/shared/iso-time.js';
import { JsonText } from '../collector/src/shared/json-text.js';
import { dailyIndex, writeBulkCreate } from '../collector/src/sinks/bulk.js';
import { dataMessage, templateMessage, type LayoutField } from './support/antrea-encoder.js';
import { decodeAll, testPipeline } from './support/offline.js';
import { random } from './support/random.js';

const scratch = (): RecordScratch => ({ pos: 0, end: 0, badFields: 0, misfits: 0, notJsonObjects: 0, textSlots: 0 });

describe('value rendering', () => {
  it('formats times exactly as Date.prototype.toISOString, across days and years', () => {
    const s = scratch();
    const next = (() => { let x = 12345; return () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648); })();
    const samples = [0, 1, 999, 86_399_999, 86_400_000, -1, 1_700_000_000_123, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001];
    for (let i = 0; i < 20_000; i++) samples.push(Math.floor((next() - 0.3) * 4e12));
    for (const t of samples) expect(isoMillis(t, s)).toBe(new Date(t).toISOString());
    expect(isoMillis(9e15, s)).toBeUndefined();
    expect(s.badFields).toBe(1);
  });

  it('reads the times back as Date.parse does: every decoder-written time, odd shapes and invalid dates', () => {
    const s = scratch();
    const next = (() => { let x = 777; return () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648); })();
    // The old reading of the digits past the millisecond, the reference for the text not in the decoders' shape.
    const nanosWithin = (text: string) => {
      const dot = text.indexOf('.');
      const digits = dot > 0 ? text.slice(dot + 4, text.length - 1) : '';
      return digits.length > 0 ? Number(digits.padEnd(6, '0').slice(0, 6)) : 0;
    };
    const times: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor((next() - 0.3) * 4e12);
      times.push(isoMillis(ms, s)!, `${isoMillis(ms, s)!.slice(0, -1)}${String(i % 1000).padStart(3, '0')}Z`);
      times.push(isoNtp(2_208_988_800 + Math.floor(next() * 4e9), Math.floor(next() * 2 ** 32), s)!);
    }
    times.push('1900-01-01T00:00:00.000Z', '0099-12-31T23:59:59.999Z', '0100-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z',
      '+275760-09-13T00:00:00.000Z', '2025-02-29T10:00:00.000Z', '2024-02-29T10:00:00.000Z', '2025-02-31T00:00:00.000Z',
      '2025-04-31T12:00:00.000Z', '2025-02-32T00:00:00.000Z', '2025-00-10T00:00:00.000Z', '2025-13-10T00:00:00.000Z',
      '2025-01-01T24:00:00.000Z', '2025-01-01T24:30:00.000Z', '2025-01-01T23:60:00.000Z', '2025-01-01T23:59:60.000Z',
      '2025-01-01T00:00:00Z', '2025-01-01T00:00:00.5Z', '2025-01-01T00:00:00.1234Z', '2025-01-0aT00:00:00.000Z',
      '2025-01-01T00:00:00.0a0Z', '2025-01-01T00:00:00.000123a56Z', '2025-01-01 00:00:00.000Z', '2025-01-01T00:00:00.000+01:00',
      'not a time at all, 24 c', '', 'Z');
    for (const t of times) {
      expect(parseIsoMs(t), t).toBe(Date.parse(t));
      expect(isoNanosWithinMs(t), t).toBe(nanosWithin(t));
    }
    // Every nanosecond of a nine-digit time comes back.
    const ntp = isoNtp(3_818_448_000, 548_760, s)!;
    expect([parseIsoMs(ntp) % 1000, isoNanosWithinMs(ntp)]).toEqual([0, 127_768]);
  });

  it('turns v5/v9 uptimes into absolute times across the 32-bit uptime wrap', () => {
    const s = scratch();
    const secs = 1_700_000_000; // header clock: 2023-11-14T22:13:20Z
    // 1.5 s before the header's uptime, with the v5 header's sub-second clock.
    expect(uptimeMillis(10_000, 11_500, secs, 250_000_000, s)).toBe('2023-11-14T22:13:18.750Z');
    // The uptime wrapped 2 s ago; the flow started 1 s before the wrap.
    expect(uptimeMillis(0xffffffff - 999, 2000, secs, 0, s)).toBe('2023-11-14T22:13:17.000Z');
    // A value a few ms past the header's uptime is a flow that ended as the packet was built, not 49 days ago.
    expect(uptimeMillis(5005, 5000, secs, 0, s)).toBe('2023-11-14T22:13:20.005Z');
    expect(s.badFields).toBe(0);
  });

  it('keeps the nanoseconds of NTP-format times (dateTimeMicroseconds/Nanoseconds)', () => {
    const s = scratch();
    const ntp = 2_208_988_800 + 1_609_459_200; // 2021-01-01T00:00:00Z
    expect(isoNtp(ntp, 548_760, s)).toBe('2021-01-01T00:00:00.000127768Z'); // 548760 / 2^32 s = 127768.1 ns
    expect(isoNtp(ntp, 0x80000000, s)).toBe('2021-01-01T00:00:00.500000000Z');
    expect(isoNtp(ntp, 0xffffffff, s)).toBe('2021-01-01T00:00:00.999999999Z');
    expect(isoNtp(ntp + 1, 1, s)).toBe('2021-01-01T00:00:01.000000000Z');
  });

  it('structures applicationId per RFC 6759, PANA-L7-PEN with its enterprise number, nothing cut', () => {
    const app = (hex: string) => applicationId(Buffer.from(hex, 'hex'), 0, hex.length / 2);
    expect(app('01000000')).toBe('1..0'); // NBAR engine 1, selector 0: no trailing zero bytes dropped
    expect(app('0d000040')).toBe('13..64');
    expect(app('14000030448f34')).toBe('20..12356..36660'); // Fortinet (PEN 12356), selector 36660
    expect(app('0300000000000000000001')).toBe('3..0x00000000000000000001'); // a 10-octet selector
  });

  it('writes IPv6 addresses in RFC 5952 form', () => {
    const cases: [string, string][] = [
      ['20010db8000000000000000000000001', '2001:db8::1'],
      ['00000000000000000000000000000001', '::1'],
      ['00000000000000000000000000000000', '::'],
      ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
      ['fe800000000000005187 5cd8d750cdc9'.replace(' ', ''), 'fe80::5187:5cd8:d750:cdc9'],
    ];
    for (const [hex, text] of cases) expect(ip6(Buffer.from(hex, 'hex'), 0)).toBe(text);
  });

  it('keeps IPv6 addresses apart in its cache: 50,000 addresses that share words, each read twice', () => {
    // WHATWG URL's IPv6 serialiser is RFC 5952's form (for addresses that are not IPv4-mapped): an independent reference.
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const words = Array.from({ length: 16 }, () => random());
    const addresses = Array.from({ length: 50_000 }, () => {
      const b = Buffer.alloc(16);
      for (let w = 0; w < 4; w++) b.writeUInt32BE((random() >>> 16) % 3 === 0 ? 0 : words[(random() >>> 16) % 16], 4 * w);
      return b;
    }).filter((b) => !(b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0 && b.readUInt16BE(8) === 0 && b.readUInt16BE(10) === 0xffff));
    const expected = (b: Buffer) => new URL(`http://[${Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i).toString(16)).join(':')}]/`).hostname.slice(1, -1);
    for (let pass = 0; pass < 2; pass++) {
      for (const b of addresses) if (ip6(b, 0) !== expected(b)) expect(ip6(b, 0)).toBe(expected(b));
    }
  });

  it('reads strings: trims NUL padding, keeps invalid UTF-8 byte for byte, interns without mixing up collisions', () => {
    expect(str(Buffer.from('pod-a\0\0', 'latin1'), 0, 7)).toBe('pod-a');
    expect(str(Buffer.from('café', 'utf8'), 0, 5)).toBe('café');
    expect(str(Buffer.from([0x41, 0xc1, 0x42]), 0, 3)).toBe('A\u00c1B');
    const seen = new Map<string, string>();
    for (let i = 0; i < 50_000; i++) {
      const text = `ns-${i % 9000}`;
      const value = str(Buffer.from(text), 0, text.length);
      expect(value).toBe(text);
      seen.set(text, value);
    }
    expect(str(Buffer.from('a"b'), 0, 3)).toBe('a"b');
    // Same length, same first and last eight bytes: one intern slot, told apart byte for byte.
    for (let i = 0; i < 2000; i++) {
      const text = `payments-${String(i % 700).padStart(4, '0')}-deployment-suffix`;
      expect(str(Buffer.from(text), 0, text.length)).toBe(text);
    }
    // More names than slots, of every length from 1 to 40, each read from a buffer that is a slice of a larger one
    // at an odd offset: slots shared by names that differ anywhere, and bytes compared four at a time from there.
    const pool = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 30_000; i++) {
      const text = `${'abcdefghijklmnopqrstuvwxyz0123456789'.slice(0, i % 37)}-${i % 12_000}`.slice(-(1 + (i % 40)));
      const at = 1 + ((i * 7) % 1000);
      const slice = pool.subarray(at, at + 100);
      slice.write(`??${text}`, "latin1");
      expect(str(slice, 2, text.length)).toBe(text);
    }
    const long = 'x'.repeat(300);
    expect(str(Buffer.from(long), 0, long.length)).toBe(long);
  });
});

describe('document writer', () => {
  it('writes integers with the digits String() gives, across digit counts and the 1e9 split', () => {
    const values = [0, -0, 1, -1, 9, 10, 99, 100, 999_999_999, 1e9, 1e9 + 1, 4294967295, 4294967296, -2147483648, 123456789012345,
      Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 0.1, -1.5e-7];
    const next = random(11);
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(next() * 10 ** (i % 17)) * (i % 3 === 0 ? -1 : 1));
    const names = ['version', ...values.map((_, i) => `n${i}`)];
    const fields = Object.fromEntries(names.map((n, i) => [n, i === 0 ? 10 : values[i - 1]]));
    const doc: FlowDocument = {
      timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout: { names, kinds: names.map(() => 'integer' as const) },
      origin: { domain: 1, sequence: 0, setOffset: 16, index: 0, exportTimeMs: 0 }, ecs: false,
    };
    const text = serializeDocument(doc, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' });
    expect(text.slice(text.indexOf('"ipfix":{') + 8, -1)).toBe(JSON.stringify(fields));
  });

  it('writes what JSON.stringify writes, bigints exact, for awkward values', () => {
    const fields: Record<string, unknown> = {
      version: 10, flowset_id: 256, text: 'quote " back \\ tab \t nl \n', unicode: 'é ☃ 😀', lone: '\ud800x', empty: '',
      // From 32 characters on a text is checked by a regular expression and copied natively: each kind of character
      // that check must refuse, at either end of such a text.
      long: `${'k'.repeat(40)} ~!#[]`, longQuote: `${'q'.repeat(40)}"`, longBackslash: `\\${'b'.repeat(40)}`, longControl: `${'c'.repeat(40)}\u001f`,
      longDel: `\u007f${'d'.repeat(40)}`, longUnicode: `${'u'.repeat(40)}é`, longLone: `\udfff${'s'.repeat(40)}`, longNul: `${'n'.repeat(31)}\u0000`,
      nan: NaN, inf: Infinity, 'naïve ☃ "key"': 'x', neg: -0, float: 1.5, big: 2n ** 64n - 1n, list: [1n, 2], object: { a: 'b' }, nil: null, bool: true,
      gone: undefined,
    };
    const names = Object.keys(fields);
    const kinds = names.map((n) => (n === 'version' || n === 'flowset_id' ? 'integer' : 'any') as 'integer' | 'any');
    const doc: FlowDocument = {
      timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout: { names, kinds }, ecs: false,
      origin: { domain: 1, sequence: 0, setOffset: 16, index: 0, exportTimeMs: 0 },
    };
    const text = serializeDocument(doc, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' });
    const expected = JSON.stringify({ ...fields, big: 0, list: 0 }).replace('"big":0', `"big":${2n ** 64n - 1n}`).replace('"list":0', '"list":[1,2]');
    expect(text).toBe(`{"@timestamp":"2024-01-01T00:00:00.000Z","@version":"1","host":"192.0.2.1","type":"ipfix","ipfix":${expected}}`);
    // Written twice: the same bytes (nothing of the first write is left in the writer).
    expect(serializeDocument(doc, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' })).toBe(text);
  });

  it('is told by a compiled template which values are integers, plain text or anything', () => {
    // An integer read as "anything" would still be written right, only slower: nothing else would catch it.
    const template = compileTemplate({
      version: 10, templateId: 256, scopeFieldCount: 0,
      fields: [[7, 2], [1, 8], [2, 4], [4, 1], [10, 4], [8, 4], [150, 4], [154, 8], [82, 65535]].map(([id, length]) => ({ enterprise: 0, id, length })),
    }, { registry: ElementRegistry.builtin(), includeFlowsetId: false });
    const { names, kinds } = template.layout;
    expect(Object.fromEntries(names.map((name, i) => [name, kinds[i]]))).toEqual({
      version: 'integer', sourceTransportPort: 'integer', octetDeltaCount: 'integer', packetDeltaCount: 'integer', protocolIdentifier: 'integer',
      ingressInterface: 'integer', sourceIPv4Address: 'plain', flowStartSeconds: 'plain', flowStartMicroseconds: 'plain', interfaceName: 'any',
    });
  });

  it('writes plain values without checking them only when they are strings, short and long', () => {
    // `plain` (addresses, times, hex) is copied without the per-character check; a value no decoder wrote is
    // written as anything else would be.
    const fields: Record<string, unknown> = {
      version: 10, short: '10.0.0.1', long: '2001:db8:85a3:1234:5678:8a2e:370:7334', hex: 'ab'.repeat(300), number: 7, big: 2n ** 64n,
      labels: new JsonText('{"app":"web"}'), object: { a: 'b' }, nil: null,
    };
    const names = Object.keys(fields);
    const doc: FlowDocument = {
      timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout: { names, kinds: names.map((n) => (n === 'version' ? 'integer' : 'plain')) },
      origin: { domain: 1, sequence: 0, setOffset: 16, index: 0, exportTimeMs: 0 }, ecs: false,
    };
    const text = serializeDocument(doc, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' });
    expect(text.slice(text.indexOf('"ipfix":{') + 8, -1)).toBe(JSON.stringify({ ...fields, big: 0 }).replace('"big":0', `"big":${2n ** 64n}`));
  });

  it('copies a field holding the very value of an earlier one from that one\'s written JSON, and writes it itself otherwise', () => {
    // layout.copies: `copy` may hold `a`, `both` `b` or `a`; `early` names a field after it, `missing` and `nothere`
    // are not in the layout (never copied from or to).
    // Fields between sources and copies, so that they lie in different compiled parts of the writer.
    const names = ['version', 'a', 'b', 'middle', ...Array.from({ length: 20 }, (_, i) => `between${i}`), 'copy', 'both', 'early', 'late'];
    const layout = {
      names, kinds: names.map((n) => (n === 'version' ? 'integer' : 'any') as 'integer' | 'any'),
      copies: { copy: ['a'], both: ['b', 'a'], early: ['late'], missing: ['a'], late: ['nothere'] },
    };
    const options = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const };
    const flowKey = (i: number) => `frontend-7d9c8b5f4-x${i}kq2:40000->backend-5f4d9c8b7-q${i}x2k:8080 TCP`;
    const odd = 'quote " back \\ \u0001 é 😀 \ud800';
    const cases: Record<string, unknown>[] = [
      { a: flowKey(1), b: 'b', copy: flowKey(1), both: 'b' }, // the same strings: copied
      { a: flowKey(2), b: '10.0.0.1', copy: [...flowKey(2)].join(''), both: flowKey(2) }, // equal, not identical; the second source
      { a: flowKey(3), b: 'x', copy: flowKey(4), both: 'y' }, // other values: written
      { a: undefined, b: undefined, copy: flowKey(3), both: 'z' }, // sources left out (the last record's a): written
      { a: odd, copy: odd, both: odd }, // escaped and UTF-8 JSON copied as written
      { a: 7, b: 7, copy: 7, both: 7 }, // not strings: written
      { a: flowKey(6), copy: flowKey(6), middle: 'm'.repeat(5000), early: 'late', late: 'late' }, // the buffer grows between
    ];
    // A tiny buffer, so that it grows while records are written; the copies must come from the bytes as they now lie.
    const out = new ByteBuffer(16);
    const expected: string[] = [];
    for (const [i, values] of cases.entries()) {
      const fields = { version: 10, ...Object.fromEntries(names.slice(1).map((n) => [n, values[n]])) };
      const doc: FlowDocument = {
        timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout, ecs: false,
        origin: { domain: 1, sequence: i, setOffset: 16, index: 0, exportTimeMs: 0 },
      };
      writeDocument(doc, options, out);
      expected.push(JSON.stringify({ '@timestamp': doc.timestamp, '@version': '1', host: doc.host, type: 'ipfix', ipfix: fields }));
      expect(serializeDocument(doc, options)).toBe(expected[i]);
    }
    expect(out.takeString()).toBe(expected.join(''));
  });

  it('writes the few texts a field mostly holds from their pre-encoded JSON, and any other value itself', () => {
    // layout.choices: `kind` mostly holds one of three texts (one needing escapes, one UTF-8), `other` one text.
    const names = ['version', 'kind', 'other'];
    const layout = {
      names, kinds: ['integer', 'any', 'any'] as ('integer' | 'any')[],
      choices: { kind: ['Intra-Node', 'say "hi"\\', 'Zwischenknoten ☃'], other: ['Allow'], missing: ['x'] },
    };
    const options = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const };
    const values: unknown[] = ['Intra-Node', ['Intra', 'Node'].join('-'), 'say "hi"\\', 'Zwischenknoten ☃', 'Inter-Node', 'Intra-Node ', 3, null, { a: 1 }];
    for (const [i, kind] of values.entries()) {
      const fields = { version: 10, kind, other: i % 2 ? 'Allow' : 'Drop' };
      const doc: FlowDocument = {
        timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout, ecs: false,
        origin: { domain: 1, sequence: i, setOffset: 16, index: 0, exportTimeMs: 0 },
      };
      expect(serializeDocument(doc, options)).toBe(JSON.stringify({ '@timestamp': doc.timestamp, '@version': '1', host: doc.host, type: 'ipfix', ipfix: fields }));
    }
  });

  it('writes keys and constant text exactly when 8 of their bytes read as a NaN (DEL before a 4-byte UTF-8 sequence)', () => {
    // Constant text is copied as doubles; a NaN's bits might not survive that, so such text goes by 32-bit words.
    const odd = Array.from({ length: 8 }, (_, k) => `${'a'.repeat(k)}\u007f😀`);
    expect(odd.filter((name) => textBytes(`,${JSON.stringify(name)}:`).chunks === undefined).length).toBeGreaterThan(0);
    expect(odd.filter((name) => textBytes(`,"type":${JSON.stringify(name)},"ipfix":`).chunks === undefined).length).toBeGreaterThan(0);
    const fields: Record<string, unknown> = { version: 10, ...Object.fromEntries(odd.map((name, i) => [name, i])), after: 'x' };
    const names = Object.keys(fields);
    for (const type of odd) {
      const options = { target: 'ipfix', type, timestampSource: 'export' as const };
      const doc: FlowDocument = {
        timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout: { names, kinds: names.map(() => 'any' as const) }, ecs: false,
        origin: { domain: 1, sequence: 0, setOffset: 16, index: 0, exportTimeMs: 0 },
      };
      expect(serializeDocument(doc, options)).toBe(JSON.stringify({
        '@timestamp': doc.timestamp, '@version': '1', host: doc.host, type, ipfix: fields,
      }));
    }
  });

  it('writes JSON text values (Pod labels) as received, the first time and from their kept bytes after', () => {
    // The first write keeps the text's bytes in the JsonText (8 at a time as doubles); text with a NaN's bits among
    // them (DEL before a 4-byte UTF-8 sequence) is encoded each time instead.
    const texts = ['{"app":"web"}', '{"app.kubernetes.io/name":"nginx-ingress-controller","pod-template-hash":"8scxkd5ck9"}',
      '{"team":"café ☃ 😀"}', ...Array.from({ length: 8 }, (_, k) => `{"${'a'.repeat(k)}":"\u007f😀"}`)];
    const labels = texts.map((text) => new JsonText(text));
    expect(texts.some((text) => textBytes(text).chunks === undefined)).toBe(true);
    const names = ['version', 'before', 'labels', 'after'];
    const layout = { names, kinds: ['integer', 'any', 'any', 'any'] as ('integer' | 'any')[] };
    for (let round = 0; round < 3; round++) {
      labels.forEach((label, i) => {
        const fields = { version: 10, before: 'x'.repeat(i), labels: label, after: i };
        const doc: FlowDocument = {
          timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout, ecs: false,
          origin: { domain: 1, sequence: 0, setOffset: 16, index: 0, exportTimeMs: 0 },
        };
        expect(serializeDocument(doc, { target: 'ipfix', type: 'ipfix', timestampSource: 'export' }))
          .toBe(`{"@timestamp":"2024-01-01T00:00:00.000Z","@version":"1","host":"192.0.2.1","type":"ipfix","ipfix":{"version":10,"before":"${'x'.repeat(i)}","labels":${texts[i]},"after":${i}}}`);
      });
    }
    expect(labels.every((label) => label.chunks !== undefined)).toBe(true);
  });

  it('reads 64-bit counters in a compiled template exactly, numbers below 2^53 and bigints from it, fixed and variable-length records', () => {
    // octetDeltaCount (8 octets) before and after a variable-length interfaceName: the compiled template reads the
    // common case itself and leaves the rest to u64; every boundary of its test must give what u64 gives.
    const template = compileTemplate({
      version: 10, templateId: 256, scopeFieldCount: 0,
      fields: [[1, 8], [82, 65535], [2, 8]].map(([id, length]) => ({ enterprise: 0, id, length })),
    }, { registry: ElementRegistry.builtin(), includeFlowsetId: false });
    const header: MessageHeader = { version: 10, domain: 0, sequence: 0, exportTimeSecs: 1_700_000_000, uptimeMs: 0, unixNsecs: 0 };
    const values = [0n, 1n, 255n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 0x00ff_ffff_ffffn, 2n ** 48n + 5n,
      0x001f_ffff_ffff_ffffn, 2n ** 53n, 2n ** 53n + 1n, 0x0020_0000_0000_0001n, 0x00ff_0000_0000_0000n, 0x0100_0000_0000_0000n,
      0x8000_0000_0000_0000n, 2n ** 64n - 1n];
    const body = Buffer.concat(values.map((v, i) => {
      const record = Buffer.alloc(8 + 1 + 3 + 8);
      record.writeBigUInt64BE(v, 0);
      record.writeUInt8(3, 8);
      record.write('if0', 9, 'latin1');
      record.writeBigUInt64BE(values[values.length - 1 - i], 12);
      return record;
    }));
    const records: FlowRecord[] = [];
    decodeRecords(template, body, 0, body.length, header, newScratch(), records);
    const exact = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
    expect(records.map((r) => [r.fields.octetDeltaCount, r.fields.packetDeltaCount]))
      .toEqual(values.map((v, i) => [exact(v), exact(values[values.length - 1 - i])]));
  });

  it('copies decoded texts from the intern table only while it holds them, and escapes those that need it', () => {
    // Two text fields (interfaceName, interfaceDescription), variable length: the writer copies a text from its
    // intern slot only if the slot still holds that string and it needs no escaping; a record written after 200,000
    // others (slots reused, the ring of hints gone round) must still come out exact.
    const template = compileTemplate({
      version: 10, templateId: 256, scopeFieldCount: 0, fields: [82, 83].map((id) => ({ enterprise: 0, id, length: 65535 })),
    }, { registry: ElementRegistry.builtin(), includeFlowsetId: false });
    const header: MessageHeader = { version: 10, domain: 0, sequence: 0, exportTimeSecs: 1_700_000_000, uptimeMs: 0, unixNsecs: 0 };
    const options = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const, ecs: false };
    const scratch = newScratch();
    const decode = (texts: [string, string][]): FlowRecord[] => {
      const body = Buffer.concat(texts.flat().map((text) => Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)])));
      const records: FlowRecord[] = [];
      decodeRecords(template, body, 0, body.length, header, scratch, records);
      return records;
    };
    const expected = ([name, description]: [string, string]) => `{"@timestamp":"2023-11-14T22:13:20.000Z","@version":"1","host":"192.0.2.1",`
      + `"type":"ipfix","ipfix":${JSON.stringify({ version: 10, interfaceName: name, interfaceDescription: description })}}`;
    const kept: [string, string][] = Array.from({ length: 100 }, (_, i) => [
      ['eth0', 'a "quoted" name', 'back\\slash', 'tab\there', `pod-${i}`][i % 5], `node-${i % 7}.example.internal-${'x'.repeat(i)}`,
    ]);
    const keptDocs = decode(kept).map((record) => buildDocument(record, '192.0.2.1', 0, options));
    keptDocs.forEach((doc, i) => expect(serializeDocument(doc, options)).toBe(expected(kept[i])));
    for (let round = 0; round < 1000; round++) {
      const others: [string, string][] = Array.from({ length: 200 }, (_, i) => [`if-${round}-${i}`, `d-${(round * 200 + i) % 40_000}-${'y'.repeat(i % 90)}`]);
      decode(others).forEach((record, i) => {
        if (i % 37 === 0) expect(serializeDocument(buildDocument(record, '192.0.2.1', 0, options), options)).toBe(expected(others[i]));
      });
    }
    keptDocs.forEach((doc, i) => expect(serializeDocument(doc, options)).toBe(expected(kept[i])));
  });

  it('stays exact over 200,000 records whose fields change at different rates', () => {
    const names = ['version', 'flowset_id', 'namespace', 'node', 'octets', 'port', 'labels', 'maybe'];
    const kinds = ['integer', 'integer', 'any', 'plain', 'integer', 'integer', 'any', 'any'] as const;
    const options = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const };
    const layout = { names, kinds: [...kinds] }; // one layout object, as one compiled template gives
    for (let i = 0; i < 200_000; i++) {
      const fields: Record<string, unknown> = {
        version: 10, flowset_id: 256,
        namespace: i < 150_000 ? 'shop' : `ns-${i % 3}`, // stable, then changing every record
        node: i % 5000 === 0 ? `10.0.0.${i % 7}` : '10.0.0.1', // stable with rare changes
        octets: i * 7, port: 30000 + (i % 3),
        labels: i % 2 ? { app: 'a' } : { app: 'b' },
        maybe: i % 1000 < 3 ? undefined : 'x',
      };
      const doc: FlowDocument = {
        timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields, layout, ecs: false,
        origin: { domain: 1, sequence: i, setOffset: 16, index: 0, exportTimeMs: 0 },
      };
      if (i % 997 === 0 || (i > 149_990 && i < 150_010)) {
        expect(JSON.parse(serializeDocument(doc, options)).ipfix).toEqual(JSON.parse(JSON.stringify(fields)));
      } else {
        serializeDocument(doc, options);
      }
    }
  });

  it('gives each document the _id of its origin, the same from release to release (a replayed spool is deduplicated)', () => {
    const doc: FlowDocument = {
      timestamp: '2024-01-01T00:00:00.000Z', host: '192.0.2.1', fields: { version: 10 }, layout: { names: ['version'], kinds: ['integer'] },
      origin: { domain: 7, sequence: 123456, setOffset: 16, index: 2, exportTimeMs: 1_764_003_600_000 }, ecs: false,
    };
    expect(documentId(doc)).toBe(createHash('sha1').update('192.0.2.1|7|1764003600000|123456|16|2').digest('base64url'));
    expect(documentId(doc)).toBe('-sMgJFxDROZI3s63sJtOHP-QC9g');
  });

  it('writes a _bulk create pair: the action line with index and id, then the document, each on its own line', () => {
    const doc: FlowDocument = {
      timestamp: '2024-01-31T23:59:59.999Z', host: '2001:db8::1', fields: { version: 10, sourcePodName: 'pod-é' },
      layout: { names: ['version', 'sourcePodName'], kinds: ['integer', 'any'] },
      origin: { domain: 7, sequence: 1, setOffset: 16, index: 0, exportTimeMs: 0 }, ecs: false,
    };
    const options = { target: 'ipfix', type: 'ipfix', timestampSource: 'export' as const };
    const out = new ByteBuffer(8); // grows while writing
    writeBulkCreate(doc, dailyIndex('flow-', doc.timestamp), options, out, true);
    writeBulkCreate(doc, 'flows', options, out, false);
    const lines = out.takeString().split('\n');
    expect(lines.map((l) => (l ? JSON.parse(l) : l))).toEqual([
      { create: { _index: 'flow-2024.01.31', _id: documentId(doc) } }, JSON.parse(serializeDocument(doc, options)),
      { create: { _index: 'flows' } }, JSON.parse(serializeDocument(doc, options)), '',
    ]);
  });

  it('hands over what was written as a copy of its own size, or with the buffer, and starts over either way', () => {
    const out = new ByteBuffer(64);
    out.ascii('first');
    const copy = out.takeCopy();
    out.ascii('second'); // written over the same buffer: the copy keeps its bytes
    expect([copy.toString(), copy.length, out.buffer.length]).toEqual(['first', 5, 64]);
    const taken = out.take();
    out.ascii('third'); // a new buffer: what was taken keeps its bytes
    expect([taken.toString(), copy.toString(), out.takeString()]).toEqual(['second', 'first', 'third']);
  });
});

describe('octetArray elements under the default configuration', () => {
  it('are lowercase hex of every octet sent, trailing zeros included (IANA types, not the codec\'s :string)', () => {
    const layout: LayoutField[] = [
      { name: 'mplsTopLabelStackSection', enterprise: 0, id: 70, type: 'string' },
      { name: 'mplsLabelStackSection2', enterprise: 0, id: 71, type: 'string' },
      { name: 'dataLinkFrameSection', enterprise: 0, id: 315, type: 'uuid' },
      { name: 'applicationId', enterprise: 0, id: 95, type: 'string' },
    ];
    const { pipeline } = testPipeline({ enrichment: undefined });
    const header = { exportTimeSecs: 1_700_000_000, sequence: 0, domain: 1 };
    const [doc] = decodeAll(pipeline, [
      templateMessage(header, 300, layout),
      dataMessage(header, 300, layout, [{
        mplsTopLabelStackSection: '\u0000\u0000\u0000',
        mplsLabelStackSection2: '\u0000\u0011\u0040',
        dataLinkFrameSection: '02000000-0001-0200-0000-000288470000',
        applicationId: '\u0001\u0000\u0000\u0000',
      }]),
    ]);
    expect(doc.fields).toMatchObject({
      mplsTopLabelStackSection: '000000',
      mplsLabelStackSection2: '001140',
      dataLinkFrameSection: '02000000000102000000000288470000',
      applicationId: '1..0',
    });
  });
});
