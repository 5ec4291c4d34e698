import { createServer, type Server, type Socket } from 'node:net';
import type { ExporterSessionKey } from '../session/template-session.js';
import { bindDualStack, exporterKey, plainAddress, type InputFactory } from './types.js';

const IPFIX_VERSION = 10;
const IPFIX_HEADER_LENGTH = 16;

/**
 * TCP input for IPFIX (RFC 7011 §10.4): a stream of messages, each framed by the length in its header.
 * Each connection is its own exporter session; its templates live until it closes. A stream that stops
 * being IPFIX cannot be resynchronised, so the connection is closed and the fault counted.
 */
export const createTcpInput: InputFactory = ({ config, handlers, events, log }) => {
  const settings = config.inputs.tcp;
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let paused = false;

  const onConnection = (socket: Socket) => {
    const address = plainAddress(socket.remoteAddress ?? 'unknown');
    const exporter: ExporterSessionKey = { key: exporterKey('tcp', address, socket.remotePort), address, expires: false };
    events.exporterConnected('tcp', exporter.key);
    sockets.add(socket);
    events.metrics.tcpConnections.set(sockets.size);
    if (paused) socket.pause();
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      const receivedAtMs = Date.now();
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let offset = 0;
      while (buffered.length - offset >= 4) {
        const version = buffered.readUInt16BE(offset);
        const length = buffered.readUInt16BE(offset + 2);
        if (version !== IPFIX_VERSION || length < IPFIX_HEADER_LENGTH) {
          events.metrics.decodeErrors.inc({ kind: 'tcp_framing' });
          log.warn({ exporter: exporter.key, version, length }, 'TCP stream is not IPFIX; closing the connection');
          socket.destroy();
          return;
        }
        if (buffered.length - offset < length) break;
        const message = buffered.subarray(offset, offset + length);
        events.messageReceived('tcp', length);
        handlers.message(message, exporter, receivedAtMs);
        offset += length;
      }
      buffered = offset === buffered.length ? Buffer.alloc(0) : buffered.subarray(offset);
    });
    socket.on('error', (error) => log.debug({ exporter: exporter.key, err: error }, 'TCP connection error'));
    socket.on('close', () => {
      sockets.delete(socket);
      events.metrics.tcpConnections.set(sockets.size);
      events.exporterClosed('tcp', exporter.key);
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
    name: 'tcp',
    async start() {
      server = await bindDualStack(settings.host, listen, log, 'TCP input');
      server.on('error', (error) => log.error({ err: error }, 'TCP server error'));
      log.info({ address: server.address() }, 'TCP input listening');
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
};
