import { describe, expect, it } from 'vitest';
import type { InvoiceStateEntry, OrgState } from '../../lib/invoices/types';
import { failedSinceOf, mergeCompleted, mergeEntry } from '../../lib/poll/merge-state';
import { invoiceId, makeInvoice, ORG_A } from './harness';

const T1 = '2024-07-01T00:00:00Z';
const T2 = '2024-07-02T00:00:00Z';
const T3 = '2024-07-03T00:00:00Z';
const SHA_1 = '1'.repeat(64);
const SHA_2 = '2'.repeat(64);
const META = { orgId: ORG_A, orgName: undefined, now: 'now', watchingSince: undefined };

function entry(status: string, updated: string, extra: Partial<InvoiceStateEntry> = {}): InvoiceStateEntry {
  return {
    statusName: status,
    updated,
    startDate: '2024-01-01T00:00:00Z',
    endDate: '2024-02-01T00:00:00Z',
    amountBilledCents: 1000,
    amountPaidCents: 0,
    ...extra,
  };
}

describe('mergeEntry', () => {
  it('records only the work that completed for a new invoice', () => {
    const invoice = makeInvoice(ORG_A, 1, 'CLOSED', T1);

    const merged = mergeEntry(undefined, { invoice, notifiedStatus: 'CLOSED' });

    expect(merged).toEqual({
      statusName: 'CLOSED',
      updated: T1,
      startDate: invoice.startDate,
      endDate: invoice.endDate,
      amountBilledCents: 1000,
      amountPaidCents: 0,
      notifiedStatus: 'CLOSED',
    });
  });

  it('keeps what the other run knows about a newer version and adds nothing older over it', () => {
    const theirs = entry('PAID', T3, {
      notifiedStatus: 'PAID',
      archived: { statusName: 'PAID', updated: T3, sha256: SHA_2, key: 'k' },
    });
    const invoice = makeInvoice(ORG_A, 1, 'CLOSED', T2);

    const merged = mergeEntry(theirs, {
      invoice,
      notifiedStatus: 'CLOSED',
      archived: { statusName: 'CLOSED', updated: T2, sha256: SHA_1, key: 'k' },
    });

    expect(merged).toEqual(theirs);
  });

  it('takes this run\u2019s newer archive and announcement over an older entry', () => {
    const older = entry('CLOSED', T1, {
      notifiedStatus: 'CLOSED',
      archived: { statusName: 'CLOSED', updated: T1, sha256: SHA_1, key: 'k' },
    });
    const invoice = makeInvoice(ORG_A, 1, 'PAID', T2);
    const archived = { statusName: 'PAID', updated: T2, sha256: SHA_2, key: 'k' };

    const merged = mergeEntry(older, { invoice, archived, notifiedStatus: 'PAID' });

    expect(merged).toMatchObject({ statusName: 'PAID', updated: T2, archived, notifiedStatus: 'PAID' });
  });

  it('keeps the announcement of the other run when this run only archived', () => {
    const theirs = entry('PAID', T2, { notifiedStatus: 'PAID' });
    const invoice = makeInvoice(ORG_A, 1, 'PAID', T2);
    const archived = { statusName: 'PAID', updated: T2, sha256: SHA_2, key: 'k' };

    const merged = mergeEntry(theirs, { invoice, archived });

    expect(merged).toMatchObject({ notifiedStatus: 'PAID', archived });
  });
});

