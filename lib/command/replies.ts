import type { PresignedLink } from '../archive/ports';
import { balanceOf, describeBalance } from '../invoices/balance';
import type { Invoice, InvoiceStatus } from '../invoices/invoice';
import { toAmounts } from '../invoices/money';
import type { CsvSummary, InvoiceAmounts, InvoiceIndexEntry, InvoiceStateEntry } from '../invoices/types';
import {
  arithmeticContext,
  type Block,
  balanceMrkdwn,
  context,
  failedPaymentText,
  formatPeriod,
  section,
  statusCode,
  statusMrkdwn,
  topCostsSection,
} from '../slack/invoice-blocks';
import {
  code,
  escapeAndTruncate,
  escapeMrkdwn,
  plainText,
  SLACK_LIMITS,
  slackDate,
  utcMinute,
} from '../slack/mrkdwn';
import { COMMAND_LIMITS, type InputProblem, type Visibility } from './parse';

/**
 * Block Kit answers of the slash command and the download button. Pure builders: callers pass raw values (names from
 * Atlas, ids, user excerpts) and every outside string is escaped here. Errors and refusals are always ephemeral.
 */
export interface SlackReply {
  readonly response_type: Visibility;
  /** Plain fallback for notifications and screen readers; always set. */
  readonly text: string;
  readonly blocks?: readonly Block[];
  /** Set on answers posted through a button's response_url so the channel message stays. */
  readonly replace_original?: false;
}

/** One invoice as the poller's state records it, with its organisation. */
export interface InvoiceRow {
  readonly orgId: string;
  readonly orgName: string | undefined;
  readonly invoiceId: string;
  readonly entry: InvoiceStateEntry;
}

export const DOWNLOAD_BUTTON_ACTION_ID = 'invoice_csv_download';
const EXAMPLE_ID = '65a1f0c2e4b0a1b2c3d4e5f6';
const ORG_NAME_MAX = 60;

export function helpReply(command: string, visibility: Visibility): SlackReply {
  const c = commandName(command);
  const lines = [
    `*Atlas invoices*: what ${code(c)} can do`,
    `• ${usage(c, 'invoice')}: status, amounts, top projects and SKUs, and a download link for the CSV`,
    `• ${usage(c, 'latest')}: the most recent invoice of each watched organisation`,
    `• ${usage(c, 'pending')}: the current cycle so far and the invoices awaiting payment`,
    `• ${usage(c, 'spend')}: month-to-date spend, the month-end forecast with its range and arithmetic, budgets, top projects and biggest movers, with a chart`,
    `• ${usage(c, 'list')}: the n most recent invoices (1 to ${COMMAND_LIMITS.maxListCount}, default ${COMMAND_LIMITS.defaultListCount})`,
    `• ${usage(c, 'help')}: this message`,
    `An invoice id is 24 characters, digits 0-9 and letters a-f, e.g. ${code(EXAMPLE_ID)}. Add \`public\` to post the answer in the channel; otherwise only you see it.`,
  ];
  return {
    response_type: visibility,
    text: escapeMrkdwn(`${c} ${[...USAGES.values()].join(' | ')}`),
    blocks: [section(lines.join('\n'))],
  };
}

/** The same words whatever failed (workspace, channel or user), so a refusal reveals nothing. */
export function refusalReply(): SlackReply {
  return ephemeral(
    'Sorry, Atlas billing data is not available here. Ask the person who runs the Atlas invoice app for access.',
  );
}

