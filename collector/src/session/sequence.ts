import { domainKey } from './domain-key.js';

/**
 * Sequence accounting per exporter session and domain, from the sequence numbers of successive messages.
 * IPFIX counts data records (modulo 2^32), v5 counts flows, v9 counts export packets.
 *
 * - A forward jump over UDP is loss in transit.
 * - A forward jump over TCP cannot be loss in transit (the stream is reliable and ordered): it is the exporter's
 *   own inconsistency, reported as such and never as loss.
 * - A backwards jump (more than half the number space forward) is an exporter reset or a reordered datagram,
 *   never loss. The tracker then keeps both expectations and measures each message from the nearer one behind
 *   it: the old (the backwards messages were late ones) or the backwards chain's (the exporter reset).
 */
export type SequenceOutcome =
  | { readonly kind: 'in_order' }
  | { readonly kind: 'lost'; readonly count: number }
  | { readonly kind: 'inconsistent'; readonly inconsistency: SequenceInconsistency; readonly count: number };

/** `gap`: a forward jump where nothing can be lost in transit; `backwards`: a reset or a reordering. */
export type SequenceInconsistency = 'gap' | 'backwards';

interface Expectation {
  next: number;
  /**
   * Where the count goes on after a backwards message (and the messages that followed it while still behind
   * `next`): a reset if the exporter goes on from it, late messages if it comes back to `next`.
   */
  chain: number | undefined;
}

const IN_ORDER: SequenceOutcome = { kind: 'in_order' };
const HALF = 0x80000000;

export class SequenceTracker {
  private readonly expected = new Map<string, Expectation>();

  /** Bounded: past `maxKeys` sessions and domains (spoofed UDP sources), the oldest is forgotten and resynchronises. */
  constructor(private readonly maxKeys = 100_000) {}

  /**
   * Observes one message. `advance` is how far the next message's sequence should be (undefined when unknown:
   * the next message is not compared); `reliable` is true for TCP.
   */
  observe(exporterKey: string, domain: number, sequence: number, advance: number | undefined, reliable = false): SequenceOutcome {
    const key = domainKey(exporterKey, domain);
    const state = this.expected.get(key);
    const next = advance === undefined ? undefined : (sequence + advance) >>> 0;
    if (state === undefined) {
      if (next !== undefined) {
        if (this.expected.size >= this.maxKeys) this.expected.delete(this.expected.keys().next().value!);
        this.expected.set(key, { next, chain: undefined });
      }
      return IN_ORDER;
    }
    let outcome: SequenceOutcome;
    const fromNext = (sequence - state.next) >>> 0;
    const fromChain = state.chain === undefined ? HALF : (sequence - state.chain) >>> 0;
    if (fromChain < HALF && (fromNext >= HALF || fromChain <= fromNext)) {
      // Follows the backwards chain (the nearer expectation): still behind `next`, or past it (then a reset).
      outcome = this.forward(fromChain, reliable);
      if (fromNext >= HALF) state.chain = next;
      else {
        state.next = next ?? state.next;
        state.chain = undefined;
      }
    } else if (fromNext >= HALF) {
      state.chain = next;
      outcome = { kind: 'inconsistent', inconsistency: 'backwards', count: (state.next - sequence) >>> 0 };
    } else {
      outcome = this.forward(fromNext, reliable);
      state.next = next ?? state.next;
      state.chain = undefined;
    }
    if (next === undefined) this.expected.delete(key);
    return outcome;
  }

  private forward(gap: number, reliable: boolean): SequenceOutcome {
    if (gap === 0) return IN_ORDER;
    return reliable ? { kind: 'inconsistent', inconsistency: 'gap', count: gap } : { kind: 'lost', count: gap };
  }

  forget(exporterKey: string): void {
    for (const key of this.expected.keys()) if (key.startsWith(`${exporterKey}|`)) this.expected.delete(key);
  }
}
