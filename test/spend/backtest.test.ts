import { describe, expect, it } from 'vitest';
import {
  type BacktestSample,
  backtestForecasts,
  calibrateForecastRange,
  calibrateFromHistory,
  historyInput,
  historyMonths,
  SPEND_HISTORY_MONTHS,
  truncateSeries,
} from '../../lib/spend/backtest';
import { completeDaysOf, forecastMonthEnd } from '../../lib/spend/forecast';
import { loadSandboxHistory } from './sandbox-history';
import { seriesOf, weeklyPattern } from './support';

function month(start: string, days: number): ReturnType<typeof seriesOf> {
  return seriesOf(start, weeklyPattern(start, days, 40_000, 20_000));
}

describe('backtestForecasts', () => {
  it('scores the forecast and the naive baseline day by day against each final amount', () => {
    const months = [month('2024-09-01', 30), month('2024-10-01', 31), month('2024-11-01', 30)];

    const result = backtestForecasts(months);

    expect(result.months).toBe(3);
    expect(result.unavailable).toBe(2);
    expect(result.samples).toHaveLength(29 - 2 + 30 + 29);
    const later = result.samples.filter((s) => s.month > 0);
    expect(later.every((s) => s.forecastCents === s.finalCents)).toBe(true);
    expect(result.days.find((d) => d.day === 1)).toMatchObject({ samples: 2, forecastMape: 0 });
    expect(result.naiveMape).toBeGreaterThan(1);
    expect(result.forecastMape).toBeLessThan(result.naiveMape as number);
  });

  it('computes the naive baseline as month-to-date ÷ elapsed days × days in month', () => {
    const months = [
      seriesOf('2024-06-01', [...new Array<number>(5).fill(10_000), ...new Array<number>(25).fill(20_000)]),
    ];

    const { samples } = backtestForecasts(months);

    const day5 = samples.find((s) => s.day === 5) as BacktestSample;
    expect(day5.naiveCents).toBe(300_000);
    expect(day5.finalCents).toBe(550_000);
    const day7 = samples.find((s) => s.day === 7) as BacktestSample;
    expect(day7.naiveCents).toBe(Math.round((90_000 / 7) * 30));
  });

  it('skips months whose final amount is not above zero', () => {
    const result = backtestForecasts([seriesOf('2024-06-01', new Array<number>(30).fill(0))]);

    expect(result).toMatchObject({ months: 0, samples: [], forecastMape: undefined, naiveMape: undefined });
  });

  it('beats the naive forecast on the sandbox history (weekends, launches, spikes; 15 months)', async () => {
    const history = await loadSandboxHistory(16);

    const result = backtestForecasts(history.months);

    expect(result.months).toBe(15);
    expect(result.forecastMape).toBeLessThan(result.naiveMape as number);
    const secondWeek = result.days.filter((d) => d.day >= 15 && d.day <= 25);
    const better = secondWeek.filter((d) => (d.forecastMape as number) < (d.naiveMape as number));
    expect(better).toHaveLength(secondWeek.length);
  });
});

describe('truncateSeries', () => {
  it('is the month as seen after d complete days', () => {
    const full = month('2024-06-01', 30);

    const cut = truncateSeries({ ...full, undated: { cents: 500, rows: 1 } }, 5);

    expect(completeDaysOf(cut)).toBe(5);
    expect(cut.dailyCents.slice(4, 7)).toEqual([full.dailyCents[4], 0, 0]);
    expect(cut.projects.lines[0]?.dailyCents.slice(5).every((c) => c === 0)).toBe(true);
    expect(cut.undated).toEqual({ cents: 0, rows: 0 });
    expect(forecastMonthEnd(cut).completeDays).toBe(5);
  });
});

describe('calibrateForecastRange', () => {
  it('pools the neighbouring days and takes the 10th and 90th percentiles of final ÷ forecast', () => {
    const sample = (day: number, ratio: number, month: number): BacktestSample => ({
      month,
      day,
      finalCents: Math.round(100_000 * ratio),
      forecastCents: 100_000,
      lowCents: 0,
      highCents: 0,
      naiveCents: 0,
    });
    const samples = [
      ...[0.8, 0.9, 1, 1.1].map((r, m) => sample(9, r, m)),
      ...[0.95, 1, 1.05, 1.2].map((r, m) => sample(10, r, m)),
      ...[0.7, 1, 1, 1.3].map((r, m) => sample(11, r, m)),
      sample(13, 5, 0),
    ];

    const calibration = calibrateForecastRange(samples);

    const day10 = calibration.byDay.find((d) => d.day === 10);
    expect(calibration.months).toBe(4);
    expect(day10?.samples).toBe(12);
    expect(day10?.lowRatio).toBeCloseTo(0.81, 6);
    expect(day10?.highRatio).toBeCloseTo(1.19, 6);
    expect(calibration.byDay.find((d) => d.day === 12)?.samples).toBe(5);
  });
});

describe('the forecast history of a month', () => {
  it('takes the latest billing months before it, newest first, each once', () => {
    const listed = [
      '2024-12',
      '2024-11',
      '2024-11',
      '2024-07',
      '2024-09',
      '2024-10',
      '2024-08',
      'unknown',
      '2025-01',
    ];

    expect(historyMonths(listed, '2024-12')).toEqual(['2024-11', '2024-10', '2024-09', '2024-08']);
    expect(historyMonths(listed, '2024-12')).toHaveLength(SPEND_HISTORY_MONTHS);
    expect(historyMonths(['2024-12'], '2024-12')).toEqual([]);
  });

  it('gives last month and calibrates on the final months only, oldest first', () => {
    const month = (start: string, daily: number) =>
      seriesOf(
        start,
        Array.from({ length: 30 }, () => daily),
      );
    const sep = month('2024-09-01', 1_000);
    const oct = month('2024-10-01', 2_000);
    const nov = month('2024-11-01', 3_000);

    const input = historyInput(
      [
        { month: '2024-11', series: nov, final: false },
        { month: '2024-09', series: sep, final: true },
        { month: '2024-10', series: oct, final: true },
        { month: '2024-08' },
      ],
      '2024-12',
    );

    expect(input.previous).toBe(nov);
    expect(input.calibration).toEqual(calibrateFromHistory([sep, oct]));
    expect(historyInput([{ month: '2024-10', series: oct, final: false }], '2024-12')).toEqual({
      previous: undefined,
      calibration: undefined,
    });
  });
});
