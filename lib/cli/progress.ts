import { Transform } from 'node:stream';

export interface ProgressOptions {
  /** Where lines go (standard error). */
  readonly write: (text: string) => void;
  /** From Content-Length, when known: enables the percentage. */
  readonly total: number | undefined;
  /** A terminal gets one line rewritten in place; anything else gets a new line per update. */
  readonly tty: boolean;
  readonly now?: () => number;
  /** Minimum time between updates. Default 250 ms on a terminal, 1 s otherwise. */
  readonly intervalMs?: number;
}

/** `1.5 MB`, `200.0 MB`, `512 B` (decimal units, like download tools). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function describeProgress(bytes: number, total: number | undefined, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? `${formatBytes(Math.round((bytes * 1000) / elapsedMs))}/s` : '-';
  if (total !== undefined && total > 0) {
    const percent = Math.min(100, Math.floor((bytes * 100) / total));
    return `downloaded ${formatBytes(bytes)} of ${formatBytes(total)} (${percent}%) at ${rate}`;
  }
  return `downloaded ${formatBytes(bytes)} at ${rate}`;
}

/**
 * A pass-through that counts bytes and reports progress to standard error, never to the data stream. `finish()`
 * prints the final line (and ends the terminal line).
 */
export function createProgress(options: ProgressOptions) {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? (options.tty ? 250 : 1000);
  const started = now();
  let bytes = 0;
  let last = started;
  let shown = false;
  const show = () => {
    const line = describeProgress(bytes, options.total, now() - started);
    options.write(options.tty ? `\r${line}\u001b[K` : `${line}\n`);
    shown = true;
  };
  const add = (count: number) => {
    bytes += count;
    const at = now();
    if (at - last >= interval) {
      last = at;
      show();
    }
  };
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      add(chunk.length);
      callback(null, chunk);
    },
  });
  return {
    /** A pass-through to put in a pipeline. */
    stream,
    /** Count bytes written elsewhere. */
    add,
    bytes: () => bytes,
    finish() {
      show();
      if (options.tty) options.write('\n');
    },
    /** Ends a half-written terminal line before an error message. */
    abandon() {
      if (shown && options.tty) options.write('\n');
    },
  };
}
