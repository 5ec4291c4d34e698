// Kernel UDP receive-buffer drops: read from /proc/net/udp for the collector's own socket, counted and logged.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config/load.js';
import { parseProcNetUdp } from '../collector/src/inputs/udp-drops.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { counter } from './support/offline.js';
import { until } from './support/wait.js';

// As Linux 6.x prints them (columns padded), one IPv4 and one IPv6 table.
const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 1505: 0100007F:B928 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41644 2 000000005f66632d 0         
 2371: 00000000:1283 00000000:0000 07 00000000:00020480 00:00000000 00000000  1000        0 93211 2 0000000078609856 44493     
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 2371: 00000000000000000000000000000000:1283 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 93342 2 00000000a100cec7 17
`;

describe('/proc/net/udp', () => {
  it('parses the local port, inode and drop count of every socket, IPv4 and IPv6', () => {
    expect(parseProcNetUdp(UDP4)).toEqual([
      { localPort: 0xb928, inode: 41644, drops: 0 },
      { localPort: 4739, inode: 93211, drops: 44493 },
    ]);
    expect(parseProcNetUdp(UDP6)).toEqual([{ localPort: 4739, inode: 93342, drops: 17 }]);
    expect(parseProcNetUdp('')).toEqual([]);
    expect(parseProcNetUdp('garbage\n 1: x y\n')).toEqual([]);
  });
});

let running: Collector | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe.skipIf(!existsSync('/proc/net/udp'))('kernel receive-buffer drops (Linux)', () => {
  it('counts what the kernel dropped for a tiny receive buffer, and logs it at ERROR once', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-drops-'));
    const collector = (running = new Collector(loadConfig(undefined, {
      ELKFC_INPUTS_TCP_ENABLED: 'false',
      ELKFC_INPUTS_UDP_HOST: '127.0.0.1', ELKFC_INPUTS_UDP_PORT: '0',
      ELKFC_INPUTS_UDP_RECEIVE_BUFFER_BYTES: '65536', ELKFC_INPUTS_UDP_RECEIVE_DROPS_CHECK_INTERVAL_MS: '50',
      ELKFC_HTTP_ENABLED: 'false',
      ELKFC_OUTPUT_FILE_DIRECTORY: join(dir, 'flows'),
      ELKFC_DECODING_TEMPLATE_STATE_PATH: join(dir, 'templates.json'),
    }), pino({ level: 'info' }, stream)));
    await collector.start();
    const { port } = collector.inputAddress('udp')!;
    // A child blasts 20,000 empty IPFIX messages while this process is blocked in spawnSync and cannot read:
    // a 128 KiB buffer (the kernel doubles the 64 KiB asked for) holds a few hundred of them.
    const sender = `
      const s = require('node:dgram').createSocket('udp4');
      const m = Buffer.alloc(16); m.writeUInt16BE(10, 0); m.writeUInt16BE(16, 2);
      let sent = 0, done = 0;
      for (let i = 0; i < 20000; i++) s.send(m, ${port}, '127.0.0.1', (e) => { if (!e) sent++; if (++done === 20000) { console.log(sent); s.close(); } });`;
    const child = spawnSync(process.execPath, ['-e', sender], { encoding: 'utf8' });
    const sent = Number(child.stdout.trim());
    expect(sent).toBeGreaterThan(0);
    const metrics = collector.events.metrics;
    const received = () => counter(metrics, 'elkfc_packets_received_total', { input: 'udp' });
    const dropped = () => counter(metrics, 'elkfc_udp_receive_drops_total');
    // Every datagram sent was either received or counted as dropped by the kernel.
    await until(async () => (await received()) + (await dropped()) === sent, 20_000, 'received + dropped = sent');
    expect(await dropped()).toBeGreaterThan(0);
    const errors = lines.filter((l) => String(l.msg).startsWith('the kernel dropped UDP datagrams'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 50 });
  }, 60_000);
});
