import type { SpendChartInput } from '../../../lib/spend/chart/types';

/**
 * A realistic month: March 2025 (31 days), 19 complete days and a partial 20th, a one-day spike on day 12 (a large
 * data migration), last month for comparison, a forecast with its range, and a budget the forecast overshoots.
 */
export const DEMO_DAILY_CENTS: readonly (number | null)[] = [
  ...[
    18_240, 18_910, 19_377, 17_650, 16_420, 12_300, 11_980, 18_802, 19_560, 20_115, 19_874, 96_420, 21_036,
    13_210, 12_877, 20_554, 21_190, 21_902, 22_415,
  ],
  9_112,
  ...Array<null>(11).fill(null),
];

export const DEMO_PREVIOUS_CENTS: readonly (number | null)[] = [
  16_010, 16_440, 16_930, 17_120, 15_980, 11_240, 10_905, 16_870, 17_230, 17_640, 17_915, 18_020, 18_440,
  12_115, 11_870, 18_330, 18_912, 19_044, 19_410, 19_805, 13_300, 12_990, 19_930, 20_010, 20_455, 20_870,
  21_120, 14_220,
];

function demoForecast(): NonNullable<SpendChartInput['forecast']> {
  const complete = DEMO_DAILY_CENTS.slice(0, 19).reduce<number>((sum, v) => sum + (v ?? 0), 0);
  const cumulativeCents: number[] = [];
  const lowCents: number[] = [];
  const highCents: number[] = [];
  for (let k = 1; k <= 12; k += 1) {
    const expected = complete + 19_600 * k;
    cumulativeCents.push(expected);
    lowCents.push(expected - 2_100 * k);
    highCents.push(expected + 2_900 * k);
  }
  return { cumulativeCents, lowCents, highCents };
}

export const DEMO_INPUT: SpendChartInput = {
  title: 'Acme Analytics (production)',
  year: 2025,
  month: 3,
  dailyCents: DEMO_DAILY_CENTS,
  previousDailyCents: DEMO_PREVIOUS_CENTS,
  completeDays: 19,
  forecast: demoForecast(),
  budgetCents: 550_000,
};