export function problemReply(command: string, problem: InputProblem): SlackReply {
  const c = commandName(command);
  const idShape = `An invoice id is 24 characters, digits 0-9 and letters a-f, e.g. \`${EXAMPLE_ID}\`.`;
  switch (problem.kind) {
    case 'too-long':
      return ephemeral(
        `That is too long for \`${c}\` (${problem.length} characters; it reads at most ${COMMAND_LIMITS.maxTextLength}). Try \`${c} help\`.`,
      );
    case 'not-ascii':
      return ephemeral(
        `${code(problem.excerpt)} contains characters other than plain letters and digits. ${idShape} Try \`${c} help\`.`,
      );
    case 'malformed-id':
      return ephemeral(
        `${code(problem.excerpt)} is not an invoice id. ${idShape} The poller's messages and \`${c} list\` show them.`,
      );
    case 'malformed-org-id':
      return ephemeral(
        `${code(problem.excerpt)} is not an organisation id: it is 24 characters, digits 0-9 and letters a-f.`,
      );
    case 'unknown-subcommand':
      return ephemeral(`I don't know ${code(problem.excerpt)}. Try \`${c} help\` to see what I can do.`);
    case 'extra-words':
      return ephemeral(
        `${usage(c, problem.usage)} takes no more words (got ${code(problem.excerpt)}). Try \`${c} help\`.`,
      );
    case 'bad-count':
      return ephemeral(
        `${code(problem.excerpt)} is not a number from 1 to ${COMMAND_LIMITS.maxListCount}, e.g. \`${c} list 10\`.`,
      );
  }
}

const USAGES: ReadonlyMap<string, string> = new Map([
  ['invoice', '<invoice id>'],
  ['latest', 'latest [org id]'],
  ['pending', 'pending'],
  ['spend', 'spend [org id]'],
  ['list', 'list [n]'],
  ['help', 'help'],
]);

/** `` `/invoice <invoice id>` ``, escaped: a raw `<…>` is a link token to Slack and would vanish. */
function usage(command: string, subcommand: string): string {
  return code(`${command} ${USAGES.get(subcommand) ?? subcommand}`);
}

/** An archived invoice from its index entry, with a fresh download link. */
export function archivedInvoiceReply(args: {
  readonly entry: InvoiceIndexEntry;
  readonly link: PresignedLink;
  readonly fileName: string;
  readonly now: number;
  readonly visibility: Visibility;
  /** ATLAS_BASE_URL, for the billing link of a failed payment. */
  readonly atlasBaseUrl?: string | undefined;
}): SlackReply {
  const { entry, link, fileName, now } = args;
  const org = orgLabel(entry.orgId, entry.orgName ?? entry.summary.organizationName);
  const period = formatPeriod(entry.startDate, entry.endDate);
  const balance = balanceOf(entry.statusName, entry.amounts);
  const blocks = [
    ...invoiceBlocks({
      orgId: entry.orgId,
      org,
      period,
      status: entry.statusName,
      amounts: entry.amounts,
      summary: entry.summary,
      updated: entry.updated,
      now,
      atlasBaseUrl: args.atlasBaseUrl,
    }),
    downloadButton(link.url),
    context(
      [
        code(fileName),
        linkExpiry(link, now),
        entry.statusName === 'PENDING' ? `archived as of ${slackDate(Date.parse(entry.updated))}` : undefined,
        idsText(entry.invoiceId, entry.orgId),
      ]
        .filter((part): part is string => part !== undefined)
        .join(' · '),
    ),
  ];
  return {
    response_type: args.visibility,
    text: `Atlas invoice ${entry.invoiceId} (${org}, ${period}): ${statusCode(entry.statusName)}, ${describeBalance(balance)}. Download link ${linkExpiryPlain(link, now)}.`,
    blocks,
  };
}

/** An invoice found in Atlas but not archived yet: summary from its JSON line items, no link. */
export function atlasInvoiceReply(args: {
  readonly invoiceId: string;
  readonly orgId: string;
  readonly orgName: string | undefined;
  readonly invoice: Invoice;
  readonly summary: CsvSummary;
  readonly nextPollAt: number | undefined;
  readonly visibility: Visibility;
  readonly command: string;
  /** Epoch milliseconds. */
  readonly now: number;
  /** ATLAS_BASE_URL, for the billing link of a failed payment. */
  readonly atlasBaseUrl?: string | undefined;
}): SlackReply {
  const { invoice, invoiceId } = args;
  const org = orgLabel(args.orgId, args.orgName ?? args.summary.organizationName);
  const period = formatPeriod(invoice.startDate, invoice.endDate);
  const amounts = toAmounts(invoice);
  const when = nextPollText(args.nextPollAt);
  return {
    response_type: args.visibility,
    text: `Atlas invoice ${invoiceId} (${org}, ${period}): ${statusCode(invoice.statusName)}, ${describeBalance(balanceOf(invoice.statusName, amounts))}. Not archived yet: the next poll will archive its CSV${nextPollPlain(args.nextPollAt)}.`,
    blocks: [
      ...invoiceBlocks({
        orgId: args.orgId,
        org,
        period,
        status: invoice.statusName,
        amounts,
        summary: args.summary,
        updated: invoice.updated,
        now: args.now,
        atlasBaseUrl: args.atlasBaseUrl,
      }),
      context(
        `From Atlas just now. The CSV is not archived yet: the next poll will archive it${when}; then ${code(`${commandName(args.command)} ${invoiceId}`)} includes a download link · ${idsText(invoiceId, args.orgId)}`,
      ),
    ],
  };
}

