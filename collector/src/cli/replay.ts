import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCaptures } from './offline.js';

export interface ReplayOptions {
  files: string[];
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  /** Messages per second; 0 sends as fast as the socket takes them. */
  rate: number;
  /** How many times the captures are sent. */
  repeat: number;
}

const TICK_MS = 10;

/** Sends the messages of captures to a collector, paced in 10 ms ticks. Returns how many messages were sent. */
export async function replay(options: ReplayOptions): Promise<number> {
  const messages = readCaptures(options.files, { address: '0.0.0.0', port: 0 }, Date.now()).map((m) => m.message);
  if (messages.length === 0) throw new Error('the captures hold no export messages');
  if (options.protocol === 'tcp') {
    const notIpfix = messages.find((m) => m.readUInt16BE(0) !== 10);
    if (notIpfix) throw new Error(`TCP carries IPFIX only; the captures hold version ${notIpfix.readUInt16BE(0)} messages`);
  }
  const perTick = options.rate > 0 ? Math.max(1, Math.round((options.rate * TICK_MS) / 1000)) : Infinity;
  const send = options.protocol === 'udp' ? await udpSender(options.host, options.port) : await tcpSender(options.host, options.port);
  let sent = 0;
  try {
    for (let round = 0; round < options.repeat; round++) {
      for (let i = 0; i < messages.length; ) {
        const tickStart = Date.now();
        const end = Math.min(messages.length, i + perTick);
        for (; i < end; i++) {
          await send.message(messages[i]);
          sent++;
        }
        if (perTick !== Infinity) await sleep(Math.max(0, TICK_MS - (Date.now() - tickStart)));
      }
    }
  } finally {
    await send.close();
  }
  return sent;
}

async function udpSender(host: string, port: number) {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, () => resolve());
  });
  return {
    message: (m: Buffer) => new Promise<void>((resolve, reject) => socket.send(m, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function tcpSender(host: string, port: number) {
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => resolve());
  });
  return {
    message: (m: Buffer) =>
      new Promise<void>((resolve) => {
        if (socket.write(m)) resolve();
        else socket.once('drain', () => resolve());
      }),
    close: () => new Promise<void>((resolve) => socket.end(() => resolve())),
  };
}
