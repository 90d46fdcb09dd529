import type { StateReader } from '../archive/ports';
import type { SpendReader, StoredSpend } from '../archive/spend-store';
import { describeError } from '../errors';
import type { OrgState } from '../invoices/types';
import type { Logger } from '../log';
import { addMonths, formatDay, monthOf, parseIsoDay } from '../spend/calendar';
import type { SpendSettings } from '../spend/settings';
import { describeSpend, type SpendOverview } from '../spend/spend-overview';

/**
 * One organisation's spend as the poller stored it, for the digest and `/invoice spend`: its state (name, last poll,
 * which invoice is pending) and the usage records of the billing month and the month before, read in parallel, turned
 * into a `SpendOverview` by the spend domain. No Atlas call.
 *
 * Which month: the period of the newest PENDING invoice in the state (the invoice the poller records spend from),
 * else the current UTC month. The reads start with the current UTC month and the one before, alongside the state, so
 * the usual case is one round of three GETs; only when the pending invoice belongs to another month (the first days
 * of a month, before Atlas opens the new invoice) does a second round read that month's records.
 *
 * Failures: an unreadable state or previous month is logged and left out (the overview is still right, only less
 * complete: no name, no comparison with last month); an unreadable record of the month itself is reported as such.
 * Nothing is thrown.
 */
export interface OrgSpendDeps {
  readonly state: StateReader;
  readonly spend: SpendReader;
  readonly settings: SpendSettings;
  readonly log: Logger;
}

interface OrgSpendBase {
  readonly orgId: string;
  /** `YYYY-MM` of the billing period looked at. */
  readonly month: string;
  /** Undefined when the organisation was never polled or its state could not be read. */
  readonly state: OrgState | undefined;
}

export type OrgSpend =
  | (OrgSpendBase & { readonly kind: 'found'; readonly overview: SpendOverview })
  /** The poller has not recorded this month yet. */
  | (OrgSpendBase & { readonly kind: 'missing' })
  /** The month's record exists but could not be read (S3 failed, or the stored record is refused by its codec). */
  | (OrgSpendBase & { readonly kind: 'unreadable'; readonly error: unknown });

/** `YYYY-MM-DD` (UTC) of an epoch-milliseconds instant. */
export function utcDayOf(epochMs: number): string {
  return formatDay(Math.floor(epochMs / 86_400_000));
}

/** `YYYY-MM` (UTC) of an epoch-milliseconds instant. */
export function utcMonthOf(epochMs: number): string {
  return monthOf(Math.floor(epochMs / 86_400_000));
}

/** The month of the newest PENDING invoice the state records, if any. */
export function pendingMonthOf(state: OrgState | undefined): string | undefined {
  let newest: number | undefined;
  for (const entry of Object.values(state?.invoices ?? {})) {
    if (entry.statusName !== 'PENDING') continue;
    const day = parseIsoDay(entry.startDate);
    if (day !== undefined && (newest === undefined || day > newest)) newest = day;
  }
  return newest === undefined ? undefined : monthOf(newest);
}

/** See the module comment. `now` is epoch milliseconds: it decides the month and which days are complete. */
export async function readOrgSpend(
  deps: OrgSpendDeps,
  orgId: string,
  now: number,
  signal?: AbortSignal,
): Promise<OrgSpend> {
  const records = new Map<string, Promise<StoredSpend | undefined>>();
  const record = (month: string) => {
    let read = records.get(month);
    if (read === undefined) {
      read = deps.spend.readSpend(orgId, month, signal);
      // Settled here so a read that is never awaited (the guess was wrong) cannot go unhandled.
      read.catch(() => {});
      records.set(month, read);
    }
    return read;
  };
  const guess = utcMonthOf(now);
  const stateRead = deps.state.readState(orgId, signal);
  record(guess);
  record(addMonths(guess, -1));

  let state: OrgState | undefined;
  try {
    state = (await stateRead)?.state;
  } catch (error) {
    deps.log.warn('reading an organisation state failed', { orgId, error: describeError(error) });
  }
  const month = pendingMonthOf(state) ?? guess;
  const base = { orgId, month, state };

  let current: StoredSpend | undefined;
  try {
    current = await record(month);
  } catch (error) {
    deps.log.warn('reading a spend record failed', { orgId, month, error: describeError(error) });
    return { ...base, kind: 'unreadable', error };
  }
  if (current === undefined) return { ...base, kind: 'missing' };
  let previous: StoredSpend | undefined;
  try {
    previous = await record(addMonths(month, -1));
  } catch (error) {
    deps.log.warn('reading last month’s spend record failed', { orgId, month, error: describeError(error) });
  }
  const overview = describeSpend({
    orgId,
    ...(state?.orgName === undefined ? {} : { orgName: state.orgName }),
    series: current.record.series,
    previous: previous?.record.series,
    final: current.record.final,
    asOf: utcDayOf(now),
    settings: deps.settings,
  });
  return { ...base, kind: 'found', overview };
}

/** The organisation's own monthly budget in cents (not a project's), if one is set. */
export function orgBudgetCents(overview: SpendOverview): number | undefined {
  return overview.budgets.find((b) => b.scope.projectId === undefined)?.budget.cents;
}
