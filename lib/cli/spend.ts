import { renderMessage } from '../../infra/local/slack/render';
import type { AtlasInvoiceApi } from '../atlas/types';
import { utcDayOf } from '../digest/read-org-spend';
import { inspectCsv } from '../invoices/csv-summary';
import type { InvoiceMetadata } from '../invoices/invoice';
import { addMonths, monthOf, parseIsoDay } from '../spend/calendar';
import { buildSpendReply } from '../spend/messages';
import { budgetedProjectIds, type SpendSettings } from '../spend/settings';
import { describeSpend, type SpendOverview } from '../spend/spend-overview';
import type { UsageSeries } from '../spend/usage-series';

/**
 * `invoices spend`: the organisation's spend computed here, from Atlas, with the spend domain the slash command and
 * the digest use, so the figures are the ones Slack shows: the pending invoice's CSV (and last month's, for the rate
 * window, the weekend pattern and the comparison) read through the CSV inspector with the invoice's own period, then
 * `describeSpend`. Three or four Atlas requests: the pending invoices, last month's invoice by date, and their CSVs.
 */
export interface SpendReport {
  readonly orgId: string;
  /** Undefined when the organisation has no pending invoice. */
  readonly invoiceId: string | undefined;
  /** Last month's invoice, when there is one. */
  readonly previousInvoiceId: string | undefined;
  readonly overview: SpendOverview | undefined;
}

export async function computeSpend(
  client: AtlasInvoiceApi,
  orgId: string,
  options: {
    readonly settings: SpendSettings;
    readonly now: number;
    readonly signal?: AbortSignal | undefined;
  },
): Promise<SpendReport> {
  const { signal } = options;
  const pending = newestFirst(await client.getPendingInvoices(orgId, { signal })).find(
    (invoice) => parseIsoDay(invoice.startDate) !== undefined,
  );
  if (pending === undefined) {
    return { orgId, invoiceId: undefined, previousInvoiceId: undefined, overview: undefined };
  }
  const start = parseIsoDay(pending.startDate) as number;
  const lastMonth = addMonths(monthOf(start), -1);
  const [previous] = newestFirst(
    await client.listInvoices(orgId, {
      fromDate: `${lastMonth}-01`,
      toDate: pending.startDate.slice(0, 10),
      signal,
    }),
  ).filter((invoice) => invoice.id !== pending.id && monthOfInvoice(invoice) === lastMonth);
  const pinnedProjectIds = budgetedProjectIds(options.settings, orgId);
  const read = async (invoice: InvoiceMetadata) => {
    const download = await client.getInvoiceCsv(orgId, invoice.id, { signal });
    return inspectCsv(download.body, {
      period: { start: invoice.startDate, end: invoice.endDate },
      pinnedProjectIds,
    });
  };
  const [current, before] = await Promise.all([
    read(pending),
    previous === undefined ? undefined : read(previous),
  ]);
  const series: UsageSeries | undefined = current.usage;
  if (series === undefined) {
    return { orgId, invoiceId: pending.id, previousInvoiceId: previous?.id, overview: undefined };
  }
  const orgName = current.summary.organizationName;
  const overview = describeSpend({
    orgId,
    ...(orgName === undefined || orgName === '' ? {} : { orgName }),
    series,
    previous: before?.usage,
    final: false,
    asOf: utcDayOf(options.now),
    settings: options.settings,
  });
  return { orgId, invoiceId: pending.id, previousInvoiceId: previous?.id, overview };
}

/** The plain-text form: the `/invoice spend` answer as a terminal shows it (no picture). */
export function spendText(report: SpendReport): string {
  if (report.overview === undefined) {
    return report.invoiceId === undefined
      ? `Organisation ${report.orgId} has no pending invoice: no spend to show for the current month.\n`
      : `The pending invoice ${report.invoiceId} has no readable billing period: no spend to show.\n`;
  }
  return `${renderMessage(buildSpendReply([report.overview]), { width: 80 })}\n`;
}

function newestFirst<T extends InvoiceMetadata>(invoices: readonly T[]): T[] {
  return [...invoices].sort((a, b) => (a.startDate < b.startDate ? 1 : a.startDate > b.startDate ? -1 : 0));
}

function monthOfInvoice(invoice: InvoiceMetadata): string | undefined {
  const day = parseIsoDay(invoice.startDate);
  return day === undefined ? undefined : monthOf(day);
}
