import { readdir, readFile, readlink } from 'node:fs/promises';

/** One socket of /proc/net/udp or /proc/net/udp6: what identifies it and the kernel's drop count. */
export interface ProcUdpSocket {
  localPort: number;
  inode: number;
  /** Datagrams the kernel dropped for this socket (receive buffer full, mostly), since it was opened. */
  drops: number;
}

const PROC_TABLES = ['/proc/net/udp', '/proc/net/udp6'];

/**
 * Parses the text of /proc/net/udp or /proc/net/udp6 (Linux): a header line, then one line per socket whose columns
 * are sl, local_address (hex address:hex port), rem_address, st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid,
 * timeout, inode, ref, pointer, drops. Lines that do not have that shape are skipped.
 */
export function parseProcNetUdp(text: string): ProcUdpSocket[] {
  const sockets: ProcUdpSocket[] = [];
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns.length < 13 || !/^\d+:$/.test(columns[0])) continue;
    const port = /:([0-9A-Fa-f]{4})$/.exec(columns[1]);
    const inode = Number(columns[9]);
    const drops = Number(columns[12]);
    if (!port || !Number.isSafeInteger(inode) || !Number.isSafeInteger(drops)) continue;
    sockets.push({ localPort: parseInt(port[1], 16), inode, drops });
  }
  return sockets;
}

/** Inodes of this process's sockets, from the `socket:[inode]` links in /proc/self/fd. */
async function ownSocketInodes(): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(Number(match[1]));
  }
  return inodes;
}

async function allSockets(): Promise<ProcUdpSocket[]> {
  const tables = await Promise.all(PROC_TABLES.map((path) => readFile(path, 'utf8').catch(() => '')));
  return tables.flatMap(parseProcNetUdp);
}

/**
 * Reads the kernel's drop counter of one of this process's UDP sockets, found by its local port among the
 * process's own sockets (the port alone could be another process's socket on another address). Linux only:
 * `open` resolves undefined where /proc does not have the socket.
 */
export class UdpDropCounter {
  private constructor(private readonly inode: number) {}

  static async open(localPort: number): Promise<UdpDropCounter | undefined> {
    try {
      const own = await ownSocketInodes();
      const socket = (await allSockets()).find((s) => s.localPort === localPort && own.has(s.inode));
      return socket ? new UdpDropCounter(socket.inode) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The socket's drop count now, or undefined when it is no longer listed (closed). */
  async read(): Promise<number | undefined> {
    return (await allSockets()).find((s) => s.inode === this.inode)?.drops;
  }
}
