// Golden files: every capture we have (one per exporter), decoded with the default configuration
// (built-in elements, target ipfix, enrichment on), must give exactly test/golden/<capture>.ndjson.
// After a deliberate change: UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts, then review the diff.
// Every decoding bug fixed adds its capture to test/captures/.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFiles } from '../collector/src/cli/decode.js';
import { loadConfig } from '../collector/src/config/load.js';
import { ANTREA, LOGSTASH, SOFTFLOWD } from './support/offline.js';

const GOLDEN = new URL('./golden/', import.meta.url).pathname;
const CAPTURES = new URL('./captures/', import.meta.url).pathname;
const update = process.env.UPDATE_GOLDEN === '1';

const captures = [
  ...readdirSync(`${LOGSTASH}scenario_pcaps`).sort().map((f) => `${LOGSTASH}scenario_pcaps/${f}`),
  ...['softflowd_v9_small.pcap', 'softflowd_ipfix_small.pcap', 'softflowd_ipfix_biflow_small.pcap'].map((f) => `${SOFTFLOWD}${f}`),
  `${ANTREA}go-ipfix-test-messages/go-ipfix_collector_test_messages.pcap`,
  ...readdirSync(CAPTURES).filter((f) => /\.(pcap|dat)$/.test(f)).sort().map((f) => `${CAPTURES}${f}`),
];

describe('golden decodings', () => {
  for (const capture of captures) {
    const name = basename(capture).replace(/\.(pcap|dat)$/, '');
    it(name, async () => {
      const config = loadConfig(undefined, {});
      config.logging.level = 'silent';
      const lines: string[] = [];
      await decodeFiles(config, [capture], (line) => lines.push(line));
      const text = lines.map((l) => `${l}\n`).join('');
      const golden = `${GOLDEN}${name}.ndjson`;
      if (update || !existsSync(golden)) {
        if (!update) throw new Error(`no golden file ${golden}: run with UPDATE_GOLDEN=1`);
        writeFileSync(golden, text);
      }
      expect(text).toBe(readFileSync(golden, 'utf8'));
    });
  }
});
