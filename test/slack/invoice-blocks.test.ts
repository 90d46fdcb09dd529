import { describe, expect, it } from 'vitest';
import {
  atlasBillingUrl,
  costLinesText,
  failedPaymentText,
  formatPeriod,
  suspensionClause,
} from '../../lib/slack/invoice-blocks';
import { utcDay } from '../../lib/slack/mrkdwn';

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

describe('atlasBillingUrl', () => {
  const ORG = '5f1a2b3c4d5e6f708192a3b4';

  it('links the organisation’s billing overview in the Atlas UI', () => {
    expect(atlasBillingUrl(ORG)).toBe(`https://cloud.mongodb.com/v2#/org/${ORG}/billing/overview`);
  });

  it('uses the configured Atlas base URL only when it is Atlas itself', () => {
    expect(atlasBillingUrl(ORG, 'https://cloud.mongodbgov.com')).toBe(
      `https://cloud.mongodbgov.com/v2#/org/${ORG}/billing/overview`,
    );
    for (const base of [
      'http://127.0.0.1:4010',
      'https://atlas-proxy.example.com',
      'https://cloud.mongodb.com.evil.io',
    ]) {
      expect(atlasBillingUrl(ORG, base)).toBe(`https://cloud.mongodb.com/v2#/org/${ORG}/billing/overview`);
    }
  });

  it('gives no link for something that is not an organisation id', () => {
    expect(atlasBillingUrl('<!channel>')).toBeUndefined();
  });
});

describe('a failed payment', () => {
  const ORG = '5f1a2b3c4d5e6f708192a3b4';
  const failedSince = Date.UTC(2024, 6, 2, 6);
  const suspendAt = Date.UTC(2024, 7, 1, 6);
  const lockAt = Date.UTC(2024, 7, 31, 6);

  it('is suspended 30 days after the failure was first seen unless paid, as a Slack date', () => {
    expect(suspensionClause({ orgId: ORG, failedSince })).toBe(
      `suspended on <!date^${suspendAt / 1000}^{date_short_pretty}|Aug 1, 2024> unless paid`,
    );
    expect(suspensionClause({ orgId: ORG, failedSince }, utcDay)).toBe(
      'suspended on Aug 1, 2024 unless paid',
    );
  });

  it('says since when once a deadline has passed', () => {
    expect(suspensionClause({ orgId: ORG, failedSince, now: suspendAt + 1 }, utcDay)).toBe(
      'suspended from Aug 1, 2024 while unpaid',
    );
    expect(suspensionClause({ orgId: ORG, failedSince, now: lockAt }, utcDay)).toBe(
      'locked from Aug 31, 2024 while unpaid',
    );
  });

  it('gives the lock date and a link to pay in Atlas', () => {
    expect(failedPaymentText({ orgId: ORG, failedSince })).toBe(
      ':warning: Atlas could not charge the payment method on file. After 30 days unpaid the organisation is ' +
        `*suspended*, after 60 days *locked* (<!date^${lockAt / 1000}^{date_short_pretty}|Aug 31, 2024>). ` +
        `<https://cloud.mongodb.com/v2#/org/${ORG}/billing/overview|Pay it or update the payment method in Atlas>.`,
    );
  });
});

describe('costLinesText', () => {
  it('escapes names and says how many there were in all', () => {
    const text = costLinesText('Top projects', [{ name: '<!here> & co', cents: 1234 }], 3);

    expect(text).toBe('*Top projects* (1 of 3)\n• &lt;!here&gt; &amp; co — $12.34');
  });
});
