import type { ArchiveCsvResult } from '../../archive/csv-archive';
import type { InvoiceChange } from '../../invoices/diff';
import type { InvoiceMetadata } from '../../invoices/invoice';
import { toAmounts } from '../../invoices/money';
import type { CsvSummary, InvoiceIndexEntry } from '../../invoices/types';
import { budgetedProjectIds } from '../../spend/settings';
import type { PollDeps } from '../deps';
import { failStep, type OrgPoll, recordWork } from '../org-poll';
import { POLL_STEPS } from '../report';

/** An invoice whose CSV and index entry this run stored, with what the archive read from it. */
export interface ArchivedInvoice {
  readonly change: InvoiceChange;
  readonly csv: ArchiveCsvResult['csv'];
  readonly summary: CsvSummary;
  readonly usage: ArchiveCsvResult['usage'];
}

/**
 * Step 4: stream the invoice's CSV into the archive (identical bytes are not written again; the usage series of its
 * billing period is read in the same pass, budgeted projects always listed), then write its index entry. Not recorded
 * here: the spend steps record it (`recordArchived`) once its month's spend work is done too. Undefined on failure
 * (reported).
 */
export async function archiveInvoice(
  deps: PollDeps,
  poll: OrgPoll,
  change: InvoiceChange,
): Promise<ArchivedInvoice | undefined> {
  const { invoice } = change;
  const { deadline } = deps;
  try {
    const result = await deps.archive.archiveCsv({
      orgId: poll.orgId,
      invoice,
      previous: change.previous?.archived,
      openCsv: () => deps.atlas.getInvoiceCsv(poll.orgId, invoice.id, { signal: deadline.signal, deadline }),
      topN: deps.topN,
      pinnedProjectIds: budgetedProjectIds(deps.spend, poll.orgId),
      signal: deadline.signal,
    });
    poll.orgName = cleanName(result.summary.organizationName) ?? poll.orgName;
    await deps.indexStore.writeIndex(indexEntry(poll, invoice, result, deps.now()), deadline.signal);
    if (result.outcome === 'identical') poll.counts.identical += 1;
    else poll.counts.archived += 1;
    poll.stored.add(invoice.id);
    return { change, csv: result.csv, summary: result.summary, usage: result.usage };
  } catch (error) {
    failStep(poll, POLL_STEPS.archive, error, invoice.id);
    return undefined;
  }
}

/** Record the archive of `archived` as complete: CSV, index and its month's spend work. */
export function recordArchived(poll: OrgPoll, archived: ArchivedInvoice): void {
  const { invoice } = archived.change;
  poll.stored.delete(invoice.id);
  recordWork(poll, {
    invoice,
    archived: {
      statusName: invoice.statusName,
      updated: invoice.updated,
      sha256: archived.csv.sha256,
      key: archived.csv.key,
      spend: true,
    },
  });
}

function indexEntry(
  poll: OrgPoll,
  invoice: InvoiceMetadata,
  result: Pick<ArchiveCsvResult, 'csv' | 'summary'>,
  at: Date,
): InvoiceIndexEntry {
  return {
    version: 1,
    invoiceId: invoice.id,
    orgId: poll.orgId,
    ...(poll.orgName !== undefined ? { orgName: poll.orgName } : {}),
    statusName: invoice.statusName,
    startDate: invoice.startDate,
    endDate: invoice.endDate,
    updated: invoice.updated,
    amounts: toAmounts(invoice),
    summary: result.summary,
    csv: result.csv,
    archivedAt: at.toISOString(),
  };
}

function cleanName(name: string | undefined): string | undefined {
  const trimmed = name?.trim();
  return trimmed ? trimmed : undefined;
}
