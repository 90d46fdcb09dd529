import { describe, expect, it } from 'vitest';
import { classifyChange, compareUpdated, diffInvoices } from '../../lib/invoices/diff';
import { INVOICE_STATUSES, type InvoiceMetadata } from '../../lib/invoices/invoice';
import type { InvoiceStateEntry, OrgState } from '../../lib/invoices/types';

const ORG = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const SHA = 'f'.repeat(64);

function invoice(id: string, statusName: string, updated: string, month = 1): InvoiceMetadata {
  const start = `2024-${String(month).padStart(2, '0')}-01T00:00:00Z`;
  const end = `2024-${String(month + 1).padStart(2, '0')}-01T00:00:00Z`;
  return { id, orgId: ORG, statusName, startDate: start, endDate: end, updated, amountBilledCents: 100 };
}

/** The entry a poll leaves after archiving and announcing `inv`. */
function doneEntry(inv: InvoiceMetadata, overrides: Partial<InvoiceStateEntry> = {}): InvoiceStateEntry {
  return {
    statusName: inv.statusName,
    updated: inv.updated,
    startDate: inv.startDate,
    endDate: inv.endDate,
    amountBilledCents: 100,
    amountPaidCents: 0,
    archived: { statusName: inv.statusName, updated: inv.updated, sha256: SHA, key: `k/${inv.id}` },
    notifiedStatus: inv.statusName,
    ...overrides,
  };
}

function state(entries: Record<string, InvoiceStateEntry>): OrgState {
  return { version: 1, orgId: ORG, watchingSince: 'x', lastPollAt: 'x', invoices: entries };
}

const A = 'a00000000000000000000001';
const B = 'b00000000000000000000002';
const C = 'c00000000000000000000003';
const T1 = '2024-02-01T10:00:00Z';
const T2 = '2024-02-02T10:00:00Z';

describe('diffInvoices', () => {
  it('treats every invoice as new when there is no state', () => {
    const listed = [invoice(A, 'PAID', T1), invoice(B, 'PENDING', T1, 2)];

    const diff = diffInvoices(listed, undefined);

    expect(diff.changes.map((c) => [c.invoice.id, c.reasons, c.archive, c.notify, c.fromStatus])).toEqual([
      [A, ['new'], true, true, undefined],
      [B, ['new'], true, true, undefined],
    ]);
  });

  it('finds nothing to do when status and updated match what was archived and announced', () => {
    const inv = invoice(A, 'PAID', T1);

    const diff = diffInvoices([inv], state({ [A]: doneEntry(inv) }));

    expect(diff).toEqual({ changes: [], unchanged: 1, stale: 0 });
  });

  it('archives and notifies when the status changed', () => {
    const before = invoice(A, 'CLOSED', T1);
    const after = invoice(A, 'PAID', T2);

    const [change] = diffInvoices([after], state({ [A]: doneEntry(before) })).changes;

    expect(change).toMatchObject({
      archive: true,
      notify: true,
      fromStatus: 'CLOSED',
      reasons: ['status', 'updated'],
    });
  });

  it('archives but does not notify when only updated moved on a pending invoice', () => {
    const before = invoice(A, 'PENDING', T1);
    const after = invoice(A, 'PENDING', T2);

    const [change] = diffInvoices([after], state({ [A]: doneEntry(before) })).changes;

    expect(change).toMatchObject({ archive: true, notify: false, reasons: ['updated'] });
  });

  it('notifies without archiving when the archive is current but the announcement failed last time', () => {
    const inv = invoice(A, 'FAILED', T2);
    const entry = doneEntry(inv, { notifiedStatus: 'CLOSED' });

    const [change] = diffInvoices([inv], state({ [A]: entry })).changes;

    expect(change).toMatchObject({ archive: false, notify: true, fromStatus: 'CLOSED' });
  });

  it('archives without notifying when the archive failed after the channel was told', () => {
    const inv = invoice(A, 'PAID', T1);
    const { archived: _dropped, ...entry } = doneEntry(inv);

    const [change] = diffInvoices([inv], state({ [A]: entry })).changes;

    expect(change).toMatchObject({ archive: true, notify: false });
  });

  it.each([...INVOICE_STATUSES, 'SOMETHING_NEW'])(
    'detects a change to %s like any other status',
    (status) => {
      const before = invoice(A, status === 'PENDING' ? 'CLOSED' : 'PENDING', T1);
      const after = invoice(A, status, T1);

      const [change] = diffInvoices([after], state({ [A]: doneEntry(before) })).changes;

      expect(change).toMatchObject({ archive: true, notify: true, fromStatus: before.statusName });
    },
  );

  it('skips a listing that is older than what the state already saw', () => {
    const newer = invoice(A, 'PAID', T2);
    const stale = invoice(A, 'CLOSED', T1);

    const diff = diffInvoices([stale], state({ [A]: doneEntry(newer) }));

    expect(diff).toEqual({ changes: [], unchanged: 0, stale: 1 });
  });

  it('orders changes by billing period, whatever the listing order', () => {
    const listed = [invoice(C, 'PENDING', T1, 3), invoice(A, 'PAID', T1, 1), invoice(B, 'CLOSED', T1, 2)];

    const diff = diffInvoices(listed, undefined);

    expect(diff.changes.map((c) => c.invoice.id)).toEqual([A, B, C]);
  });

  it('keeps the newest copy when pages overlap and list an invoice twice', () => {
    const listed = [invoice(A, 'CLOSED', T1), invoice(A, 'PAID', T2)];

    const diff = diffInvoices(listed, undefined);

    expect(diff.changes).toHaveLength(1);
    expect(diff.changes[0]?.invoice.statusName).toBe('PAID');
  });

  it('leaves invoices that are in the state but no longer listed alone', () => {
    const gone = invoice(B, 'PAID', T1);
    const inv = invoice(A, 'PAID', T1);

    const diff = diffInvoices([inv], state({ [A]: doneEntry(inv), [B]: doneEntry(gone) }));

    expect(diff.changes).toEqual([]);
  });
});

describe('compareUpdated', () => {
  it('compares instants, not strings, when both parse', () => {
    expect(compareUpdated('2024-02-01T10:00:00+01:00', '2024-02-01T09:30:00Z')).toBeLessThan(0);
    expect(compareUpdated('2024-02-01T09:00:00Z', '2024-02-01T10:00:00+01:00')).toBe(0);
  });

  it('falls back to string order for unreadable values', () => {
    expect(compareUpdated('b', 'a')).toBeGreaterThan(0);
    expect(compareUpdated('a', 'a')).toBe(0);
  });
});

describe('classifyChange', () => {
  it('tells a new invoice, a status move, an updated-only change and unfinished work apart', () => {
    const closed = invoice(A, 'CLOSED', T1);
    const pending = invoice(B, 'PENDING', T1, 2);
    const failed = invoice(C, 'FAILED', T1, 3);
    const current = state({
      [A]: doneEntry(closed),
      [B]: doneEntry(pending),
      [C]: doneEntry(failed, { notifiedStatus: 'CLOSED' }),
    });
    const listed = [
      invoice(A, 'PAID', T2),
      invoice(B, 'PENDING', T2, 2),
      failed,
      invoice(ORG, 'PENDING', T1, 4),
    ];

    const kinds = diffInvoices(listed, current).changes.map((change) => [
      change.invoice.id,
      classifyChange(change),
    ]);

    expect(kinds).toEqual([
      [A, { kind: 'status', from: 'CLOSED', to: 'PAID' }],
      [B, { kind: 'updated' }],
      [C, { kind: 'unfinished' }],
      [ORG, { kind: 'new' }],
    ]);
  });
});
