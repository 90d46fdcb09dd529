import type { InvoiceMetadata, InvoiceStatus } from '../invoices/invoice';
import { formatUsd, owedCents, toAmounts } from '../invoices/money';
import type { CsvSummary } from '../invoices/types';
import {
  amountFields,
  arithmeticBlock,
  type Block,
  DOWNLOAD_LINK_ACTION_ID,
  formatPeriod,
  LOCK_DAYS,
  mrkdwn,
  SUSPEND_DAYS,
  topCostsSection,
} from './invoice-blocks';
import { code, escapeAndTruncate, escapeMrkdwn, plainText, SLACK_LIMITS, truncateEscaped } from './mrkdwn';

/**
 * Pure builders for the poller's Slack messages. Every string from outside (organisation, project and SKU names,
 * statuses Atlas may invent later) is escaped or passed as plain_text, and every piece is capped below Block Kit's
 * limits, so a message is always accepted whatever the names hold.
 */
export interface SlackMessage {
  /** Plain fallback for notifications and screen readers (mrkdwn-escaped: Slack parses it too). */
  readonly text: string;
  readonly blocks: readonly Block[];
}

const ORG_NAME_MAX = 120;
const STATUS_MAX = 40;
const FAILED_LISTED_MAX = 10;

const STATUS_LABELS: Readonly<Record<string, string>> = {
  PENDING: 'pending (current billing cycle)',
  CLOSED: 'closed (final, not yet charged)',
  PAID: 'paid',
  FAILED: 'payment failed',
  FORGIVEN: 'forgiven',
  FREE: 'free',
  PREPAID: 'prepaid',
  INVOICED: 'invoiced (pay by invoice)',
};

export interface StatusChangeInput {
  readonly orgId: string;
  /** From the CSV summary or the saved state; the id is shown when unknown. */
  readonly orgName: string | undefined;
  readonly invoice: InvoiceMetadata;
  /** The status the channel last heard of; undefined for an invoice it has never been told about. */
  readonly fromStatus: InvoiceStatus | undefined;
  /** Top projects and SKUs, when the CSV was summarised. */
  readonly summary: CsvSummary | undefined;
  /** While the invoice is FAILED: when the poller first saw it FAILED (ISO timestamp). */
  readonly failedSince?: string | undefined;
}

/** One message for one status change. FAILED gets an urgent header and the suspension/lock timeline. */
export function buildStatusChangeMessage(input: StatusChangeInput): SlackMessage {
  const { invoice, summary } = input;
  const org = orgLabel(input.orgId, input.orgName);
  const failed = invoice.statusName === 'FAILED';
  const amounts = toAmounts(invoice);
  const period = formatPeriod(invoice.startDate, invoice.endDate);
  const from = input.fromStatus === undefined ? 'new' : statusCode(input.fromStatus);

  const headline = failed
    ? `:rotating_light: Payment failed: ${org}`
    : `Atlas invoice ${statusLabel(invoice.statusName)}: ${org}`;
  const blocks: Block[] = [
    header(headline),
    section(
      [
        `*Organisation:* ${escapeAndTruncate(org, ORG_NAME_MAX)} (${code(input.orgId)})`,
        `*Billing period:* ${period}`,
        `*Status:* ${from} → *${statusCode(invoice.statusName)}*`,
      ].join('\n'),
    ),
  ];
  if (failed) blocks.push(section(failedWarning(1)));
  blocks.push({ type: 'section', fields: amountFields(amounts) }, arithmeticBlock(amounts));
  const costs = summary
    ? topCostsSection(summary.projects, summary.projectCount, summary.skus, summary.skuCount)
    : undefined;
  if (costs !== undefined) blocks.push(costs);
  blocks.push(downloadPointer(invoice.id), downloadButton(input.orgId, invoice.id));

  const owed = owedCents(amounts);
  const text = [
    failed ? `Payment failed: the Atlas invoice of ${org}` : `Atlas invoice of ${org}`,
    ` (${period}) is now ${invoice.statusName}`,
    input.fromStatus === undefined ? '' : ` (was ${input.fromStatus})`,
    `: billed ${formatUsd(amounts.amountBilledCents)}, paid ${formatUsd(amounts.amountPaidCents)}, `,
    owed < 0 ? `credit ${formatUsd(-owed)}.` : `owed ${formatUsd(owed)}.`,
    failed
      ? ` Unpaid for ${SUSPEND_DAYS} days the organisation is suspended; after ${LOCK_DAYS} days it is locked.`
      : '',
  ].join('');
  return { text: escapeAndTruncate(text, SLACK_LIMITS.fallbackText), blocks };
}

export interface WatchingInput {
  readonly orgId: string;
  readonly orgName: string | undefined;
  /** Every invoice the first listing returned. */
  readonly invoices: readonly InvoiceMetadata[];
  /** How many CSVs this run archived (or found already archived). */
  readonly archivedCount: number;
}

/**
 * The single message of an organisation's first run: counts by status, the current pending amount and every FAILED
 * invoice called out, instead of one message per historical invoice.
 */
