// Small pieces of the first hour: the progress line (terminal only), exporter names with IPv6 in brackets,
// and where the start-up line says documents go (never a credential).
import { describe, expect, it } from 'vitest';
import { progress } from '../collector/src/cli/progress.js';
import { loadConfig } from '../collector/src/config/load.js';
import { exporterKey, hostPort } from '../collector/src/inputs/types.js';
import { sinkTarget } from '../collector/src/pipeline/collector.js';

describe('progress', () => {
  it('draws one self-overwriting line on a terminal, at most every interval, and clears it', () => {
    const written: string[] = [];
    let t = 0;
    const p = progress({ isTTY: true, write: (s: string) => written.push(s) }, 250, () => t);
    for (let i = 1; i <= 1000; i++) {
      t = i;
      p.update(() => `message ${i}`);
    }
    p.done();
    expect(written).toEqual(['\r\x1b[Kmessage 250', '\r\x1b[Kmessage 500', '\r\x1b[Kmessage 750', '\r\x1b[Kmessage 1000', '\r\x1b[K']);
  });

  it('writes nothing when stderr is not a terminal', () => {
    const written: string[] = [];
    let t = 0;
    const p = progress({ isTTY: false, write: (s: string) => written.push(s) }, 1, () => (t += 10));
    p.update(() => 'x');
    p.update(() => 'y');
    p.done();
    expect(written).toEqual([]);
  });
});

describe('exporter names', () => {
  it('put IPv6 addresses in brackets so the port stays readable', () => {
    expect(exporterKey('udp', '::1', 57747)).toBe('udp:[::1]:57747');
    expect(exporterKey('tcp', '10.0.0.1', 4739)).toBe('tcp:10.0.0.1:4739');
    expect(hostPort('fd00::5', 9600)).toBe('[fd00::5]:9600');
  });
});

describe('the start-up line', () => {
  it('names Elasticsearch without its credentials, and the file sink by its directory', () => {
    const es = loadConfig(undefined, { ELASTICSEARCH_URL: 'https://elastic:s3cret@es-0:9200,http://es-1:9200/prefix' });
    const target = sinkTarget(es);
    expect(target).toBe('https://es-0:9200, http://es-1:9200/prefix (daily indices flow-YYYY.MM.dd)');
    expect(target).not.toContain('s3cret');
    expect(sinkTarget(loadConfig(undefined, {}))).toBe('data/flows');
  });
});