/** Atlas did not answer within the deadline. */
export function atlasSlowReply(invoiceId: string, nextPollAt: number | undefined): SlackReply {
  return ephemeral(
    `Invoice ${code(invoiceId)} is not archived yet, and Atlas did not answer in time to look it up. If it belongs to a watched organisation, the next poll will archive it${nextPollText(nextPollAt)}: try again after that.`,
  );
}

/** Atlas answered with errors (other than "not found") for some organisation. */
export function atlasUnavailableReply(invoiceId: string, nextPollAt: number | undefined): SlackReply {
  return ephemeral(
    `Invoice ${code(invoiceId)} is not archived yet, and Atlas could not be asked about it right now. If it belongs to a watched organisation, the next poll will archive it${nextPollText(nextPollAt)}.`,
  );
}

export function unknownInvoiceReply(invoiceId: string, orgCount: number, command: string): SlackReply {
  const orgs = orgCount === 1 ? 'the watched organisation' : `the ${orgCount} watched organisations`;
  return ephemeral(
    `Invoice ${code(invoiceId)} is unknown for ${orgs}: neither the archive nor Atlas has it. Check the id; \`${commandName(command)} list\` shows recent ones.`,
  );
}

export function unwatchedOrgReply(orgId: string): SlackReply {
  return ephemeral(`Organisation ${code(orgId)} is not one of the watched organisations.`);
}

/** An organisation of a `/invoice spend` answer, as its state names it. */
export interface SpendOrg {
  readonly orgId: string;
  readonly orgName: string | undefined;
}

/** `/invoice spend` for organisations whose billing month the poller has not recorded yet. */
export function spendNotRecordedReply(args: {
  readonly orgs: readonly SpendOrg[];
  readonly nextPollAt: number | undefined;
  readonly command: string;
}): SlackReply {
  const c = commandName(args.command);
  return ephemeral(
    `Not enough data yet for ${orgList(args.orgs)}: the poller records spend from the pending invoice; next poll ${args.nextPollAt === undefined ? 'at its next run' : `at ${slackDate(args.nextPollAt)}`}. Ask \`${c} spend\` again after it.`,
  );
}

/** `/invoice spend` when the stored spend of every organisation asked about could not be read. */
export function spendUnreadableReply(orgs: readonly SpendOrg[]): SlackReply {
  return ephemeral(spendUnreadableText(orgs));
}

/** The note a spend answer carries for organisations the poller has not recorded yet. */
export function spendMissingText(orgs: readonly SpendOrg[]): string {
  return `Not enough data yet for ${orgList(orgs)}: the poller records spend from the pending invoice.`;
}

/** The note a spend answer carries for organisations whose stored spend could not be read. */
export function spendUnreadableText(orgs: readonly SpendOrg[]): string {
  return `The stored spend of ${orgList(orgs)} could not be read right now. Try again in a minute; if it persists, ask whoever runs the Atlas invoice app to check the poller's logs.`;
}

function orgList(orgs: readonly SpendOrg[]): string {
  const shown = orgs.slice(0, 10).map((o) => orgLabel(o.orgId, o.orgName));
  const more = orgs.length > shown.length ? ` and ${orgs.length - shown.length} more` : '';
  return `${shown.join(', ')}${more}`;
}

export function archiveUnavailableReply(): SlackReply {
  return ephemeral('The invoice archive cannot be read right now. Please try again in a minute.');
}

