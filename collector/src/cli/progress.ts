/** The stream progress goes to: stderr, drawn only when it is a terminal. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface Progress {
  /** Redraws the line, at most every intervalMs (cheap to call once per message). */
  update(line: () => string): void;
  /** Clears the line. */
  done(): void;
}

/**
 * One self-overwriting status line for long decode and replay runs, on a terminal only: piped or redirected
 * stderr (CI, scripts, logs) gets nothing, so it stays clean to read.
 */
export function progress(stream: ProgressStream = process.stderr, intervalMs = 250, now: () => number = Date.now): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = now();
  let drawn = false;
  return {
    update(line) {
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      drawn = true;
      stream.write(`\r\x1b[K${line()}`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
