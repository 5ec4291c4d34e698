// Connection limits of the stream inputs: idle and garbage connections cannot lock exporters out, and what the
// limits refuse is counted and logged at a bounded rate.
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { ConnectionGuard } from '../collector/src/inputs/connections.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { InternalEvents } from '../collector/src/telemetry/events.js';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { counter } from './support/offline.js';
import { until } from './support/wait.js';

/** What the guard touches of a socket. */
class FakeSocket extends EventEmitter {
  paused = false;
  destroyed = false;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    setImmediate(() => this.emit('close'));
  }
}

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

function guardFor(limits: { maxConnections: number; maxConnectionsPerAddress: number; idleTimeoutMs: number }, now = () => clock) {
  const events = new InternalEvents(createMetrics(), pino({ level: 'silent' }));
  return { events, guard: new ConnectionGuard('tcp', limits, events, now) };
}
let clock = 0;

describe('ConnectionGuard', () => {
  it('refuses past the per-address limit, and frees the slot when a connection closes', async () => {
    const { events, guard } = guardFor({ maxConnections: 100, maxConnectionsPerAddress: 2, idleTimeoutMs: 60_000 });
    const sockets = [0, 1, 2].map(() => new FakeSocket());
    const admitted = sockets.map((s) => guard.admit(s as unknown as Socket, '192.0.2.1'));
    expect(admitted.map((a) => a !== undefined)).toEqual([true, true, false]);
    expect(sockets[2].destroyed).toBe(true);
    expect(guard.admit(new FakeSocket() as unknown as Socket, '192.0.2.2')).toBeDefined();
    sockets[0].destroy();
    await new Promise((r) => setImmediate(r));
    expect(guard.admit(new FakeSocket() as unknown as Socket, '192.0.2.1')).toBeDefined();
    expect(await counter(events.metrics, 'elkfc_connections_limited_total', { reason: 'per_address_limit' })).toBe(1);
    expect(await counter(events.metrics, 'elkfc_tcp_connections', { input: 'tcp' })).toBe(3);
    guard.close();
  });

  it('at the total limit closes the oldest connection that never delivered a message; refuses when all have', () => {
    const { guard } = guardFor({ maxConnections: 3, maxConnectionsPerAddress: 10, idleTimeoutMs: 60_000 });
    const s = [0, 1, 2, 3, 4, 5].map(() => new FakeSocket());
    const c = s.slice(0, 3).map((x, i) => {
      clock = i;
      return guard.admit(x as unknown as Socket, '192.0.2.1')!;
    });
    c[0].delivered();
    // s[1] is the oldest that has sent nothing complete: it goes for s[3].
    expect(guard.admit(s[3] as unknown as Socket, '192.0.2.1')).toBeDefined();
    expect(s.map((x) => x.destroyed)).toEqual([false, true, false, false, false, false]);
    c[2].delivered();
    guard.admit(s[4] as unknown as Socket, '192.0.2.1')!.delivered(); // evicts s[3]
    expect(s[3].destroyed).toBe(true);
    expect(guard.admit(s[5] as unknown as Socket, '192.0.2.1')).toBeUndefined();
    expect(s[5].destroyed).toBe(true);
    expect(guard.size).toBe(3);
    guard.close();
  });

  it('acts on the stream handed over by use() (a TLS socket after its handshake)', () => {
    const { guard } = guardFor({ maxConnections: 10, maxConnectionsPerAddress: 10, idleTimeoutMs: 60_000 });
    const plain = new FakeSocket();
    const secure = new FakeSocket();
    const connection = guard.admit(plain as unknown as Socket, '192.0.2.1')!;
    guard.pause();
    expect(plain.paused).toBe(true);
    connection.use(secure as unknown as Socket);
    expect(secure.paused).toBe(true); // paused on arrival, as the input is
    guard.resume();
    expect(secure.paused).toBe(false);
    guard.close();
    expect(secure.destroyed).toBe(true);
  });

  it('closes connections silent for the idle timeout, but not while the input is paused', async () => {
    const { events, guard } = guardFor({ maxConnections: 10, maxConnectionsPerAddress: 10, idleTimeoutMs: 40 }, Date.now);
    const quiet = new FakeSocket();
    const talking = new FakeSocket();
    guard.admit(quiet as unknown as Socket, '192.0.2.1');
    const connection = guard.admit(talking as unknown as Socket, '192.0.2.1')!;
    const ticker = setInterval(() => connection.activity(), 5);
    await until(() => quiet.destroyed, 2000, 'the idle close');
    expect(talking.destroyed).toBe(false);
    clearInterval(ticker);
    guard.pause();
    expect(talking.paused).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(talking.destroyed).toBe(false);
    guard.resume();
    expect(talking.paused).toBe(false);
    await until(() => talking.destroyed, 2000, 'the idle close after resume');
    expect(await counter(events.metrics, 'elkfc_connections_limited_total', { reason: 'idle_timeout' })).toBe(2);
    guard.close();
  });
});

