import { createHash } from 'node:crypto';

/** Longer keys (names an exporter made up) are stored as their hash, so that the state is bounded in octets too. */
const MAX_KEY_LENGTH = 256;

/**
 * Remembers, per exporter and flow key, when the flow was last reported, so that a record's octet delta can be
 * turned into a rate. Bounded (least recently used entries go first) and idle entries expire, unlike the
 * process-wide map of the legacy filter.rb that grew forever.
 */
export class ThroughputTracker {
  private readonly lastEndMs = new Map<string, { endMs: number; touchedMs: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly idleTimeoutMs: number,
  ) {}

  /**
   * Returns the interval (seconds) this record covers: since the previous record of the same key, or since the
   * flow started for the first one. Zero or negative intervals return undefined: no rate rather than a division by zero.
   */
  interval(flowKey: string, startMs: number | undefined, endMs: number, nowMs: number): number | undefined {
    const key = flowKey.length > MAX_KEY_LENGTH ? `#${createHash('sha256').update(flowKey).digest('base64')}` : flowKey;
    const previous = this.lastEndMs.get(key);
    const since = previous ? previous.endMs : startMs;
    if (previous) {
      // The same entry, updated and moved to the end (Map order is the LRU order): no allocation per record.
      this.lastEndMs.delete(key);
      previous.endMs = Math.max(endMs, previous.endMs);
      previous.touchedMs = nowMs;
      this.lastEndMs.set(key, previous);
    } else {
      this.lastEndMs.set(key, { endMs, touchedMs: nowMs });
      if (this.lastEndMs.size > this.maxEntries) {
        const oldest = this.lastEndMs.keys().next().value as string;
        this.lastEndMs.delete(oldest);
      }
    }
    if (since === undefined) return undefined;
    const seconds = (endMs - since) / 1000;
    return seconds > 0 ? seconds : undefined;
  }

  /** Drops keys not seen for the idle timeout. */
  expire(nowMs: number): number {
    let removed = 0;
    for (const [key, entry] of this.lastEndMs) {
      if (nowMs - entry.touchedMs <= this.idleTimeoutMs) break; // insertion order is touch order
      this.lastEndMs.delete(key);
      removed++;
    }
    return removed;
  }

  get size(): number {
    return this.lastEndMs.size;
  }
}
