import { describe, expect, it } from 'vitest';
import { invoiceTable } from '../../lib/cli/format';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';

function invoice(id: string, statusName: string, billed: number, paid: number): InvoiceMetadata {
  return {
    id,
    orgId: '5f1a2b3c4d5e6f708192a3b4',
    statusName,
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    updated: '2024-07-02T00:00:00Z',
    amountBilledCents: billed,
    amountPaidCents: paid,
  };
}

describe('invoiceTable', () => {
  it('shows what is owed as the status defines it: nothing for a forgiven invoice, ? for an unknown status', () => {
    const table = invoiceTable([
      invoice('a1', 'FORGIVEN', 325_870, 0),
      invoice('a2', 'FAILED', 356_704, 0),
      invoice('a3', 'PENDING', 12_034, 0),
      invoice('a4', 'DISPUTED', 5_000, 0),
    ]);

    expect(table.split('\n')).toEqual([
      'ID  STATUS    PERIOD                      BILLED   PAID       OWED  UPDATED',
      'a1  FORGIVEN  2024-06-01 – 2024-07-01  $3,258.70  $0.00      $0.00  2024-07-02T00:00:00Z',
      'a2  FAILED    2024-06-01 – 2024-07-01  $3,567.04  $0.00  $3,567.04  2024-07-02T00:00:00Z',
      'a3  PENDING   2024-06-01 – 2024-07-01    $120.34  $0.00      $0.00  2024-07-02T00:00:00Z',
      'a4  DISPUTED  2024-06-01 – 2024-07-01     $50.00  $0.00          ?  2024-07-02T00:00:00Z',
      '',
    ]);
  });
});
