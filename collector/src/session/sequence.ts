import { domainKey } from './domain-key.js';

/**
 * Counts what was lost in transit from the sequence numbers of successive messages, per exporter session and
 * domain. IPFIX and v5 count records, v9 counts packets. A jump backwards or of more than half the number
 * space is an exporter restart or reordering: the tracker resynchronises instead of reporting billions lost.
 */
export class SequenceTracker {
  private readonly expected = new Map<string, number>();

  /** Returns how many records (or packets) are missing before this message. */
  observe(exporterKey: string, domain: number, sequence: number, advance: number | undefined): number {
    const key = domainKey(exporterKey, domain);
    const expected = this.expected.get(key);
    if (advance === undefined) this.expected.delete(key);
    else this.expected.set(key, (sequence + advance) >>> 0);
    if (expected === undefined) return 0;
    const gap = (sequence - expected) >>> 0;
    return gap > 0 && gap < 0x80000000 ? gap : 0;
  }

  forget(exporterKey: string): void {
    for (const key of this.expected.keys()) if (key.startsWith(`${exporterKey}|`)) this.expected.delete(key);
  }
}
