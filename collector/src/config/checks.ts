import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { ConfigError } from './load.js';
import type { CollectorConfig } from './schema.js';

/**
 * Start-up checks of the environment, in one place: everything the collector will write to and listen on is
 * checked before anything is received, and a failure is one line naming the key (or option) and the path or
 * port, which the caller turns into exit code 2 instead of a stack trace later.
 */

const reason = (error: unknown) => {
  const e = error as NodeJS.ErrnoException;
  const text = { EACCES: 'permission denied', EPERM: 'not permitted', EROFS: 'read-only file system', ENOTDIR: 'a parent is not a directory', EEXIST: 'exists and is not a directory', ENOENT: 'no such file' }[e.code ?? ''];
  return text ? `${text} (${e.code})` : e.message;
};

/** A directory the collector creates if needed and writes into. */
function writableDirectory(key: string, directory: string): void {
  try {
    mkdirSync(directory, { recursive: true });
    if (!statSync(directory).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'EEXIST' });
    accessSync(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new ConfigError(`${key}: cannot write to directory ${directory}: ${reason(error)}`);
  }
}

/** A file the collector creates or appends to: its directory must be writable, the file itself too if it exists. */
function writableFile(key: string, path: string): void {
  writableDirectory(key, dirname(path));
  try {
    accessSync(path, constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError(`${key}: cannot write to ${path}: ${reason(error)}`);
  }
  if (statSync(path).isDirectory()) throw new ConfigError(`${key}: ${path} is a directory, not a file`);
}

/** The paths `run` writes to, for the sink it will use. */
export function checkWritablePaths(config: CollectorConfig, sink: string): void {
  if (config.decoding.templateStatePath) writableFile('decoding.templateStatePath', config.decoding.templateStatePath);
  if (sink === 'file') writableDirectory('output.file.directory', config.output.file.directory);
  if (sink === 'elasticsearch') {
    writableDirectory('elasticsearch.spoolDirectory', config.elasticsearch.spoolDirectory);
    writableFile('elasticsearch.deadLetterPath', config.elasticsearch.deadLetterPath);
  }
}

/** A listener that could not bind, as the configuration error it is: the key, the address and why. */
export function listenError(key: string, host: string, port: number, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') return new ConfigError(`${key}: port ${port} is already in use (${where}); stop the other process or choose another port`);
  if (code === 'EACCES') return new ConfigError(`${key}: not permitted to listen on ${where} (EACCES; ports below 1024 need privileges)`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAFNOSUPPORT') {
    return new ConfigError(`${key.replace(/port$/, 'host')}: cannot listen on ${where}: the address is not available here (${code})`);
  }
  return error as Error;
}

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]);
const PCAPNG_MAGIC = 0x0a0d0d0a;

/**
 * Capture files for decode and replay: each must exist and be readable, and be a pcap (by its magic number)
 * unless it is a raw payload file (.dat).
 */
export function checkCaptureFiles(files: string[]): void {
  for (const file of files) {
    const header = Buffer.alloc(4);
    let read = 0;
    try {
      if (statSync(file).isDirectory()) throw new ConfigError(`capture file ${file} is a directory`);
      const fd = openSync(file, 'r');
      try {
        read = readSync(fd, header, 0, 4, 0);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read capture file ${file}: ${reason(error)}`);
    }
    if (extname(file).toLowerCase() === '.dat') continue;
    const magic = read === 4 ? header.readUInt32BE(0) : -1;
    if (magic === PCAPNG_MAGIC) throw new ConfigError(`capture file ${file} is pcapng, which is not supported; convert it: editcap -F pcap ${file} out.pcap`);
    if (!PCAP_MAGICS.has(magic)) throw new ConfigError(`capture file ${file} is not a pcap file (nor a raw .dat payload)`);
  }
}
