import { formatDay, isWeekend, monthOf, parseDay } from './calendar';
import { median, quantile, roundCents } from './stats';
import {
  completeDayValues,
  type DayValue,
  periodOf,
  selectLine,
  seriesTotalCents,
  sumCents,
  type UsageSeries,
} from './usage-series';

/**
 * Month-to-date and the month-end forecast of a billing period, from its usage series. Integer cents; pure (the
 * caller says what "today" is).
 *
 * Complete days. Atlas posts a day's charges a day late, and some lines of a day later still, so only complete days
 * count: with `L` the latest usage day any line item was dated, days `1..L-1` are complete while the invoice is
 * PENDING (day `L` may still grow). Every day is complete once the invoice is final (no longer PENDING), or once `asOf`
 * is at least one day past the period's end (`endDate + 1`: the last day's charges have been posted by then). `asOf`
 * also caps the complete days at the days already over, so a line dated in the future cannot complete the month.
 *
 * Month-to-date = the complete days' totals + the rows without a usage day in the period (undated and out-of-period
 * rows: late month-end items, credits for other months). Those rows are counted once, as they are, never
 * extrapolated; the days after the complete ones are forecast.
 *
 * Forecast = month-to-date + the remaining days at a robust recent daily rate:
 * - Level: the median of the last 7 complete days (reaching back into last month when given), each first divided by
 *   its weekday/weekend factor. A median ignores a one-day spike. When the last 3 days all sit more than 10% above
 *   (or below) that median, the level has shifted (a cluster launched or was removed): the median of those 3 is used,
 *   so a level shift is picked up on its third day.
 * - Weekly seasonality: weekend days run at `weekendPercent`% of weekdays, the median over the last 4 weeks of each
 *   weekend day's spend relative to the median weekday within a week of it. Within 5% of 100% it is treated as no
 *   pattern (one rate for every day). Remaining weekdays are forecast at the level, weekend days at the level times
 *   that percentage, each rate rounded to the cent, so `forecast = month-to-date + Σ days × rate` exactly.
 * - Range: from the backtest of archived months when it has at least `MIN_CALIBRATION_SAMPLES` samples near this day
 *   of the month (10th and 90th percentiles of final ÷ forecast), else from the recent days' spread: the 10th and
 *   90th percentiles of the last 4 weeks' days (weekend-adjusted) relative to the level, applied to every remaining
 *   day. The second covers day-to-day variation and recent shifts, not a launch still to come; the backtest bench
 *   reports how often each range held the final amount.
 *
 * Not enough data (an explicit result, never a number): no usage dated in the period, fewer than 3 complete days
 * (counting last month's), a negative month-to-date or a negative level (credits larger than the usage).
 */

/** What a reading of a period's series (the forecast, the spikes) knows besides the series. */
export interface SeriesContext {
  /**
   * The month before, as archived: its days extend the windows read back from (when it ends where this period
   * starts); for the forecast its total is also the comparison.
   */
  readonly previous?: UsageSeries | undefined;
  /** The invoice is final (no longer PENDING): every day is complete. */
  readonly final?: boolean | undefined;
  /** Today as a UTC calendar day, `YYYY-MM-DD`: see "Complete days" above. */
  readonly asOf?: string | undefined;
}

export interface ForecastOptions extends SeriesContext {
  /** The backtest's error distribution by day of month (`calibrateForecastRange`). */
  readonly calibration?: RangeCalibration | undefined;
}

/** Complete days needed, counting last month's, before a rate is read. */
export const MIN_WINDOW_DAYS = 3;
/** Days whose median is the level. */
export const LEVEL_WINDOW_DAYS = 7;
/** Days whose median is used instead when they all moved the same way. */
export const SHIFT_WINDOW_DAYS = 3;
/** How far (as a fraction of the level) every one of those days must have moved to count as a level shift. */
export const SHIFT_THRESHOLD = 0.1;
/** Days looked back to learn the weekend percentage. */
export const SEASON_WINDOW_DAYS = 28;
/** A weekend percentage this close to 100 is treated as no weekly pattern. */
export const SEASON_DEAD_BAND_PERCENT = 5;
/** Backtest samples (pooled over the neighbouring days of the month) a calibrated range needs. */
export const MIN_CALIBRATION_SAMPLES = 6;

export type MonthForecast = SpendForecast | ForecastUnavailable;

