/**
 * Reads classic pcap files (both byte orders, micro- and nanosecond stamps) and the IPv4/IPv6 packets in them.
 * Written here rather than taken from npm: the pure-JS readers there are unmaintained and the maintained one
 * binds libpcap natively, which the single-file bundle for Kubernetes cannot carry. pcapng is refused with a clear error.
 */
import { ip4, ip6 } from '../decoders/values.js';

export class PcapError extends Error {}

export interface PcapRecord {
  readonly timestampMs: number;
  readonly data: Buffer;
}

export interface IpPacket {
  readonly timestampMs: number;
  readonly source: string;
  readonly destination: string;
  readonly protocol: number;
  /** IP total length (header and payload), what flow exporters count as octets. */
  readonly ipLength: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** Transport payload (UDP datagram contents; for other protocols the bytes after the IP header). */
  readonly payload: Buffer;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

export function readPcap(file: Buffer, name = 'pcap'): { linkType: number; records: PcapRecord[] } {
  if (file.length < 24) throw new PcapError(`${name}: too short for a pcap header`);
  const magic = file.readUInt32BE(0);
  let little: boolean;
  let nanos = false;
  if (magic === 0xa1b2c3d4) little = false;
  else if (magic === 0xd4c3b2a1) little = true;
  else if (magic === 0xa1b23c4d) (little = false), (nanos = true);
  else if (magic === 0x4d3cb2a1) (little = true), (nanos = true);
  else if (magic === 0x0a0d0d0a) throw new PcapError(`${name}: pcapng is not supported; convert it with: editcap -F pcap in.pcapng out.pcap`);
  else throw new PcapError(`${name}: not a pcap file (magic ${magic.toString(16)})`);
  const u32 = (o: number) => (little ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  const records: PcapRecord[] = [];
  for (let o = 24; o + 16 <= file.length; ) {
    const seconds = u32(o);
    const fraction = u32(o + 4);
    const captured = u32(o + 8);
    if (o + 16 + captured > file.length) throw new PcapError(`${name}: record at offset ${o} is truncated`);
    records.push({
      timestampMs: seconds * 1000 + Math.floor(nanos ? fraction / 1e6 : fraction / 1e3),
      data: file.subarray(o + 16, o + 16 + captured),
    });
    o += 16 + captured;
  }
  return { linkType, records };
}

/** Strips the link layer; returns the offset of the IP header, or -1 for frames that carry no IP. */
function ipOffset(linkType: number, data: Buffer): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      let offset = 12;
      let etherType = data.readUInt16BE(offset);
      while (etherType === 0x8100 || etherType === 0x88a8) {
        offset += 4;
        etherType = data.readUInt16BE(offset);
      }
      return etherType === 0x0800 || etherType === 0x86dd ? offset + 2 : -1;
    }
    case LINKTYPE_NULL:
      return 4;
    case LINKTYPE_LINUX_SLL:
      return 16;
    case LINKTYPE_RAW: case LINKTYPE_IPV4: case LINKTYPE_IPV6:
      return 0;
    default:
      throw new PcapError(`link type ${linkType} is not supported (Ethernet, raw IP, Linux cooked and BSD loopback are)`);
  }
}

/** Every IPv4/IPv6 packet of a capture; non-IP frames and IP fragments after the first are skipped. */
export function ipPackets(file: Buffer, name = 'pcap'): IpPacket[] {
  const { linkType, records } = readPcap(file, name);
  const packets: IpPacket[] = [];
  for (const record of records) {
    const data = record.data;
    const start = ipOffset(linkType, data);
    if (start < 0 || start >= data.length) continue;
    const version = data[start] >> 4;
    let protocol: number;
    let transport: number;
    let source: string;
    let destination: string;
    let ipLength: number;
    if (version === 4) {
      const headerLength = (data[start] & 0x0f) * 4;
      ipLength = data.readUInt16BE(start + 2);
      if ((data.readUInt16BE(start + 6) & 0x1fff) !== 0) continue;
      protocol = data[start + 9];
      source = ip4(data, start + 12);
      destination = ip4(data, start + 16);
      transport = start + headerLength;
    } else if (version === 6) {
      ipLength = data.readUInt16BE(start + 4) + 40;
      protocol = data[start + 6];
      source = ip6(data, start + 8);
      destination = ip6(data, start + 24);
      transport = start + 40;
    } else {
      continue;
    }
    const end = Math.min(data.length, start + ipLength);
    const hasPorts = protocol === 6 || protocol === 17 || protocol === 132;
    const sourcePort = hasPorts ? data.readUInt16BE(transport) : 0;
    const destinationPort = hasPorts ? data.readUInt16BE(transport + 2) : 0;
    const payload = protocol === 17 ? data.subarray(transport + 8, end) : data.subarray(transport, end);
    packets.push({ timestampMs: record.timestampMs, source, destination, protocol, ipLength, sourcePort, destinationPort, payload });
  }
  return packets;
}

/** The UDP datagrams of a capture: each is one export message from its source address and port. */
export function udpDatagrams(file: Buffer, name = 'pcap'): IpPacket[] {
  return ipPackets(file, name).filter((p) => p.protocol === 17);
}
