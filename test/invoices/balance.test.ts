import { describe, expect, it } from 'vitest';
import {
  balanceOf,
  describeBalance,
  explainBalance,
  failedPaymentDeadlines,
  statusNote,
} from '../../lib/invoices/balance';
import type { InvoiceAmounts } from '../../lib/invoices/types';

function amounts(overrides: Partial<InvoiceAmounts> = {}): InvoiceAmounts {
  return {
    subtotalCents: 325_870,
    creditsCents: 0,
    salesTaxCents: 0,
    startingBalanceCents: 0,
    amountBilledCents: 325_870,
    amountPaidCents: 0,
    ...overrides,
  };
}

describe('balanceOf: what is owed for every status', () => {
  it.each([
    // status, billed, paid, kind, the number that matters, owed
    ['PENDING', 12_034, 0, 'accruing', 12_034, 0],
    ['CLOSED', 325_870, 0, 'due', 325_870, 325_870],
    ['CLOSED', 325_870, 25_870, 'due', 300_000, 300_000],
    ['INVOICED', 325_870, 0, 'due', 325_870, 325_870],
    ['FAILED', 356_704, 0, 'due', 356_704, 356_704],
    ['PAID', 370_514, 370_514, 'settled', 370_514, 0],
    ['PAID', 1_000, 1_500, 'credit', 500, 0],
    ['CLOSED', 0, 0, 'settled', 0, 0],
    ['FORGIVEN', 325_870, 0, 'forgiven', 325_870, 0],
    ['FORGIVEN', 325_870, 25_870, 'forgiven', 300_000, 0],
    ['FREE', 0, 0, 'free', 0, 0],
    ['PREPAID', 50_000, 0, 'prepaid', 50_000, 0],
    ['DISPUTED', 50_000, 10_000, 'unknown', 40_000, undefined],
  ] as const)('%s billed %d paid %d is %s %d, owing %s', (status, billed, paid, kind, cents, owed) => {
    expect(balanceOf(status, { amountBilledCents: billed, amountPaidCents: paid })).toEqual({
      kind,
      cents,
      owedCents: owed,
    });
  });

  it('does not mistake an inherited property name for a known status', () => {
    expect(balanceOf('constructor', { amountBilledCents: 100, amountPaidCents: 0 }).kind).toBe('unknown');
    expect(statusNote('constructor')).toBeUndefined();
  });
});

describe('describeBalance', () => {
  it.each([
    ['PAID', amounts({ amountPaidCents: 325_870 }), '$3,258.70 paid'],
    ['FAILED', amounts(), '$3,258.70 owed'],
    ['FORGIVEN', amounts(), '$3,258.70 forgiven, nothing owed'],
    ['PENDING', amounts(), '$3,258.70 so far this cycle'],
    ['CLOSED', amounts({ amountPaidCents: 400_000 }), '$741.30 credit'],
    ['CLOSED', amounts({ amountBilledCents: 0, subtotalCents: 0 }), 'nothing owed'],
    ['FREE', amounts({ amountBilledCents: 0, subtotalCents: 0 }), 'free, nothing owed'],
    ['PREPAID', amounts(), '$3,258.70 covered by the prepaid plan'],
    ['DISPUTED', amounts(), "$3,258.70 billed but not paid, by Atlas's figures"],
  ] as const)('says %s in a few words', (status, given, text) => {
    expect(describeBalance(balanceOf(status, given))).toBe(text);
  });
});

describe('explainBalance: the arithmetic in one line', () => {
  const explain = (status: string, given: InvoiceAmounts) => explainBalance(given, balanceOf(status, given));

  it('shows what is owed as billed − paid, and billed as subtotal + tax when there is tax', () => {
    const given = amounts({
      subtotalCents: 120_000,
      salesTaxCents: 5_000,
      amountBilledCents: 125_000,
      amountPaidCents: 25_000,
    });

    expect(explain('CLOSED', given)).toBe(
      'Owed $1,000.00 = billed $1,250.00 − paid $250.00 · billed = subtotal $1,200.00 + tax $50.00',
    );
  });

  it('leaves out zero terms', () => {
    expect(explain('FAILED', amounts())).toBe('Owed $3,258.70, nothing paid yet');
    expect(explain('PAID', amounts({ amountPaidCents: 325_870 }))).toBe('Paid $3,258.70 in full');
  });

  it('says a forgiven invoice owes nothing, with what was forgiven', () => {
    expect(explain('FORGIVEN', amounts())).toBe('Forgiven $3,258.70, nothing paid');
    expect(explain('FORGIVEN', amounts({ amountPaidCents: 58_700 }))).toBe(
      'Forgiven $2,671.70 = billed $3,258.70 − paid $587.00',
    );
  });

  it('shows a starting balance and credits where there are some', () => {
    const given = amounts({
      subtotalCents: 10_000,
      salesTaxCents: 800,
      startingBalanceCents: 300,
      creditsCents: 1_000,
      amountBilledCents: 10_500,
      amountPaidCents: 10_500,
    });

    expect(explain('PAID', given)).toBe(
      'Paid $105.00 in full · billed = subtotal $100.00 + tax $8.00 − starting balance $3.00 · includes $10.00 of credits',
    );
  });

  it('shows what Atlas billed beside the formula when the two differ, rather than a false equation', () => {
    expect(explain('CLOSED', amounts({ salesTaxCents: 100 }))).toBe(
      'Owed $3,258.70, nothing paid yet · Atlas reports billed $3,258.70; subtotal + tax − starting balance = $3,259.70',
    );
  });

  it('explains every other kind', () => {
    expect(
      explain('PAID', amounts({ amountBilledCents: 1_000, subtotalCents: 1_000, amountPaidCents: 1_500 })),
    ).toBe('Credit $5.00 = paid $15.00 − billed $10.00');
    expect(explain('PENDING', amounts())).toBe(
      'Billed $3,258.70 so far; nothing is due until the cycle closes',
    );
    expect(explain('FREE', amounts({ amountBilledCents: 0, subtotalCents: 0 }))).toBe(
      'Billed $0.00, nothing charged',
    );
    expect(explain('PREPAID', amounts())).toBe(
      'Billed $3,258.70, covered by the prepaid plan, nothing charged',
    );
    expect(explain('DISPUTED', amounts({ amountPaidCents: 58_700 }))).toBe(
      'Billed $3,258.70 − paid $587.00 = $2,671.70; the status is new to this app, so check Atlas for what is owed',
    );
  });
});

describe('failedPaymentDeadlines', () => {
  it('suspends 30 days and locks 60 days after the failure was first seen', () => {
    const since = Date.UTC(2024, 6, 2, 6);

    expect(failedPaymentDeadlines(since)).toEqual({
      suspendAt: Date.UTC(2024, 7, 1, 6),
      lockAt: Date.UTC(2024, 7, 31, 6),
    });
  });
});

describe('statusNote', () => {
  it('adds a few words only where the balance does not already say it', () => {
    expect(statusNote('CLOSED')).toBe('final, not charged yet');
    expect(statusNote('INVOICED')).toBe('to pay against the invoice');
    expect(statusNote('PAID')).toBeUndefined();
    expect(statusNote('FORGIVEN')).toBeUndefined();
  });
});
