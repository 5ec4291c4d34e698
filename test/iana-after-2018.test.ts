import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElementRegistry } from '../collector/src/ie/registry.js';
import { decodeAll, ipfixTestMessage, testPipeline, udpPcap } from './support/offline.js';

// IANA elements assigned after 433 (scripts/data/iana-after-2018.csv), decoded under the default configuration from
// one hand-encoded IPFIX message: each field is [id, template length, value octets as hex] (65535: variable length,
// sent with a one-octet length prefix). Set IPFIX_PCAP=path to write it as a pcap for
// `tshark -r path -d udp.port==4739,cflow -V`.
const FIELDS: ReadonlyArray<readonly [number, number, string]> = [
  [403, 4, 'c0000201'], // originalExporterIPv4Address (Antrea Proxy mode), in the 2018 file already
  [405, 4, '0000002a'], // originalObservationDomainId
  [434, 4, 'fffffb2e'], // mibObjectValueInteger, signed32: -1234
  [441, 4, '000186a0'], // mibObjectValueTimeTicks, unsigned32
  [450, 65535, '7075626c6963'], // mibContextName, string: "public"
  [457, 2, '0194'], // httpStatusCode: 404
  [459, 65535, '474554'], // httpRequestMethod: "GET"
  [463, 4, '00000007'], // natInstanceID
  // bgpSourceCommunityList, basicList (RFC 6313): semantic allOf, bgpCommunity (483) x 4 octets, 65000:100, 65000:200
  [484, 65535, '0301e30004fde80064fde800c8'],
  [494, 16, '20010db8000000000000000000000001'], // srhSegmentIPv6
  [498, 1, '02'], // srhSegmentsIPv6Left
  [502, 2, '0001'], // srhSegmentIPv6EndpointBehavior: End
  [507, 4, 'deadbeef'], // gtpuTEid
  [515, 4, '00000005'], // ipv6ExtensionHeadersFull, unsigned256 in reduced-size encoding
  [517, 1, '02'], // ipv6ExtensionHeadersLimit, boolean: 2 is false
  [521, 2, '4e20'], // tcpSharedOptionExID16
  [525, 1, '05'], // udpSafeOptions, unsigned256: EOL and APC (RFC 9870's example)
  [527, 2, '9858'], // udpExID
];

describe('IANA elements assigned after 433', () => {
  it('are built in with their IANA names and types (lists and unsigned256 as hex)', () => {
    const registry = ElementRegistry.builtin();
    const expected: Array<[number, string, string]> = [
      [403, 'originalExporterIPv4Address', 'ipv4Address'], [404, 'originalExporterIPv6Address', 'ipv6Address'],
      [405, 'originalObservationDomainId', 'unsigned32'], [434, 'mibObjectValueInteger', 'signed32'],
      [443, 'mibObjectValueTable', 'octetArray'], [466, 'natQuotaExceededEvent', 'unsigned32'],
      [491, 'bgpDestinationLargeCommunityList', 'octetArray'], [496, 'srhSegmentIPv6BasicList', 'octetArray'],
      [500, 'srhIPv6ActiveSegmentType', 'unsigned8'], [510, 'gtpuPduType', 'unsigned8'],
      [516, 'ipv6ExtensionHeaderTypeCountList', 'octetArray'], [520, 'tcpOptionsFull', 'octetArray'],
      [526, 'udpUnsafeOptions', 'unsigned64'], [529, 'udpUnsafeExIDList', 'octetArray'],
      [530, 'pathDelayMeanDeltaMicroseconds', 'unsigned32'], [532, 'pathDelayMaxDeltaMicroseconds', 'unsigned32'],
    ];
    for (const [id, name, type] of expected) expect(registry.ipfixElement(0, id), String(id)).toMatchObject({ name, type });
    for (let id = 434; id <= 533; id++) expect(registry.ipfixElement(0, id), String(id)).toBeDefined();
  });

  it('decode from a hand-encoded IPFIX message under the default configuration', () => {
    const message = ipfixTestMessage(300, FIELDS.map(([id, length, hex]) => [0, id, length, hex] as const));
    if (process.env.IPFIX_PCAP) writeFileSync(process.env.IPFIX_PCAP, udpPcap(message));
    const { pipeline } = testPipeline({ enrichment: undefined });
    const [doc] = decodeAll(pipeline, [message]);
    expect(doc.fields).toMatchObject({
      originalExporterIPv4Address: '192.0.2.1',
      originalObservationDomainId: 42,
      mibObjectValueInteger: -1234,
      mibObjectValueTimeTicks: 100000,
      mibContextName: 'public',
      httpStatusCode: 404,
      httpRequestMethod: 'GET',
      natInstanceID: 7,
      bgpSourceCommunityList: '0301e30004fde80064fde800c8',
      srhSegmentIPv6: '2001:db8::1',
      srhSegmentsIPv6Left: 2,
      srhSegmentIPv6EndpointBehavior: 1,
      gtpuTEid: 0xdeadbeef,
      ipv6ExtensionHeadersFull: '00000005',
      ipv6ExtensionHeadersLimit: false,
      tcpSharedOptionExID16: 20000,
      udpSafeOptions: '05',
      udpExID: 0x9858,
    });
    expect(Object.keys(doc.fields).filter((k) => k.startsWith('ie_'))).toEqual([]);
  });
});
