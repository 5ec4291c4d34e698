// Vitest global setup: the suite's temporary files (every mkdtemp under os.tmpdir(), the collectors it starts, their
// spools and flow files) go into one directory of this run, removed when the run ends. A run left some 200 MB in
// /tmp before, and the machines' disks are not always large.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const directory = mkdtempSync(join(tmpdir(), 'elkfc-test-run-'));
  // Workers and child processes start after this and inherit it; os.tmpdir() reads TMPDIR on every call.
  process.env.TMPDIR = directory;
  return () => rmSync(directory, { recursive: true, force: true });
}
