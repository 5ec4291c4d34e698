// What the kernel says about a process and its sockets: CPU time, peak memory, UDP receive drops. Read from
// /proc so that a process is measured the same way whatever it is (ours, nfcapd, nfacctd).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SEC = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * User + system CPU seconds of a process, all its threads included; with `reapedChildren`, also those of the
 * children it has waited for (cutime, cstime).
 */
export function cpuSeconds(pid: number, reapedChildren = false): number {
  const fields = statFields(pid);
  return (fields[11] + fields[12] + (reapedChildren ? fields[13] + fields[14] : 0)) / CLOCK_TICKS_PER_SEC;
}

/** The kernel's share of a process's CPU seconds (stime: system calls, page faults; a file system's writes are here). */
export function systemCpuSeconds(pid: number): number {
  return statFields(pid)[12] / CLOCK_TICKS_PER_SEC;
}

function statFields(pid: number): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state; utime, stime, cutime and cstime are
  // fields 14 to 17.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
}

/**
 * CPU seconds of a process and of all its descendants, live or reaped (pmacct runs its plugins as child
 * processes, and they fork one more to write each refresh).
 */
export function cpuSecondsWithChildren(pid: number): number {
  let total = cpuSeconds(pid, true);
  for (const child of children(pid)) total += cpuSecondsWithChildren(child);
  return total;
}

function children(pid: number): number[] {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * Seconds a process's main thread has spent runnable but waiting for a CPU (the second field of its schedstat): on
 * a small machine the sender, a stand-in cluster, the process's own helper threads and the kernel's take turns with
 * it, and datagrams wait meanwhile. NaN where the kernel keeps no scheduler statistics.
 */
export function mainThreadWaitSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident memory (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Datagrams the kernel dropped on the UDP sockets bound to `port` (receive buffer full), IPv4 and IPv6. */
export function udpDrops(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let drops = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 13) continue;
      if (columns[1].endsWith(`:${hexPort}`)) drops += Number(columns[12]);
    }
  }
  return drops;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

export const formatSpread = (s: Spread, digits = 1) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