/** The safe answer to anything unexpected: no detail, no error text. */
export function internalErrorReply(): SlackReply {
  return ephemeral('Sorry, something went wrong while answering. Please try again in a minute.');
}

/** What a list of invoices is shown with: notes under it, who sees it, and the command's name for the hint. */
export interface RowsReplyContext {
  readonly notes: readonly string[];
  readonly visibility: Visibility;
  readonly command: string;
}

/** Invoices from the poller's state, newest first, one line each. */
export function invoiceListReply(
  args: RowsReplyContext & {
    readonly title: string;
    readonly rows: readonly InvoiceRow[];
    readonly empty: string;
  },
): SlackReply {
  return rowsReply(args, args.title, [{ rows: args.rows, empty: args.empty }]);
}

/** The current cycle's invoices and those awaiting payment. */
export function pendingReply(
  args: RowsReplyContext & {
    readonly current: readonly InvoiceRow[];
    readonly awaiting: readonly InvoiceRow[];
  },
): SlackReply {
  return rowsReply(args, 'Pending Atlas invoices', [
    {
      heading: { title: 'Current cycle', note: 'PENDING, still accruing' },
      rows: args.current,
      empty: 'No invoice of the current cycle is known yet.',
    },
    {
      heading: { title: 'Awaiting payment', note: 'an amount is owed' },
      rows: args.awaiting,
      empty: 'Nothing is awaiting payment.',
    },
  ]);
}

/** The fresh link a "Get download link" button asked for, posted ephemerally through the action's response_url. */
export function downloadLinkReply(args: {
  readonly entry: InvoiceIndexEntry;
  readonly link: PresignedLink;
  readonly fileName: string;
  readonly now: number;
}): SlackReply {
  const { entry, link, now } = args;
  const org = orgLabel(entry.orgId, entry.orgName ?? entry.summary.organizationName);
  const period = formatPeriod(entry.startDate, entry.endDate);
  const lead = `Download link for invoice ${code(entry.invoiceId)} (${org}, ${period}, ${statusMrkdwn(entry.statusName)})`;
  return {
    response_type: 'ephemeral',
    replace_original: false,
    text: `Download link for Atlas invoice ${entry.invoiceId} (${org}, ${period}); it ${linkExpiryPlain(link, now)}.`,
    blocks: [
      section(lead),
      downloadButton(link.url),
      context(`${code(args.fileName)} · ${linkExpiry(link, now)}`),
    ],
  };
}

/** A button whose value is malformed or names an invoice this deployment does not know. */
export function staleButtonReply(): SlackReply {
  return {
    ...ephemeral('This button does not point to an invoice of a watched organisation any more.'),
    replace_original: false,
  };
}

export function notArchivedButtonReply(invoiceId: string): SlackReply {
  return {
    ...ephemeral(
      `Invoice ${code(invoiceId)} is not archived yet; the next poll will archive it. Try again after that.`,
    ),
    replace_original: false,
  };
}

export function buttonErrorReply(reply: SlackReply): SlackReply {
  return { ...reply, response_type: 'ephemeral', replace_original: false };
}

/**
 * One invoice, read in a few seconds: the period as the header, then the one number that matters with the
 * organisation and the status (and, for a failed payment, when the organisation is suspended and what to do), the
 * arithmetic in one context line, and the top projects and SKUs.
 */
function invoiceBlocks(args: {
  readonly orgId: string;
  /** Escaped mrkdwn. */
  readonly org: string;
  readonly period: string;
  readonly status: InvoiceStatus;
  readonly amounts: InvoiceAmounts;
  readonly summary: CsvSummary;
  /** The invoice's `updated`: a failed payment's deadlines count from it. */
  readonly updated: string;
  readonly now: number;
  readonly atlasBaseUrl: string | undefined;
}): Block[] {
  const balance = balanceOf(args.status, args.amounts);
  const top = topCostsSection(
    args.summary.projects,
    args.summary.projectCount,
    args.summary.skus,
    args.summary.skuCount,
  );
  const payment = {
    orgId: args.orgId,
    failedSince: Date.parse(args.updated),
    atlasBaseUrl: args.atlasBaseUrl,
  };
  const failed = args.status === 'FAILED';
  const amount = balanceMrkdwn(balance, failed ? { ...payment, now: args.now } : undefined);
  return [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: plainText(`Atlas invoice · ${args.period}`, SLACK_LIMITS.headerText),
      },
    },
    section(`${amount} · ${args.org} · ${statusMrkdwn(args.status)}`),
    ...(failed ? [section(failedPaymentText(payment))] : []),
    arithmeticContext(args.amounts, balance),
    ...(top === undefined ? [] : [top]),
  ];
}

