import { spawn, type ChildProcess } from 'node:child_process';

export const BIN = new URL('../../bin/elk-flow-collector.js', import.meta.url).pathname;

export interface RunningCollector {
  child: ChildProcess;
  udpPort: number;
  httpPort: number;
  /** Everything the collector logged so far. */
  log(): string;
  exited: Promise<number | null>;
}

/**
 * Starts `elk-flow-collector run` on a configuration whose ports are 0 (the collector picks free ones, so tests
 * never race each other for a port) and logs at info; resolves with the ports it logged, rejects if it exits first.
 */
const started = new Set<ChildProcess>();
const groups = new Set<ChildProcess>();

/** For afterEach: no collector outlives its test, even a failed one. */
export function killCollectors(): void {
  for (const child of started) {
    // A detached child leads its own process group (npm and the collector under it): kill what is left of it.
    if (groups.has(child)) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
    } else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  groups.clear();
  started.clear();
}

export function startCollector(config: string, program = BIN, cwd?: string): Promise<RunningCollector> {
  return startProcess(['node', program, 'run', '--config', config], { cwd });
}

/** Starts any command that ends up running the collector (a container's command line, say). */
export function startProcess(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Promise<RunningCollector> {
  return new Promise((resolve, reject) => {
    // detached: a process group of its own, to be signalled as a terminal's Ctrl-C does.
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: options.cwd, env: options.env ?? process.env, detached: options.detached });
    started.add(child);
    if (options.detached) groups.add(child);
    let all = '';
    let pending = '';
    let udpPort = 0;
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    child.stderr!.on('data', (chunk) => {
      all += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg: string; address?: { port: number } | { port: number }[] };
        if (entry.msg === 'UDP input listening') udpPort = (entry.address as { port: number }).port;
        if (entry.msg === 'health and metrics server listening') {
          resolve({ child, udpPort, httpPort: (entry.address as { port: number }[])[0].port, log: () => all, exited });
        }
      }
    });
    void exited.then((code) => reject(new Error(`collector exited with ${code}: ${all}`)));
  });
}
