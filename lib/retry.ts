import { DeadlineError } from './errors';

/** How many times to try and how long to wait between tries. All durations in milliseconds. */
export interface RetryPolicy {
  /** Total attempts including the first; 1 means no retry. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The wait before retry number `attempt` (1 = the first retry): at least `retryAfterMs` when the server named one,
 * plus exponential backoff with full jitter, capped at `maxDelayMs` (a server's Retry-After is honoured above the cap).
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jitter = Math.floor(random() * exponential);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, 0) + Math.floor(jitter / 2) : jitter;
}

/** Parse a `Retry-After` header (delta-seconds or an HTTP date) into milliseconds; undefined when absent or bad. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Wait `ms`, or reject with a DeadlineError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new DeadlineError('deadline passed while waiting to retry'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DeadlineError('deadline passed while waiting to retry'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A point in time by which work must be finished, with a signal that aborts then.
 * Use cases pass it down so that no retry ever waits past the Lambda's remaining time.
 */
export interface Deadline {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly signal: AbortSignal;
  /** Milliseconds left (never negative). */
  remaining(): number;
}

export function createDeadline(ms: number, now: () => number = Date.now): Deadline {
  const at = now() + ms;
  const signal = AbortSignal.timeout(Math.max(0, ms));
  return { at, signal, remaining: () => Math.max(0, at - now()) };
}

/** A deadline that never passes, for command-line use. */
export const NO_DEADLINE: Deadline = {
  at: Number.POSITIVE_INFINITY,
  signal: new AbortController().signal,
  remaining: () => Number.POSITIVE_INFINITY,
};
