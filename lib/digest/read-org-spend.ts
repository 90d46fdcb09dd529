import { setMaxListeners } from 'node:events';
import type { StateReader } from '../archive/ports';
import type { SpendReader, StoredSpend } from '../archive/spend-store';
import { describeError } from '../errors';
import type { OrgState } from '../invoices/types';
import type { Logger } from '../log';
import { historyInput, historyMonths, SPEND_HISTORY_MONTHS } from '../spend/backtest';
import { addMonths, monthOf, parseIsoDay, utcDayOf, utcMonthOf } from '../spend/calendar';
import type { SpendSettings } from '../spend/settings';
import { describeSpend, type SpendOverview } from '../spend/spend-overview';

/**
 * One organisation's spend as the poller stored it, for the digest and `/invoice spend`: its state (name, last poll,
 * which invoice is pending), the usage record of the billing month and the records of the months before it, turned
 * into a `SpendOverview` by the spend domain exactly as the poller's spend watch builds its alerts and chart: last
 * month extends the forecast's window and is the comparison, and the backtest of the final months among the
 * `SPEND_HISTORY_MONTHS` before calibrates the forecast's range. So the figures, the range included, are the ones the
 * alerts and the chart show. No Atlas call.
 *
 * Which month: the period of the newest PENDING invoice in the state (the invoice the poller records spend from),
 * else the current UTC month. The reads start with the current UTC month and the four before it, alongside the state,
 * so the usual case is one round of parallel GETs (about 10 kB each); only when the pending invoice belongs to another
 * month (the first days of a month, before Atlas opens the new invoice), or the state names other months, does a
 * second round read the rest.
 *
 * Failures: an unreadable state or earlier month is logged and left out (the overview is still right, only less
 * complete: no name, no comparison, a range from the recent days); an unreadable record of the month itself is
 * reported as such. Nothing is thrown.
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

/** Requests one organisation's read has in flight at once: the state and the records (and a chart look-up). */
export const READS_PER_ORG = SPEND_HISTORY_MONTHS + 3;

/**
 * A signal that aborts with `parent`, for `orgs` organisations read at once. Each request in flight listens to its
 * signal; many on one signal would make Node warn of a listener leak that is not one, so this one allows them all.
 */
export function sharedSignal(parent: AbortSignal | undefined, orgs: number): AbortSignal {
  const signal = AbortSignal.any(parent === undefined ? [] : [parent]);
  setMaxListeners(Math.max(10, orgs * READS_PER_ORG), signal);
  return signal;
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
  try {
    return await readWith(deps, orgId, now, record, signal);
  } finally {
    // A guessed month nobody needed is still in flight: it ends here, not in the next invocation's time.
    await Promise.allSettled(records.values());
  }
}

async function readWith(
  deps: OrgSpendDeps,
  orgId: string,
  now: number,
  record: (month: string) => Promise<StoredSpend | undefined>,
  signal: AbortSignal | undefined,
): Promise<OrgSpend> {
  const guess = utcMonthOf(now);
  const stateRead = deps.state.readState(orgId, signal);
  for (let back = 0; back <= SPEND_HISTORY_MONTHS; back++) record(addMonths(guess, -back));

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
  const history = await Promise.all(
    monthsBefore(state, month).map(async (m) => {
      try {
        return { month: m, stored: await record(m) };
      } catch (error) {
        deps.log.warn('an earlier spend record could not be read: the forecast leaves it out', {
          orgId,
          month: m,
          error: describeError(error),
        });
        return { month: m, stored: undefined };
      }
    }),
  );
  const { previous, calibration } = historyInput(
    history.map((h) => ({ month: h.month, series: h.stored?.record.series, final: h.stored?.record.final })),
    month,
  );
  const overview = describeSpend({
    orgId,
    ...(state?.orgName === undefined ? {} : { orgName: state.orgName }),
    series: current.record.series,
    previous,
    final: current.record.final,
    asOf: utcDayOf(now),
    calibration,
    settings: deps.settings,
  });
  return { ...base, kind: 'found', overview };
}

/**
 * The months before `month` whose records the forecast reads, newest first, chosen as the poller chooses them
 * (`historyMonths`) from the invoices the state lists; without a state, the calendar months before it.
 */
function monthsBefore(state: OrgState | undefined, month: string): string[] {
  const listed = Object.values(state?.invoices ?? {}).flatMap((entry) => {
    const day = parseIsoDay(entry.startDate);
    return day === undefined || monthOf(day) >= month ? [] : [monthOf(day)];
  });
  return historyMonths(
    listed.length > 0
      ? listed
      : Array.from({ length: SPEND_HISTORY_MONTHS }, (_, i) => addMonths(month, -1 - i)),
    month,
  );
}

/** The organisation's own monthly budget in cents (not a project's), if one is set. */
export function orgBudgetCents(overview: SpendOverview): number | undefined {
  return overview.budgets.find((b) => b.scope.projectId === undefined)?.budget.cents;
}
