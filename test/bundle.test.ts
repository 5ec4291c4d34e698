// The single-file bundle Kubernetes runs (manifests/elk-flow-collector/): plain node, no node_modules anywhere near it,
// receives over UDP, decodes, answers /readyz, and stops cleanly on SIGTERM.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../collector/src/cli/replay.js';
import { BUNDLE_PATH, decompressBundle } from '../scripts/bundle.js';
import { SOFTFLOWD } from './support/offline.js';
import { killCollectors, startCollector } from './support/process.js';
import { scrapeMetric, until } from './support/wait.js';

afterEach(killCollectors);

describe('single-file bundle', () => {
  it('runs with plain node and no node_modules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elkfc-bundle-'));
    const program = join(dir, 'elk-flow-collector.mjs');
    writeFileSync(program, decompressBundle(readFileSync(new URL(`../${BUNDLE_PATH}`, import.meta.url))));
    writeFileSync(join(dir, 'collector.yml'), [
      'inputs: { udp: { host: 127.0.0.1, port: 0 }, tcp: { enabled: false } }',
      'http: { host: 127.0.0.1, port: 0 }',
      `decoding: { templateStatePath: ${join(dir, 'templates.json')} }`,
      `output: { file: { directory: ${join(dir, 'flows')}, flushIntervalMs: 50 } }`,
    ].join('\n'));
    expect(readdirSync(dir)).not.toContain('node_modules');
    const collector = await startCollector(join(dir, 'collector.yml'), program, dir);
    expect((await fetch(`http://127.0.0.1:${collector.httpPort}/readyz`)).status).toBe(200);
    await replay({ files: [`${SOFTFLOWD}softflowd_ipfix_small.pcap`], host: '127.0.0.1', port: collector.udpPort, protocol: 'udp', rate: 0, repeat: 1 });
    await until(async () => (await scrapeMetric(collector.httpPort, 'elkfc_records_decoded_total')) === 15, 10_000, 'records');
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
    const lines = readdirSync(join(dir, 'flows')).flatMap((f) => readFileSync(join(dir, 'flows', f), 'utf8').split('\n').filter(Boolean));
    expect(lines).toHaveLength(30); // 15 actions and 15 documents
  });
});
