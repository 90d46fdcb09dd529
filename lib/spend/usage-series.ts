import { dayNumber, formatDay, isValidDate, parseDay, parseIsoDay, parseLongDate } from './calendar';

/**
 * A billing period's daily usage, in integer cents, as one streaming pass over the invoice's line items builds it
 * (`createCsvInspector` / `inspectLineItems`): per usage day the total, and per project, SKU and cluster the top N
 * keys by month total with the rest folded into one "other" per day.
 *
 * Which rows count where:
 * - A row dated (Usage Date / `startDate`) inside the period adds to its day: to `dailyCents` and to its project,
 *   SKU and cluster. Credits are negative rows and reduce their day.
 * - A row without a readable usage date adds to `undated`; a row dated outside the period (late month-end items,
 *   credits for an earlier month) adds to `outOfPeriod`. Neither belongs to a day, so neither is extrapolated: they
 *   enter month-to-date and the final amount once, as they are (see `lib/spend/forecast.ts`).
 * So `sum(dailyCents) + undated.cents + outOfPeriod.cents` is the sum of every line item read.
 */
export interface UsageSeries {
  /** First day of the billing period, `YYYY-MM-DD` (a calendar day). */
  readonly start: string;
  /** Days in the period (end exclusive, as the invoice's `endDate`): every daily array has this length. */
  readonly days: number;
  /** 1-based day of the period of the latest usage day any row was dated; 0 when no row was dated in the period. */
  readonly lastUsageDay: number;
  /** Per day, every row dated that day. */
  readonly dailyCents: readonly number[];
  readonly projects: UsageDimension;
  readonly skus: UsageDimension;
  readonly clusters: UsageDimension;
  readonly undated: RowTotal;
  readonly outOfPeriod: RowTotal;
}

export interface RowTotal {
  readonly cents: number;
  readonly rows: number;
}

/** One dimension's lines; per day, `sum(lines) + other = dailyCents`. */
export interface UsageDimension {
  /** The top N keys by month total, largest first, then any pinned key past the top N. */
  readonly lines: readonly UsageLine[];
  /** Per day, every key not listed; absent when every key is listed. */
  readonly otherDailyCents?: readonly number[];
  /** Keys folded into other (keys past the inspector's `maxDistinct` count as one). */
  readonly otherCount: number;
}

export interface UsageLine {
  /**
   * Stable across months, so a line can be followed from one month to the next: a project is `id:<Project ID>`
   * (or `name:<Project>` without an id), a SKU its name, a cluster `<project key>/<cluster>`.
   */
  readonly key: string;
  /** Project, SKU or cluster name as Atlas wrote it (clipped); a cluster may be '' for rows without one. */
  readonly name: string;
  /** A project's id. */
  readonly id?: string;
  /** A cluster's project. */
  readonly project?: { readonly name: string; readonly id?: string };
  readonly dailyCents: readonly number[];
}

/** Lines listed per dimension unless the caller asks for another number. */
export const DEFAULT_SERIES_TOP_N = 8;
/** Longest billing period accepted, in days: anything longer is not a monthly invoice. */
export const MAX_PERIOD_DAYS = 62;

/** A billing period as day numbers: `[startDay, startDay + days)`. */
export interface BillingPeriod {
  readonly startDay: number;
  readonly days: number;
}

/**
 * The period from its first day and its end (exclusive), each `YYYY-MM-DD` or an ISO timestamp (the invoice's
 * `startDate`/`endDate`). Undefined when unreadable, empty, or longer than `MAX_PERIOD_DAYS`.
 */
export function billingPeriodOf(start: string, end: string): BillingPeriod | undefined {
  const startDay = parseIsoDay(start);
  const endDay = parseIsoDay(end);
  if (startDay === undefined || endDay === undefined) return undefined;
  return periodOrUndefined(startDay, endDay);
}

/**
 * The CSV's `Billing Period` value, `June 1, 2024 - July 1, 2024`: the second date is the invoice's `endDate`, the
 * first day after the period. Undefined when unreadable.
 */
export function parseBillingPeriod(text: string): BillingPeriod | undefined {
  const parts = text.split(/\s+[-–]\s+/);
  if (parts.length !== 2) return undefined;
  const startDay = parseLongDate(parts[0] ?? '');
  const endDay = parseLongDate(parts[1] ?? '');
  if (startDay === undefined || endDay === undefined) return undefined;
  return periodOrUndefined(startDay, endDay);
}

function periodOrUndefined(startDay: number, endDay: number): BillingPeriod | undefined {
  const days = endDay - startDay;
  return days >= 1 && days <= MAX_PERIOD_DAYS ? { startDay, days } : undefined;
}

/** The period of a series as day numbers. Throws RangeError if `start` is not a date (a decoded series always is). */
export function periodOf(series: Pick<UsageSeries, 'start' | 'days'>): BillingPeriod {
  const startDay = parseDay(series.start);
  if (startDay === undefined) throw new RangeError(`series start is not a YYYY-MM-DD date: ${series.start}`);
  return { startDay, days: series.days };
}

/** A day number from the digits of an MM/DD/YYYY date; NaN unless it is a real date. */
export function usDateDay(month: number, day: number, year: number): number {
  return isValidDate(year, month, day) ? dayNumber(year, month, day) : Number.NaN;
}

/** One key's running totals, as the tracker fills them (see `createUsageTracker` in csv-summary.ts). */
export interface DailyEntry {
  readonly key: string;
  readonly name: string;
  readonly id?: string;
  readonly project?: { readonly name: string; readonly id?: string };
  /** Cents per day of the period; undefined when no row of this key was dated in the period. */
  readonly daily: Float64Array | undefined;
}

