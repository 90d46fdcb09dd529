import { explainOwed, formatUsd, owedCents } from '../invoices/money';
import type { CostLine, InvoiceAmounts } from '../invoices/types';
import { escapeAndTruncate, SLACK_LIMITS, truncateEscaped } from './mrkdwn';

/**
 * Block Kit pieces shared by the poller's notifications and the slash command's answers, so an invoice reads the
 * same wherever it appears. Every outside string is escaped here; callers pass raw values.
 */
export type Block = Record<string, unknown>;

/** The "Get download link" button on the poller's notifications, answered by the slash-command function; its value
 * is `<orgId>:<invoiceId>`. */
export const DOWNLOAD_LINK_ACTION_ID = 'invoice_download_link';

/** Atlas suspends an organisation whose invoice stays unpaid this many days, and locks it after LOCK_DAYS. */
export const SUSPEND_DAYS = 30;
export const LOCK_DAYS = 60;

const NAME_MAX = 80;

const DAY = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long', day: 'numeric' });
const DAY_YEAR = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  month: 'long',
  day: 'numeric',
  year: 'numeric',
});

/** "June 1 – June 30, 2024" from ISO start/end (end is exclusive in Atlas: the period's last day is shown). */
export function formatPeriod(startDate: string, endDate: string): string {
  const start = new Date(startDate);
  const end = new Date(endDate);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return 'unknown period';
  const lastDay = new Date(end.getTime() - 1);
  const sameYear = start.getUTCFullYear() === lastDay.getUTCFullYear();
  return `${(sameYear ? DAY : DAY_YEAR).format(start)} – ${DAY_YEAR.format(lastDay)}`;
}

/** Section fields: billed, paid, owed (or credit), then credits, tax and starting balance. */
export function amountFields(amounts: InvoiceAmounts): Block[] {
  const owed = owedCents(amounts);
  const owedField = owed < 0 ? `*Credit*\n${formatUsd(-owed)}` : `*Owed*\n${formatUsd(owed)}`;
  return [
    mrkdwn(`*Billed*\n${formatUsd(amounts.amountBilledCents)}`),
    mrkdwn(`*Paid*\n${formatUsd(amounts.amountPaidCents)}`),
    mrkdwn(owedField),
    mrkdwn(`*Subtotal*\n${formatUsd(amounts.subtotalCents)}`),
    mrkdwn(`*Credits*\n${formatUsd(amounts.creditsCents)}`),
    mrkdwn(`*Tax*\n${formatUsd(amounts.salesTaxCents)}`),
    mrkdwn(`*Starting balance*\n${formatUsd(amounts.startingBalanceCents)}`),
  ];
}

/** A context block with the arithmetic behind billed and owed. */
export function arithmeticBlock(amounts: InvoiceAmounts): Block {
  const { billed, owed } = explainOwed(amounts);
  return { type: 'context', elements: [mrkdwn(`${billed}\n${owed}`)] };
}

/** "*Top projects* (3 of 12)\n• Name — $1.00" or undefined when there are none. */
export function costLinesText(title: string, lines: readonly CostLine[], total: number): string | undefined {
  if (lines.length === 0) return undefined;
  const heading = total > lines.length ? `*${title}* (${lines.length} of ${total})` : `*${title}*`;
  const rows = lines.map(
    (line) => `• ${escapeAndTruncate(line.name || '(none)', NAME_MAX)} — ${formatUsd(line.cents)}`,
  );
  return truncateEscaped([heading, ...rows].join('\n'), SLACK_LIMITS.fieldText);
}

/** Up to two fields side by side: top projects and top SKUs. */
export function topCostsSection(
  projects: readonly CostLine[],
  projectCount: number,
  skus: readonly CostLine[],
  skuCount: number,
): Block | undefined {
  const fields = [
    costLinesText('Top projects', projects, projectCount),
    costLinesText('Top SKUs', skus, skuCount),
  ].filter((text): text is string => text !== undefined);
  if (fields.length === 0) return undefined;
  return { type: 'section', fields: fields.map(mrkdwn) };
}

export function mrkdwn(text: string): Block {
  return { type: 'mrkdwn', text };
}
