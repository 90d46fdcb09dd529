import { isObjectId } from '../ids';
import {
  describeBalance,
  explainBalance,
  failedPaymentDeadlines,
  type InvoiceBalance,
  LOCK_DAYS,
  SUSPEND_DAYS,
  statusNote,
} from '../invoices/balance';
import type { InvoiceStatus } from '../invoices/invoice';
import { formatUsd } from '../invoices/money';
import type { CostLine, InvoiceAmounts } from '../invoices/types';
import { escapeAndTruncate, SLACK_LIMITS, slackDay, slackLink, truncateEscaped } from './mrkdwn';

/**
 * Block Kit pieces shared by the poller's notifications and the slash command's answers, so an invoice reads the
 * same wherever it appears. Every outside string is escaped here; callers pass raw values.
 */
export type Block = Record<string, unknown>;

/** The "Get download link" button on the poller's notifications, answered by the slash-command function; its value
 * is `<orgId>:<invoiceId>`. */
export const DOWNLOAD_LINK_ACTION_ID = 'invoice_download_link';

const NAME_MAX = 80;
const STATUS_MAX = 40;

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

/** A status as Atlas sent it, escaped and capped (Atlas may add statuses this app does not know). */
export function statusCode(status: InvoiceStatus): string {
  return escapeAndTruncate(status, STATUS_MAX);
}

/** `*CLOSED* (final, not charged yet)`: the status, and its meaning where the balance does not already say it. */
export function statusMrkdwn(status: InvoiceStatus): string {
  const note = statusNote(status);
  return note === undefined ? `*${statusCode(status)}*` : `*${statusCode(status)}* (${note})`;
}

/**
 * The one number that matters, bold (`*$3,705.14 paid*`); for a failed payment, with when the organisation is
 * suspended (`*$3,567.04 owed*, suspended on <date> unless paid`).
 */
export function balanceMrkdwn(balance: InvoiceBalance, failed?: FailedPayment): string {
  const amount = `*${describeBalance(balance)}*`;
  return failed === undefined ? amount : `${amount}, ${suspensionClause(failed)}`;
}

/** The arithmetic behind the balance, in one context line, zero terms left out. */
export function arithmeticContext(amounts: InvoiceAmounts, balance: InvoiceBalance): Block {
  return context(explainBalance(amounts, balance));
}

export interface FailedPayment {
  readonly orgId: string;
  /** Epoch milliseconds when the failure was first seen. */
  readonly failedSince: number;
  /** ATLAS_BASE_URL: used for the billing link when it is Atlas itself, else https://cloud.mongodb.com. */
  readonly atlasBaseUrl?: string | undefined;
  /** Epoch milliseconds; when given, deadlines already passed are said to have passed. */
  readonly now?: number | undefined;
}

/**
 * `suspended on <date> unless paid` (or, once a deadline has passed, since when), next to the amount owed. Dates are
 * Slack date tokens unless `day` formats them otherwise (`utcDay` for fallback text).
 */
export function suspensionClause(
  payment: FailedPayment,
  day: (epochMs: number) => string = slackDay,
): string {
  const { suspendAt, lockAt } = failedPaymentDeadlines(payment.failedSince);
  const now = payment.now;
  if (now !== undefined && now >= lockAt) return `locked from ${day(lockAt)} while unpaid`;
  if (now !== undefined && now >= suspendAt) return `suspended from ${day(suspendAt)} while unpaid`;
  return `suspended on ${day(suspendAt)} unless paid`;
}

/**
 * What a failed payment leads to and what to do: Atlas's suspension and lock (with the lock date when the failure's
 * start is known; the suspension date goes next to the amount owed, see `suspensionClause`), and a link to the
 * organisation's billing page in Atlas. `invoices` is how many payments failed.
 */
export function failedPaymentText(
  payment: Omit<FailedPayment, 'failedSince' | 'now'> & { readonly failedSince?: number },
  invoices = 1,
): string {
  const lockAt =
    payment.failedSince === undefined ? undefined : failedPaymentDeadlines(payment.failedSince).lockAt;
  const them = invoices === 1 ? 'it' : 'them';
  const billing = atlasBillingUrl(payment.orgId, payment.atlasBaseUrl);
  const action =
    billing === undefined
      ? `Pay ${them} or update the payment method on the organisation’s billing page in Atlas.`
      : `${slackLink(billing, `Pay ${them} or update the payment method in Atlas`)}.`;
  return (
    ':warning: Atlas could not charge the payment method on file. ' +
    `After ${SUSPEND_DAYS} days unpaid the organisation is *suspended*, after ${LOCK_DAYS} days *locked*` +
    `${lockAt === undefined ? '' : ` (${slackDay(lockAt)})`}. ${action}`
  );
}

const ATLAS_UI = 'https://cloud.mongodb.com';
/** Atlas's own hosts (commercial and government); a local sandbox or proxy does not serve the billing pages. */
const ATLAS_UI_HOST = /^cloud(?:-[a-z0-9]+)?\.mongodb(?:gov)?\.com$/;

/** The organisation's billing overview in the Atlas UI, e.g. https://cloud.mongodb.com/v2#/org/{orgId}/billing/overview. */
export function atlasBillingUrl(orgId: string, atlasBaseUrl?: string): string | undefined {
  if (!isObjectId(orgId)) return undefined;
  let origin = ATLAS_UI;
  if (atlasBaseUrl !== undefined) {
    try {
      const url = new URL(atlasBaseUrl);
      if (url.protocol === 'https:' && url.port === '' && ATLAS_UI_HOST.test(url.hostname))
        origin = url.origin;
    } catch {
      // Not a URL: the default Atlas UI.
    }
  }
  return `${origin}/v2#/org/${orgId}/billing/overview`;
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

/** A section whose text is already escaped mrkdwn, capped at Slack's section limit. */
export function section(text: string): Block {
  return { type: 'section', text: mrkdwn(truncateEscaped(text, SLACK_LIMITS.sectionText)) };
}

/** A context line of already escaped mrkdwn, capped at Slack's text limit. */
export function context(text: string): Block {
  return { type: 'context', elements: [mrkdwn(truncateEscaped(text, SLACK_LIMITS.sectionText))] };
}
