import type { OrgState } from '../invoices/types';

/**
 * When the next poll is expected (epoch milliseconds): every organisation is polled by the same run, so the latest
 * `lastPollAt` of the states plus the poll interval, never before `now`. Undefined without an interval or a poll.
 */
export function estimateNextPoll(
  intervalMinutes: number | undefined,
  states: readonly (OrgState | undefined)[],
  now: number,
): number | undefined {
  if (intervalMinutes === undefined || intervalMinutes <= 0) return undefined;
  const last = Math.max(...states.map((state) => Date.parse(state?.lastPollAt ?? '') || 0), 0);
  if (last === 0) return undefined;
  return Math.max(last + intervalMinutes * 60_000, now);
}
