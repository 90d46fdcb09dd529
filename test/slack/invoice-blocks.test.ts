import { describe, expect, it } from 'vitest';
import { amountFields, costLinesText, formatPeriod } from '../../lib/slack/invoice-blocks';

describe('formatPeriod', () => {
  it('shows the last day of the period, since Atlas end dates are exclusive', () => {
    expect(formatPeriod('2024-06-01T00:00:00Z', '2024-07-01T00:00:00Z')).toBe('June 1 – June 30, 2024');
  });

  it('names both years when the period crosses one', () => {
    expect(formatPeriod('2024-12-15T00:00:00Z', '2025-01-15T00:00:00Z')).toBe(
      'December 15, 2024 – January 14, 2025',
    );
  });

  it('says so when a date cannot be read', () => {
    expect(formatPeriod('soon', '2024-07-01T00:00:00Z')).toBe('unknown period');
  });
});

describe('amountFields', () => {
  it('shows a credit instead of a negative amount owed', () => {
    const fields = amountFields({
      subtotalCents: 1000,
      creditsCents: 0,
      salesTaxCents: 0,
      startingBalanceCents: 0,
      amountBilledCents: 1000,
      amountPaidCents: 1500,
    });

    expect(fields[2]).toEqual({ type: 'mrkdwn', text: '*Credit*\n$5.00' });
  });
});

describe('costLinesText', () => {
  it('escapes names and says how many there were in all', () => {
    const text = costLinesText('Top projects', [{ name: '<!here> & co', cents: 1234 }], 3);

    expect(text).toBe('*Top projects* (1 of 3)\n• &lt;!here&gt; &amp; co — $12.34');
  });
});
