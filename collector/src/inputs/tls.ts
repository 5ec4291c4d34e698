import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, createServer, type SecureContextOptions, type Server } from 'node:tls';
import { ConfigError } from '../config/load.js';
import type { CollectorConfig } from '../config/schema.js';
import { connectionLimits, createStreamInput, ipfixFraming, type StreamFraming } from './stream.js';
import type { Input, InputContext, InputFactory } from './types.js';

/** inputs.tls, or inputs.json.tls with its port resolved. */
export type TlsSettings = CollectorConfig['inputs']['tls'];

// A client that connects and never completes its handshake must not hold a connection slot for Node's default 120 s.
const HANDSHAKE_TIMEOUT_MS = 10_000;
// Secrets and cert-manager replace files by swapping a symlink, which fs.watch misses: polling stat follows the path.
const WATCH_INTERVAL_MS = 1000;
// Certificate and key are often written one after the other: read them once both have settled.
const RELOAD_SETTLE_MS = 200;

/** Certificate, key and client CA as TLS wants them; `where` names the configuration keys in errors. */
function readSecureContext(settings: TlsSettings, where: string): SecureContextOptions {
  const read = (key: 'certFile' | 'keyFile' | 'clientCaFile') => {
    const path = settings[key]!;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`${where}.${key}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  return {
    cert: read('certFile'),
    key: read('keyFile'),
    ca: settings.clientCaFile ? read('clientCaFile') : undefined,
    minVersion: settings.minVersion,
  };
}

/**
 * A TLS listener over the stream input: IPFIX (RFC 7011 §10.4) or JSON lines, whichever `framing` reads. With a
 * client CA, a client certificate signed by it is required (mutual TLS). Changed certificate files are read again
 * and used for new connections (tls.Server#setSecureContext); live connections keep the session they have.
 */
export function createTlsStreamInput(
  context: InputContext, name: string, settings: TlsSettings, where: string, framing: StreamFraming,
): Input {
  const { events, log } = context;
  const mutual = settings.clientCaFile !== null;
  const files = [settings.certFile!, settings.keyFile!, ...(settings.clientCaFile ? [settings.clientCaFile] : [])];

  // What the files were when last read (inode, size, mtime): each poll compares against it.
  const statOf = (file: string) => {
    try {
      const s = statSync(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  };
  // Stat first, then read: a change in between shows at the next poll.
  let readAs = files.map(statOf).join('|');
  const changed = () => files.map(statOf).join('|') !== readAs;

  let secure = readSecureContext(settings, where);
  try {
    // Validated now, so that a bad certificate or key stops start-up with its key named.
    createSecureContext(secure);
  } catch (error) {
    throw new ConfigError(`${where}: the certificate, key or client CA cannot be used: ${(error as Error).message}`);
  }
  let server: Server | undefined;
  let reloadTimer: NodeJS.Timeout | undefined;
  let poller: NodeJS.Timeout | undefined;
  const reload = () => {
    reloadTimer = undefined;
    readAs = files.map(statOf).join('|');
    try {
      const next = readSecureContext(settings, where);
      server?.setSecureContext(next);
      secure = next;
      events.tlsReloaded(name);
    } catch (error) {
      events.tlsReloaded(name, error as Error);
    }
  };
  const onFileChange = () => {
    if (!changed()) return;
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, RELOAD_SETTLE_MS);
  };

  const stream = createStreamInput(context, {
    name,
    settings: { host: settings.host, port: settings.port, ...connectionLimits(context.config) },
    secure: true,
    createServer: () => {
      server = createServer({ ...secure, requestCert: mutual, rejectUnauthorized: mutual, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      server.on('tlsClientError', (error, socket) => {
        const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
        events.tlsHandshakeFailed(name, peer, error);
      });
      return server;
    },
    framing,
  });

  return {
    ...stream,
    async start() {
      await stream.start();
      poller = setInterval(onFileChange, WATCH_INTERVAL_MS);
      poller.unref();
      log.info({ mutual, minVersion: settings.minVersion }, `${name} input: TLS ${mutual ? 'with client certificates' : 'without client certificates'}`);
    },
    async stop() {
      clearInterval(poller);
      if (reloadTimer) clearTimeout(reloadTimer);
      await stream.stop();
    },
  };
}

/** Whether TLS settings turn their listener on: both the certificate and its key are given. */
export function tlsEnabled(settings: Pick<TlsSettings, 'certFile' | 'keyFile'>): boolean {
  return settings.certFile !== null && settings.keyFile !== null;
}

/** IPFIX over TLS on inputs.tls.port (4740): on when inputs.tls.certFile and keyFile are set. */
export const createTlsInput: InputFactory = (context) => {
  const settings = context.config.inputs.tls;
  if (!tlsEnabled(settings)) return undefined;
  return createTlsStreamInput(context, 'tls', settings, 'inputs.tls', ipfixFraming(context, 'tls'));
};
