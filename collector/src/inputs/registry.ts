import { createJsonInput } from './json.js';
import { createTcpInput } from './tcp.js';
import { createTlsInput } from './tls.js';
import type { InputFactory } from './types.js';
import { createUdpInput } from './udp.js';

/** The inputs by configuration name (`inputs.<name>`). A new input is one file and one line here. */
export const INPUTS = {
  udp: createUdpInput,
  tcp: createTcpInput,
  tls: createTlsInput,
  json: createJsonInput,
} satisfies Record<string, InputFactory>;
