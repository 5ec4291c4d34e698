import { createServer, type Server, type Socket } from 'node:net';
import type { ExporterSessionKey } from '../session/template-session.js';
import { ConnectionGuard } from './connections.js';
import { bindDualStack, plainAddress, type InputFactory } from './types.js';

const IPFIX_VERSION = 10;
const IPFIX_HEADER_LENGTH = 16;

/**
 * TCP input for IPFIX (RFC 7011 §10.4): a stream of messages, each framed by the length in its header.
 * Each connection is its own exporter session; its templates live until it closes. A stream that stops
 * being IPFIX cannot be resynchronised, so the connection is closed and the fault counted. Connections are bounded
 * (in total, per source address, idle time) by the ConnectionGuard; a connection buffers at most one incomplete
 * message (under 64 KiB).
 */
export const createTcpInput: InputFactory = ({ config, handlers, events, log }) => {
  const settings = config.inputs.tcp;
  let server: Server | undefined;
  let guard: ConnectionGuard | undefined;

  const onConnection = (socket: Socket) => {
    const address = plainAddress(socket.remoteAddress ?? 'unknown');
    const connection = guard?.admit(socket, address);
    if (!connection) return;
    const exporter: ExporterSessionKey = { key: `tcp:${address}:${socket.remotePort}`, address, expires: false };
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      const receivedAtMs = Date.now();
      connection.activity();
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let offset = 0;
      while (buffered.length - offset >= 4) {
        const version = buffered.readUInt16BE(offset);
        const length = buffered.readUInt16BE(offset + 2);
        if (version !== IPFIX_VERSION || length < IPFIX_HEADER_LENGTH) {
          events.streamNotIpfix('tcp', exporter.key, version, length);
          socket.destroy();
          return;
        }
        if (buffered.length - offset < length) break;
        const message = buffered.subarray(offset, offset + length);
        events.messageReceived('tcp', length);
        connection.delivered();
        handlers.message(message, exporter, receivedAtMs);
        offset += length;
      }
      // A copy of the incomplete rest, so that it does not keep the whole chunk it came in alive.
      buffered = offset === buffered.length ? Buffer.alloc(0) : offset === 0 ? buffered : Buffer.from(buffered.subarray(offset));
    });
    socket.on('error', (error) => log.debug({ exporter: exporter.key, err: error }, 'TCP connection error'));
    socket.on('close', () => handlers.closed(exporter));
  };

  const listen = (host: string) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen({ host, port: settings.port }, () => {
        s.off('error', reject);
        resolve(s);
      });
    });

  return {
    name: 'tcp',
    async start() {
      guard = new ConnectionGuard('tcp', {
        maxConnections: settings.maxConnections,
        maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
        idleTimeoutMs: settings.idleTimeoutSecs * 1000,
      }, events);
      server = await bindDualStack(settings.host, listen, log, 'TCP input');
      server.on('error', (error) => log.error({ err: error }, 'TCP server error'));
      log.info({ address: server.address() }, 'TCP input listening');
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
};