export function buildWatchingMessage(input: WatchingInput): SlackMessage {
  const org = orgLabel(input.orgId, input.orgName);
  const counts = new Map<string, number>();
  for (const invoice of input.invoices)
    counts.set(invoice.statusName, (counts.get(invoice.statusName) ?? 0) + 1);
  const pending = input.invoices.filter((invoice) => invoice.statusName === 'PENDING');
  const failed = input.invoices
    .filter((invoice) => invoice.statusName === 'FAILED')
    .sort((a, b) => (a.startDate < b.startDate ? -1 : a.startDate > b.startDate ? 1 : 0));
  const pendingCents = pending.reduce((sum, invoice) => sum + toAmounts(invoice).amountBilledCents, 0);
  const total = input.invoices.length;

  const blocks: Block[] = [
    header(`Now watching Atlas invoices: ${org}`),
    section(
      [
        `*Organisation:* ${escapeAndTruncate(org, ORG_NAME_MAX)} (${code(input.orgId)})`,
        `Found *${total}* invoice${total === 1 ? '' : 's'}; ${input.archivedCount} archived so far. ` +
          'From now on this channel hears of every status change.',
      ].join('\n'),
    ),
  ];
  if (counts.size > 0) {
    const lines = [...counts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([status, count]) => `• ${statusCode(status)}: ${count}`);
    blocks.push(section(`*Invoices by status*\n${lines.join('\n')}`));
  }
  if (pending.length > 0) {
    const periods = pending.map((invoice) => formatPeriod(invoice.startDate, invoice.endDate)).join(', ');
    blocks.push(section(`*Current pending amount:* ${formatUsd(pendingCents)} (${periods})`));
  }
  if (failed.length > 0) {
    const owed = failed.reduce((sum, invoice) => sum + owedCents(toAmounts(invoice)), 0);
    const rows = failed
      .slice(0, FAILED_LISTED_MAX)
      .map(
        (invoice) =>
          `• ${formatPeriod(invoice.startDate, invoice.endDate)}: owed ${formatUsd(owedCents(toAmounts(invoice)))} (${code(invoice.id)})`,
      );
    if (failed.length > FAILED_LISTED_MAX) rows.push(`• …and ${failed.length - FAILED_LISTED_MAX} more`);
    blocks.push(
      section(
        `:rotating_light: *${failed.length} invoice${failed.length === 1 ? ' has a' : 's have a'} failed payment* ` +
          `(owed ${formatUsd(owed)})\n${rows.join('\n')}`,
      ),
      section(failedWarning(failed.length)),
    );
  }
  blocks.push({
    type: 'context',
    elements: [mrkdwn('Use `/invoice &lt;invoice id&gt;` for an invoice’s amounts and a download link.')],
  });

  const text = [
    `Now watching the Atlas invoices of ${org}: ${total} invoice${total === 1 ? '' : 's'}`,
    pending.length > 0 ? `, ${formatUsd(pendingCents)} pending` : '',
    failed.length > 0 ? `, ${failed.length} with a FAILED payment` : '',
    '.',
  ].join('');
  return { text: escapeAndTruncate(text, SLACK_LIMITS.fallbackText), blocks };
}

/** The organisation's name (capped, so the rest of a line survives a very long one), else its id. */
function orgLabel(orgId: string, orgName: string | undefined): string {
  const name = orgName?.trim();
  return name ? plainText(name, ORG_NAME_MAX) : orgId;
}

/** A human label for a known status; an unknown one is shown as Atlas sent it, escaped and capped. */
function statusLabel(status: InvoiceStatus): string {
  return STATUS_LABELS[status] ?? plainText(status, STATUS_MAX);
}

function statusCode(status: InvoiceStatus): string {
  return escapeAndTruncate(status, STATUS_MAX);
}

function failedWarning(count: number): string {
  const subject = count === 1 ? 'this invoice stays' : 'these invoices stay';
  return (
    ':warning: Atlas could not charge the payment method on file. ' +
    `If ${subject} unpaid for *${SUSPEND_DAYS} days* the organisation is *suspended*; ` +
    `after *${LOCK_DAYS} days* it is *locked*. Pay it or update the payment method in the Atlas billing page.`
  );
}

function header(text: string): Block {
  return {
    type: 'header',
    text: { type: 'plain_text', text: plainText(text, SLACK_LIMITS.headerText), emoji: true },
  };
}

/** A section whose text is already escaped mrkdwn, capped at Slack's section limit. */
function section(text: string): Block {
  return { type: 'section', text: mrkdwn(truncateEscaped(text, SLACK_LIMITS.sectionText)) };
}

function downloadPointer(invoiceId: string): Block {
  return {
    type: 'context',
    elements: [
      mrkdwn(`Invoice ${code(invoiceId)}: use \`/invoice ${escapeMrkdwn(invoiceId)}\` for a download link.`),
    ],
  };
}

function downloadButton(orgId: string, invoiceId: string): Block {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: DOWNLOAD_LINK_ACTION_ID,
        text: { type: 'plain_text', text: 'Get download link', emoji: false },
        value: `${orgId}:${invoiceId}`,
      },
    ],
  };
}
