import { describe, expect, it } from 'vitest';
import {
  completeDaysOf,
  forecastMonthEnd,
  lineSeries,
  type MonthForecast,
  type SpendForecast,
} from '../../lib/spend/forecast';
import { seriesOf, weeklyPattern } from './support';

function ready(forecast: MonthForecast): SpendForecast {
  if (forecast.kind !== 'forecast')
    throw new Error(`expected a forecast, got ${forecast.kind}: ${forecast.detail}`);
  return forecast;
}

/** The forecast's own arithmetic, recomputed from its parts. */
function arithmetic(forecast: SpendForecast): number {
  return forecast.monthToDateCents + forecast.terms.reduce((sum, t) => sum + t.days * t.rateCents, 0);
}

const flat = (days: number, cents = 10_000) => new Array<number>(days).fill(cents);

describe('completeDaysOf', () => {
  const june = seriesOf('2024-06-01', flat(12), { days: 30, lastUsageDay: 12 });

  it('counts the days before the latest usage day while the invoice is pending', () => {
    expect(completeDaysOf(june)).toBe(11);
  });

  it('counts every day once the invoice is final or a day has passed after the period', () => {
    expect(completeDaysOf(june, { final: true })).toBe(30);
    expect(completeDaysOf(june, { asOf: '2024-07-02' })).toBe(30);
    expect(completeDaysOf(june, { asOf: '2024-07-01' })).toBe(11);
  });

  it('never counts a day that is not over yet, whatever the rows say', () => {
    expect(completeDaysOf(june, { asOf: '2024-06-05' })).toBe(4);
    expect(completeDaysOf(june, { asOf: '2024-05-20' })).toBe(0);
  });

  it('refuses a malformed today', () => {
    expect(() => completeDaysOf(june, { asOf: '2024-06-31' })).toThrow(RangeError);
  });
});

