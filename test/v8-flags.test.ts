import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
// V8 decides to tenure only in a scavenge of a new space at its largest: a small one gets there at once.
const SMALL_NEW_SPACE = ['--min-semi-space-size=1', '--max-semi-space-size=1'];

/**
 * A child process that keeps 300,000 objects of one literal alive across scavenges: V8's allocation-site feedback
 * then decides to allocate that literal's objects in the old generation (traced as "=> tenure"). `before` runs first;
 * the trace from after it is returned.
 */
function pretenuringTrace(before: string): string {
  const script = `${before}\nconsole.log('MARK');\nconst keep = []; for (let i = 0; i < 300000; i++) keep.push({ a: i, b: [i] }); console.log(keep.length);`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--trace-pretenuring-statistics', ...SMALL_NEW_SPACE, '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  expect(child.stdout).toContain('300000');
  // V8 prints its trace on stdout, in order with the script's lines: only what came after `before` counts.
  return child.stdout.slice(child.stdout.indexOf('MARK'));
}

describe('the V8 settings of the collector process', () => {
  it('turn allocation-site pretenuring off as soon as the command module loads: no object literal is allocated straight into the old generation any more', () => {
    // The same child without the collector's module: V8 does pretenure (so this test can tell).
    expect(pretenuringTrace('')).toMatch(/=> tenure/);
    const trace = pretenuringTrace(`await import(${JSON.stringify(`${root}collector/src/cli/main.ts`)});`);
    expect(trace).not.toMatch(/pretenuring:/);
  }, 60_000);
});