/** `invoice `…` of organisation `…``: the ids, once, for whoever needs to quote them. */
function idsText(invoiceId: string, orgId: string): string {
  return `invoice ${code(invoiceId)} of organisation ${code(orgId)}`;
}

function rowsReply(
  { notes, visibility, command }: RowsReplyContext,
  title: string,
  groups: ReadonlyArray<{
    readonly heading?: { readonly title: string; readonly note: string };
    readonly rows: readonly InvoiceRow[];
    readonly empty: string;
  }>,
): SlackReply {
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: plainText(title, SLACK_LIMITS.headerText) } },
  ];
  const plain: string[] = [title];
  for (const { heading, rows, empty } of groups) {
    const lines = rows.length === 0 ? [empty] : rows.map(rowLine);
    blocks.push(...chunkSections([...(heading ? [`*${heading.title}* (${heading.note})`] : []), ...lines]));
    if (heading) plain.push(`${heading.title}: ${rows.length} invoice${rows.length === 1 ? '' : 's'}`);
  }
  blocks.push(
    context(
      [...notes, `${usage(commandName(command), 'invoice')} shows one invoice with its download link.`].join(
        ' ',
      ),
    ),
  );
  return {
    response_type: visibility,
    text: plain.join('. '),
    blocks: blocks.slice(0, SLACK_LIMITS.blocksPerMessage),
  };
}

function rowLine(row: InvoiceRow): string {
  const { entry } = row;
  const org = escapeAndTruncate(row.orgName ?? row.orgId, ORG_NAME_MAX);
  const balance = describeBalance(balanceOf(entry.statusName, entry));
  const archived = entry.archived === undefined ? ' · _not archived yet_' : '';
  return `• ${formatPeriod(entry.startDate, entry.endDate)} · ${org} · *${statusCode(entry.statusName)}* · ${balance} · ${code(row.invoiceId)}${archived}`;
}

/** Lines grouped into sections under Block Kit's 3,000-character section limit. */
function chunkSections(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let current = '';
  for (const line of lines) {
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length > SLACK_LIMITS.sectionText && current !== '') {
      blocks.push(section(current));
      current = line;
    } else {
      current = next;
    }
  }
  if (current !== '') blocks.push(section(current));
  return blocks;
}

function downloadButton(url: string): Block {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: DOWNLOAD_BUTTON_ACTION_ID,
        text: { type: 'plain_text', text: 'Download CSV' },
        url,
      },
    ],
  };
}

function linkExpiry(link: PresignedLink, now: number): string {
  return `link expires in ${duration(link.expiresAt - now)}, at ${slackDate(link.expiresAt)}`;
}

function linkExpiryPlain(link: PresignedLink, now: number): string {
  return `expires in ${duration(link.expiresAt - now)} (${utcMinute(link.expiresAt)})`;
}

function duration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

function nextPollText(nextPollAt: number | undefined): string {
  return nextPollAt === undefined ? '' : ` (expected ${slackDate(nextPollAt)})`;
}

function nextPollPlain(nextPollAt: number | undefined): string {
  return nextPollAt === undefined ? '' : ` (expected ${utcMinute(nextPollAt)})`;
}

function orgLabel(orgId: string, name: string | undefined): string {
  return name === undefined || name.trim() === '' ? code(orgId) : escapeAndTruncate(name, ORG_NAME_MAX);
}

/** The command as Slack sent it (the app manifest may name it differently); `/invoice` if it looks odd. */
function commandName(command: string): string {
  return /^\/[a-z0-9_-]{1,32}$/i.test(command) ? command : '/invoice';
}

function ephemeral(text: string): SlackReply {
  return { response_type: 'ephemeral', text };
}
