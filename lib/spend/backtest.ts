import { addMonths } from './calendar';
import { type CalibrationDay, forecastMonthEnd, type RangeCalibration } from './forecast';
import { quantile, roundCents } from './stats';
import { periodOf, seriesTotalCents, sumCents, type UsageSeries } from './usage-series';

/**
 * The forecast replayed on archived months: for each month and each day `d` of it, the forecast made from days
 * `1..d` (as the poller would have seen them on day `d + 1`: the later days and the month's undated and out-of-period
 * rows not yet posted, last month's series as it was archived) is compared with the month's final amount (every line
 * item of the archived series). The naive baseline is `month-to-date ÷ elapsed days × days in month`.
 *
 * Error measure: absolute percentage error |forecast − final| ÷ |final|; months whose final amount is zero or less
 * are skipped (no percentage exists). Both forecasts are scored on the same samples: the days where the forecast
 * gave a number (it says "not enough data" on the first days of the first month, which has no earlier month).
 */

export interface BacktestSample {
  /** Index in the months passed. */
  readonly month: number;
  /** Complete days the forecast was made from. */
  readonly day: number;
  readonly finalCents: number;
  readonly forecastCents: number;
  readonly lowCents: number;
  readonly highCents: number;
  readonly naiveCents: number;
}

export interface BacktestDay {
  readonly day: number;
  /** Months scored on this day. */
  readonly samples: number;
  /** Mean absolute percentage errors, in percent; undefined without samples. */
  readonly forecastMape: number | undefined;
  readonly naiveMape: number | undefined;
  /** Share (0..1) of final amounts inside the forecast's low–high range. */
  readonly withinRange: number | undefined;
}

export interface BacktestResult {
  /** Months with a final amount above zero. */
  readonly months: number;
  readonly days: readonly BacktestDay[];
  /** Over every sample. */
  readonly forecastMape: number | undefined;
  readonly naiveMape: number | undefined;
  readonly withinRange: number | undefined;
  /** Days the forecast said "not enough data" (not scored). */
  readonly unavailable: number;
  readonly samples: readonly BacktestSample[];
}

/**
 * Replay the forecast on `months`, oldest first, each one complete (its invoice final). A month's predecessor in the
 * list is its `previous` when its period ends where the month starts. `calibration` is handed to every forecast (a
 * range learnt elsewhere); point forecasts do not depend on it.
 */
export function backtestForecasts(
  months: readonly UsageSeries[],
  options: { readonly calibration?: RangeCalibration } = {},
): BacktestResult {
  const samples: BacktestSample[] = [];
  let unavailable = 0;
  let scoredMonths = 0;
  months.forEach((series, m) => {
    const finalCents = seriesTotalCents(series);
    if (finalCents <= 0) return;
    scoredMonths++;
    const before = m > 0 ? months[m - 1] : undefined;
    const previous =
      before !== undefined && periodOf(before).startDay + before.days === periodOf(series).startDay
        ? before
        : undefined;
    for (let day = 1; day < series.days; day++) {
      const forecast = forecastMonthEnd(truncateSeries(series, day), {
        ...(previous === undefined ? {} : { previous }),
        ...(options.calibration === undefined ? {} : { calibration: options.calibration }),
      });
      if (forecast.kind !== 'forecast') {
        unavailable++;
        continue;
      }
      samples.push({
        month: m,
        day,
        finalCents,
        forecastCents: forecast.forecastCents,
        lowCents: forecast.lowCents,
        highCents: forecast.highCents,
        naiveCents: roundCents((sumCents(series.dailyCents, 0, day) / day) * series.days),
      });
    }
  });
  const maxDay = samples.reduce((max, s) => Math.max(max, s.day), 0);
  const days: BacktestDay[] = [];
  for (let day = 1; day <= maxDay; day++) {
    const scores = score(samples.filter((s) => s.day === day));
    days.push({ day, ...scores });
  }
  return { months: scoredMonths, days, ...score(samples), unavailable, samples };
}

function score(samples: readonly BacktestSample[]) {
  const mean = (values: readonly number[]) =>
    values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
  const ape = (predicted: number, final: number) => (Math.abs(predicted - final) / Math.abs(final)) * 100;
  return {
    samples: samples.length,
    forecastMape: mean(samples.map((s) => ape(s.forecastCents, s.finalCents))),
    naiveMape: mean(samples.map((s) => ape(s.naiveCents, s.finalCents))),
    withinRange: mean(
      samples.map((s) => (s.finalCents >= s.lowCents && s.finalCents <= s.highCents ? 1 : 0)),
    ),
  };
}

