import { parseIsoDay } from '../spend/calendar';
import { billingPeriodOf, DEFAULT_SERIES_TOP_N, type UsageSeries } from '../spend/usage-series';
import { checkTopN, clipText, createCostTally, DEFAULT_TOP_N, projectKey, rankCostLines } from './cost-tally';
import type { CsvInspectorOptions } from './csv-summary';
import type { Invoice } from './invoice';
import type { CsvSummary } from './types';
import { UsageTracker } from './usage-tracker';

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
  return inspectLineItems(invoice, { topN }).summary;
}

export interface LineItemInspection {
  readonly summary: CsvSummary;
  /**
   * The daily usage series, as `inspectCsv` builds it from the same rows: the usage day is the line item's
   * `startDate` (a UTC calendar day), the cluster its `clusterName`, the period the invoice's `startDate`/`endDate`.
   * Undefined when those are unreadable.
   */
  readonly usage: UsageSeries | undefined;
}

/**
 * `summariseLineItems` plus the usage series, in one pass. Options as `inspectCsv`'s (`period` defaults to the
 * invoice's own dates). Throws RangeError for a negative or fractional `topN` or `seriesTopN`.
 */
export function inspectLineItems(
  invoice: Invoice,
  options: Pick<CsvInspectorOptions, 'topN' | 'seriesTopN' | 'pinnedProjectIds' | 'period'> = {},
): LineItemInspection {
  const topN = checkTopN(options.topN ?? DEFAULT_TOP_N);
  checkTopN(options.seriesTopN ?? DEFAULT_SERIES_TOP_N);
  const projects = createCostTally();
  const skus = createCostTally();
  const givenPeriod = options.period ?? { start: invoice.startDate, end: invoice.endDate };
  const period = billingPeriodOf(givenPeriod.start, givenPeriod.end);
  const usage =
    period === undefined
      ? undefined
      : new UsageTracker(period, {
          ...(options.seriesTopN === undefined ? {} : { topN: options.seriesTopN }),
          ...(options.pinnedProjectIds === undefined ? {} : { pinnedProjectIds: options.pinnedProjectIds }),
        });
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
    const project = projects.total(projectKey(name, id), name, id);
    project.cents += cents;
    const skuName = clipText(item.sku ?? '');
    const sku = skus.total(skuName, skuName);
    sku.cents += cents;
    totalCents += cents;
    lineItemCount++;
    if (usage !== undefined) {
      const day = typeof item.startDate === 'string' ? parseIsoDay(item.startDate) : undefined;
      const cluster = usage.cluster(project, clipText(item.clusterName ?? ''));
      usage.add(day ?? Number.NaN, cents, project, sku, cluster);
    }
  }
  const billingPeriod = formatBillingPeriod(invoice.startDate, invoice.endDate);
  const summary: CsvSummary = {
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
  return { summary, usage: usage?.finish(projects, skus) };
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
