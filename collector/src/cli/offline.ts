import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { udpDatagrams } from '../pcap/pcap.js';

/** One export message read from a file, with the exporter it came from. */
export interface CapturedMessage {
  message: Buffer;
  address: string;
  port: number;
  timestampMs: number;
  /** The capture file it came from. */
  file: string;
}

/**
 * Messages of capture files: every UDP payload of a pcap (from its source address and port), or raw payload
 * files (.dat), which together form one stream from one exporter (`datExporter`), in the order given.
 */
export function readCaptures(files: string[], datExporter: { address: string; port: number }, nowMs: number): CapturedMessage[] {
  const messages: CapturedMessage[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    if (extname(file).toLowerCase() === '.dat') {
      messages.push({ message: bytes, ...datExporter, timestampMs: nowMs, file });
      continue;
    }
    for (const datagram of udpDatagrams(bytes, file)) {
      messages.push({ message: datagram.payload, address: datagram.source, port: datagram.sourcePort, timestampMs: datagram.timestampMs, file });
    }
  }
  return messages;
}