/**
 * The month as the poller saw it after `day` complete days: days past `day` not posted yet, except that day
 * `day + 1` has started (so exactly `day` days are complete), no undated or out-of-period rows yet.
 */
export function truncateSeries(series: UsageSeries, day: number): UsageSeries {
  const cut = (daily: readonly number[]) => daily.map((cents, index) => (index < day ? cents : 0));
  const cutLines = (dimension: UsageSeries['projects']) => ({
    ...dimension,
    lines: dimension.lines.map((line) => ({ ...line, dailyCents: cut(line.dailyCents) })),
    ...(dimension.otherDailyCents === undefined ? {} : { otherDailyCents: cut(dimension.otherDailyCents) }),
  });
  return {
    ...series,
    lastUsageDay: Math.min(series.days, day + 1),
    dailyCents: cut(series.dailyCents),
    projects: cutLines(series.projects),
    skus: cutLines(series.skus),
    clusters: cutLines(series.clusters),
    undated: { cents: 0, rows: 0 },
    outOfPeriod: { cents: 0, rows: 0 },
  };
}

/** Neighbouring days of the month pooled into each day's calibration (either side). */
export const CALIBRATION_POOL_DAYS = 1;

/**
 * The range calibration the forecast reads: for each day `d`, the 10th and 90th percentiles of final ÷ forecast over
 * the samples made on days `d − 1 … d + 1`. Pass the samples of a backtest over archived months.
 */
export function calibrateForecastRange(samples: readonly BacktestSample[]): RangeCalibration {
  const byDay: CalibrationDay[] = [];
  const maxDay = samples.reduce((max, s) => Math.max(max, s.day), 0);
  for (let day = 1; day <= maxDay; day++) {
    const ratios = samples
      .filter((s) => Math.abs(s.day - day) <= CALIBRATION_POOL_DAYS && s.forecastCents > 0)
      .map((s) => s.finalCents / s.forecastCents);
    if (ratios.length === 0) continue;
    byDay.push({
      day,
      samples: ratios.length,
      lowRatio: quantile(ratios, 0.1) as number,
      highRatio: quantile(ratios, 0.9) as number,
    });
  }
  return { months: new Set(samples.map((s) => s.month)).size, byDay };
}

/**
 * Months of history read before the watched one by the poller's spend watch, `/invoice spend`, the digest and the
 * CLI alike: last month (the forecast's window reaches into it, the chart draws it) and the final months before it,
 * whose backtest calibrates the forecast's range. Four give the calibration about 12 samples per day of the month
 * (each month is forecast on every day, pooled over neighbouring days), twice the 6 it needs; more would sharpen the
 * 10th and 90th percentiles a little at one more GET each.
 */
export const SPEND_HISTORY_MONTHS = 4;

/** The forecast range's calibration from the backtest of final months (oldest first); undefined without any. */
export function calibrateFromHistory(finals: readonly UsageSeries[]): RangeCalibration | undefined {
  if (finals.length === 0) return undefined;
  return calibrateForecastRange(backtestForecasts(finals).samples);
}

/**
 * The months whose records the forecast reads for `month` (`YYYY-MM`), newest first: the latest
 * `SPEND_HISTORY_MONTHS` billing months before it among `billingMonths` (the months of the invoices Atlas lists).
 * The poller and the readers of its records (`/invoice spend`, the digest) choose them alike, so they show the same
 * forecast range.
 */
export function historyMonths(billingMonths: Iterable<string>, month: string): string[] {
  return [...new Set(billingMonths)]
    .filter((m) => /^\d{4}-\d{2}$/.test(m) && m < month)
    .sort()
    .reverse()
    .slice(0, SPEND_HISTORY_MONTHS);
}

/** One month of that history as it was read: its series and whether its invoice was final; nothing when absent. */
export interface HistoryMonth {
  readonly month: string;
  readonly series?: UsageSeries | undefined;
  readonly final?: boolean | undefined;
}

/** What the forecast takes from the history of `month`: last month's series, and the calibration of the final ones. */
export function historyInput(
  history: readonly HistoryMonth[],
  month: string,
): { previous: UsageSeries | undefined; calibration: RangeCalibration | undefined } {
  const previousMonth = addMonths(month, -1);
  const finals = history
    .filter((h) => h.series !== undefined && h.final === true)
    .sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0))
    .map((h) => h.series as UsageSeries);
  return {
    previous: history.find((h) => h.month === previousMonth)?.series,
    calibration: calibrateFromHistory(finals),
  };
}
