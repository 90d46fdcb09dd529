import type { AtlasInvoiceApi } from '../atlas/types';
import { inspectCsv } from '../invoices/csv-summary';
import type { InvoiceMetadata } from '../invoices/invoice';
import { renderMessage } from '../slack/render-text';
import { historyInput, historyMonths, SPEND_HISTORY_MONTHS } from '../spend/backtest';
import { addMonths, monthOf, parseIsoDay, utcDayOf } from '../spend/calendar';
import { buildSpendReply } from '../spend/messages';
import { budgetedProjectIds, type SpendSettings } from '../spend/settings';
import { describeSpend, type SpendOverview } from '../spend/spend-overview';
import type { UsageSeries } from '../spend/usage-series';

/**
 * `invoices spend`: the organisation's spend computed here, from Atlas, with the spend domain the slash command and
 * the digest use, so the figures are the ones Slack shows: the pending invoice's CSV and those of the months before
 * it that the poller's records hold (last month for the rate window, the weekend pattern and the comparison; the
 * final ones for the backtest that calibrates the range), each read through the CSV inspector with its invoice's own
 * period, then `describeSpend`. Atlas requests: the pending invoices, the invoices of the four months before, and up
 * to five CSVs (in parallel).
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
  const month = monthOf(parseIsoDay(pending.startDate) as number);
  // The months before, as the poller's spend watch reads them from its records: last month for the forecast's window
  // and the comparison, the final ones for the backtest that calibrates the range.
  const listed = await client.listInvoices(orgId, {
    fromDate: `${addMonths(month, -SPEND_HISTORY_MONTHS)}-01`,
    toDate: pending.startDate.slice(0, 10),
    signal,
  });
  const byMonth = new Map<string, InvoiceMetadata>();
  for (const invoice of newestFirst(listed)) {
    const m = monthOfInvoice(invoice);
    if (invoice.id !== pending.id && m !== undefined && m < month && !byMonth.has(m)) byMonth.set(m, invoice);
  }
  const history = historyMonths(byMonth.keys(), month).map(
    (m) => [m, byMonth.get(m) as InvoiceMetadata] as const,
  );
  const pinnedProjectIds = budgetedProjectIds(options.settings, orgId);
  const read = async (invoice: InvoiceMetadata) => {
    const download = await client.getInvoiceCsv(orgId, invoice.id, { signal });
    return inspectCsv(download.body, {
      period: { start: invoice.startDate, end: invoice.endDate },
      pinnedProjectIds,
    });
  };
  const [current, ...before] = await Promise.all([
    read(pending),
    ...history.map(([, invoice]) => read(invoice)),
  ]);
  const previous = history.find(([m]) => m === addMonths(month, -1))?.[1];
  const series: UsageSeries | undefined = current?.usage;
  if (current === undefined || series === undefined) {
    return { orgId, invoiceId: pending.id, previousInvoiceId: previous?.id, overview: undefined };
  }
  const { previous: previousSeries, calibration } = historyInput(
    history.map(([m, invoice], i) => ({
      month: m,
      series: before[i]?.usage,
      final: invoice.statusName !== 'PENDING',
    })),
    month,
  );
  const orgName = current.summary.organizationName;
  const overview = describeSpend({
    orgId,
    ...(orgName === undefined || orgName === '' ? {} : { orgName }),
    series,
    previous: previousSeries,
    final: false,
    asOf: utcDayOf(options.now),
    calibration,
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