describe('mergeCompleted', () => {
  const base: OrgState = {
    version: 1,
    orgId: ORG_A,
    orgName: 'Old name',
    watchingSince: 'then',
    lastPollAt: 'then',
    invoices: { [invoiceId(2)]: entry('PAID', T1, { notifiedStatus: 'PAID' }) },
  };

  it('keeps untouched invoices, the watching date and the known name', () => {
    const invoice = makeInvoice(ORG_A, 1, 'PENDING', T1);

    const merged = mergeCompleted(base, [{ invoice, notifiedStatus: 'PENDING' }], META);

    expect(merged.invoices[invoiceId(2)]).toEqual(base.invoices[invoiceId(2)]);
    expect(merged.invoices[invoiceId(1)]?.notifiedStatus).toBe('PENDING');
    expect(merged).toMatchObject({ orgName: 'Old name', watchingSince: 'then', lastPollAt: 'now' });
  });

  it('keeps the spend alerts both sides fired, sorted, less those of months before last month', () => {
    const theirs: OrgState = {
      ...base,
      spend: {
        fired: [`spike:${ORG_A}:2024-05-30`, `budget:${ORG_A}:50:2024-07`, `spike:${ORG_A}:2024-06-30`],
      },
    };

    const merged = mergeCompleted(theirs, [], {
      ...META,
      now: '2024-07-20T12:00:00.000Z',
      fired: [`forecast:${ORG_A}:2024-07`, `budget:${ORG_A}:50:2024-07`],
    });

    expect(merged.spend?.fired).toEqual([
      `budget:${ORG_A}:50:2024-07`,
      `forecast:${ORG_A}:2024-07`,
      `spike:${ORG_A}:2024-06-30`,
    ]);
    expect(mergeCompleted(base, [], META)).not.toHaveProperty('spend');
  });

  it('marks a first state as not yet watching until the summary was delivered', () => {
    expect(mergeCompleted(undefined, [], META).watchingSince).toBe('');
    expect(mergeCompleted(undefined, [], { ...META, watchingSince: 'now', orgName: 'Acme' })).toMatchObject({
      watchingSince: 'now',
      orgName: 'Acme',
    });
  });
});

describe('failedSince', () => {
  it('is the listing\u2019s updated when an invoice is first seen FAILED, and kept while it stays FAILED', () => {
    const failing = makeInvoice(ORG_A, 1, 'FAILED', T2);

    expect(failedSinceOf(failing, entry('CLOSED', T1))).toBe(T2);
    expect(failedSinceOf(failing, undefined)).toBe(T2);
    expect(failedSinceOf(makeInvoice(ORG_A, 1, 'FAILED', T3), entry('FAILED', T2, { failedSince: T1 }))).toBe(
      T1,
    );
    expect(
      failedSinceOf(makeInvoice(ORG_A, 1, 'PAID', T3), entry('FAILED', T2, { failedSince: T1 })),
    ).toBeUndefined();
  });

  it('is recorded with the entry and cleared when the invoice leaves FAILED', () => {
    const failed = mergeEntry(entry('CLOSED', T1), { invoice: makeInvoice(ORG_A, 1, 'FAILED', T2) });
    const stillFailed = mergeEntry(failed, { invoice: makeInvoice(ORG_A, 1, 'FAILED', T3) });
    const paid = mergeEntry(stillFailed, { invoice: makeInvoice(ORG_A, 1, 'PAID', '2024-07-04T00:00:00Z') });

    expect(failed.failedSince).toBe(T2);
    expect(stillFailed.failedSince).toBe(T2);
    expect(paid).not.toHaveProperty('failedSince');
  });

  it('keeps the earliest sighting whichever of two racing runs saves first', () => {
    // Run A saw FAILED at T2; run B, from an older base, first saw it FAILED at T3.
    const base = entry('CLOSED', T1);
    const savedByA = mergeEntry(base, { invoice: makeInvoice(ORG_A, 1, 'FAILED', T2) });
    const savedByB = mergeEntry(base, { invoice: makeInvoice(ORG_A, 1, 'FAILED', T3) });

    const bMergedIntoA = mergeEntry(savedByA, { invoice: makeInvoice(ORG_A, 1, 'FAILED', T3) });
    const aMergedIntoB = mergeEntry(savedByB, { invoice: makeInvoice(ORG_A, 1, 'FAILED', T2) });

    expect(bMergedIntoA).toMatchObject({ updated: T3, failedSince: T2 });
    expect(aMergedIntoB).toMatchObject({ updated: T3, failedSince: T2 });
  });
});
