import type { Server, Socket } from 'node:net';
import type { CollectorConfig } from '../config/schema.js';
import type { ExporterSessionKey } from '../session/template-session.js';
import { ConnectionGuard, type ConnectionLimits, type GuardedConnection } from './connections.js';
import { bindDualStack, exporterKey, plainAddress, type Input, type InputContext } from './types.js';

const IPFIX_VERSION = 10;
const IPFIX_HEADER_LENGTH = 16;

/** Where a stream listener binds, and the bounds on its connections (in total, per source address, idle time). */
export interface StreamSettings extends ConnectionLimits {
  host: string;
  port: number;
}

/** The connection limits every stream input shares: inputs.tcp's. */
export function connectionLimits(config: CollectorConfig): ConnectionLimits {
  const tcp = config.inputs.tcp;
  return { maxConnections: tcp.maxConnections, maxConnectionsPerAddress: tcp.maxConnectionsPerAddress, idleTimeoutMs: tcp.idleTimeoutSecs * 1000 };
}

/**
 * What a stream carries: given an established connection (after the TLS handshake, for TLS), its exporter session
 * and its guard, returns what to do with each chunk of bytes. It reports activity and complete messages to the
 * guard, and may destroy the socket when the stream is beyond repair.
 */
export type StreamFraming = (socket: Socket, exporter: ExporterSessionKey, connection: GuardedConnection) => (chunk: Buffer) => void;

export interface StreamInputOptions {
  /** Input name: metrics label, log field, and the prefix of exporter session keys. */
  name: string;
  settings: StreamSettings;
  /**
   * Makes the server (net or tls). Plain sockets are admitted as the server accepts them ('connection'); with
   * `secure`, the stream is the TLS socket of 'secureConnection', so connections still in their handshake count
   * against the limits too.
   */
  createServer(): Server;
  secure?: boolean;
  framing: StreamFraming;
}

/**
 * A listener for exporters that connect (TCP, TLS): each connection is its own exporter session, whose templates
 * live until it closes (RFC 7011 §8), with pause/resume for backpressure. Connections are bounded by the
 * ConnectionGuard (in total, per source address, idle time).
 */
export function createStreamInput(
  { handlers, events, log }: InputContext,
  { name, settings, createServer, secure = false, framing }: StreamInputOptions,
): Input {
  let server: Server | undefined;
  let guard: ConnectionGuard | undefined;
  // TLS: connections admitted on accept, waiting for their handshake, by peer address and port.
  const handshaking = new Map<string, GuardedConnection>();

  const established = (socket: Socket, connection: GuardedConnection) => {
    const address = plainAddress(socket.remoteAddress ?? 'unknown');
    const exporter: ExporterSessionKey = { key: exporterKey(name, address, socket.remotePort), address, expires: false };
    events.exporterConnected(name, exporter.key);
    connection.use(socket);
    socket.on('data', framing(socket, exporter, connection));
    socket.on('error', (error) => log.debug({ exporter: exporter.key, err: error }, 'connection error'));
    // Logged once its session is gone (with decode workers, once its worker has decoded what it sent before).
    socket.on('close', () => void Promise.resolve(handlers.closed(exporter)).then(() => events.exporterClosed(name, exporter.key)));
  };

  const accept = (raw: Socket) => {
    const connection = guard?.admit(raw, plainAddress(raw.remoteAddress ?? 'unknown'));
    if (!connection) return;
    if (!secure) return established(raw, connection);
    const peer = `${raw.remoteAddress}:${raw.remotePort}`;
    handshaking.set(peer, connection);
    raw.once('close', () => handshaking.delete(peer));
  };

  const listen = (host: string) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.on('connection', accept);
      if (secure) {
        s.on('secureConnection', (socket: Socket) => {
          const peer = `${socket.remoteAddress}:${socket.remotePort}`;
          const connection = handshaking.get(peer);
          handshaking.delete(peer);
          if (connection) established(socket, connection);
          else socket.destroy();
        });
      }
      s.once('error', reject);
      s.listen({ host, port: settings.port }, () => {
        s.off('error', reject);
        resolve(s);
      });
    });

  return {
    name,
    async start() {
      guard = new ConnectionGuard(name, settings, events);
      server = await bindDualStack(settings.host, listen, log, `${name} input`);
      server.on('error', (error) => log.error({ err: error }, 'server error'));
    },
    announce() {
      if (server) log.info({ address: server.address() }, `${name.toUpperCase()} input listening`);
    },
    stop() {
      return new Promise((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        // Whole messages already received have been handed over; exporters reconnect and resend templates.
        guard?.close();
        server = undefined;
      });
    },
    pause() {
      guard?.pause();
    },
    resume() {
      guard?.resume();
    },
    address() {
      const a = server?.address();
      return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
    },
  };
}

/**
 * IPFIX over a stream (RFC 7011 §10.4): messages framed by the length in their header. A stream that stops
 * being IPFIX cannot be resynchronised, so the connection is closed and the fault counted. A connection buffers
 * at most one incomplete message (under 64 KiB).
 */
export function ipfixFraming({ handlers, events }: InputContext, input: string): StreamFraming {
  return (socket, exporter, connection) => {
    let buffered: Buffer = Buffer.alloc(0);
    return (chunk) => {
      const receivedAtMs = Date.now();
      connection.activity();
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let offset = 0;
      while (buffered.length - offset >= 4) {
        const version = buffered.readUInt16BE(offset);
        const length = buffered.readUInt16BE(offset + 2);
        if (version !== IPFIX_VERSION || length < IPFIX_HEADER_LENGTH) {
          events.streamNotIpfix(input, exporter.key, version, length);
          socket.destroy();
          return;
        }
        if (buffered.length - offset < length) break;
        const message = buffered.subarray(offset, offset + length);
        events.messageReceived(input, length);
        connection.delivered();
        handlers.message(message, exporter, receivedAtMs);
        offset += length;
      }
      // A copy of the incomplete rest, so that it does not keep the whole chunk it came in alive.
      buffered = offset === buffered.length ? Buffer.alloc(0) : offset === 0 ? buffered : Buffer.from(buffered.subarray(offset));
    };
  };
}
