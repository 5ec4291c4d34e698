import { createSocket, type Socket } from 'node:dgram';
import type { ExporterSessionKey } from '../session/template-session.js';
import { bindDualStack, exporterKey, plainAddress, type Input, type InputFactory } from './types.js';
import { UdpDropCounter } from './udp-drops.js';

/**
 * UDP input: one datagram is one export message. The exporter session is its source address and port
 * (RFC 7011 §8.4); session keys are cached so that a datagram costs no allocation beyond its buffer.
 * Datagrams the kernel drops because the receive buffer is full never reach us: the socket's drop counter
 * (/proc/net/udp) is read periodically and every increase counted and logged as data loss.
 */
export const createUdpInput: InputFactory = ({ config, handlers, events, log }) => {
  const settings = config.inputs.udp;
  if (!settings.enabled) return undefined;
  let socket: Socket | undefined;
  let drops: { counter: UdpDropCounter; seen: number; timer: NodeJS.Timeout; checking?: Promise<void> } | undefined;
  const exporters = new Map<string, ExporterSessionKey>();

  // The last source, remembered: a Flow Aggregator is one source, and a datagram's key text and Map lookup cost
  // about 100 ns (8 ns when it is the last one, in a loop of 5 million calls).
  let lastAddress = '';
  let lastPort = -1;
  let lastExporter: ExporterSessionKey | undefined;
  const exporterFor = (address: string, port: number): ExporterSessionKey => {
    if (port === lastPort && address === lastAddress) return lastExporter!;
    lastExporter = sessionFor(address, port);
    lastAddress = address;
    lastPort = port;
    return lastExporter;
  };
  const sessionFor = (address: string, port: number): ExporterSessionKey => {
    const id = `${address}:${port}`;
    let exporter = exporters.get(id);
    if (!exporter) {
      // Bounded: a flood of spoofed sources must not grow this without limit.
      if (exporters.size >= 65536) exporters.clear();
      const plain = plainAddress(address);
      exporter = { key: exporterKey('udp', plain, port), address: plain, expires: true };
      exporters.set(id, exporter);
      events.exporterSeen('udp', exporter.key);
    }
    return exporter;
  };

  const bind = (host: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: settings.receiveBufferBytes });
      s.once('error', reject);
      s.bind({ address: host, port: settings.port }, () => {
        s.off('error', reject);
        resolve(s);
      });
    });

  const checkDrops = async () => {
    if (!drops || drops.checking) return;
    const d = drops;
    d.checking = d.counter.read().then((total) => {
      if (total !== undefined && total > d.seen) {
        events.udpReceiveDropped(total - d.seen, total);
        d.seen = total;
      }
    }).catch(() => {}).finally(() => {
      d.checking = undefined;
    });
    await d.checking;
  };

  const watchDrops = async (port: number) => {
    const counter = await UdpDropCounter.open(port);
    if (!counter) return; // said in announce()
    const timer = setInterval(() => void checkDrops(), settings.receiveDropsCheckIntervalMs);
    timer.unref();
    drops = { counter, seen: (await counter.read()) ?? 0, timer };
  };

  const input: Input = {
    name: 'udp',
    async start() {
      socket = await bindDualStack(settings.host, bind, log, 'UDP input');
      socket.on('message', (message, remote) => {
        events.messageReceived('udp', message.length);
        handlers.message(message, exporterFor(remote.address, remote.port), Date.now());
      });
      socket.on('error', (error) => log.error({ err: error }, 'UDP socket error'));
      await watchDrops(socket.address().port);
    },
    announce() {
      if (!socket) return;
      log.info({ address: socket.address() }, 'UDP input listening');
      const granted = socket.getRecvBufferSize();
      // Linux doubles the requested size for bookkeeping and caps it at net.core.rmem_max.
      if (granted < settings.receiveBufferBytes) {
        log.warn({ requested: settings.receiveBufferBytes, granted }, 'UDP receive buffer smaller than configured: raise net.core.rmem_max');
      }
      if (!drops) log.info('the kernel\'s UDP drop counter cannot be read here (no /proc/net/udp): receive-buffer drops are not counted');
    },
    async stop() {
      if (drops) {
        clearInterval(drops.timer);
        await drops.checking;
        await checkDrops(); // what was dropped since the last check, before the socket and its counter go
        drops = undefined;
      }
      return new Promise((resolve) => {
        if (!socket) return resolve();
        socket.close(() => resolve());
        socket = undefined;
      });
    },
    // Datagrams cannot be paused: while the sink is behind they wait in the socket buffer, then the kernel drops them.
    pause() {},
    resume() {},
    address() {
      return socket?.address();
    },
  };
  return input;
};
