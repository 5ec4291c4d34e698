// IPFIX over TLS (RFC 7011 §10.4) with Node's tls client, on certificates made for this test: mutual TLS,
// the refusals, certificate rotation under a live connection, and the start-up errors.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../collector/src/config/load.js';
import { Collector } from '../collector/src/pipeline/collector.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { createAuthority, type Authority, type Issued } from './support/certificates.js';
import { counter } from './support/offline.js';
import { BIN } from './support/process.js';
import { until } from './support/wait.js';

const layout = aggregatorLayout(4);
const header = (sequence: number) => ({ exportTimeSecs: 1_700_000_000, sequence, domain: 7 });
const messages = () => [templateMessage(header(0), 300, layout), dataMessage(header(0), 300, layout, [aggregatorRecord(1), aggregatorRecord(2)])];

let dir: string;
let ca: Authority;
let otherCa: Authority;
let server: Issued;
let client: Issued;
let foreignClient: Issued;
let expiredClient: Issued;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'elkfc-tls-'));
  [ca, otherCa] = await Promise.all([createAuthority('elkfc test CA'), createAuthority('another CA')]);
  [server, client, foreignClient, expiredClient] = await Promise.all([
    ca.issue({ commonName: 'collector', usage: 'server' }),
    ca.issue({ commonName: 'flow-aggregator', usage: 'client' }),
    otherCa.issue({ commonName: 'intruder', usage: 'client' }),
    ca.issue({ commonName: 'old-aggregator', usage: 'client', expired: true }),
  ]);
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  writeFileSync(join(dir, 'tls.crt'), server.cert);
  writeFileSync(join(dir, 'tls.key'), server.key);
});

let running: Collector | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function startCollector(env: Record<string, string> = {}) {
  const config = loadConfig(undefined, {
    ELKFC_INPUTS_UDP_ENABLED: 'false', ELKFC_INPUTS_TCP_ENABLED: 'false',
    ELKFC_INPUTS_TLS_HOST: '127.0.0.1', ELKFC_INPUTS_TLS_PORT: '0',
    ELKFC_INPUTS_TLS_CERT_FILE: join(dir, 'tls.crt'), ELKFC_INPUTS_TLS_KEY_FILE: join(dir, 'tls.key'),
    ELKFC_INPUTS_TLS_CLIENT_CA_FILE: join(dir, 'ca.crt'),
    ELKFC_HTTP_ENABLED: 'false', ELKFC_OUTPUT_SINK: '"null"', ELKFC_DECODING_TEMPLATE_STATE_PATH: 'null',
    ...env,
  });
  const collector = (running = new Collector(config, pino({ level: 'silent' })));
  await collector.start();
  return { collector, port: collector.inputAddress('tls')?.port ?? 0 };
}

