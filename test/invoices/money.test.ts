import { describe, expect, it } from 'vitest';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import { expectedBilledCents, formatUsd, parseDollarsToCents, toAmounts } from '../../lib/invoices/money';
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

describe('expectedBilledCents', () => {
  it('expects subtotal plus tax minus starting balance', () => {
    expect(expectedBilledCents(amounts())).toBe(10_000 + 800 - 300);
  });
});
