import { describe, expect, it } from 'vitest';
import { DeadlineError } from '../../lib/errors';
import { backoffDelay, createDeadline, parseRetryAfter, sleep } from '../../lib/retry';

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
