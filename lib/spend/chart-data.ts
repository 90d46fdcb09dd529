import { civilDate } from './calendar';
import type { SpendChartInput } from './chart/types';
import type { MonthForecast } from './forecast';
import { periodOf, type UsageSeries } from './usage-series';

/**
 * What a spend chart of one organisation's month draws, from its series and forecast: the chart's input
 * (`SpendChartInput`, lib/spend/chart/types.ts) but its title, which the caller adds (the organisation's name).
 */
export type SpendChartData = Omit<SpendChartInput, 'title'>;

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
