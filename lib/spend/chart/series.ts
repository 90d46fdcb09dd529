import { ValidationError } from '../../errors';
import type { SpendChartInput } from './types';

/**
 * The numbers the chart and its alt text are made of, derived once from a validated input. All amounts are integer
 * cents; sums are exact because every input is a safe integer (checked here).
 */
export interface SpendChartSeries {
  readonly daysInMonth: number;
  readonly completeDays: number;
  /** Index 0 = day 1, length daysInMonth. */
  readonly daily: readonly (number | null)[];
  /** Last month's days 1..min(its length, daysInMonth), aligned with this month's days; undefined when not given. */
  readonly previousDaily: readonly (number | null)[] | undefined;
  /** Sum of every day of last month with data (its whole length, not only the part drawn). */
  readonly previousTotalCents: number | undefined;
  /** Month-to-date after each complete day: index 0 = end of day 1, length completeDays. Missing days count 0. */
  readonly cumulative: readonly number[];
  /** Sum of days 1..completeDays (0 when no day is complete). */
  readonly monthToDateCents: number;
  readonly forecast:
    | {
        /** Index 0 = end of day completeDays+1; length daysInMonth - completeDays. */
        readonly cumulative: readonly number[];
        readonly low: readonly number[];
        readonly high: readonly number[];
        /** The forecast month total and its range (the last entries), or month-to-date when the month is over. */
        readonly endCents: number;
        readonly endLowCents: number;
        readonly endHighCents: number;
      }
    | undefined;
  readonly budgetCents: number | undefined;
  /** The complete day with the highest spend (the earliest on a tie); undefined when no complete day has data. */
  readonly peak: { readonly day: number; readonly cents: number } | undefined;
}

/** Days in a month of the Gregorian calendar (February 29 in leap years). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Check the input against its contract and derive the chart's numbers. Throws ValidationError naming the field. */
export function deriveSpendSeries(input: SpendChartInput): SpendChartSeries {
  if (!Number.isInteger(input.year) || input.year < 1970 || input.year > 9999) {
    throw new ValidationError('year', `year must be an integer from 1970 to 9999, got ${input.year}`);
  }
  if (!Number.isInteger(input.month) || input.month < 1 || input.month > 12) {
    throw new ValidationError('month', `month must be an integer from 1 to 12, got ${input.month}`);
  }
  const days = daysInMonth(input.year, input.month);
  if (input.dailyCents.length !== days) {
    throw new ValidationError(
      'dailyCents',
      `dailyCents must have one entry per day (${days}), got ${input.dailyCents.length}`,
    );
  }
  checkCents('dailyCents', input.dailyCents);
  if (!Number.isInteger(input.completeDays) || input.completeDays < 0 || input.completeDays > days) {
    throw new ValidationError('completeDays', `completeDays must be an integer from 0 to ${days}`);
  }
  const previous = input.previousDailyCents;
  if (previous !== undefined) {
    if (previous.length > 31) {
      throw new ValidationError('previousDailyCents', 'previousDailyCents has more than 31 days');
    }
    checkCents('previousDailyCents', previous);
  }
  if (input.budgetCents !== undefined && (!isCents(input.budgetCents) || input.budgetCents <= 0)) {
    throw new ValidationError('budgetCents', 'budgetCents must be a positive integer number of cents');
  }

  const cumulative: number[] = [];
  let monthToDateCents = 0;
  let peak: SpendChartSeries['peak'];
  for (let day = 1; day <= input.completeDays; day += 1) {
    const cents = input.dailyCents[day - 1] ?? null;
    monthToDateCents += cents ?? 0;
    cumulative.push(monthToDateCents);
    if (cents !== null && (peak === undefined || cents > peak.cents)) peak = { day, cents };
  }

  return {
    daysInMonth: days,
    completeDays: input.completeDays,
    daily: input.dailyCents,
    previousDaily: previous?.slice(0, days),
    previousTotalCents: previous?.reduce<number>((sum, cents) => sum + (cents ?? 0), 0),
    cumulative,
    monthToDateCents,
    forecast: deriveForecast(input, days, monthToDateCents),
    budgetCents: input.budgetCents,
    peak,
  };
}

function deriveForecast(
  input: SpendChartInput,
  days: number,
  monthToDateCents: number,
): SpendChartSeries['forecast'] {
  const forecast = input.forecast;
  if (forecast === undefined) return undefined;
  const expected = days - input.completeDays;
  for (const [field, values] of [
    ['forecast.cumulativeCents', forecast.cumulativeCents],
    ['forecast.lowCents', forecast.lowCents],
    ['forecast.highCents', forecast.highCents],
  ] as const) {
    if (values.length !== expected) {
      throw new ValidationError(
        field,
        `${field} must have one entry per day after the complete ones (${expected}), got ${values.length}`,
      );
    }
    checkCents(field, values);
  }
  forecast.cumulativeCents.forEach((cents, i) => {
    const low = forecast.lowCents[i] ?? cents;
    const high = forecast.highCents[i] ?? cents;
    if (low > cents || cents > high) {
      throw new ValidationError(
        'forecast',
        `forecast day ${input.completeDays + i + 1} is outside its own range (low <= forecast <= high)`,
      );
    }
  });
  return {
    cumulative: forecast.cumulativeCents,
    low: forecast.lowCents,
    high: forecast.highCents,
    endCents: forecast.cumulativeCents.at(-1) ?? monthToDateCents,
    endLowCents: forecast.lowCents.at(-1) ?? monthToDateCents,
    endHighCents: forecast.highCents.at(-1) ?? monthToDateCents,
  };
}

function isCents(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function checkCents(field: string, values: readonly (number | null)[]): void {
  const bad = values.findIndex((value) => value !== null && !isCents(value));
  if (bad !== -1) {
    throw new ValidationError(field, `${field}[${bad}] is not an integer number of cents`);
  }
}