export interface SpendForecast {
  readonly kind: 'forecast';
  /** `YYYY-MM` of the period's first day. */
  readonly month: string;
  /** `YYYY-MM-DD` */
  readonly start: string;
  readonly days: number;
  readonly completeDays: number;
  readonly remainingDays: number;
  /** `completeDaysCents + adjustmentsCents`. */
  readonly monthToDateCents: number;
  readonly completeDaysCents: number;
  /** Undated and out-of-period rows. */
  readonly adjustmentsCents: number;
  /** `monthToDateCents + Σ term.days × term.rateCents`. */
  readonly forecastCents: number;
  readonly lowCents: number;
  readonly highCents: number;
  /** The remaining days by rate; empty once every day is complete. */
  readonly terms: readonly ForecastTerm[];
  /** How the rate was read; absent once every day is complete. */
  readonly rate?: RateBasis;
  readonly range: RangeBasis;
  /** Per remaining day (complete + 1 … days): the cumulative forecast and its low/high, for the chart and crossings. */
  readonly curve: {
    readonly cumulativeCents: readonly number[];
    readonly lowCents: readonly number[];
    readonly highCents: readonly number[];
  };
  /** Last month's total (every line item of the series passed as `previous`). */
  readonly previousTotalCents?: number;
}

export interface ForecastTerm {
  /** `day` when one rate covers every remaining day. */
  readonly kind: 'weekday' | 'weekend' | 'day';
  readonly days: number;
  readonly rateCents: number;
}

export interface RateBasis {
  /** `median`: of the last `windowDays` days; `shift`: of the last 3, which all moved the same way. */
  readonly method: 'median' | 'shift';
  /** First and last day of the days the level was read from, `YYYY-MM-DD`. */
  readonly from: string;
  readonly to: string;
  readonly windowDays: number;
  /** The weekday level, in cents per day (unrounded level rounded). */
  readonly levelCents: number;
  /** Weekend days as a percentage of weekdays; absent when no weekly pattern is known or visible. */
  readonly weekendPercent?: number;
  /** The level the shift replaced (`shift` only). */
  readonly previousLevelCents?: number;
}

export type RangeBasis =
  | { readonly basis: 'backtest'; readonly samples: number; readonly months: number }
  | { readonly basis: 'recent-days' }
  | { readonly basis: 'exact' };

export type UnavailableReason = 'no-usage' | 'no-usage-dates' | 'too-few-days' | 'negative-total';

export interface ForecastUnavailable {
  readonly kind: 'not-enough-data';
  readonly reason: UnavailableReason;
  /** A sentence for people: what is missing and when it will be there. */
  readonly detail: string;
  readonly month: string;
  readonly start: string;
  readonly days: number;
  readonly completeDays: number;
  readonly monthToDateCents: number;
  readonly previousTotalCents?: number;
}

/** The backtest's spread of final ÷ forecast by day of month (see `calibrateForecastRange` in backtest.ts). */
export interface RangeCalibration {
  readonly months: number;
  readonly byDay: readonly CalibrationDay[];
}

export interface CalibrationDay {
  /** Complete days when the forecast was made. */
  readonly day: number;
  readonly samples: number;
  /** 10th and 90th percentiles of final ÷ forecast. */
  readonly lowRatio: number;
  readonly highRatio: number;
}

/** How many days of the period are complete; see the module comment. */
export function completeDaysOf(
  series: Pick<UsageSeries, 'start' | 'days' | 'lastUsageDay'>,
  options: Pick<SeriesContext, 'final' | 'asOf'> = {},
): number {
  if (options.final === true) return series.days;
  let complete = Math.max(0, series.lastUsageDay - 1);
  if (options.asOf !== undefined) {
    const today = parseDay(options.asOf);
    if (today === undefined) throw new RangeError(`asOf must be a YYYY-MM-DD date (got ${options.asOf})`);
    const over = today - periodOf(series).startDay;
    if (over >= series.days + 1) return series.days;
    complete = Math.min(complete, Math.max(0, over));
  }
  return complete;
}

