import type { Logger } from 'pino';
import type { CollectorConfig } from '../config/schema.js';
import type { CompiledTemplate, TemplateDefinition } from '../decoders/template.js';
import type { DecodeResult } from '../decoders/types.js';
import type { ExporterSessionKey } from '../session/template-session.js';
import type { InternalEvents } from '../telemetry/events.js';

/** What an input hands over: one complete export message, its exporter session, and when it arrived. */
export interface InputHandlers {
  message(message: Buffer, exporter: ExporterSessionKey, receivedAtMs: number): void;
  /**
   * Records an input decoded itself (JSON records, which come without templates), with templates made by
   * `compile`: from here they go the way decoded messages go.
   */
  decoded(result: DecodeResult, exporter: ExporterSessionKey, receivedAtMs: number): void;
  /** The pipeline's template compiler (its element registry, flowset_id and reserved enrichment fields). */
  compile(definition: TemplateDefinition): CompiledTemplate;
  /** A connection-oriented exporter session ended: its template state goes with it (resolved once it has gone). */
  closed(exporter: ExporterSessionKey): void | Promise<void>;
}

/** A listener for export messages (UDP, TCP...). One file per input plus one line in inputs/registry.ts. */
export interface Input {
  readonly name: string;
  /** Binds its sockets; logs nothing on success, so that a start-up that fails later prints only its error. */
  start(): Promise<void>;
  /** Logs where it listens (and any warning about its sockets); called once every listener is bound. */
  announce(): void;
  /** Stops receiving; resolves once the socket is closed. */
  stop(): Promise<void>;
  /** Backpressure: stop reading where the transport allows it (TCP), resume later. */
  pause(): void;
  resume(): void;
  /** Bound address once started. */
  address(): { address: string; port: number } | undefined;
}

export interface InputContext {
  config: CollectorConfig;
  handlers: InputHandlers;
  events: InternalEvents;
  log: Logger;
}

/** Makes the input, or returns undefined when its configuration leaves it off. */
export type InputFactory = (context: InputContext) => Input | undefined;

/** IPv4 peers of a dual-stack socket appear as ::ffff:a.b.c.d; documents carry the plain IPv4 form. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** `address:port`, with an IPv6 address in brackets (`[::1]:57747`) so that the port stays readable. */
export function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** The session key of an exporter on a transport: `udp:10.0.0.1:4739`, `tcp:[fd00::1]:57747`. */
export function exporterKey(transport: string, address: string, port: number | undefined): string {
  return `${transport}:${hostPort(address, port ?? 0)}`;
}

/**
 * Binds on the configured host; where that is the default `::` and the machine has no IPv6 (some clusters),
 * falls back to 0.0.0.0 with a warning rather than refusing to start.
 */
export async function bindDualStack<T>(
  host: string, bind: (host: string) => Promise<T>, log: Logger, what: string,
): Promise<T> {
  try {
    return await bind(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw error;
    log.warn({ code }, `IPv6 is not available; ${what} binds 0.0.0.0`);
    return bind('0.0.0.0');
  }
}
