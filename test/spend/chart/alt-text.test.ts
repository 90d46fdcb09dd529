import { describe, expect, it } from 'vitest';
import { ALT_TEXT_MAX, spendChartAltText } from '../../../lib/spend/chart/alt-text';
import { DEMO_INPUT } from './fixtures';

const nulls = (n: number) => Array<null>(n).fill(null);

describe('spendChartAltText', () => {
  it('states month-to-date, forecast and range, budget share, the highest day and last month, to the cent', () => {
    expect(spendChartAltText(DEMO_INPUT)).toBe(
      'Spend chart for Acme Analytics (production), March 2025. Month to date (days 1–19 of 31): $4,228.32. ' +
        'Forecast for the month: $6,580.32 (range $6,328.32 to $6,928.32). ' +
        'Budget: $5,500.00; the forecast is 120% of it. Highest day: March 12, $964.20. ' +
        'Last month in total: $4,731.21.',
    );
  });

  it('compares month-to-date with the budget when there is no forecast, and leaves out what is not given', () => {
    const text = spendChartAltText({
      title: 'Plain',
      year: 2024,
      month: 2,
      dailyCents: [1_000_00, 250_50, ...nulls(27)],
      completeDays: 2,
      budgetCents: 5_000_00,
    });

    expect(text).toBe(
      'Spend chart for Plain, February 2024. Month to date (days 1–2 of 29): $1,250.50. ' +
        'Budget: $5,000.00; month to date is 25% of it. Highest day: February 1, $1,000.00.',
    );
  });

  it('says when no day is complete yet', () => {
    const text = spendChartAltText({
      title: 'New',
      year: 2025,
      month: 4,
      dailyCents: nulls(30),
      completeDays: 0,
    });

    expect(text).toBe('Spend chart for New, April 2025. No day of April 2025 is complete yet.');
  });

  it('keeps a hostile name as plain text without control characters, and stays within Slack’s alt text limit', () => {
    const text = spendChartAltText({
      ...DEMO_INPUT,
      title: `<!channel> & "Ω"\u0007 日本語 ${'x'.repeat(3000)}`,
    });

    expect(text.startsWith('Spend chart for <!channel> & "Ω" 日本語 xxx')).toBe(true);
    expect(text).not.toContain('\u0007');
    expect(text.length).toBeLessThanOrEqual(ALT_TEXT_MAX);
    expect(text).toContain('Month to date (days 1–19 of 31): $4,228.32.');
  });
});
