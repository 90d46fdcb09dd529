import { describe, expect, it } from 'vitest';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import {
  expectedBilledCents,
  explainOwed,
  formatUsd,
  owedCents,
  parseDollarsToCents,
  toAmounts,
} from '../../lib/invoices/money';
import type { InvoiceAmounts } from '../../lib/invoices/types';

function amounts(overrides: Partial<InvoiceAmounts> = {}): InvoiceAmounts {
  return {
    subtotalCents: 10_000,
    creditsCents: 0,
    salesTaxCents: 800,
    startingBalanceCents: 300,
    amountBilledCents: 10_500,
    amountPaidCents: 0,
    ...overrides,
  };
}

describe('formatUsd', () => {
  it.each([
    [0, '$0.00'],
    [5, '$0.05'],
    [100, '$1.00'],
    [123_456, '$1,234.56'],
    [123_456_789_012, '$1,234,567,890.12'],
    [-5, '-$0.05'],
    [-123_456, '-$1,234.56'],
    [12.9, '$0.12'],
  ])('formats %d cents as %s', (cents, text) => {
    expect(formatUsd(cents)).toBe(text);
  });
});

describe('parseDollarsToCents', () => {
  it.each([
    ['12.34', 1234],
    ['-0.5', -50],
    ['1,234.5678', 123_457],
    ['$3', 300],
    ['-$1,000', -100_000],
    ['- $ 1.00', -100],
    ['.5', 50],
    ['  42  ', 4200],
    ['007.10', 710],
    ['0.005', 1],
    ['0.004', 0],
    ['1.995', 200],
    ['-1.995', -200],
    ['-0.015', -2],
    ['90071992547409.91', Number.MAX_SAFE_INTEGER],
  ])('reads %s as %d cents', (text, cents) => {
    expect(parseDollarsToCents(text)).toBe(cents);
  });

  it('never answers negative zero', () => {
    expect(parseDollarsToCents('-0.004')).toBe(0);
    expect(parseDollarsToCents('-0')).toBe(0);
  });

  it.each([
    '',
    '-',
    '.',
    '$',
    'abc',
    '1.',
    '1,23',
    '12,34.5',
    '1.2.3',
    '1e5',
    '--1',
    '1 000',
    '9007199254740993',
  ])('refuses %j', (text) => {
    expect(parseDollarsToCents(text)).toBeUndefined();
  });
});

describe('toAmounts', () => {
  it('reads every money field, counting omitted or unusable ones as zero', () => {
    const invoice = {
      id: 'i',
      orgId: 'o',
      statusName: 'PAID',
      startDate: '2024-06-01T00:00:00Z',
      endDate: '2024-07-01T00:00:00Z',
      updated: '2024-07-02T00:00:00Z',
      subtotalCents: 1000,
      salesTaxCents: 80.9,
      amountBilledCents: Number.NaN,
      amountPaidCents: 1080,
    } satisfies InvoiceMetadata;

    expect(toAmounts(invoice)).toEqual({
      subtotalCents: 1000,
      creditsCents: 0,
      salesTaxCents: 80,
      startingBalanceCents: 0,
      amountBilledCents: 0,
      amountPaidCents: 1080,
    });
  });
});

describe('owedCents and expectedBilledCents', () => {
  it('owes billed minus paid, negative for a credit', () => {
    expect(owedCents({ amountBilledCents: 10_500, amountPaidCents: 500 })).toBe(10_000);
    expect(owedCents({ amountBilledCents: 100, amountPaidCents: 300 })).toBe(-200);
  });

  it('expects subtotal plus tax minus starting balance', () => {
    expect(expectedBilledCents(amounts())).toBe(10_000 + 800 - 300);
  });
});

describe('explainOwed', () => {
  it('shows the billed formula when Atlas billed what the formula gives, and what is owed', () => {
    const text = explainOwed(amounts({ amountPaidCents: 500 }));

    expect(text.billed).toBe('Billed $105.00 = subtotal $100.00 + tax $8.00 − starting balance $3.00');
    expect(text.owed).toBe('Owed $100.00 = billed $105.00 − paid $5.00');
  });

  it('shows what Atlas billed beside the formula when the two differ', () => {
    const text = explainOwed(amounts({ amountBilledCents: 9_999 }));

    expect(text.billed).toBe('Billed $99.99 (as Atlas reports; subtotal + tax − starting balance = $105.00)');
  });

  it('shows a credit when more was paid than billed', () => {
    const text = explainOwed(amounts({ amountPaidCents: 11_000 }));

    expect(text.owed).toBe('Credit $5.00 = paid $110.00 − billed $105.00');
  });

  it('owes nothing when paid in full', () => {
    expect(explainOwed(amounts({ amountPaidCents: 10_500 })).owed).toBe(
      'Owed $0.00 = billed $105.00 − paid $105.00',
    );
  });
});