/** See the module comment. Throws RangeError for a malformed `asOf`. */
export function forecastMonthEnd(series: UsageSeries, options: ForecastOptions = {}): MonthForecast {
  const { startDay, days } = periodOf(series);
  const complete = completeDaysOf(series, options);
  const completeDaysCents = sumCents(series.dailyCents, 0, complete);
  const adjustmentsCents = series.undated.cents + series.outOfPeriod.cents;
  const monthToDateCents = completeDaysCents + adjustmentsCents;
  const previousTotalCents = options.previous === undefined ? undefined : seriesTotalCents(options.previous);
  const base = {
    month: monthOf(startDay),
    start: series.start,
    days,
    completeDays: complete,
    monthToDateCents,
    ...(previousTotalCents === undefined ? {} : { previousTotalCents }),
  };
  const unavailable = (reason: UnavailableReason, detail: string): ForecastUnavailable => ({
    kind: 'not-enough-data',
    reason,
    detail,
    ...base,
  });

  if (complete === days) {
    return {
      kind: 'forecast',
      ...base,
      remainingDays: 0,
      completeDaysCents,
      adjustmentsCents,
      forecastCents: monthToDateCents,
      lowCents: monthToDateCents,
      highCents: monthToDateCents,
      terms: [],
      range: { basis: 'exact' },
      curve: { cumulativeCents: [], lowCents: [], highCents: [] },
    };
  }
  if (series.lastUsageDay === 0) {
    return series.undated.rows > 0
      ? unavailable('no-usage-dates', 'The line items carry no usage date in this billing period.')
      : unavailable('no-usage', 'No usage has been posted for this billing period yet.');
  }
  const window = (completeDayValues(series, complete, options.previous) as DayValue[]).slice(
    -SEASON_WINDOW_DAYS,
  );
  if (window.length < MIN_WINDOW_DAYS) {
    return unavailable(
      'too-few-days',
      `A forecast needs ${MIN_WINDOW_DAYS} complete usage days; ${window.length} so far (Atlas posts each day's charges a day later).`,
    );
  }
  if (completeDaysCents < 0) {
    return unavailable(
      'negative-total',
      'Credits exceed the usage so far this month, so no rate can be read yet.',
    );
  }
  const rate = readRate(window);
  if (rate.levelCents < 0) {
    return unavailable(
      'negative-total',
      'Credits exceed the recent daily usage, so no rate can be read yet.',
    );
  }

  const weekendFactor = (rate.weekendPercent ?? 100) / 100;
  const weekdayRate = rate.levelCents;
  const weekendRate = roundCents(rate.level * weekendFactor);
  const rateOf = (day: number) =>
    rate.weekendPercent !== undefined && isWeekend(day) ? weekendRate : weekdayRate;
  const cumulativeCents: number[] = [];
  let running = monthToDateCents;
  let weekendDays = 0;
  for (let index = complete; index < days; index++) {
    if (isWeekend(startDay + index)) weekendDays++;
    running += rateOf(startDay + index);
    cumulativeCents.push(running);
  }
  const remainingDays = days - complete;
  const terms: ForecastTerm[] =
    rate.weekendPercent === undefined
      ? [{ kind: 'day', days: remainingDays, rateCents: weekdayRate }]
      : [
          { kind: 'weekday' as const, days: remainingDays - weekendDays, rateCents: weekdayRate },
          { kind: 'weekend' as const, days: weekendDays, rateCents: weekendRate },
        ].filter((term) => term.days > 0);
  const forecastCents = running;

  const band = rangeBand(rate, complete, options.calibration);
  const projected = forecastCents - monthToDateCents;
  const [lowCents, highCents] =
    band.basis === 'backtest'
      ? [
          Math.min(forecastCents, roundCents(forecastCents * band.low)),
          Math.max(forecastCents, roundCents(forecastCents * band.high)),
        ]
      : [
          monthToDateCents + roundCents(projected * Math.min(1, band.low)),
          monthToDateCents + roundCents(projected * Math.max(1, band.high)),
        ];
  const along = (target: number) =>
    cumulativeCents.map((cumulative) =>
      projected === 0
        ? cumulative + (target - forecastCents)
        : monthToDateCents +
          roundCents(((cumulative - monthToDateCents) * (target - monthToDateCents)) / projected),
    );

  return {
    kind: 'forecast',
    ...base,
    remainingDays,
    completeDaysCents,
    adjustmentsCents,
    forecastCents,
    lowCents,
    highCents,
    terms,
    rate: {
      method: rate.method,
      from: formatDay(rate.from),
      to: formatDay(rate.to),
      windowDays: rate.windowDays,
      levelCents: rate.levelCents,
      ...(rate.weekendPercent === undefined ? {} : { weekendPercent: rate.weekendPercent }),
      ...(rate.previousLevelCents === undefined ? {} : { previousLevelCents: rate.previousLevelCents }),
    },
    range:
      band.basis === 'backtest'
        ? { basis: 'backtest', samples: band.samples, months: band.months }
        : { basis: 'recent-days' },
    curve: { cumulativeCents, lowCents: along(lowCents), highCents: along(highCents) },
  };
}

interface Rate {
  readonly method: 'median' | 'shift';
  /** Unrounded weekday level. */
  readonly level: number;
  readonly levelCents: number;
  readonly weekendPercent: number | undefined;
  readonly from: number;
  readonly to: number;
  readonly windowDays: number;
  readonly previousLevelCents: number | undefined;
  /** Each window day's deseasonalised spend over the level. */
  readonly spread: readonly number[];
}

