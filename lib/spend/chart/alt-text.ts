import { formatUsd } from '../../invoices/money';
import { plainText } from '../../slack/mrkdwn';
import { formatChartMonth } from './format';
import { deriveSpendSeries } from './series';
import type { SpendChartInput } from './types';

/**
 * The chart in words, exact to the cent, for the image block's `alt_text` and the upload's `alt_txt`: a message that
 * carries it is complete without the picture (screen readers, notifications, clients that do not load images).
 * Plain text (control characters removed), at most ALT_TEXT_MAX characters.
 */
export const ALT_TEXT_MAX = 1000;
const NAME_MAX = 120;

export function spendChartAltText(input: SpendChartInput): string {
  const series = deriveSpendSeries(input);
  const name = plainText(input.title, NAME_MAX).trim() || 'an Atlas organisation';
  const month = formatChartMonth(input.year, input.month);
  const sentences = [`Spend chart for ${name}, ${month}.`];
  sentences.push(
    series.completeDays === 0
      ? `No day of ${month} is complete yet.`
      : `Month to date (days 1–${series.completeDays} of ${series.daysInMonth}): ${formatUsd(series.monthToDateCents)}.`,
  );
  const forecast = series.forecast;
  const open = series.completeDays < series.daysInMonth;
  if (forecast !== undefined && open) {
    const range =
      forecast.endLowCents === forecast.endHighCents
        ? ''
        : ` (range ${formatUsd(forecast.endLowCents)} to ${formatUsd(forecast.endHighCents)})`;
    sentences.push(`Forecast for the month: ${formatUsd(forecast.endCents)}${range}.`);
  }
  if (series.budgetCents !== undefined) {
    const budget = formatUsd(series.budgetCents);
    const [what, cents] =
      forecast !== undefined && open
        ? ['the forecast', forecast.endCents]
        : ['month to date', series.monthToDateCents];
    sentences.push(`Budget: ${budget}; ${what} is ${percentOf(cents, series.budgetCents)}% of it.`);
  }
  if (series.peak !== undefined && series.peak.cents > 0) {
    sentences.push(
      `Highest day: ${month.split(' ')[0]} ${series.peak.day}, ${formatUsd(series.peak.cents)}.`,
    );
  }
  if (series.previousTotalCents !== undefined) {
    sentences.push(`Last month in total: ${formatUsd(series.previousTotalCents)}.`);
  }
  return plainText(sentences.join(' '), ALT_TEXT_MAX);
}

/** Whole percent, rounded half up; exact integer arithmetic on cents. */
function percentOf(cents: number, ofCents: number): number {
  return Math.floor((cents * 200 + ofCents) / (2 * ofCents));
}
