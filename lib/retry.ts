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

/** What one failed attempt means for the next. */
export interface RetryVerdict {
  /** The same request could succeed: a 429, a 5xx that was not processed, a connection that never got through. */
  readonly retryable: boolean;
  /** The server asked for at least this long (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number | undefined;
}

export interface RetryLoopOptions {
  readonly policy: RetryPolicy;
  /** Decides from what an attempt threw whether to try again. */
  readonly classify: (error: unknown) => RetryVerdict;
  /** No wait may end past it: the last error is thrown instead. */
  readonly deadline?: { remaining(): number } | undefined;
  /** Aborts a wait (DeadlineError). */
  readonly signal?: AbortSignal | undefined;
  /** A Retry-After longer than this is not waited for. Default: no limit but the deadline. */
  readonly maxRetryAfterMs?: number | undefined;
  readonly random?: (() => number) | undefined;
  /** Told before each wait (for a log line). */
  readonly onRetry?: ((retry: { attempt: number; waitMs: number; error: unknown }) => void) | undefined;
}

/** Why a retry loop gave up; carries the last attempt's error as `cause`. */
export class RetryStopped extends Error {
  override readonly name = 'RetryStopped';
  constructor(
    /** `permanent`: not retryable; `exhausted`: attempts used up; `deadline`: the next wait would pass the deadline;
     * `retry-after`: the server asked for a longer wait than allowed. */
    readonly reason: 'permanent' | 'exhausted' | 'deadline' | 'retry-after',
    /** Attempts made. */
    readonly attempts: number,
    readonly verdict: RetryVerdict,
    options: { cause: unknown },
  ) {
    super(`gave up after ${attempts} attempt(s): ${reason}`, options);
  }
}

/**
 * The one retry loop, for the Atlas client and the Slack notifier: runs `attempt(n)` (n from 1) until it resolves.
 * After a failure `classify` decides; a retry waits `backoffDelay` (at least Retry-After, with jitter) unless that wait
 * would end past the deadline. Throws RetryStopped (the last error as its cause) when it gives up, and DeadlineError
 * when `signal` aborts during a wait. What an attempt throws while `signal` is aborted is thrown as it is.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryLoopOptions,
): Promise<T> {
  const { policy, signal } = options;
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      if (signal?.aborted) throw error;
      const verdict = options.classify(error);
      const stop = (reason: RetryStopped['reason']) => new RetryStopped(reason, n, verdict, { cause: error });
      if (!verdict.retryable) throw stop('permanent');
      if (n >= policy.maxAttempts) throw stop('exhausted');
      const { retryAfterMs } = verdict;
      if (
        retryAfterMs !== undefined &&
        retryAfterMs > (options.maxRetryAfterMs ?? Number.POSITIVE_INFINITY)
      ) {
        throw stop('retry-after');
      }
      const waitMs = backoffDelay(n, policy, retryAfterMs, options.random);
      if (options.deadline !== undefined && waitMs >= options.deadline.remaining()) throw stop('deadline');
      options.onRetry?.({ attempt: n, waitMs, error });
      await sleep(waitMs, signal);
    }
  }
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