function readRate(window: readonly DayValue[]): Rate {
  const weekendPercent = readWeekendPercent(window.slice(-SEASON_WINDOW_DAYS));
  const factor = (day: number) => (weekendPercent !== undefined && isWeekend(day) ? weekendPercent / 100 : 1);
  const recent = window.slice(-LEVEL_WINDOW_DAYS);
  const adjusted = recent.map((v) => v.cents / factor(v.day));
  const medianLevel = median(adjusted) as number;
  let level = medianLevel;
  let method: Rate['method'] = 'median';
  let used = recent;
  if (recent.length === LEVEL_WINDOW_DAYS) {
    const last = adjusted.slice(-SHIFT_WINDOW_DAYS);
    const margin = Math.abs(medianLevel) * SHIFT_THRESHOLD;
    const up = last.every((x) => x > medianLevel + margin);
    const down = last.every((x) => x < medianLevel - margin);
    if (up || down) {
      level = median(last) as number;
      method = 'shift';
      used = recent.slice(-SHIFT_WINDOW_DAYS);
    }
  }
  const first = used[0] as DayValue;
  const lastDay = used[used.length - 1] as DayValue;
  return {
    method,
    level,
    levelCents: roundCents(level),
    weekendPercent,
    from: first.day,
    to: lastDay.day,
    windowDays: used.length,
    previousLevelCents: method === 'shift' ? roundCents(medianLevel) : undefined,
    spread: level > 0 ? window.slice(-SEASON_WINDOW_DAYS).map((v) => v.cents / factor(v.day) / level) : [],
  };
}

/**
 * Weekend days as a whole percentage of weekdays: for each weekend day, its spend over the median weekday within 7
 * days of it (at least 3 such weekdays, median above zero); the median of those ratios (at least 2). Undefined when
 * there is too little to tell, or the percentage is within the dead band of 100.
 */
function readWeekendPercent(window: readonly DayValue[]): number | undefined {
  const ratios: number[] = [];
  for (const value of window) {
    if (!isWeekend(value.day)) continue;
    const near = window
      .filter((v) => !isWeekend(v.day) && Math.abs(v.day - value.day) <= 7)
      .map((v) => v.cents);
    if (near.length < 3) continue;
    const typical = median(near) as number;
    if (typical > 0) ratios.push(value.cents / typical);
  }
  if (ratios.length < 2) return undefined;
  const percent = Math.round((median(ratios) as number) * 100);
  if (Math.abs(percent - 100) <= SEASON_DEAD_BAND_PERCENT || percent <= 0) return undefined;
  return Math.min(percent, 500);
}

type Band =
  | {
      readonly basis: 'backtest';
      readonly low: number;
      readonly high: number;
      samples: number;
      months: number;
    }
  | { readonly basis: 'recent-days'; readonly low: number; readonly high: number };

function rangeBand(rate: Rate, complete: number, calibration: RangeCalibration | undefined): Band {
  const calibrated = calibration?.byDay.find((entry) => entry.day === complete);
  if (
    calibration !== undefined &&
    calibrated !== undefined &&
    calibrated.samples >= MIN_CALIBRATION_SAMPLES
  ) {
    return {
      basis: 'backtest',
      low: Math.min(1, calibrated.lowRatio),
      high: Math.max(1, calibrated.highRatio),
      samples: calibrated.samples,
      months: calibration.months,
    };
  }
  return {
    basis: 'recent-days',
    low: quantile(rate.spread, 0.1) ?? 1,
    high: quantile(rate.spread, 0.9) ?? 1,
  };
}

/**
 * The series of one line (a project, SKU or cluster) as a series of its own, for a forecast per scope: its days (see
 * `selectLine`), no undated or out-of-period rows (those belong to no line), the period's completeness. Undefined when
 * the line may be folded into "other": the inspector lists budgeted projects always (`pinnedProjectIds`).
 */
export function lineSeries(
  series: UsageSeries,
  dimension: 'projects' | 'skus' | 'clusters',
  key: string,
): UsageSeries | undefined {
  const dailyCents = selectLine(dimension, key)(series);
  if (dailyCents === undefined) return undefined;
  const empty = { lines: [], otherCount: 0 };
  return {
    start: series.start,
    days: series.days,
    lastUsageDay: series.lastUsageDay,
    dailyCents,
    projects: empty,
    skus: empty,
    clusters: empty,
    undated: { cents: 0, rows: 0 },
    outOfPeriod: { cents: 0, rows: 0 },
  };
}
