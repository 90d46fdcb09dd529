import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import { daysInMonth, deriveSpendSeries } from '../../../lib/spend/chart/series';
import type { SpendChartInput } from '../../../lib/spend/chart/types';

const nulls = (n: number) => Array<null>(n).fill(null);
const BASE: SpendChartInput = {
  title: 'Org',
  year: 2025,
  month: 4,
  dailyCents: [100, null, 300, 50, ...nulls(26)],
  completeDays: 3,
};

describe('daysInMonth', () => {
  it('knows month lengths and leap years', () => {
    expect([1, 2, 4, 12].map((m) => daysInMonth(2025, m))).toEqual([31, 28, 30, 31]);
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(1900, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
  });
});

describe('deriveSpendSeries', () => {
  it('sums complete days only, counting a day without data as zero', () => {
    const series = deriveSpendSeries(BASE);

    expect(series.cumulative).toEqual([100, 100, 400]);
    expect(series.monthToDateCents).toBe(400);
    expect(series.peak).toEqual({ day: 3, cents: 300 });
  });

  it('totals all of last month but aligns only the days this month has', () => {
    const series = deriveSpendSeries({
      ...BASE,
      month: 2,
      dailyCents: nulls(28),
      completeDays: 0,
      previousDailyCents: Array<number>(31).fill(10),
    });

    expect(series.previousDaily).toHaveLength(28);
    expect(series.previousTotalCents).toBe(310);
  });

  it.each([
    ['month', { month: 13 }],
    ['year', { year: 2025.5 }],
    ['dailyCents', { dailyCents: nulls(31) }],
    ['dailyCents', { dailyCents: [1.5, ...nulls(29)] }],
    ['completeDays', { completeDays: 31 }],
    ['budgetCents', { budgetCents: 0 }],
    ['previousDailyCents', { previousDailyCents: Array<number>(32).fill(1) }],
    [
      'forecast.lowCents',
      {
        forecast: {
          cumulativeCents: Array<number>(27).fill(500),
          lowCents: [],
          highCents: Array<number>(27).fill(600),
        },
      },
    ],
    [
      'forecast',
      {
        forecast: {
          cumulativeCents: Array<number>(27).fill(500),
          lowCents: Array<number>(27).fill(550),
          highCents: Array<number>(27).fill(600),
        },
      },
    ],
  ] as const)('refuses a bad %s', (field, change) => {
    expect(() => deriveSpendSeries({ ...BASE, ...change } as SpendChartInput)).toThrow(ValidationError);
    expect(() => deriveSpendSeries({ ...BASE, ...change } as SpendChartInput)).toThrow(
      expect.objectContaining({ field }),
    );
  });
});
