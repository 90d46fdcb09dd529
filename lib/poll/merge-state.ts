import { compareUpdated } from '../invoices/diff';
import type { InvoiceMetadata, InvoiceStatus } from '../invoices/invoice';
import { toAmounts } from '../invoices/money';
import type { InvoiceStateEntry, OrgState } from '../invoices/types';

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
}

/**
 * The state to save: `base` (the newest state read) with this run's completed work merged in. Used both for the first
 * save and after a conflict, when `base` is the other run's newer state, so the rule is symmetric: per invoice, facts
 * about a newer `updated` win, and nothing either run completed is dropped.
 */
export function mergeCompleted(
  base: OrgState | undefined,
  completed: Iterable<CompletedWork>,
  meta: StateMeta,
): OrgState {
  const invoices: Record<string, InvoiceStateEntry> = { ...base?.invoices };
  for (const work of completed) invoices[work.invoice.id] = mergeEntry(invoices[work.invoice.id], work);
  const orgName = meta.orgName ?? base?.orgName;
  return {
    version: 1,
    orgId: meta.orgId,
    ...(orgName !== undefined ? { orgName } : {}),
    watchingSince: base?.watchingSince || meta.watchingSince || '',
    lastPollAt: meta.now,
    invoices,
  };
}

/**
 * One invoice's entry after `work`:
 * - what was seen (status, dates, amounts) comes from whichever side knows the newer `updated`;
 * - `archived` is whichever describes the newer version (this run's on a tie: it was written last);
 * - `notifiedStatus` is this run's when it told the channel about a version at least as new as the entry's.
 */
export function mergeEntry(existing: InvoiceStateEntry | undefined, work: CompletedWork): InvoiceStateEntry {
  const seen = seenFields(work.invoice);
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
  const { archived: _archived, notifiedStatus: _notified, ...existingSeen } = existing;
  return {
    ...(oursIsNewer ? seen : existingSeen),
    ...(archived !== undefined ? { archived } : {}),
    ...(notifiedStatus !== undefined ? { notifiedStatus } : {}),
  };
}

function newerArchive(
  existing: InvoiceStateEntry['archived'],
  ours: InvoiceStateEntry['archived'],
): InvoiceStateEntry['archived'] {
  if (ours === undefined) return existing;
  if (existing === undefined) return ours;
  return compareUpdated(ours.updated, existing.updated) >= 0 ? ours : existing;
}

function seenFields(invoice: InvoiceMetadata): Omit<InvoiceStateEntry, 'archived' | 'notifiedStatus'> {
  const amounts = toAmounts(invoice);
  return {
    statusName: invoice.statusName,
    updated: invoice.updated,
    startDate: invoice.startDate,
    endDate: invoice.endDate,
    amountBilledCents: amounts.amountBilledCents,
    amountPaidCents: amounts.amountPaidCents,
  };
}
