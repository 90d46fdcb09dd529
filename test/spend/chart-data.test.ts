import { describe, expect, it } from 'vitest';
import { toSpendChartData } from '../../lib/spend/chart-data';
import { forecastMonthEnd, type SpendForecast } from '../../lib/spend/forecast';
import { seriesOf } from './support';

describe('toSpendChartData', () => {
  it('gives the bars, last month, the complete days, the forecast band and the budget', () => {
    const previous = seriesOf('2024-01-01', new Array<number>(31).fill(9_000));
    const series = seriesOf('2024-02-01', [10_000, 10_000, 10_000, 4_000], { days: 29, lastUsageDay: 4 });
    const forecast = forecastMonthEnd(series, { previous }) as SpendForecast;

    const data = toSpendChartData({ series, forecast, previous, budgetCents: 250_000 });

    expect(data.year).toBe(2024);
    expect(data.month).toBe(2);
    expect(data.dailyCents).toHaveLength(29);
    expect(data.dailyCents.slice(0, 5)).toEqual([10_000, 10_000, 10_000, 4_000, null]);
    expect(data.previousDailyCents).toHaveLength(31);
    expect(data.completeDays).toBe(3);
    expect(data.forecast?.cumulativeCents).toHaveLength(26);
    expect(data.forecast?.cumulativeCents.at(-1)).toBe(forecast.forecastCents);
    expect(data.forecast?.lowCents.at(-1)).toBe(forecast.lowCents);
    expect(data.forecast?.highCents.at(-1)).toBe(forecast.highCents);
    expect(data.budgetCents).toBe(250_000);
  });

  it('has no forecast band when there is none to draw', () => {
    const early = seriesOf('2024-02-01', [10_000], { days: 29 });
    const done = seriesOf('2024-02-01', new Array<number>(29).fill(10_000));

    expect(toSpendChartData({ series: early, forecast: forecastMonthEnd(early) })).not.toHaveProperty(
      'forecast',
    );
    expect(
      toSpendChartData({ series: done, forecast: forecastMonthEnd(done, { final: true }) }),
    ).toMatchObject({ completeDays: 29 });
    expect(
      toSpendChartData({ series: done, forecast: forecastMonthEnd(done, { final: true }) }),
    ).not.toHaveProperty('forecast');
  });
});
