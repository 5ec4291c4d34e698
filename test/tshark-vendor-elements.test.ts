import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseElementCsv } from '../collector/src/ie/csv.js';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { decodeAll, flowSet, ipfixTestMessage, testPipeline, udpPcap, type IpfixTestField } from './support/offline.js';

// Vendor elements only tshark names (scripts/data/tshark-vendor-elements.csv, merged into collector/data/ie by
// scripts/import-element-tables.ts), decoded under the default configuration from hand-encoded messages. Each field is
// [enterprise, id, template length, value octets as hex] (65535: variable length, sent with a one-octet length
// prefix). Set IPFIX_PCAP=path (and NETFLOW_PCAP=path) to write them as pcaps for
// `tshark -r path -d udp.port==4739,cflow -V` (2055 for the v9 one).
const IPFIX_FIELDS: readonly IpfixTestField[] = [
  [13745, 100, 4, 'c0000205'], // Plixer client_ip_v4
  [13745, 111, 4, '6553f100'], // Plixer origination_time, seconds
  [13745, 116, 65535, Buffer.from('alice@example.org').toString('hex')], // Plixer sender_address
  [13745, 118, 16, '20010db8000000000000000000000005'], // Plixer client_ip_v6: tshark names it but decodes hex
  [26866, 1, 65535, Buffer.from('/index.html').toString('hex')], // Gigamon HttpReqUrl
  [26866, 2, 2, '00c8'], // Gigamon HttpRspStatus
  [35632, 82, 4, '000f4240'], // ntop SRC_TO_DST_MAX_THROUGHPUT
  [35632, 396, 16, '20010db8000000000000000000000007'], // ntop UNTUNNELED_IPV6_SRC_ADDR
  [33610, 16, 6, '02000a0b0c0d'], // fastip NIC_MAC
  [47729, 100, 65535, Buffer.from('example.org').toString('hex')], // Niagara Networks SslServerNameIndication
  [9, 4254, 4, 'deadbeef'], // Cisco Transport RTP SSRC
  [32622, 0, 4, 'c0000201'], // CACE caceLocalIPv4Address
  [33610, 0, 65535, Buffer.from('4.2').toString('hex')], // fastip METER_VERSION
];

// NetFlow v9: a Cisco TrustSec type, ntop's v9 form of the IPFIX element above (57472 + 82) and fastip's (33610 + 13).
const V9_FIELDS: ReadonlyArray<readonly [number, number, string]> = [
  [34000, 2, '0010'], // SGT_SOURCE_TAG
  [57554, 4, '000f4240'], // ntop SRC_TO_DST_MAX_THROUGHPUT
  [33623, 4, '6553f100'], // fastip EPOCH_SECOND (an unsigned32 in fastip's IPFIX element)
];

function v9Message(templateId: number): Buffer {
  const template = Buffer.alloc(4 + V9_FIELDS.length * 4);
  template.writeUInt16BE(templateId, 0);
  template.writeUInt16BE(V9_FIELDS.length, 2);
  V9_FIELDS.forEach(([id, length], i) => {
    template.writeUInt16BE(id, 4 + i * 4);
    template.writeUInt16BE(length, 6 + i * 4);
  });
  const record = Buffer.concat([...V9_FIELDS.map(([, , hex]) => Buffer.from(hex, 'hex')), Buffer.alloc(2)]);
  const head = Buffer.alloc(20);
  head.writeUInt16BE(9, 0);
  head.writeUInt16BE(2, 2);
  head.writeUInt32BE(3_600_000, 4);
  head.writeUInt32BE(1_700_000_000, 8);
  head.writeUInt32BE(1, 16);
  return Buffer.concat([head, flowSet(0, template), flowSet(templateId, record)]);
}

const DATA = new URL('../scripts/data/tshark-vendor-elements.csv', import.meta.url).pathname;

describe('vendor elements only tshark names', () => {
  it('are built in, each under the name and type its row gives, and none over IANA or the codec', () => {
    const registry = ElementRegistry.builtin();
    const text = readFileSync(DATA, 'utf8');
    expect(text).toMatch(/Wireshark's source\n# \(GPL\) was not read or copied/);
    const rows = text.split('\n').filter((l) => /^(\d+|v9),/.test(l)).map((l) => l.split(','));
    expect(rows.length).toBeGreaterThan(1000);
    const vendorCsv = parseElementCsv(readFileSync(new URL('../collector/data/ie/vendor.csv', import.meta.url), 'utf8'), 'vendor.csv');
    for (const [pen, id, name, type] of rows) {
      const element = pen === 'v9' ? registry.netflowElement(Number(id)) : registry.ipfixElement(Number(pen), Number(id));
      expect(element, `${pen}/${id}`).toBeDefined();
      // A name IANA or the codec uses for another type gets the enterprise as a suffix (import-element-tables.ts).
      expect([name, `${name}_${pen}`], `${pen}/${id}`).toContain(element!.name);
      if (!/^(un)?signed/.test(type)) expect(element!.type, `${pen}/${id}`).toBe(type);
      if (pen !== 'v9') expect(vendorCsv.filter((e) => e.enterprise === Number(pen) && e.id === Number(id)), `${pen}/${id}`).toHaveLength(1);
    }
    // The codec's own (PEN, id) keep the codec's names; IANA's v9 types stay IANA's.
    expect(registry.ipfixElement(5951, 128)?.name).toBe('netscalerRoundTripTime');
    expect(registry.netflowElement(57590)?.name).toBe('nprobe_proto');
    expect(registry.netflowElement(1)?.name).toBe('octetDeltaCount');
  });

  it('decode by name from a hand-encoded IPFIX message under the default configuration', () => {
    const message = ipfixTestMessage(400, IPFIX_FIELDS);
    if (process.env.IPFIX_PCAP) writeFileSync(process.env.IPFIX_PCAP, udpPcap(message));
    const { pipeline } = testPipeline({ enrichment: undefined });
    const [doc] = decodeAll(pipeline, [message]);
    expect(doc.fields).toMatchObject({
      plixerClientIpV4: '192.0.2.5',
      plixerOriginationTime: '2023-11-14T22:13:20.000Z',
      plixerSenderAddress: 'alice@example.org',
      plixerClientIpV6: '20010db8000000000000000000000005',
      gigamonHttpReqUrl: '/index.html',
      gigamonHttpRspStatus: 200,
      ntopSrcToDstMaxThroughput: 1_000_000,
      ntopUntunneledIpv6SrcAddr: '2001:db8::7',
      fastipNicMac: '02:00:0a:0b:0c:0d',
      niagaraNetworksSslServerNameIndication: 'example.org',
      ciscoTransportRtpSsrc: 0xdeadbeef,
      caceLocalIPv4Address: '192.0.2.1',
      fastipMeterVersion: '4.2',
    });
    expect(Object.keys(doc.fields).filter((k) => k.startsWith('ie_'))).toEqual([]);
  });

  it('decode NetFlow v9 vendor types by name, ntop\'s and fastip\'s under their IPFIX elements\' names', () => {
    const message = v9Message(401);
    if (process.env.NETFLOW_PCAP) writeFileSync(process.env.NETFLOW_PCAP, udpPcap(message, 2055));
    const { pipeline } = testPipeline({ enrichment: undefined });
    const [doc] = decodeAll(pipeline, [message]);
    expect(doc.fields).toMatchObject({ sgtSourceTag: 16, ntopSrcToDstMaxThroughput: 1_000_000, fastipEpochSecond: 1_700_000_000 });
    expect(Object.keys(doc.fields).filter((k) => k.startsWith('ie_'))).toEqual([]);
  });
});
