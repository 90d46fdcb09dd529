import { balanceOf } from '../invoices/balance';
import type { InvoiceMetadata } from '../invoices/invoice';
import { formatUsd, toAmounts } from '../invoices/money';

/** Control characters (terminal escapes) in server-supplied text become `?` in table output. */
function cell(value: string): string {
  return value.replace(/\p{Cc}/gu, '?');
}

function day(iso: string | undefined): string {
  return iso === undefined ? '' : iso.slice(0, 10);
}

/**
 * A fixed-width table: id, status, billing period, billed, paid, owed (as `balanceOf` defines it for the status:
 * nothing for a forgiven or pending invoice, `?` for a status Atlas added later), updated.
 */
export function invoiceTable(invoices: readonly InvoiceMetadata[]): string {
  const rows = invoices.map((invoice) => {
    const amounts = toAmounts(invoice);
    const owed = balanceOf(invoice.statusName, amounts).owedCents;
    return [
      cell(invoice.id),
      cell(String(invoice.statusName)),
      `${cell(day(invoice.startDate))} – ${cell(day(invoice.endDate))}`,
      formatUsd(amounts.amountBilledCents),
      formatUsd(amounts.amountPaidCents),
      owed === undefined ? '?' : formatUsd(owed),
      cell(invoice.updated ?? ''),
    ];
  });
  const header = ['ID', 'STATUS', 'PERIOD', 'BILLED', 'PAID', 'OWED', 'UPDATED'];
  const rightAligned = new Set([3, 4, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function json(value: unknown, pretty: boolean): string {
  return `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`;
}