describe('forecastMonthEnd', () => {
  it('adds the remaining days at the recent rate, with arithmetic that adds up to the cent', () => {
    const forecast = ready(forecastMonthEnd(seriesOf('2024-06-01', flat(10), { days: 30 })));

    expect(forecast.month).toBe('2024-06');
    expect(forecast.completeDays).toBe(10);
    expect(forecast.monthToDateCents).toBe(100_000);
    expect(forecast.terms).toEqual([{ kind: 'day', days: 20, rateCents: 10_000 }]);
    expect(forecast.forecastCents).toBe(300_000);
    expect(arithmetic(forecast)).toBe(forecast.forecastCents);
    expect([forecast.lowCents, forecast.highCents]).toEqual([300_000, 300_000]);
    expect(forecast.range).toEqual({ basis: 'recent-days' });
    expect(forecast.rate).toMatchObject({
      method: 'median',
      from: '2024-06-04',
      to: '2024-06-10',
      windowDays: 7,
    });
  });

  it('is not dragged by a one-day spike', () => {
    const days = flat(10);
    days[7] = 100_000;

    const forecast = ready(forecastMonthEnd(seriesOf('2024-06-01', days, { days: 30 })));

    expect(forecast.monthToDateCents).toBe(190_000);
    expect(forecast.rate?.levelCents).toBe(10_000);
    expect(forecast.forecastCents).toBe(190_000 + 20 * 10_000);
  });

  it('respects weekly seasonality: weekdays and weekend days at their own rates', () => {
    const november = seriesOf('2024-11-01', weeklyPattern('2024-11-01', 30, 40_000, 20_000), { days: 30 });
    const december = seriesOf('2024-12-01', weeklyPattern('2024-12-01', 19, 40_000, 20_000), { days: 31 });

    const forecast = ready(forecastMonthEnd(december, { previous: november }));

    expect(forecast.monthToDateCents).toBe(14 * 40_000 + 5 * 20_000);
    expect(forecast.rate?.weekendPercent).toBe(50);
    expect(forecast.terms).toEqual([
      { kind: 'weekday', days: 8, rateCents: 40_000 },
      { kind: 'weekend', days: 4, rateCents: 20_000 },
    ]);
    expect(forecast.forecastCents).toBe(1_060_000);
    expect(forecast.previousTotalCents).toBe(21 * 40_000 + 9 * 20_000);
  });

  it('picks up a level shift on its third day, not before', () => {
    const shifted = [...flat(14), 20_000, 20_000, 20_000];

    const third = ready(forecastMonthEnd(seriesOf('2024-06-01', shifted, { days: 30 })));
    const second = ready(forecastMonthEnd(seriesOf('2024-06-01', shifted.slice(0, 16), { days: 30 })));

    expect(third.rate).toMatchObject({
      method: 'shift',
      levelCents: 20_000,
      previousLevelCents: 10_000,
      windowDays: 3,
    });
    expect(third.forecastCents).toBe(200_000 + 13 * 20_000);
    expect(second.rate).toMatchObject({ method: 'median', levelCents: 10_000 });
    expect(second.forecastCents).toBe(180_000 + 14 * 10_000);
  });

  it('counts undated and out-of-period rows once in month-to-date, never per day', () => {
    const forecast = ready(
      forecastMonthEnd(
        seriesOf('2024-06-01', flat(10), { days: 30, undatedCents: -5_000, outOfPeriodCents: 1_200 }),
      ),
    );

    expect(forecast.completeDaysCents).toBe(100_000);
    expect(forecast.adjustmentsCents).toBe(-3_800);
    expect(forecast.monthToDateCents).toBe(96_200);
    expect(forecast.forecastCents).toBe(96_200 + 20 * 10_000);
  });

  it("reads the rate from last month's days on the first days of a month", () => {
    const may = seriesOf('2024-05-01', flat(31, 8_000));
    const june = seriesOf('2024-06-01', [8_000], { days: 30 });

    const forecast = ready(forecastMonthEnd(june, { previous: may }));
    const alone = forecastMonthEnd(june);

    expect(forecast.rate).toMatchObject({ from: '2024-05-26', to: '2024-06-01' });
    expect(forecast.forecastCents).toBe(30 * 8_000);
    expect(alone).toMatchObject({ kind: 'not-enough-data', reason: 'too-few-days', completeDays: 1 });
  });

  it('ignores a previous month that does not end where this one starts', () => {
    const april = seriesOf('2024-04-01', flat(30));
    const june = seriesOf('2024-06-01', [10_000], { days: 30 });

    expect(forecastMonthEnd(june, { previous: april })).toMatchObject({
      kind: 'not-enough-data',
      reason: 'too-few-days',
    });
  });

  it('says explicitly when there is not enough data, never a number', () => {
    const none = seriesOf('2024-06-01', [], { days: 30, lastUsageDay: 0 });
    const undatedOnly = seriesOf('2024-06-01', [], { days: 30, lastUsageDay: 0, undatedCents: 5_000 });
    const oneDay = seriesOf('2024-06-01', [10_000], { days: 30 });
    const credits = seriesOf('2024-06-01', [-50_000, 1_000, 1_000, 1_000], { days: 30 });
    const negativeLevel = seriesOf('2024-06-01', [-100, -100, -100, 5_000], { days: 30 });

    expect(forecastMonthEnd(none)).toMatchObject({ kind: 'not-enough-data', reason: 'no-usage' });
    expect(forecastMonthEnd(undatedOnly)).toMatchObject({
      kind: 'not-enough-data',
      reason: 'no-usage-dates',
    });
    expect(forecastMonthEnd(oneDay)).toMatchObject({ kind: 'not-enough-data', reason: 'too-few-days' });
    expect(forecastMonthEnd(credits)).toMatchObject({ kind: 'not-enough-data', reason: 'negative-total' });
    expect(forecastMonthEnd(negativeLevel)).toMatchObject({
      kind: 'not-enough-data',
      reason: 'negative-total',
    });
    expect(forecastMonthEnd(oneDay)).not.toHaveProperty('forecastCents');
  });

  it('is exact once every day is complete', () => {
    const forecast = ready(
      forecastMonthEnd(seriesOf('2024-06-01', flat(30), { undatedCents: 700 }), { final: true }),
    );

    expect(forecast).toMatchObject({
      remainingDays: 0,
      forecastCents: 300_700,
      lowCents: 300_700,
      highCents: 300_700,
      terms: [],
      range: { basis: 'exact' },
    });
  });

  it('handles the ends of February in leap and common years', () => {
    const leap = ready(forecastMonthEnd(seriesOf('2024-02-01', flat(28), { days: 29 })));
    const common = ready(forecastMonthEnd(seriesOf('2023-02-01', flat(27), { days: 28 })));

    expect([leap.remainingDays, leap.forecastCents]).toEqual([1, 290_000]);
    expect([common.remainingDays, common.forecastCents]).toEqual([1, 280_000]);
    expect(leap.curve.cumulativeCents).toEqual([290_000]);
  });

  it('takes its range from the backtest when there are enough samples for this day of the month', () => {
    const series = seriesOf('2024-06-01', flat(10), { days: 30 });
    const calibration = { months: 12, byDay: [{ day: 10, samples: 30, lowRatio: 0.9, highRatio: 1.2 }] };
    const thin = { months: 1, byDay: [{ day: 10, samples: 3, lowRatio: 0.5, highRatio: 2 }] };

    const calibrated = ready(forecastMonthEnd(series, { calibration }));
    const fallback = ready(forecastMonthEnd(series, { calibration: thin }));

    expect([calibrated.lowCents, calibrated.forecastCents, calibrated.highCents]).toEqual([
      270_000, 300_000, 360_000,
    ]);
    expect(calibrated.range).toEqual({ basis: 'backtest', samples: 30, months: 12 });
    expect(calibrated.curve.lowCents.at(-1)).toBe(270_000);
    expect(calibrated.curve.highCents.at(-1)).toBe(360_000);
    expect(fallback.range).toEqual({ basis: 'recent-days' });
  });

  it("widens the range by the recent days' spread", () => {
    const days = [10_000, 12_000, 8_000, 10_000, 11_000, 9_000, 10_000, 10_000, 12_000, 8_000];

    const forecast = ready(forecastMonthEnd(seriesOf('2024-06-03', days, { days: 30 })));

    expect(forecast.lowCents).toBeLessThan(forecast.forecastCents);
    expect(forecast.highCents).toBeGreaterThan(forecast.forecastCents);
    expect(forecast.lowCents).toBe(forecast.monthToDateCents + 20 * 8_000);
    expect(forecast.highCents).toBe(forecast.monthToDateCents + 20 * 12_000);
  });
});

describe('lineSeries', () => {
  it("is a line's days as a series, zeros for a key never folded, unknown for one that may be", () => {
    const series = seriesOf('2024-06-01', flat(3), { days: 30 });
    const folded = {
      ...series,
      projects: { ...series.projects, otherDailyCents: flat(30, 0), otherCount: 2 },
    };

    expect(lineSeries(series, 'projects', 'id:666acb8787ba43606905dc01')?.dailyCents.slice(0, 3)).toEqual(
      flat(3),
    );
    expect(lineSeries(series, 'projects', 'id:ffffffffffffffffffffffff')?.dailyCents).toEqual(flat(30, 0));
    expect(lineSeries(folded, 'projects', 'id:ffffffffffffffffffffffff')).toBeUndefined();
  });
});