function startCollector(log = pino({ level: 'silent' }), env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'elkfc-limits-'));
  const config = loadConfig(undefined, {
    ELKFC_INPUTS_UDP_ENABLED: 'false',
    ELKFC_INPUTS_TCP_HOST: '127.0.0.1', ELKFC_INPUTS_TCP_PORT: '0',
    ELKFC_HTTP_ENABLED: 'false',
    ELKFC_OUTPUT_FILE_DIRECTORY: join(dir, 'flows'),
    ELKFC_DECODING_TEMPLATE_STATE_PATH: join(dir, 'templates.json'),
    ...env,
  });
  return new Collector(config, log);
}

let running: Collector | undefined;
const clients: Socket[] = [];
afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  await running?.stop();
  running = undefined;
});

/** Opens `count` connections from `localAddress` that send nothing, in batches (the listen backlog is finite). */
async function openIdle(port: number, addresses: string[], count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, j) => new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: addresses[(i + j) % addresses.length] }, () => resolve());
      socket.on('error', () => resolve());
      clients.push(socket);
    })));
  }
}

describe('TCP input under connection abuse', () => {
  it('gets a clean exporter\'s records through while 2,000 idle connections are opened (one address, then 250)', async () => {
    const collector = (running = startCollector());
    await collector.start();
    const { port } = collector.inputAddress('tcp')!;
    const metrics = collector.events.metrics;
    const limited = (reason: string) => counter(metrics, 'elkfc_connections_limited_total', { reason });
    const open = () => counter(metrics, 'elkfc_tcp_connections', { input: 'tcp' });

    // 1,000 from one address: 64 (maxConnectionsPerAddress) are kept, the rest refused.
    await openIdle(port, ['127.0.0.2'], 1000);
    await until(async () => (await limited('per_address_limit')) === 936, 30_000, 'the per-address refusals');
    expect(await open()).toBe(64);
    // 1,000 more from 250 addresses fill the 1,000 slots; the 64 surplus evict the first idle ones.
    const spread = Array.from({ length: 250 }, (_, i) => `127.0.1.${i + 1}`);
    await openIdle(port, spread, 1000);
    await until(async () => (await limited('evicted')) === 64, 30_000, 'the evictions');
    expect(await open()).toBe(1000);

    // The clean exporter: a template and 3,000 Flow Aggregator records over one connection.
    const layout = aggregatorLayout(4);
    const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 7 });
    const messages = [templateMessage(header(0), 300, layout)];
    for (let i = 0; i < 3000; i += 10) {
      messages.push(dataMessage(header(i), 300, layout, Array.from({ length: 10 }, (_, k) => aggregatorRecord(i + k))));
    }
    const exporter = connect({ host: '127.0.0.1', port }, () => exporter.write(Buffer.concat(messages)));
    clients.push(exporter);
    await until(async () => (await counter(metrics, 'elkfc_records_decoded_total')) === 3000, 30_000, 'the clean exporter\'s records');
    expect(await limited('evicted')).toBe(65);
    expect(await open()).toBe(1000);
    expect(exporter.destroyed).toBe(false);
  }, 120_000);

  it('logs garbage connections at a bounded rate and counts every one', async () => {
    const { lines, log } = logLines();
    const collector = (running = startCollector(log));
    await collector.start();
    const { port } = collector.inputAddress('tcp')!;
    await Promise.all(Array.from({ length: 50 }, () => new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write('GET / HTTP/1.1\r\n\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => {});
    })));
    await until(async () => (await counter(collector.events.metrics, 'elkfc_decode_errors_total', { kind: 'tcp_framing' })) === 50, 10_000, 'the count');
    expect(lines.filter((l) => String(l.msg).includes('not IPFIX'))).toHaveLength(1);
  });
});
