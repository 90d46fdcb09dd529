import type { ArchiveCsvResult } from '../../archive/csv-archive';
import type { InvoiceChange } from '../../invoices/diff';
import type { InvoiceMetadata } from '../../invoices/invoice';
import { toAmounts } from '../../invoices/money';
import type { CsvSummary, InvoiceIndexEntry } from '../../invoices/types';
import type { PollDeps } from '../deps';
import { failStep, type OrgPoll, recordWork } from '../org-poll';
import { POLL_STEPS } from '../report';

/**
 * Step 4: stream the invoice's CSV into the archive (identical bytes are not written again), then write its index
 * entry; recorded as completed only once both are done. The CSV summary on success, undefined on failure (reported).
 */
export async function archiveInvoice(
  deps: PollDeps,
  poll: OrgPoll,
  change: InvoiceChange,
): Promise<CsvSummary | undefined> {
  const { invoice } = change;
  const { deadline } = deps;
  try {
    const result = await deps.archive.archiveCsv({
      orgId: poll.orgId,
      invoice,
      previous: change.previous?.archived,
      openCsv: () => deps.atlas.getInvoiceCsv(poll.orgId, invoice.id, { signal: deadline.signal, deadline }),
      topN: deps.topN,
      signal: deadline.signal,
    });
    poll.orgName = cleanName(result.summary.organizationName) ?? poll.orgName;
    await deps.indexStore.writeIndex(indexEntry(poll, invoice, result, deps.now()), deadline.signal);
    if (result.outcome === 'identical') poll.counts.identical += 1;
    else poll.counts.archived += 1;
    recordWork(poll, {
      invoice,
      archived: {
        statusName: invoice.statusName,
        updated: invoice.updated,
        sha256: result.csv.sha256,
        key: result.csv.key,
      },
    });
    return result.summary;
  } catch (error) {
    failStep(poll, POLL_STEPS.archive, error, invoice.id);
    return undefined;
  }
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
