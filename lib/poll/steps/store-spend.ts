import { CorruptObjectError, StateConflictError } from '../../errors';
import { compareUpdated } from '../../invoices/diff';
import { encodeSpendRecord, type SpendRecord } from '../../spend/spend-record';
import type { PollDeps } from '../deps';
import { failStep, type OrgPoll } from '../org-poll';
import { POLL_STEPS } from '../report';
import type { ArchivedInvoice } from './archive-invoice';

/** Conditional writes of one month's record before a contended record is left to the next run (reported). */
export const MAX_SPEND_RECORD_ROUNDS = 3;

/**
 * Step 5: the spend record of an archived invoice's billing month (`{prefix}spend/{orgId}/{YYYY-MM}.json`), written
 * when its usage series changed: the state knows no spend record for this version, or knew one of other bytes or of
 * the other side of PENDING (`final` flips when the invoice closes). A first run, or the first run after an upgrade,
 * thereby writes every archived month.
 *
 * The write is conditional, like the state's: `IfNoneMatch: '*'` first when the state knows of no record, else after
 * reading the stored record for its ETag (a read only when about to write). A lost write re-reads, and the newer
 * invoice version wins: a record describing a newer `updated` is left as it is (another poll wrote it), one describing
 * an older version (or the same version differently, e.g. with a budgeted project added) is replaced. A stored record
 * that cannot be read is derived data and is replaced, exactly that version.
 *
 * `{ changed }` when the month's record is current (`changed`: its series changed this run), undefined when it could
 * not be written (reported: the invoice's archive is then not recorded, and the next run reads its CSV again).
 */
export async function storeSpendRecord(
  deps: PollDeps,
  poll: OrgPoll,
  archived: ArchivedInvoice,
): Promise<{ readonly changed: boolean } | undefined> {
  const { invoice } = archived.change;
  if (!seriesChanged(archived)) return { changed: false };
  if (archived.usage === undefined) {
    poll.log.info('invoice CSV has no usage series for its period: no spend record', {
      invoiceId: invoice.id,
    });
    return { changed: false };
  }
  const record: SpendRecord = {
    orgId: poll.orgId,
    invoiceId: invoice.id,
    updated: invoice.updated,
    final: invoice.statusName !== 'PENDING',
    series: archived.usage,
  };
  try {
    const known = archived.change.previous?.archived?.spend === true;
    if (await putSpendRecord(deps, poll, record, known)) poll.counts.spendRecords += 1;
    return { changed: true };
  } catch (error) {
    failStep(poll, POLL_STEPS.spend, error, invoice.id);
    return undefined;
  }
}

/** Whether the series of `archived` differs from what the state says the spend record holds. */
export function seriesChanged(archived: ArchivedInvoice): boolean {
  const before = archived.change.previous?.archived;
  const pending = archived.change.invoice.statusName === 'PENDING';
  return (
    before?.spend !== true ||
    before.sha256 !== archived.csv.sha256 ||
    (before.statusName === 'PENDING') !== pending
  );
}

/** True when written; false when the stored record is as new (see `storeSpendRecord`). */
async function putSpendRecord(
  deps: PollDeps,
  poll: OrgPoll,
  record: SpendRecord,
  readFirst: boolean,
): Promise<boolean> {
  const month = record.series.start.slice(0, 7);
  let read = readFirst;
  let etag: string | undefined;
  for (let round = 1; ; round += 1) {
    if (read) {
      const stored = await readStoredSpend(deps, poll, month);
      if (stored.record !== undefined && !supersedes(record, stored.record)) return false;
      etag = stored.etag;
    }
    try {
      await deps.spendStore.writeSpend(record, month, etag, deps.deadline.signal);
      return true;
    } catch (error) {
      if (!(error instanceof StateConflictError) || round >= MAX_SPEND_RECORD_ROUNDS) throw error;
      read = true;
    }
  }
}

async function readStoredSpend(
  deps: PollDeps,
  poll: OrgPoll,
  month: string,
): Promise<{ readonly record?: SpendRecord; readonly etag?: string }> {
  try {
    const stored = await deps.spendStore.readSpend(poll.orgId, month, deps.deadline.signal);
    return stored === undefined ? {} : { record: stored.record, etag: stored.etag };
  } catch (error) {
    if (!(error instanceof CorruptObjectError)) throw error;
    poll.log.warn('spend record could not be read: it is replaced', { key: error.key, error });
    return { etag: error.etag };
  }
}

/** Whether `ours` replaces `stored`: a newer invoice version, or the same version read differently. */
function supersedes(ours: SpendRecord, stored: SpendRecord): boolean {
  if (stored.updated === undefined || ours.updated === undefined) return true;
  const order = compareUpdated(ours.updated, stored.updated);
  if (order !== 0) return order > 0;
  return encodeSpendRecord(ours) !== encodeSpendRecord(stored);
}
