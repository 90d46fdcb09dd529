import { billingMonth } from '../archive/keys';
import { compareUpdated } from '../invoices/diff';
import type { InvoiceMetadata, InvoiceStatus } from '../invoices/invoice';
import { toAmounts } from '../invoices/money';
import type { InvoiceStateEntry, OrgState } from '../invoices/types';
import { mergeFiredKeys, pruneFiredKeys } from '../spend/alerts';

/**
 * What one poll completed for one invoice, and nothing more: a field is set only when that piece of work finished
 * (the CSV archived and indexed; the channel told). Applying it to a state records exactly that work, so an invoice
 * whose archive or notification failed stays as it was and the next run re-does it.
 */
export interface CompletedWork {
  /** The invoice as this run listed it. */
  readonly invoice: InvoiceMetadata;
  readonly archived?: NonNullable<InvoiceStateEntry['archived']>;
  readonly notifiedStatus?: InvoiceStatus;
}

export interface StateMeta {
  readonly orgId: string;
  /** From the CSV summary; kept from the base when this run learnt none. */
  readonly orgName: string | undefined;
  /** ISO timestamp of this poll. */
  readonly now: string;
  /** Set when this run delivered the "now watching" message. */
  readonly watchingSince: string | undefined;
  /** Keys of the spend alerts this run delivered (or settled without sending, see `watchSpend`). */
  readonly fired?: Iterable<string>;
}

/**
 * The state to save: `base` (the newest state read) with this run's completed work merged in. Used both for the first
 * save and after a conflict, when `base` is the other run's newer state, so the rule is symmetric: per invoice, facts
 * about a newer `updated` win, and nothing either run completed is dropped. Fired spend-alert keys are the union of
 * both sides (`mergeFiredKeys`), less the keys of months before last month (`pruneFiredKeys`, by this poll's date).
 */
export function mergeCompleted(
  base: OrgState | undefined,
  completed: Iterable<CompletedWork>,
  meta: StateMeta,
): OrgState {
  const invoices: Record<string, InvoiceStateEntry> = { ...base?.invoices };
  for (const work of completed) invoices[work.invoice.id] = mergeEntry(invoices[work.invoice.id], work);
  const orgName = meta.orgName ?? base?.orgName;
  const fired = firedKeys(base?.spend?.fired ?? [], meta.fired ?? [], meta.now);
  return {
    version: 1,
    orgId: meta.orgId,
    ...(orgName !== undefined ? { orgName } : {}),
    watchingSince: base?.watchingSince || meta.watchingSince || '',
    lastPollAt: meta.now,
    invoices,
    ...(fired.length > 0 ? { spend: { fired } } : {}),
  };
}

function firedKeys(theirs: Iterable<string>, ours: Iterable<string>, now: string): string[] {
  const merged = mergeFiredKeys(theirs, ours);
  const month = billingMonth(now);
  return merged.length === 0 || month === 'unknown' ? merged : pruneFiredKeys(merged, month);
}

/**
 * One invoice's entry after `work`:
 * - what was seen (status, dates, amounts, `failedSince`) comes from whichever side knows the newer `updated`, except
 *   that a FAILED invoice keeps the `failedSince` of the side that saw it FAILED first;
 * - `archived` is whichever describes the newer version (this run's on a tie: it was written last, and its spend
 *   record with it);
 * - `notifiedStatus` is this run's when it told the channel about a version at least as new as the entry's.
 */
export function mergeEntry(existing: InvoiceStateEntry | undefined, work: CompletedWork): InvoiceStateEntry {
  const seen = seenFields(work.invoice, existing);
  if (existing === undefined) {
    return {
      ...seen,
      ...(work.archived !== undefined ? { archived: work.archived } : {}),
      ...(work.notifiedStatus !== undefined ? { notifiedStatus: work.notifiedStatus } : {}),
    };
  }
  const oursIsNewer = compareUpdated(work.invoice.updated, existing.updated) >= 0;
  const archived = newerArchive(existing.archived, work.archived);
  const notifiedStatus =
    work.notifiedStatus !== undefined && (oursIsNewer || existing.notifiedStatus === undefined)
      ? work.notifiedStatus
      : existing.notifiedStatus;
  const { archived: _archived, notifiedStatus: _notified, failedSince: _since, ...existingSeen } = existing;
  const { failedSince: _ours, ...oursSeen } = seen;
  const winner = oursIsNewer ? oursSeen : existingSeen;
  // Whichever side wins, a FAILED invoice has been FAILED since the earlier of the two sightings.
  const theirs = existing.statusName === 'FAILED' ? existing.failedSince : undefined;
  const ours = failedSinceOf(work.invoice, undefined);
  const failedSince = winner.statusName === 'FAILED' ? earliest(theirs, ours) : undefined;
  return {
    ...winner,
    ...(failedSince !== undefined ? { failedSince } : {}),
    ...(archived !== undefined ? { archived } : {}),
    ...(notifiedStatus !== undefined ? { notifiedStatus } : {}),
  };
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return compareUpdated(a, b) <= 0 ? a : b;
}

function newerArchive(
  existing: InvoiceStateEntry['archived'],
  ours: InvoiceStateEntry['archived'],
): InvoiceStateEntry['archived'] {
  if (ours === undefined) return existing;
  if (existing === undefined) return ours;
  return compareUpdated(ours.updated, existing.updated) >= 0 ? ours : existing;
}

/** What the state records of a listed invoice, given the entry it had (for `failedSince`). */
export function seenFields(
  invoice: InvoiceMetadata,
  previous: InvoiceStateEntry | undefined,
): Omit<InvoiceStateEntry, 'archived' | 'notifiedStatus'> {
  const amounts = toAmounts(invoice);
  const failedSince = failedSinceOf(invoice, previous);
  return {
    statusName: invoice.statusName,
    updated: invoice.updated,
    startDate: invoice.startDate,
    endDate: invoice.endDate,
    amountBilledCents: amounts.amountBilledCents,
    amountPaidCents: amounts.amountPaidCents,
    ...(failedSince !== undefined ? { failedSince } : {}),
  };
}

/**
 * When a FAILED invoice was first seen FAILED: the entry's `failedSince` while it stays FAILED, else this listing's
 * `updated` (Atlas's date of the version that showed FAILED first). Undefined for any other status, so it is cleared
 * when the invoice leaves FAILED.
 */
export function failedSinceOf(
  invoice: Pick<InvoiceMetadata, 'statusName' | 'updated'>,
  previous: InvoiceStateEntry | undefined,
): string | undefined {
  if (invoice.statusName !== 'FAILED') return undefined;
  return earliest(previous?.statusName === 'FAILED' ? previous.failedSince : undefined, invoice.updated);
}
