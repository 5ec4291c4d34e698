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

/** Sends the messages of captures to a collector, at `rate` messages per second. Returns how many were sent. */
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
  const send = options.protocol === 'udp' ? await udpSender(options.host, options.port) : await tcpSender(options.host, options.port);
  let sent = 0;
  const startedMs = Date.now();
  try {
    for (let round = 0; round < options.repeat; round++) {
      for (const message of messages) {
        // Paced by the clock: message n leaves at start + n / rate (any rate, also below one per 10 ms tick).
        if (options.rate > 0) {
          const waitMs = startedMs + (sent * 1000) / options.rate - Date.now();
          if (waitMs >= 1) await sleep(waitMs);
        }
        await send.message(message);
        sent++;
        options.progress?.update(status);
      }
    }
  } finally {
    options.progress?.done();
    await send.close();
  }
  return sent;
}

/** The collector could not be reached: a runtime failure (exit 1), said in one line. */
export class ReplayError extends Error {}

const unreachable = (protocol: string, host: string, port: number, error: NodeJS.ErrnoException) =>
  new ReplayError(`replay: ${protocol} ${host.includes(':') ? `[${host}]` : host}:${port}: ${error.code ?? error.message}${error.code === 'ECONNREFUSED' ? ' (is a collector listening there?)' : ''}`);

async function udpSender(host: string, port: number) {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (e) => reject(unreachable('UDP', host, port, e)));
    socket.connect(port, host, () => resolve());
  });
  // A connected UDP socket hears the ICMP refusals of a closed port: fail the next send with it, not an unhandled error.
  let failure: ReplayError | undefined;
  socket.on('error', (e) => (failure ??= unreachable('UDP', host, port, e)));
  return {
    message: (m: Buffer) =>
      new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        socket.send(m, (e) => (e ? reject(unreachable('UDP', host, port, e)) : resolve()));
      }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function tcpSender(host: string, port: number) {
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (e) => reject(unreachable('TCP', host, port, e)));
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
