import { describe, expect, it } from 'vitest';
import { DeadlineError } from '../../lib/errors';
import {
  backoffDelay,
  createDeadline,
  parseRetryAfter,
  RetryStopped,
  type RetryVerdict,
  sleep,
  withRetries,
} from '../../lib/retry';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelay', () => {
  it('grows exponentially with full jitter and a cap', () => {
    expect(backoffDelay(1, policy, undefined, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, undefined, () => 0.999)).toBe(399);
    expect(backoffDelay(10, policy, undefined, () => 0.999)).toBe(999);
    expect(backoffDelay(3, policy, undefined, () => 0)).toBe(0);
  });

  it('never waits less than the server asked for', () => {
    expect(backoffDelay(1, policy, 5000, () => 0)).toBe(5000);
    expect(backoffDelay(2, policy, 5000, () => 0.5)).toBe(5050);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('sleep and deadlines', () => {
  it('rejects with DeadlineError when the deadline aborts the wait', async () => {
    const deadline = createDeadline(5);

    await expect(sleep(60_000, deadline.signal)).rejects.toThrow(DeadlineError);
    expect(deadline.remaining()).toBe(0);
  });

  it('counts the remaining time from an injected clock', () => {
    let now = 1000;
    const deadline = createDeadline(500, () => now);
    now = 1200;

    expect(deadline.at).toBe(1500);
    expect(deadline.remaining()).toBe(300);
  });
});

describe('withRetries', () => {
  const quick = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
  /** An attempt that fails with the given verdicts in turn, then succeeds. */
  function flaky(verdicts: RetryVerdict[]) {
    const calls: number[] = [];
    const errors = verdicts.map((verdict, i) => Object.assign(new Error(`failure ${i + 1}`), { verdict }));
    return {
      calls,
      attempt: async (n: number) => {
        calls.push(n);
        const error = errors[n - 1];
        if (error !== undefined) throw error;
        return `ok on ${n}`;
      },
      classify: (error: unknown) => (error as { verdict: RetryVerdict }).verdict,
    };
  }

  it('tries again after retryable failures, telling each wait', async () => {
    const { attempt, classify, calls } = flaky([{ retryable: true }, { retryable: true }]);
    const waits: number[] = [];

    const result = await withRetries(attempt, {
      policy: quick,
      classify,
      random: () => 0,
      onRetry: ({ attempt: n }) => waits.push(n),
    });

    expect(result).toBe('ok on 3');
    expect(calls).toEqual([1, 2, 3]);
    expect(waits).toEqual([1, 2]);
  });

  it('gives up at once on a permanent failure, with it as the cause', async () => {
    const { attempt, classify, calls } = flaky([{ retryable: false }]);

    const stopped = await withRetries(attempt, { policy: quick, classify }).catch((e: unknown) => e);

    expect(stopped).toBeInstanceOf(RetryStopped);
    expect(stopped).toMatchObject({ reason: 'permanent', attempts: 1, cause: { message: 'failure 1' } });
    expect(calls).toEqual([1]);
  });

  it('gives up when the attempts are used up', async () => {
    const { attempt, classify } = flaky([{ retryable: true }, { retryable: true }, { retryable: true }]);

    await expect(withRetries(attempt, { policy: quick, classify })).rejects.toMatchObject({
      reason: 'exhausted',
      attempts: 3,
      cause: { message: 'failure 3' },
    });
  });

  it('does not wait past the deadline, nor longer than the longest Retry-After allowed', async () => {
    const slow = flaky([{ retryable: true, retryAfterMs: 5_000 }]);
    const long = flaky([{ retryable: true, retryAfterMs: 5_000 }]);

    const byDeadline = withRetries(slow.attempt, {
      policy: quick,
      classify: slow.classify,
      deadline: { remaining: () => 1_000 },
    });
    const byCap = withRetries(long.attempt, {
      policy: quick,
      classify: long.classify,
      maxRetryAfterMs: 4_999,
    });

    await expect(byDeadline).rejects.toMatchObject({ reason: 'deadline', attempts: 1 });
    await expect(byCap).rejects.toMatchObject({ reason: 'retry-after', attempts: 1 });
    expect(slow.calls).toEqual([1]);
    expect(long.calls).toEqual([1]);
  });

  it('stops waiting with a DeadlineError when the signal aborts', async () => {
    const { attempt, classify, calls } = flaky([{ retryable: true, retryAfterMs: 60_000 }]);
    const controller = new AbortController();

    const run = withRetries(attempt, {
      policy: quick,
      classify,
      signal: controller.signal,
      onRetry: () => controller.abort(),
    });

    await expect(run).rejects.toThrow(DeadlineError);
    expect(calls).toEqual([1]);
  });
});