/**
 * One dimension from its entries: the `topN` largest by month total (ties by name, then key, so the result never
 * depends on input order), then the pinned keys past the top N, each as a line; every other entry with a dated row,
 * and `overflow` (keys past `maxDistinct`, already folded), summed into other. Entries with no dated row in the period
 * are left out.
 */
export function rankUsageLines(
  entries: Iterable<DailyEntry>,
  overflow: Float64Array | undefined,
  days: number,
  topN: number,
  pinned: ReadonlySet<string> = new Set(),
): UsageDimension {
  const dated = [...entries]
    .filter((entry) => entry.daily !== undefined)
    .map((entry) => ({ entry, total: sumCents(entry.daily as Float64Array) }));
  dated.sort(
    (a, b) =>
      b.total - a.total || compareText(a.entry.name, b.entry.name) || compareText(a.entry.key, b.entry.key),
  );
  const lines: UsageLine[] = [];
  const other = new Array<number>(days).fill(0);
  let otherCount = 0;
  const fold = (daily: Float64Array) => {
    for (let d = 0; d < days; d++) other[d] = (other[d] as number) + (daily[d] as number);
  };
  dated.forEach(({ entry }, rank) => {
    if (rank < topN) lines.push(toLine(entry));
  });
  for (const { entry } of dated.slice(topN)) {
    if (pinned.has(entry.key)) lines.push(toLine(entry));
    else {
      fold(entry.daily as Float64Array);
      otherCount++;
    }
  }
  if (overflow !== undefined) {
    fold(overflow);
    otherCount++;
  }
  return otherCount === 0 ? { lines, otherCount } : { lines, otherDailyCents: other, otherCount };
}

function toLine(entry: DailyEntry): UsageLine {
  return {
    key: entry.key,
    name: entry.name,
    ...(entry.id === undefined ? {} : { id: entry.id }),
    ...(entry.project === undefined ? {} : { project: entry.project }),
    dailyCents: Array.from(entry.daily as Float64Array),
  };
}

/** The series of a period from what the tracker counted. */
export function buildUsageSeries(parts: {
  readonly period: BillingPeriod;
  readonly lastUsageDay: number;
  readonly daily: Float64Array;
  readonly projects: UsageDimension;
  readonly skus: UsageDimension;
  readonly clusters: UsageDimension;
  readonly undated: RowTotal;
  readonly outOfPeriod: RowTotal;
}): UsageSeries {
  return {
    start: formatDay(parts.period.startDay),
    days: parts.period.days,
    lastUsageDay: parts.lastUsageDay,
    dailyCents: Array.from(parts.daily),
    projects: parts.projects,
    skus: parts.skus,
    clusters: parts.clusters,
    undated: parts.undated,
    outOfPeriod: parts.outOfPeriod,
  };
}

/** A line's name, id and project, without its days. */
export function lineIdentity(line: UsageLine): Pick<UsageLine, 'key' | 'name' | 'id' | 'project'> {
  return {
    key: line.key,
    name: line.name,
    ...(line.id === undefined ? {} : { id: line.id }),
    ...(line.project === undefined ? {} : { project: line.project }),
  };
}

/** One day's spend with its day number. */
export interface DayValue {
  readonly day: number;
  readonly cents: number;
}

/** Which daily array of a series to read: its total, or one line's (undefined when the series does not list it). */
export type DailySelector = (series: UsageSeries) => readonly number[] | undefined;

export const selectTotal: DailySelector = (series) => series.dailyCents;

/**
 * A line's days in a series, by key: the line's own when listed; zeros when the dimension folded nothing (the key had
 * no dated usage); undefined when it may be inside "other".
 */
export function selectLine(dimension: 'projects' | 'skus' | 'clusters', key: string): DailySelector {
  return (series) => {
    const lines = series[dimension];
    const line = lines.lines.find((l) => l.key === key);
    if (line !== undefined) return line.dailyCents;
    return lines.otherCount === 0 ? new Array<number>(series.days).fill(0) : undefined;
  };
}

/**
 * The complete days of a period, oldest first, preceded by last month's days up to its latest usage day when its
 * period ends where this one starts (a gap would put unrelated days side by side) and it lists what `select` reads.
 * Undefined when the current series does not list it.
 */
export function completeDayValues(
  series: UsageSeries,
  complete: number,
  previous: UsageSeries | undefined,
  select: DailySelector = selectTotal,
): DayValue[] | undefined {
  const current = select(series);
  if (current === undefined) return undefined;
  const { startDay } = periodOf(series);
  const values: DayValue[] = [];
  if (previous !== undefined) {
    const before = periodOf(previous);
    const earlier = select(previous);
    if (earlier !== undefined && before.startDay + before.days === startDay) {
      for (let index = 0; index < previous.lastUsageDay; index++) {
        values.push({ day: before.startDay + index, cents: earlier[index] as number });
      }
    }
  }
  for (let index = 0; index < complete; index++)
    values.push({ day: startDay + index, cents: current[index] as number });
  return values;
}

/** Sum of every line item the series counted: each day, undated rows and out-of-period rows. */
export function seriesTotalCents(series: UsageSeries): number {
  return sumCents(series.dailyCents) + series.undated.cents + series.outOfPeriod.cents;
}

export function sumCents(values: ArrayLike<number>, from = 0, to = values.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i] as number;
  return sum;
}

/** The tally key of a cluster: its project's key and its name. */
export function clusterKey(projectKey: string, cluster: string): string {
  return `${projectKey}/${cluster}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
