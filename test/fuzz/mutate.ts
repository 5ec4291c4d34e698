// Mutations of real export packets for the fuzz tests: bit flips, byte overwrites with boundary values,
// truncation, extension, and rewritten length fields (the ones decoders trust most).
import { readdirSync, readFileSync } from 'node:fs';
import { udpDatagrams } from '../../collector/src/pcap/pcap.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from '../support/antrea-encoder.js';
import { ANTREA, LOGSTASH, SOFTFLOWD } from '../support/offline.js';
import { random } from '../support/random.js';

export { random };

/** Every real packet we have: the Logstash .dat captures, the go-ipfix messages, softflowd, and encoded Antrea records. */
export function seedPackets(): Buffer[] {
  const dat = readdirSync(`${LOGSTASH}dat`).map((f) => readFileSync(`${LOGSTASH}dat/${f}`));
  const goIpfix = readdirSync(`${ANTREA}go-ipfix-test-messages`).filter((f) => f.endsWith('.dat')).map((f) => readFileSync(`${ANTREA}go-ipfix-test-messages/${f}`));
  const softflowd = readdirSync(SOFTFLOWD).filter((f) => f.startsWith('softflowd_')).flatMap((f) => udpDatagrams(readFileSync(`${SOFTFLOWD}${f}`)).map((d) => d.payload));
  const layout = aggregatorLayout(4);
  const header = { exportTimeSecs: 1_700_000_000, sequence: 0, domain: 1 };
  const antrea = [templateMessage(header, 300, layout), dataMessage(header, 300, layout, [aggregatorRecord(1), aggregatorRecord(2)])];
  return [...dat, ...goIpfix, ...softflowd, ...antrea];
}

const BOUNDARY = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

export function mutate(packet: Buffer, next: () => number): Buffer {
  const pick = (n: number) => Math.floor(next() * n);
  const out = Buffer.from(packet);
  switch (pick(6)) {
    case 0: { // flip bits
      for (let i = 0, n = 1 + pick(8); i < n && out.length; i++) out[pick(out.length)] ^= 1 << pick(8);
      return out;
    }
    case 1: { // boundary bytes
      for (let i = 0, n = 1 + pick(4); i < n && out.length; i++) out[pick(out.length)] = BOUNDARY[pick(BOUNDARY.length)];
      return out;
    }
    case 2: // truncate
      return out.subarray(0, pick(out.length));
    case 3: // extend with noise or zeros
      return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + pick(64) }, () => (next() < 0.5 ? 0 : pick(256))))]);
    case 4: { // rewrite a 16-bit length-like field at an even offset
      if (out.length < 4) return out;
      const at = pick(out.length >> 1) * 2;
      if (at + 2 <= out.length) out.writeUInt16BE([0, 1, 3, 4, 255, 65535, pick(65536)][pick(7)], at);
      return out;
    }
    default: { // splice two halves of the same packet
      const cut = pick(out.length);
      return Buffer.concat([out.subarray(cut), out.subarray(0, cut)]);
    }
  }
}
