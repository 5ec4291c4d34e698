// softflowd exported the traffic of input_small_loopback.pcap as NetFlow v9, IPFIX and IPFIX biflow: the input
// pcap is the ground truth. Every flow of the input must come out with its packet and octet counts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ipPackets, udpDatagrams } from '../collector/src/pcap/pcap.js';
import { decodeAll, SOFTFLOWD, testPipeline } from './support/offline.js';

type Counts = { packets: number; octets: number };
const key = (src: unknown, sport: unknown, dst: unknown, dport: unknown, proto: unknown) => `${src}|${sport}|${dst}|${dport}|${proto}`;

function groundTruth(): Map<string, Counts> {
  const flows = new Map<string, Counts>();
  for (const p of ipPackets(readFileSync(`${SOFTFLOWD}input_small_loopback.pcap`))) {
    const k = key(p.source, p.sourcePort, p.destination, p.destinationPort, p.protocol);
    const f = flows.get(k) ?? { packets: 0, octets: 0 };
    f.packets++;
    f.octets += p.ipLength;
    flows.set(k, f);
  }
  return flows;
}

function decodedFlows(capture: string) {
  const { pipeline } = testPipeline({ enrichment: undefined });
  const messages = udpDatagrams(readFileSync(`${SOFTFLOWD}${capture}`)).map((d) => d.payload);
  return decodeAll(pipeline, messages).map((d) => d.fields).filter((f) => f.protocolIdentifier !== undefined);
}

describe('softflowd captures decode to the flows of their input pcap', () => {
  const truth = groundTruth();
  expect(truth.size).toBe(14);

  for (const capture of ['softflowd_v9_small.pcap', 'softflowd_ipfix_small.pcap']) {
    it(capture, () => {
      const flows = new Map<string, Counts>();
      for (const f of decodedFlows(capture)) {
        const src = f.sourceIPv4Address ?? f.sourceIPv6Address;
        const dst = f.destinationIPv4Address ?? f.destinationIPv6Address;
        flows.set(key(src, f.sourceTransportPort, dst, f.destinationTransportPort, f.protocolIdentifier), {
          packets: f.packetDeltaCount as number,
          octets: f.octetDeltaCount as number,
        });
      }
      expect(flows).toEqual(truth);
    });
  }

  it('softflowd_ipfix_biflow_small.pcap (RFC 5103 reverse elements)', () => {
    const flows = new Map<string, Counts>();
    for (const f of decodedFlows('softflowd_ipfix_biflow_small.pcap')) {
      const src = f.sourceIPv4Address ?? f.sourceIPv6Address;
      const dst = f.destinationIPv4Address ?? f.destinationIPv6Address;
      flows.set(key(src, f.sourceTransportPort, dst, f.destinationTransportPort, f.protocolIdentifier), {
        packets: f.packetDeltaCount as number,
        octets: f.octetDeltaCount as number,
      });
      if ((f.reversePacketDeltaCount as number) > 0) {
        flows.set(key(dst, f.destinationTransportPort, src, f.sourceTransportPort, f.protocolIdentifier), {
          packets: f.reversePacketDeltaCount as number,
          octets: f.reverseOctetDeltaCount as number,
        });
      }
    }
    expect(flows).toEqual(truth);
  });
});
