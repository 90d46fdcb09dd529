import { civilDate } from './calendar';
import type { MonthForecast } from './forecast';
import { periodOf, type UsageSeries } from './usage-series';

/**
 * What a spend chart of one organisation's month draws, from its series and forecast: the daily bars (null for days
 * with nothing posted yet), last month's days for comparison, how many days count as complete, the forecast's
 * cumulative curve with its low–high band, and the budget. Integer cents. Structural, so a chart renderer that takes
 * the same fields (plus its title) accepts it as it is.
 */
export interface SpendChartData {
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  /** Index 0 = day 1; one entry per day of the period; null after the latest usage day. */
  readonly dailyCents: readonly (number | null)[];
  /** Last month's days, index 0 = its day 1; null after its latest usage day. */
  readonly previousDailyCents?: readonly (number | null)[];
  /** Days 1..completeDays count in month-to-date. */
  readonly completeDays: number;
  /** Cumulative forecast for days completeDays+1 .. days; absent without a forecast or once every day is complete. */
  readonly forecast?: {
    readonly cumulativeCents: readonly number[];
    readonly lowCents: readonly number[];
    readonly highCents: readonly number[];
  };
  readonly budgetCents?: number;
}

export function toSpendChartData(input: {
  readonly series: UsageSeries;
  readonly forecast: MonthForecast;
  readonly previous?: UsageSeries | undefined;
  readonly budgetCents?: number | undefined;
}): SpendChartData {
  const { series, forecast, previous } = input;
  const { year, month } = civilDate(periodOf(series).startDay);
  const posted = (s: UsageSeries) =>
    s.dailyCents.map((cents, index) => (index < s.lastUsageDay ? cents : null));
  return {
    year,
    month,
    dailyCents: posted(series),
    ...(previous === undefined ? {} : { previousDailyCents: posted(previous) }),
    completeDays: forecast.completeDays,
    ...(forecast.kind === 'forecast' && forecast.remainingDays > 0 ? { forecast: forecast.curve } : {}),
    ...(input.budgetCents === undefined ? {} : { budgetCents: input.budgetCents }),
  };
}
