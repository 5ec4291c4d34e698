import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config/load.js';
import { readCaptures } from './offline.js';
import type { Progress } from './progress.js';

export interface ReplayOptions {
  files: string[];
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  /** Messages per second; 0 sends as fast as the socket takes them. */
  rate: number;
  /** How many times the captures are sent. */
  repeat: number;
  progress?: Progress;
}

const TICK_MS = 10;

/** Sends the messages of captures to a collector, paced in 10 ms ticks. Returns how many messages were sent. */
export async function replay(options: ReplayOptions): Promise<number> {
  const captured = readCaptures(options.files, { address: '0.0.0.0', port: 0 }, Date.now());
  const messages = captured.map((m) => m.message);
  // Mistakes in what was asked for, found before anything is sent.
  if (messages.length === 0) throw new ConfigError(`replay: ${options.files.join(', ')}: no UDP export messages in the captures`);
  if (options.protocol === 'tcp') {
    const i = messages.findIndex((m) => m.length < 2 || m.readUInt16BE(0) !== 10);
    if (i >= 0) {
      const version = messages[i].length >= 2 ? messages[i].readUInt16BE(0) : 'unknown';
      throw new ConfigError(`replay: --protocol tcp carries IPFIX only, and ${captured[i].file} holds version ${version} messages (NetFlow v5/v9 go over UDP: --protocol udp)`);
    }
  }
  const total = messages.length * options.repeat;
  const status = () => `replaying: ${sent.toLocaleString('en')} of ${total.toLocaleString('en')} messages sent`;
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
          options.progress?.update(status);
        }
        if (perTick !== Infinity) await sleep(Math.max(0, TICK_MS - (Date.now() - tickStart)));
      }
    }
  } finally {
    options.progress?.done();
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
