import type { InvoiceMetadata } from './invoice';
import type { InvoiceAmounts } from './types';

/**
 * Money is integer US cents everywhere; floats never hold an amount. Atlas defines
 * billed = subtotal + sales tax - starting balance (credits are already inside the subtotal's line items). What is
 * owed depends on the status as well: see `balanceOf` in balance.ts, the one place that decides it.
 */
export function toAmounts(invoice: InvoiceMetadata): InvoiceAmounts {
  return {
    subtotalCents: cents(invoice.subtotalCents),
    creditsCents: cents(invoice.creditsCents),
    salesTaxCents: cents(invoice.salesTaxCents),
    startingBalanceCents: cents(invoice.startingBalanceCents),
    amountBilledCents: cents(invoice.amountBilledCents),
    amountPaidCents: cents(invoice.amountPaidCents),
  };
}

/** subtotal + tax - starting balance, the formula Atlas documents for `amountBilledCents`. */
export function expectedBilledCents(amounts: InvoiceAmounts): number {
  return amounts.subtotalCents + amounts.salesTaxCents - amounts.startingBalanceCents;
}

/** `$1,234.56`, `-$0.05`. Accepts any safe integer. */
export function formatUsd(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  const dollars = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Parse a decimal dollar amount as printed in Atlas CSVs ("12.34", "-0.5", "1,234.5678", "$3") into cents, exactly:
 * digits past the cent are rounded half away from zero. Undefined for anything else.
 */
export function parseDollarsToCents(text: string): number | undefined {
  const match = /^\s*(-)?\s*\$?\s*(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?\s*$/.exec(text);
  if (match === null) return undefined;
  const [, minus, whole = '', fraction = ''] = match;
  if (whole === '' && fraction === '') return undefined;
  const units = Number(whole.replaceAll(',', '') || '0');
  const padded = `${fraction}000`;
  let cents = units * 100 + Number(padded.slice(0, 2));
  if (fraction.length > 2 && Number(padded[2]) >= 5) cents += 1;
  if (!Number.isSafeInteger(cents)) return undefined;
  return minus && cents !== 0 ? -cents : cents;
}

function cents(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
}
