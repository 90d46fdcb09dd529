import { balanceOf, describeBalance } from '../invoices/balance';
import type { InvoiceMetadata, InvoiceStatus } from '../invoices/invoice';
import { formatUsd, toAmounts } from '../invoices/money';
import type { CsvSummary } from '../invoices/types';
import {
  arithmeticContext,
  type Block,
  balanceMrkdwn,
  context,
  DOWNLOAD_LINK_ACTION_ID,
  type FailedPayment,
  failedPaymentText,
  formatPeriod,
  section,
  statusCode,
  statusMrkdwn,
  suspensionClause,
  topCostsSection,
} from './invoice-blocks';
import { code, escapeAndTruncate, plainText, SLACK_LIMITS, utcDay } from './mrkdwn';

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

/** What changed, for the header; an unknown status is shown as Atlas sent it. */
const HEADLINES: ReadonlyMap<string, string> = new Map([
  ['PENDING', 'New Atlas billing cycle'],
  ['CLOSED', 'Atlas invoice closed'],
  ['PAID', 'Atlas invoice paid'],
  ['FAILED', ':rotating_light: Payment failed'],
  ['FORGIVEN', 'Atlas invoice forgiven'],
  ['FREE', 'Free Atlas invoice'],
  ['PREPAID', 'Atlas invoice covered by the prepaid plan'],
  ['INVOICED', 'Atlas invoice issued'],
]);

export interface StatusChangeInput {
  readonly orgId: string;
  /** From the CSV summary or the saved state; the id is shown when unknown. */
  readonly orgName: string | undefined;
  readonly invoice: InvoiceMetadata;
  /** The status the channel last heard of; undefined for an invoice it has never been told about. */
  readonly fromStatus: InvoiceStatus | undefined;
  /** Top projects and SKUs, when the CSV was summarised. */
  readonly summary: CsvSummary | undefined;
  /**
   * ISO timestamp when the payment was first seen FAILED; the suspension (30 days) and lock (60 days) dates count
   * from it. Default: the invoice's `updated`.
   */
  readonly failedSince?: string | undefined;
  /** ATLAS_BASE_URL, for the billing link of a failed payment (anything but Atlas itself: cloud.mongodb.com). */
  readonly atlasBaseUrl?: string | undefined;
}

/**
 * One message for one status change, read in a few seconds: the header says what changed, the first line the one
 * number that matters (paid, owed with its suspension date, forgiven…) with the period and the change, then the
 * arithmetic in one context line, the top costs, the download button and the ids. FAILED also says when the
 * organisation is suspended and locked, and links to its billing page.
 */
export function buildStatusChangeMessage(input: StatusChangeInput): SlackMessage {
  const { invoice, summary } = input;
  const org = orgLabel(input.orgId, input.orgName);
  const status = invoice.statusName;
  const failed = status === 'FAILED';
  const amounts = toAmounts(invoice);
  const balance = balanceOf(status, amounts);
  const period = formatPeriod(invoice.startDate, invoice.endDate);
  const from = input.fromStatus === undefined ? 'new' : statusCode(input.fromStatus);
  const payment: FailedPayment = {
    orgId: input.orgId,
    failedSince: Date.parse(input.failedSince ?? invoice.updated),
    atlasBaseUrl: input.atlasBaseUrl,
  };

  const blocks: Block[] = [
    header(`${HEADLINES.get(status) ?? `Atlas invoice ${plainText(status, STATUS_MAX)}`}: ${org}`),
    section(
      `${balanceMrkdwn(balance, failed ? payment : undefined)} · ${period} · ${from} → ${statusMrkdwn(status)}`,
    ),
  ];
  if (failed) blocks.push(section(failedPaymentText(payment)));
  blocks.push(arithmeticContext(amounts, balance));
  const costs = summary
    ? topCostsSection(summary.projects, summary.projectCount, summary.skus, summary.skuCount)
    : undefined;
  if (costs !== undefined) blocks.push(costs);
  blocks.push(
    downloadButton(input.orgId, invoice.id),
    context(`Invoice ${code(invoice.id)} · organisation ${code(input.orgId)}`),
  );

  const text = [
    failed ? `Payment failed: the Atlas invoice of ${org}` : `Atlas invoice of ${org}`,
    ` (${period}) is now ${status}`,
    input.fromStatus === undefined ? '' : ` (was ${input.fromStatus})`,
    `: ${describeBalance(balance)}`,
    failed ? `, ${suspensionClause(payment, utcDay)}` : '',
    '.',
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
  /** ATLAS_BASE_URL, for the billing link when an invoice has a failed payment. */
  readonly atlasBaseUrl?: string | undefined;
}

/**
 * The single message of an organisation's first run: counts by status, the current cycle so far and every FAILED
 * invoice called out with its suspension date, instead of one message per historical invoice.
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
  const balance = (invoice: InvoiceMetadata) => balanceOf(invoice.statusName, toAmounts(invoice));
  const pendingCents = pending.reduce((sum, invoice) => sum + balance(invoice).cents, 0);
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
    const owed = failed.reduce((sum, invoice) => sum + (balance(invoice).owedCents ?? 0), 0);
    const rows = failed.slice(0, FAILED_LISTED_MAX).map((invoice) => {
      const payment = { orgId: input.orgId, failedSince: Date.parse(invoice.updated) };
      return `• ${formatPeriod(invoice.startDate, invoice.endDate)}: ${describeBalance(balance(invoice))}, ${suspensionClause(payment)} (${code(invoice.id)})`;
    });
    if (failed.length > FAILED_LISTED_MAX) rows.push(`• …and ${failed.length - FAILED_LISTED_MAX} more`);
    blocks.push(
      section(
        `:rotating_light: *${failed.length} invoice${failed.length === 1 ? ' has a' : 's have a'} failed payment* ` +
          `(owed ${formatUsd(owed)})\n${rows.join('\n')}`,
      ),
      section(failedPaymentText({ orgId: input.orgId, atlasBaseUrl: input.atlasBaseUrl }, failed.length)),
    );
  }
  blocks.push(context('Use `/invoice &lt;invoice id&gt;` for an invoice’s amounts and a download link.'));

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

function header(text: string): Block {
  return {
    type: 'header',
    text: { type: 'plain_text', text: plainText(text, SLACK_LIMITS.headerText), emoji: true },
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
