import { createServer } from 'node:net';
import { connectionLimits, createStreamInput, ipfixFraming } from './stream.js';
import type { InputFactory } from './types.js';

/** TCP input for IPFIX (RFC 7011 §10.4): one exporter session per connection (see stream.ts). */
export const createTcpInput: InputFactory = (context) =>
  context.config.inputs.tcp.enabled ? createStreamInput(context, {
    name: 'tcp',
    settings: { host: context.config.inputs.tcp.host, port: context.config.inputs.tcp.port, ...connectionLimits(context.config) },
    createServer: () => createServer(),
    framing: ipfixFraming(context, 'tcp'),
  }) : undefined;
