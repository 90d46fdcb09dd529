import { formatDay, isWeekend } from './calendar';
import { completeDaysOf, type SeriesContext } from './forecast';
import { median, roundCents } from './stats';
import {
  completeDayValues,
  type DayValue,
  lineIdentity,
  periodOf,
  selectLine,
  type UsageSeries,
} from './usage-series';

/**
 * Spend spikes: a complete usage day whose total is far above its typical day.
 *
 * Typical day: the median of the same kind of day (weekday or weekend) among the 14 days before it, reaching back into
 * last month. Weekday-aware because weekends usually cost less: against a median pulled down by weekends every busy
 * Monday would look like a spike, and against weekdays a weekend spike would hide. 14 days hold 10 weekdays and 4
 * weekend days; at least 3 are needed. The median ignores an earlier spike.
 *
 * A spike is more than `spikePercent` above the typical day AND more than `spikeMinCents` above it (so a small
 * organisation's $3 → $9 day is not news). One alert per usage day; a rise that lasts (the day before was a spike too,
 * each against its own typical day) is reported once, on its first day, and the forecast then carries it. Only the
 * last `lookbackDays` complete days are checked, so a first run does not announce last month's news.
 *
 * Movers say where to look: for each project, SKU and cluster listed in the series, the day's amount against that
 * line's own typical day (same rule; fewer than 3 earlier days of its kind: their median; none: $0, a new line), the
 * biggest increases first, leaving out increases under 5% of the day's (noise, not a lead).
 */

export const TYPICAL_WINDOW_DAYS = 14;
export const MIN_TYPICAL_DAYS = 3;
export const DEFAULT_LOOKBACK_DAYS = 2;
export const MOVERS_PER_DIMENSION = 3;
/** A mover's increase must be at least this share of the day's increase to be named. */
export const MIN_MOVER_SHARE = 0.05;

export interface SpikeOptions extends SeriesContext {
  readonly spikePercent: number;
  readonly spikeMinCents: number;
  /** The latest complete days checked; default 2. */
  readonly lookbackDays?: number;
}

export interface SpendSpike {
  /** The usage day, `YYYY-MM-DD`. */
  readonly day: string;
  readonly dayCents: number;
  readonly typicalCents: number;
  /** The days the typical day is the median of. */
  readonly typicalDays: number;
  readonly dayKind: 'weekday' | 'weekend';
  /** `dayCents − typicalCents`. */
  readonly increaseCents: number;
  /** Whole percent above the typical day (rounded down); undefined when the typical day is $0 or less. */
  readonly increasePercent: number | undefined;
  readonly movers: {
    readonly clusters: readonly SpikeMover[];
    readonly projects: readonly SpikeMover[];
    readonly skus: readonly SpikeMover[];
  };
}

export interface SpikeMover {
  readonly key: string;
  readonly name: string;
  readonly id?: string;
  readonly project?: { readonly name: string; readonly id?: string };
  readonly dayCents: number;
  readonly typicalCents: number;
  readonly changeCents: number;
}

/** Spikes among the last complete days, oldest first. Throws RangeError for a malformed `asOf`. */
export function detectSpikes(series: UsageSeries, options: SpikeOptions): SpendSpike[] {
  const complete = completeDaysOf(series, options);
  const values = completeDayValues(series, complete, options.previous) as DayValue[];
  const { startDay } = periodOf(series);
  const lookback = Math.max(1, options.lookbackDays ?? DEFAULT_LOOKBACK_DAYS);
  const spikes: SpendSpike[] = [];
  for (let index = Math.max(0, complete - lookback); index < complete; index++) {
    const day = startDay + index;
    const judged = judgeDay(values, day, options);
    if (judged === undefined || !judged.exceeds) continue;
    if (judgeDay(values, day - 1, options)?.exceeds === true) continue;
    const minimum = Math.max(1, (judged.cents - judged.typicalCents) * MIN_MOVER_SHARE);
    spikes.push({
      day: formatDay(day),
      dayCents: judged.cents,
      typicalCents: judged.typicalCents,
      typicalDays: judged.typicalDays,
      dayKind: isWeekend(day) ? 'weekend' : 'weekday',
      increaseCents: judged.cents - judged.typicalCents,
      increasePercent:
        judged.typicalCents > 0
          ? Math.floor(((judged.cents - judged.typicalCents) * 100) / judged.typicalCents)
          : undefined,
      movers: {
        clusters: movers(series, 'clusters', complete, day, options.previous, minimum),
        projects: movers(series, 'projects', complete, day, options.previous, minimum),
        skus: movers(series, 'skus', complete, day, options.previous, minimum),
      },
    });
  }
  return spikes;
}

interface Judged {
  readonly cents: number;
  readonly typicalCents: number;
  readonly typicalDays: number;
  readonly exceeds: boolean;
}

function judgeDay(
  values: readonly DayValue[],
  day: number,
  thresholds: Pick<SpikeOptions, 'spikePercent' | 'spikeMinCents'>,
): Judged | undefined {
  const value = values.find((v) => v.day === day);
  if (value === undefined) return undefined;
  const same = typicalDays(values, day);
  if (same.length < MIN_TYPICAL_DAYS) return undefined;
  const typicalCents = roundCents(median(same) as number);
  const increase = value.cents - typicalCents;
  const exceeds =
    increase > thresholds.spikeMinCents &&
    (typicalCents <= 0 || increase * 100 > thresholds.spikePercent * typicalCents);
  return { cents: value.cents, typicalCents, typicalDays: same.length, exceeds };
}

/** The same kind of day (weekday or weekend) among the `TYPICAL_WINDOW_DAYS` days before `day`. */
function typicalDays(values: readonly DayValue[], day: number): number[] {
  const weekend = isWeekend(day);
  return values
    .filter((v) => v.day < day && v.day >= day - TYPICAL_WINDOW_DAYS && isWeekend(v.day) === weekend)
    .map((v) => v.cents);
}

function movers(
  series: UsageSeries,
  dimension: 'projects' | 'skus' | 'clusters',
  complete: number,
  day: number,
  previous: UsageSeries | undefined,
  minimum: number,
): SpikeMover[] {
  const found: SpikeMover[] = [];
  for (const line of series[dimension].lines) {
    const values = completeDayValues(
      series,
      complete,
      previous,
      selectLine(dimension, line.key),
    ) as DayValue[];
    const dayCents = values.find((v) => v.day === day)?.cents ?? 0;
    const same = typicalDays(values, day);
    const typicalCents = same.length === 0 ? 0 : roundCents(median(same) as number);
    const changeCents = dayCents - typicalCents;
    if (changeCents >= minimum) found.push({ ...lineIdentity(line), dayCents, typicalCents, changeCents });
  }
  found.sort((a, b) => b.changeCents - a.changeCents || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return found.slice(0, MOVERS_PER_DIMENSION);
}
