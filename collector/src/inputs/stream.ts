import type { Server, Socket } from 'node:net';
import type { ExporterSessionKey } from '../session/template-session.js';
import { bindDualStack, plainAddress, type Input, type InputContext } from './types.js';

const IPFIX_VERSION = 10;
const IPFIX_HEADER_LENGTH = 16;

/** Where a stream listener binds, and how many connections it takes at once. */
export interface StreamSettings {
  host: string;
  port: number;
  maxConnections: number;
}

/**
 * What a stream carries: given an established connection (after the TLS handshake, for TLS) and its exporter
 * session, returns what to do with each chunk of bytes. It may destroy the socket when the stream is beyond repair.
 */
export type StreamFraming = (socket: Socket, exporter: ExporterSessionKey) => (chunk: Buffer) => void;

export interface StreamInputOptions {
  /** Input name: metrics label, log field, and the prefix of exporter session keys. */
  name: string;
  settings: StreamSettings;
  /** Makes the server (net or tls) whose connection listener is `onConnection`. */
  createServer(onConnection: (socket: Socket) => void): Server;
  framing: StreamFraming;
}

/**
 * A listener for exporters that connect (TCP, TLS): each connection is its own exporter session, whose templates
 * live until it closes (RFC 7011 §8), with pause/resume for backpressure and a bound on connections.
 */
export function createStreamInput(
  { handlers, events, log }: InputContext,
  { name, settings, createServer, framing }: StreamInputOptions,
): Input {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let paused = false;

  const onConnection = (socket: Socket) => {
    const address = plainAddress(socket.remoteAddress ?? 'unknown');
    const exporter: ExporterSessionKey = { key: `${name}:${address}:${socket.remotePort}`, address, expires: false };
    sockets.add(socket);
    events.connectionsOpen(name, sockets.size);
    if (paused) socket.pause();
    socket.on('data', framing(socket, exporter));
    socket.on('error', (error) => log.debug({ exporter: exporter.key, err: error }, 'connection error'));
    socket.on('close', () => {
      sockets.delete(socket);
      events.connectionsOpen(name, sockets.size);
      handlers.closed(exporter);
    });
  };

  const listen = (host: string) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer(onConnection);
      s.maxConnections = settings.maxConnections;
      s.once('error', reject);
      s.listen({ host, port: settings.port }, () => {
        s.off('error', reject);
        resolve(s);
      });
    });

  return {
    name,
    async start() {
      server = await bindDualStack(settings.host, listen, log, `${name} input`);
      server.on('error', (error) => log.error({ err: error }, 'server error'));
      log.info({ address: server.address() }, `${name.toUpperCase()} input listening`);
    },
    stop() {
      return new Promise((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        // Whole messages already received have been handed over; exporters reconnect and resend templates.
        for (const socket of sockets) socket.destroy();
        server = undefined;
      });
    },
    pause() {
      paused = true;
      for (const socket of sockets) socket.pause();
    },
    resume() {
      paused = false;
      for (const socket of sockets) socket.resume();
    },
    address() {
      const a = server?.address();
      return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
    },
  };
}

/**
 * IPFIX over a stream (RFC 7011 §10.4): messages framed by the length in their header. A stream that stops
 * being IPFIX cannot be resynchronised, so the connection is closed and the fault counted.
 */
export function ipfixFraming({ handlers, events }: InputContext, input: string): StreamFraming {
  return (socket, exporter) => {
    let buffered: Buffer = Buffer.alloc(0);
    return (chunk) => {
      const receivedAtMs = Date.now();
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
        handlers.message(message, exporter, receivedAtMs);
        offset += length;
      }
      buffered = offset === buffered.length ? Buffer.alloc(0) : buffered.subarray(offset);
    };
  };
}
