import type { DecoderSession, ExporterSessionKey } from '../session/template-session.js';
import { ipfixDecoder } from './ipfix.js';
import { createNetflow5Decoder } from './netflow5.js';
import { netflow9Decoder } from './netflow9.js';
import type { CompileOptions } from './template.js';
import { FlowError, type Decoder, type DecodeResult } from './types.js';

/**
 * The decoders, one per export protocol version (the first two octets of every message).
 * A new protocol is one file and one line here.
 */
export function createDecoders(options: CompileOptions): ReadonlyMap<number, Decoder> {
  return new Map<number, Decoder>([
    [5, createNetflow5Decoder(options)],
    [9, netflow9Decoder],
    [10, ipfixDecoder],
  ]);
}

/** Picks the decoder by version; an unknown version is a malformed packet. */
export function decodeMessage(
  decoders: ReadonlyMap<number, Decoder>,
  message: Buffer,
  exporter: ExporterSessionKey,
  session: DecoderSession,
  receivedAtMs: number,
): DecodeResult {
  if (message.length < 2) throw new FlowError('truncated_header', exporter.key, undefined, `message of ${message.length} octets`);
  const version = message.readUInt16BE(0);
  const decoder = decoders.get(version);
  if (!decoder) throw new FlowError('unknown_version', exporter.key, version, `unsupported export version ${version}`);
  return decoder.decode(message, exporter, session, receivedAtMs);
}
