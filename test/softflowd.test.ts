// softflowd exported the traffic of input_small_loopback.pcap as NetFlow v9, IPFIX and IPFIX biflow: the input
// pcap is the ground truth. Every flow of the input must come out with its packet and octet counts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ipPackets, udpDatagrams } from '../collector/src/pcap/pcap.js';
import type { ExporterSessionKey } from '../collector/src/session/template-session.js';
import { counter, decodeAll, SOFTFLOWD, testPipeline } from './support/offline.js';

const CAPTURES = new URL('./captures/', import.meta.url).pathname;
const SOURCES = new URL('./captures-src/', import.meta.url).pathname;

type Counts = { packets: number; octets: number };
const key = (src: unknown, sport: unknown, dst: unknown, dport: unknown, proto: unknown) => `${src}|${sport}|${dst}|${dport}|${proto}`;

function groundTruth(input = `${SOFTFLOWD}input_small_loopback.pcap`): Map<string, Counts> {
  const flows = new Map<string, Counts>();
  for (const p of ipPackets(readFileSync(input))) {
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

  // softflowd 1.1.0 exporting 250 flows (test/captures-src/softflowd_250_flows_input.pcap, made by make_flows.py):
  // its IPFIX sequence numbers count the records up to and including each message, so they jump ahead by 7 after
  // the first message (49 expected, 56 sent) and fall back by 30 at the last. Replayed over TCP nothing can be lost.
  describe('softflowd_ipfix_250_flows.pcap: a complete export', () => {
    const messages = udpDatagrams(readFileSync(`${CAPTURES}softflowd_ipfix_250_flows.pcap`)).map((d) => d.payload);
    const flowsOf = (docs: ReturnType<typeof decodeAll>) => {
      const flows = new Map<string, Counts>();
      for (const { fields: f } of docs) {
        if (f.protocolIdentifier === undefined) continue;
        flows.set(key(f.sourceIPv4Address, f.sourceTransportPort, f.destinationIPv4Address, f.destinationTransportPort, f.protocolIdentifier), {
          packets: f.packetDeltaCount as number,
          octets: f.octetDeltaCount as number,
        });
      }
      return flows;
    };

    it('over TCP: every flow, no loss, the exporter\'s inconsistencies counted under their own name', async () => {
      const { pipeline, metrics } = testPipeline({ enrichment: undefined });
      const tcp: ExporterSessionKey = { key: 'tcp:127.0.0.1:40001', address: '127.0.0.1', expires: false };
      const flows = flowsOf(decodeAll(pipeline, messages, tcp));
      expect(flows.size).toBe(250);
      expect(flows).toEqual(groundTruth(`${SOURCES}softflowd_250_flows_input.pcap`));
      expect(await counter(metrics, 'elkfc_sequence_lost_total')).toBe(0);
      expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'gap', version: '10' })).toBe(1);
      expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'backwards', version: '10' })).toBe(1);
    });

    it('over UDP: the forward jump is all that counts as lost', async () => {
      const { pipeline, metrics } = testPipeline({ enrichment: undefined });
      expect(flowsOf(decodeAll(pipeline, messages)).size).toBe(250);
      expect(await counter(metrics, 'elkfc_sequence_lost_total', { version: '10' })).toBe(7); // tshark: "expected 49, got 56"
      expect(await counter(metrics, 'elkfc_sequence_inconsistencies_total', { kind: 'backwards' })).toBe(1);
    });
  });
});
