import type { InvoiceMetadata, InvoiceStatus } from './invoice';
import type { InvoiceStateEntry, OrgState } from './types';

/**
 * Change detection between one listing of an organisation's invoices and its saved state. Pure: no I/O, no clock.
 *
 * Rules, per invoice:
 * - archive when the status or `updated` differ from what the archive holds (`entry.archived`), or nothing is archived;
 * - notify when the status differs from the status the channel was last told (`entry.notifiedStatus`); a new invoice
 *   counts as a change from "none". Unknown future statuses are compared as strings like any other.
 * So a PENDING invoice whose `updated` moves daily is archived each time it changes and announced only when its status
 * changes. A listing older than the state (`updated` earlier than the entry's, e.g. a slower concurrent run) is stale:
 * the newer view wins and nothing is done for it.
 */
export const CHANGE_REASONS = { new: 'new', status: 'status', updated: 'updated' } as const;
export type ChangeReason = (typeof CHANGE_REASONS)[keyof typeof CHANGE_REASONS];

export interface InvoiceChange {
  readonly invoice: InvoiceMetadata;
  /** The saved entry this change was decided against; undefined for an invoice never seen. */
  readonly previous: InvoiceStateEntry | undefined;
  readonly reasons: readonly ChangeReason[];
  /** The CSV must be (re)archived: status or `updated` differ from the archived copy, or there is none. */
  readonly archive: boolean;
  /** The channel must hear of it: the status differs from the last one announced. */
  readonly notify: boolean;
  /** The status the channel was last told about; undefined when never told. */
  readonly fromStatus: InvoiceStatus | undefined;
}

export interface InvoiceDiff {
  /** Invoices with something to do, in billing-period order (oldest first, then by id). */
  readonly changes: readonly InvoiceChange[];
  /** Listed invoices whose archive and announcement are both current. */
  readonly unchanged: number;
  /** Listed invoices the state already knows in a newer version. */
  readonly stale: number;
}

export function diffInvoices(listed: readonly InvoiceMetadata[], state: OrgState | undefined): InvoiceDiff {
  const changes: InvoiceChange[] = [];
  let unchanged = 0;
  let stale = 0;
  for (const invoice of dedupeById(listed)) {
    const previous = state?.invoices[invoice.id];
    if (previous !== undefined && compareUpdated(invoice.updated, previous.updated) < 0) {
      stale += 1;
      continue;
    }
    const change = decideChange(invoice, previous);
    if (change === undefined) unchanged += 1;
    else changes.push(change);
  }
  changes.sort((a, b) => compareBillingPeriod(a.invoice, b.invoice));
  return { changes, unchanged, stale };
}

/** The change for one invoice against its entry, or undefined when there is nothing to do. */
export function decideChange(
  invoice: InvoiceMetadata,
  previous: InvoiceStateEntry | undefined,
): InvoiceChange | undefined {
  const archived = previous?.archived;
  const archive =
    archived === undefined ||
    archived.statusName !== invoice.statusName ||
    archived.updated !== invoice.updated;
  const fromStatus = previous?.notifiedStatus;
  const notify = fromStatus !== invoice.statusName;
  if (!archive && !notify) return undefined;
  const reasons: ChangeReason[] = [];
  if (previous === undefined) reasons.push(CHANGE_REASONS.new);
  else {
    if (previous.statusName !== invoice.statusName || notify) reasons.push(CHANGE_REASONS.status);
    if (previous.updated !== invoice.updated) reasons.push(CHANGE_REASONS.updated);
  }
  return { invoice, previous, reasons, archive, notify, fromStatus };
}

/**
 * What a change is, as a poll reports it: an invoice never seen, a status that differs from the one last seen, or only
 * `updated` moved (re-archived, not announced); `unfinished` re-does an archive or a message an earlier run did not
 * complete, for an invoice that did not change since.
 */
export type ChangeKind =
  | { readonly kind: 'new' }
  | { readonly kind: 'status'; readonly from: InvoiceStatus; readonly to: InvoiceStatus }
  | { readonly kind: 'updated' }
  | { readonly kind: 'unfinished' };

export function classifyChange(change: InvoiceChange): ChangeKind {
  const { invoice, previous } = change;
  if (previous === undefined) return { kind: 'new' };
  if (previous.statusName !== invoice.statusName)
    return { kind: 'status', from: previous.statusName, to: invoice.statusName };
  if (previous.updated !== invoice.updated) return { kind: 'updated' };
  return { kind: 'unfinished' };
}

/**
 * Order two `updated` timestamps: negative when `a` is older. ISO timestamps compare by instant; anything unreadable
 * falls back to string order so the result is still total and deterministic.
 */
export function compareUpdated(a: string, b: string): number {
  const at = Date.parse(a);
  const bt = Date.parse(b);
  if (!Number.isNaN(at) && !Number.isNaN(bt) && at !== bt) return at - bt;
  if (!Number.isNaN(at) && !Number.isNaN(bt)) return 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Billing-period order: start date, then end date, then id, so the result never depends on listing order. */
export function compareBillingPeriod(a: InvoiceMetadata, b: InvoiceMetadata): number {
  return (
    compareUpdated(a.startDate, b.startDate) ||
    compareUpdated(a.endDate, b.endDate) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Atlas pages can overlap when invoices move during a listing; keep the newest copy of each id. */
function dedupeById(listed: readonly InvoiceMetadata[]): InvoiceMetadata[] {
  const byId = new Map<string, InvoiceMetadata>();
  for (const invoice of listed) {
    const seen = byId.get(invoice.id);
    if (seen === undefined || compareUpdated(invoice.updated, seen.updated) > 0)
      byId.set(invoice.id, invoice);
  }
  return [...byId.values()];
}
