import { destination, pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { CollectorConfig } from '../config/schema.js';

/** Where logs go: stderr (stdout carries documents for `decode` and the stdout sink). */
export interface LogStream {
  isTTY?: boolean;
  fd?: number;
}

/**
 * The process's logger. `auto` is readable text on a terminal and JSON elsewhere (a pod, a pipe, a file), the
 * form log collectors parse. Levels are words in both. Writes are synchronous: log lines stay in the order they
 * were made (stopping before stopped) and none is lost at exit.
 */
export function createLogger(settings: CollectorConfig['logging'], stream: LogStream = process.stderr): Logger {
  const format = settings.format === 'auto' ? (stream.isTTY ? 'text' : 'json') : settings.format;
  const fd = stream.fd ?? 2;
  if (format === 'text') {
    return pino(
      { level: settings.level },
      pretty({ destination: fd, sync: true, colorize: stream.isTTY === true, singleLine: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname' }),
    );
  }
  return pino(
    { level: settings.level, formatters: { level: (label) => ({ level: label }) } },
    destination({ dest: fd, sync: true }),
  );
}