/** A TLS client; resolves once the handshake is done (for TLS 1.3, before the server has judged the client certificate). */
function tlsClient(port: number, identity?: Issued, options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}) {
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, cert: identity?.cert, key: identity?.key, ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A directory of its own holding the server certificate and key, for a test that changes them. */
function ownFiles(name: string) {
  const rotation = join(dir, name);
  mkdirSync(rotation, { recursive: true });
  writeFileSync(join(rotation, 'tls.crt'), server.cert);
  writeFileSync(join(rotation, 'tls.key'), server.key);
  return { rotation, env: { ELKFC_INPUTS_TLS_CERT_FILE: join(rotation, 'tls.crt'), ELKFC_INPUTS_TLS_KEY_FILE: join(rotation, 'tls.key') } };
}

const closed = (socket: { once(event: 'close', listener: () => void): unknown }) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
const metric = (collector: Collector, name: string, labels: Record<string, string> = {}) => counter(collector.events.metrics, name, labels);

/** Sends Antrea's template and two records on a client that may be refused; resolves when the server has closed it. */
async function refusedAfterSending(port: number, identity?: Issued, options?: { maxVersion?: 'TLSv1.2' | 'TLSv1.3' }) {
  const socket = await tlsClient(port, identity, options).catch(() => undefined);
  if (!socket) return;
  socket.on('error', () => {});
  const done = closed(socket);
  for (const m of messages()) socket.write(m);
  await done;
}

describe('IPFIX over TLS', () => {
  it('accepts an exporter with a client certificate from the configured CA, and scopes its templates to the connection', async () => {
    const { collector, port } = await startCollector();
    const socket = await tlsClient(port, client);
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subject.CN).toBe('collector');
    for (const m of messages()) socket.write(m);
    await until(async () => (await metric(collector, 'elkfc_records_decoded_total', { version: '10' })) === 2, 10_000, 'records over TLS');
    expect(await metric(collector, 'elkfc_packets_received_total', { input: 'tls' })).toBe(2);
    expect((await collector.templateStats()).templates).toBe(1);
    expect(await metric(collector, 'elkfc_tcp_connections', { input: 'tls' })).toBe(1);
    socket.end();
    // As for TCP, the connection's templates go when it closes (RFC 7011 §8).
    await until(async () => (await collector.templateStats()).templates === 0, 10_000, 'templates dropped on close');
    expect(await metric(collector, 'elkfc_tls_handshake_failures_total', { input: 'tls' })).toBe(0);
  });

  it.each([
    ['a client without a certificate', () => undefined],
    ['a client whose certificate comes from another CA', () => foreignClient],
    ['a client with an expired certificate', () => expiredClient],
  ])('refuses %s and counts the failed handshake', async (_what, identity) => {
    const { collector, port } = await startCollector();
    await refusedAfterSending(port, identity());
    await until(async () => (await metric(collector, 'elkfc_tls_handshake_failures_total', { input: 'tls' })) === 1, 10_000, 'handshake failure counted');
    expect(await metric(collector, 'elkfc_packets_received_total', { input: 'tls' })).toBe(0);
    expect(await metric(collector, 'elkfc_records_decoded_total', { version: '10' })).toBe(0);
  });

  it('refuses a plain TCP exporter on the TLS port', async () => {
    const { collector, port } = await startCollector();
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    const done = closed(socket);
    socket.on('connect', () => { for (const m of messages()) socket.write(m); });
    await done;
    await until(async () => (await metric(collector, 'elkfc_tls_handshake_failures_total', { input: 'tls' })) === 1, 10_000, 'handshake failure counted');
    expect(await metric(collector, 'elkfc_packets_received_total', { input: 'tls' })).toBe(0);
  });

  it('closes a TLS connection whose stream is not IPFIX, counting it, as TCP does', async () => {
    const { collector, port } = await startCollector();
    const socket = await tlsClient(port, client);
    const done = closed(socket);
    socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: collector\r\n\r\n'));
    await done;
    expect(await metric(collector, 'elkfc_decode_errors_total', { kind: 'tls_framing' })).toBe(1);
    await until(async () => (await metric(collector, 'elkfc_tcp_connections', { input: 'tls' })) === 0, 10_000, 'connection gone');
  });

  it('refuses TLS 1.2 when minVersion is TLSv1.3', async () => {
    const { collector, port } = await startCollector({ ELKFC_INPUTS_TLS_MIN_VERSION: 'TLSv1.3' });
    await refusedAfterSending(port, client, { maxVersion: 'TLSv1.2' });
    await until(async () => (await metric(collector, 'elkfc_tls_handshake_failures_total', { input: 'tls' })) === 1, 10_000, 'handshake failure counted');
    const modern = await tlsClient(port, client);
    expect(modern.getProtocol()).toBe('TLSv1.3');
    modern.destroy();
  });

  it('accepts any client without a client CA (server-only TLS)', async () => {
    const { collector, port } = await startCollector({ ELKFC_INPUTS_TLS_CLIENT_CA_FILE: '' });
    const socket = await tlsClient(port);
    for (const m of messages()) socket.write(m);
    await until(async () => (await metric(collector, 'elkfc_records_decoded_total', { version: '10' })) === 2, 10_000, 'records over TLS');
    socket.destroy();
  });

  it('uses rotated certificate files for new connections while a live connection goes on', async () => {
    const { rotation, env } = ownFiles('rotation');
    const { collector, port } = await startCollector(env);
    const live = await tlsClient(port, client);
    const [template, data] = messages();
    live.write(template);
    live.write(data);
    await until(async () => (await metric(collector, 'elkfc_records_decoded_total', { version: '10' })) === 2, 10_000, 'records before rotation');

    // A renewed certificate, written as a Secret update does: new files renamed into place.
    const renewed = await ca.issue({ commonName: 'collector-renewed', usage: 'server' });
    writeFileSync(join(rotation, 'tls.key.new'), renewed.key);
    writeFileSync(join(rotation, 'tls.crt.new'), renewed.cert);
    renameSync(join(rotation, 'tls.key.new'), join(rotation, 'tls.key'));
    renameSync(join(rotation, 'tls.crt.new'), join(rotation, 'tls.crt'));
    await until(async () => (await metric(collector, 'elkfc_tls_certificate_reloads_total', { input: 'tls', outcome: 'ok' })) >= 1, 10_000, 'reload');

    const fresh = await tlsClient(port, client);
    expect(fresh.getPeerCertificate().subject.CN).toBe('collector-renewed');
    fresh.destroy();
    // The live connection kept its session and its templates: more data decodes with the template sent before.
    expect(live.getPeerCertificate().subject.CN).toBe('collector');
    live.write(dataMessage(header(2), 300, layout, [aggregatorRecord(3)]));
    await until(async () => (await metric(collector, 'elkfc_records_decoded_total', { version: '10' })) === 3, 10_000, 'records after rotation');
    expect(await metric(collector, 'elkfc_tls_certificate_reloads_total', { input: 'tls', outcome: 'failed' })).toBe(0);
    live.destroy();
  });

  it('keeps the previous certificate when the changed files cannot be used', async () => {
    const { rotation: broken, env } = ownFiles('broken');
    const { collector, port } = await startCollector(env);
    writeFileSync(join(broken, 'tls.crt'), 'not a certificate\n');
    await until(async () => (await metric(collector, 'elkfc_tls_certificate_reloads_total', { input: 'tls', outcome: 'failed' })) >= 1, 10_000, 'failed reload');
    const socket = await tlsClient(port, client);
    expect(socket.getPeerCertificate().subject.CN).toBe('collector');
    socket.destroy();
  });

  it('is off unless both the certificate and its key are set', async () => {
    const { collector } = await startCollector({ ELKFC_INPUTS_TLS_KEY_FILE: '', ELKFC_INPUTS_TCP_ENABLED: 'true', ELKFC_INPUTS_TCP_HOST: '127.0.0.1', ELKFC_INPUTS_TCP_PORT: '0' });
    expect(collector.inputAddress('tls')).toBeUndefined();
    expect(collector.inputAddress('tcp')).toBeDefined();
  });

  it('stops start-up naming the key of a certificate file it cannot read or use', async () => {
    await expect(startCollector({ ELKFC_INPUTS_TLS_CERT_FILE: join(dir, 'missing.crt') })).rejects.toThrow(ConfigError);
    await expect(startCollector({ ELKFC_INPUTS_TLS_CERT_FILE: join(dir, 'missing.crt') })).rejects.toThrow(/inputs\.tls\.certFile: cannot read .*missing\.crt/);
    writeFileSync(join(dir, 'garbage.key'), 'garbage');
    await expect(startCollector({ ELKFC_INPUTS_TLS_KEY_FILE: join(dir, 'garbage.key') })).rejects.toThrow(/^inputs\.tls: the certificate, key or client CA cannot be used/);
  });

  it('makes the command exit 2 with one line naming the key when a certificate file is missing', () => {
    const result = spawnSync('node', [BIN, 'run'], {
      encoding: 'utf8',
      env: {
        ...process.env, ELKFC_INPUTS_UDP_PORT: '0', ELKFC_INPUTS_TCP_PORT: '0', ELKFC_HTTP_ENABLED: 'false',
        ELKFC_OUTPUT_SINK: '"null"', ELKFC_DECODING_TEMPLATE_STATE_PATH: 'null', ELKFC_INPUTS_TLS_PORT: '0',
        ELKFC_INPUTS_TLS_CERT_FILE: join(dir, 'missing.crt'), ELKFC_INPUTS_TLS_KEY_FILE: join(dir, 'tls.key'),
      },
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^elk-flow-collector: inputs\.tls\.certFile: cannot read .*missing\.crt/);
  });

  it('takes every key from the environment', () => {
    const config = loadConfig(undefined, {
      ELKFC_INPUTS_TLS_PORT: '14740', ELKFC_INPUTS_TLS_CERT_FILE: '/c', ELKFC_INPUTS_TLS_KEY_FILE: '/k',
      ELKFC_INPUTS_TLS_CLIENT_CA_FILE: '/ca', ELKFC_INPUTS_TLS_MIN_VERSION: 'TLSv1.3',
    });
    expect(config.inputs.tls).toMatchObject({ port: 14740, certFile: '/c', keyFile: '/k', clientCaFile: '/ca', minVersion: 'TLSv1.3' });
    expect(loadConfig(undefined, {}).inputs.tls).toMatchObject({ port: 4740, certFile: null, keyFile: null, clientCaFile: null, minVersion: 'TLSv1.2' });
    expect(() => loadConfig(undefined, { ELKFC_INPUTS_TLS_MIN_VERSION: 'TLSv1.1' })).toThrow(/inputs\.tls\.minVersion \(from ELKFC_INPUTS_TLS_MIN_VERSION\)/);
  });
});
