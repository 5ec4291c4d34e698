import type { Socket } from 'node:net';
import type { InternalEvents } from '../telemetry/events.js';

/** Bounds on a stream input's exporter connections (TCP, TLS). */
export interface ConnectionLimits {
  /** Connections open at once. */
  maxConnections: number;
  /** Connections open at once from one source address. */
  maxConnectionsPerAddress: number;
  /** A connection that sends nothing for this long is closed (never while the input is paused). */
  idleTimeoutMs: number;
}

export type ConnectionLimitReason = 'per_address_limit' | 'connection_limit' | 'evicted' | 'idle_timeout';

/** An admitted connection; the input reports what it reads from it. */
export interface GuardedConnection {
  /** Octets arrived (resets the idle timer). */
  activity(): void;
  /** A complete, well-framed message arrived: the connection is an exporter, not to be evicted for a newcomer. */
  delivered(): void;
  /**
   * From now on pause, resume and destroy act on `stream` (a TLS input admits the plain socket when it is accepted,
   * so that connections still in their handshake count, then hands over the TLS socket once it is secure).
   */
  use(stream: Socket): void;
}

interface Tracked extends GuardedConnection {
  readonly socket: Socket;
  stream: Socket;
  readonly address: string;
  readonly admittedAtMs: number;
  lastActivityMs: number;
  proven: boolean;
}

/**
 * Admission, idle timeout and backpressure for the connections of one stream input, so that connections which
 * send nothing useful cannot lock exporters out. Used by every stream input on the sockets its server accepts:
 * - past `maxConnectionsPerAddress` from one address, a new connection is refused;
 * - at `maxConnections`, the oldest connection that has not yet delivered one complete message is closed to make
 *   room (an idle or garbage connection never outlives a newcomer); only when every connection has delivered is
 *   the newcomer refused;
 * - a connection silent for `idleTimeoutMs` is closed, unless the input is paused (then silence is ours).
 * Every refusal and close is counted and logged (rate-limited) through the internal events.
 */
export class ConnectionGuard {
  private readonly open = new Map<Socket, Tracked>();
  private readonly perAddress = new Map<string, number>();
  private paused = false;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly input: string,
    private readonly limits: ConnectionLimits,
    private readonly events: InternalEvents,
    private readonly now: () => number = Date.now,
  ) {
    // Checking four times per timeout closes an idle connection within 1.25 timeouts.
    this.sweep = setInterval(() => this.closeIdle(), Math.max(10, Math.min(5000, limits.idleTimeoutMs / 4)));
    this.sweep.unref();
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * Admits a just-accepted connection, or destroys it (counted) and returns undefined. Pause, resume and destroy act
   * on `socket` (or on what `use` hands over later); its 'close' releases the slot.
   */
  admit(socket: Socket, address: string): GuardedConnection | undefined {
    if ((this.perAddress.get(address) ?? 0) >= this.limits.maxConnectionsPerAddress) {
      return this.refuse(socket, address, 'per_address_limit');
    }
    if (this.open.size >= this.limits.maxConnections && !this.evictUnproven()) {
      return this.refuse(socket, address, 'connection_limit');
    }
    const now = this.now();
    const tracked: Tracked = {
      socket, stream: socket, address, admittedAtMs: now, lastActivityMs: now, proven: false,
      activity: () => {
        tracked.lastActivityMs = this.now();
      },
      delivered() {
        tracked.proven = true;
      },
      use: (stream) => {
        tracked.stream = stream;
        if (this.paused) stream.pause();
      },
    };
    this.open.set(socket, tracked);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.events.connectionsOpen(this.input, this.open.size);
    socket.once('close', () => this.release(tracked));
    if (this.paused) socket.pause();
    return tracked;
  }

  pause(): void {
    this.paused = true;
    for (const tracked of this.open.values()) tracked.stream.pause();
  }

  resume(): void {
    this.paused = false;
    // Time spent paused was not the exporter's silence.
    const now = this.now();
    for (const tracked of this.open.values()) {
      tracked.lastActivityMs = now;
      tracked.stream.resume();
    }
  }

  /** Stops the idle checks and closes every connection (the input is stopping). */
  close(): void {
    clearInterval(this.sweep);
    for (const tracked of this.open.values()) tracked.stream.destroy();
  }

  private refuse(socket: Socket, address: string, reason: ConnectionLimitReason): undefined {
    socket.destroy();
    this.events.connectionLimited(this.input, reason, address, this.limits);
    return undefined;
  }

  private evictUnproven(): boolean {
    let oldest: Tracked | undefined;
    for (const tracked of this.open.values()) {
      if (!tracked.proven && (!oldest || tracked.admittedAtMs < oldest.admittedAtMs)) oldest = tracked;
    }
    if (!oldest) return false;
    this.drop(oldest, 'evicted');
    return true;
  }

  private closeIdle(): void {
    if (this.paused) return;
    const now = this.now();
    for (const tracked of this.open.values()) {
      if (now - tracked.lastActivityMs >= this.limits.idleTimeoutMs) this.drop(tracked, 'idle_timeout');
    }
  }

  /** Closes a connection now; its bookkeeping is released at once, not when 'close' is emitted later. */
  private drop(tracked: Tracked, reason: ConnectionLimitReason): void {
    this.release(tracked);
    tracked.stream.destroy();
    this.events.connectionLimited(this.input, reason, tracked.address, this.limits);
  }

  private release(tracked: Tracked): void {
    if (this.open.get(tracked.socket) !== tracked) return;
    this.open.delete(tracked.socket);
    const left = (this.perAddress.get(tracked.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(tracked.address, left);
    else this.perAddress.delete(tracked.address);
    this.events.connectionsOpen(this.input, this.open.size);
  }
}
