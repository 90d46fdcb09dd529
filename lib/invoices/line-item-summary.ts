import {
  checkTopN,
  clipText,
  createCostTally,
  DEFAULT_MAX_DISTINCT,
  DEFAULT_TOP_N,
  projectKey,
  rankCostLines,
} from './csv-summary';
import type { Invoice } from './invoice';
import type { CsvSummary } from './types';

/**
 * The summary `inspectCsv` builds from an invoice CSV, built instead from the JSON `lineItems` of a full invoice, so
 * `/invoice <id>` can answer before the CSV is archived. Same tallying and ranking as the CSV path: project =
 * `groupName`/`groupId` (keyed by id when present), SKU = `sku`, amount = `totalPriceCents`.
 *
 * Header values come from the invoice: `invoiceNumber` is its id, `organizationId` its orgId, `billingPeriod` its
 * dates written as the CSV writes them ("June 1, 2024 - July 1, 2024", UTC); the JSON has no organisation name. A line
 * item without `totalPriceCents` counts as 0 cents (as every omitted money field does); one whose amount is not an
 * integer number of cents is malformed. Throws RangeError for a negative or fractional `topN`.
 */
export function summariseLineItems(invoice: Invoice, topN: number = DEFAULT_TOP_N): CsvSummary {
  checkTopN(topN);
  const projects = createCostTally(DEFAULT_MAX_DISTINCT);
  const skus = createCostTally(DEFAULT_MAX_DISTINCT);
  let lineItemCount = 0;
  let totalCents = 0;
  let malformedRows = 0;
  for (const item of invoice.lineItems ?? []) {
    const cents = item.totalPriceCents ?? 0;
    if (typeof cents !== 'number' || !Number.isSafeInteger(cents)) {
      malformedRows++;
      continue;
    }
    const name = clipText(item.groupName ?? '');
    const id = item.groupId ? clipText(item.groupId) : undefined;
    projects.total(projectKey(name, id), name, id).cents += cents;
    const sku = clipText(item.sku ?? '');
    skus.total(sku, sku).cents += cents;
    totalCents += cents;
    lineItemCount++;
  }
  const billingPeriod = formatBillingPeriod(invoice.startDate, invoice.endDate);
  return {
    invoiceNumber: invoice.id,
    ...(billingPeriod === undefined ? {} : { billingPeriod }),
    organizationId: invoice.orgId,
    lineItemCount,
    totalCents,
    projects: rankCostLines(projects.totals(), topN),
    projectCount: projects.size,
    skus: rankCostLines(skus.totals(), topN),
    skuCount: skus.size,
    malformedRows,
  };
}

/** "June 1, 2024 - July 1, 2024" from ISO timestamps (UTC), as the CSV's Billing Period row; undefined if unreadable. */
export function formatBillingPeriod(startDate: string, endDate: string): string | undefined {
  const start = new Date(startDate);
  const end = new Date(endDate);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return undefined;
  const format = (date: Date) =>
    date.toLocaleDateString('en-US', { timeZone: 'UTC', month: 'long', day: 'numeric', year: 'numeric' });
  return `${format(start)} - ${format(end)}`;
}
