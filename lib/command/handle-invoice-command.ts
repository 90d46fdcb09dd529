import { csvFileName } from '../archive/keys';
import type { StateReader } from '../archive/ports';
import type { AtlasInvoiceApi } from '../atlas/types';
import { AtlasApiError, describeError } from '../errors';
import { balanceOf } from '../invoices/balance';
import type { Invoice } from '../invoices/invoice';
import type { InvoiceIndexEntry, OrgState } from '../invoices/types';
import { isAllowed, type SlackRequester } from './access';
import type { SpendCommandDeps } from './answer-spend';
import type { DownloadLinkDeps } from './handle-download-link';
import { estimateNextPoll } from './next-poll';
import { type ParsedCommand, parseCommandText, type Visibility } from './parse';
import {
  archivedInvoiceReply,
  archiveUnavailableReply,
  atlasInvoiceReply,
  atlasSlowReply,
  atlasUnavailableReply,
  helpReply,
  type InvoiceRow,
  invoiceListReply,
  pendingReply,
  problemReply,
  refusalReply,
  type SlackReply,
  unknownInvoiceReply,
  unwatchedOrgReply,
} from './replies';

/** The download link's ports (archive index, presigner, who may ask), the spend answer's, and Atlas. */
export interface InvoiceCommandDeps extends SpendCommandDeps, Omit<DownloadLinkDeps, 'readTimeoutMs'> {
  readonly state: StateReader;
  readonly atlas: AtlasInvoiceApi;
  /** The longest wait for Atlas when an id is not archived yet, in milliseconds (capped by the reply budget). */
  readonly atlasDeadlineMs: number;
  /** The poller's schedule; with it, answers say when an invoice not archived yet will be. */
  readonly pollIntervalMinutes?: number | undefined;
  /**
   * Milliseconds from `receivedAt` by which the answer must be ready (default 2,500). Bolt's Lambda receiver answers
   * Slack only after the listener returns and Slack gives up after 3,000 ms, so every wait here fits inside this.
   */
  readonly replyBudgetMs?: number | undefined;
  /** Projects and SKUs shown for an invoice not archived yet (default 5). */
  readonly topN?: number | undefined;
  /** ATLAS_BASE_URL, for the billing link of a failed payment (anything but Atlas itself: cloud.mongodb.com). */
  readonly atlasBaseUrl?: string | undefined;
}

export interface InvoiceCommandInput extends SlackRequester {
  /** What followed the command, as Slack sent it. */
  readonly text: string | undefined;
  /** The command's own name (`/invoice` unless the app manifest renamed it), used in hints. */
  readonly command: string;
  /** Epoch milliseconds when the request reached the function; defaults to now. */
  readonly receivedAt?: number | undefined;
}

export const DEFAULT_REPLY_BUDGET_MS = 2_500;

/**
 * `/invoice …`: authorise (before reading the text, so a refusal depends on nothing typed), parse, answer. Expected failures (bad input, S3 or Atlas trouble, a slow Atlas) become
 * short answers; nothing here puts error text into a reply. Anything unexpected is thrown for the listener to answer
 * with a safe message. Reads only: one index GET and a presign for an archived id; one state GET per watched
 * organisation (in parallel) for latest/pending/list; for spend, per organisation its state, five spend records and a
 * chart HEAD, in parallel (see answer-spend.ts).
 */
export async function handleInvoiceCommand(
  deps: InvoiceCommandDeps,
  input: InvoiceCommandInput,
): Promise<SlackReply> {
  if (!isAllowed(deps.access, input)) return refusalReply();
  const parsed = parseCommandText(input.text);
  const budget = createBudget(deps, input.receivedAt);
  switch (parsed.kind) {
    case 'help':
      return helpReply(input.command, parsed.visibility);
    case 'invalid':
      return problemReply(input.command, parsed.problem);
    case 'invoice':
      return answerInvoice(deps, { ...parsed, command: input.command, budget });
    case 'latest':
    case 'pending':
    case 'list':
      return answerFromState(deps, parsed, input.command, budget);
    case 'spend': {
      // Loaded here, off the cold start of every other answer: only spend answers need the spend domain.
      const { answerSpend } = await import('./answer-spend');
      return answerSpend(deps, parsed.orgId, parsed.visibility, input.command, budget.signal());
    }
  }
}

interface Budget {
  /** Milliseconds left before the answer must be ready. */
  remaining(): number;
  signal(): AbortSignal;
}

function createBudget(deps: InvoiceCommandDeps, receivedAt: number | undefined): Budget {
  const end = (receivedAt ?? deps.now()) + (deps.replyBudgetMs ?? DEFAULT_REPLY_BUDGET_MS);
  const remaining = () => Math.max(0, end - deps.now());
  return { remaining, signal: () => AbortSignal.timeout(remaining()) };
}

/** An invoice id asked about, and how the answer is to be given. */
interface InvoiceQuestion {
  readonly invoiceId: string;
  readonly visibility: Visibility;
  /** The command's name, for hints. */
  readonly command: string;
  readonly budget: Budget;
}

async function answerInvoice(deps: InvoiceCommandDeps, question: InvoiceQuestion): Promise<SlackReply> {
  const { invoiceId, visibility, budget } = question;
  let entry: InvoiceIndexEntry | undefined;
  try {
    entry = await deps.index.readIndex(invoiceId, budget.signal());
  } catch (error) {
    deps.log.error('reading the invoice index failed', { invoiceId, error: describeError(error) });
    return archiveUnavailableReply();
  }
  if (entry !== undefined && entry.invoiceId === invoiceId && deps.orgIds.includes(entry.orgId)) {
    return answerArchived(deps, entry, visibility);
  }
  return answerFromAtlas(deps, question);
}

/** An archived invoice with a fresh link to its CSV (a presign: no network). */
async function answerArchived(
  deps: InvoiceCommandDeps,
  entry: InvoiceIndexEntry,
  visibility: Visibility,
): Promise<SlackReply> {
  const fileName = csvFileName(entry.startDate, entry.invoiceId);
  const link = await deps.presigner.presignCsv(entry.csv.key, fileName);
  return archivedInvoiceReply({
    entry,
    link,
    fileName,
    now: deps.now(),
    visibility,
    atlasBaseUrl: deps.atlasBaseUrl,
  });
}

type AtlasLookup =
  | { readonly kind: 'found'; readonly orgId: string; readonly invoice: Invoice }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'timeout' };

async function answerFromAtlas(deps: InvoiceCommandDeps, question: InvoiceQuestion): Promise<SlackReply> {
  const { invoiceId, visibility, command, budget } = question;
  // The states give the organisation's name and the last poll's time; they are read alongside Atlas, best effort.
  const states = readStates(deps, deps.orgIds, budget.signal());
  const lookup = await findInAtlas(deps, invoiceId, Math.min(deps.atlasDeadlineMs, budget.remaining()));
  const known = await withinBudget(states, budget.remaining(), []);
  const nextPollAt = estimateNextPoll(
    deps.pollIntervalMinutes,
    known.map((k) => k.state),
    deps.now(),
  );
  switch (lookup.kind) {
    case 'found': {
      // Loaded here, off the cold start of every other answer: only invoices not archived yet need it.
      const { summariseLineItems } = await import('../invoices/line-item-summary');
      const orgName = known.find((s) => s.orgId === lookup.orgId)?.state?.orgName;
      return atlasInvoiceReply({
        invoiceId,
        orgId: lookup.orgId,
        orgName,
        invoice: lookup.invoice,
        summary: summariseLineItems(lookup.invoice, deps.topN ?? 5),
        nextPollAt,
        visibility,
        command,
        now: deps.now(),
        atlasBaseUrl: deps.atlasBaseUrl,
      });
    }
    case 'timeout':
      deps.log.warn('Atlas did not answer within the deadline', { invoiceId });
      return atlasSlowReply(invoiceId, nextPollAt);
    case 'unavailable':
      return atlasUnavailableReply(invoiceId, nextPollAt);
    case 'unknown':
      return unknownInvoiceReply(invoiceId, deps.orgIds.length, command);
  }
}

/**
 * Ask every watched organisation in parallel; the first one that has the invoice wins, a 404 means "not this
 * organisation". Resolves by `deadlineMs` at the latest, whatever the client does with its signal, and aborts the
 * calls still running when it resolves.
 */
async function findInAtlas(
  deps: InvoiceCommandDeps,
  invoiceId: string,
  deadlineMs: number,
): Promise<AtlasLookup> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<AtlasLookup>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(0, deadlineMs));
      let pending = deps.orgIds.length;
      let failed = false;
      const settle = () => {
        pending -= 1;
        if (pending === 0) resolve({ kind: failed ? 'unavailable' : 'unknown' });
      };
      if (pending === 0) resolve({ kind: 'unknown' });
      for (const orgId of deps.orgIds) {
        deps.atlas.getInvoice(orgId, invoiceId, { signal: controller.signal }).then(
          (invoice) => {
            if (invoice.id === invoiceId) resolve({ kind: 'found', orgId, invoice });
            else settle();
          },
          (error: unknown) => {
            if (!(error instanceof AtlasApiError && error.status === 404)) {
              failed = true;
              if (!controller.signal.aborted) {
                deps.log.warn('looking an invoice up in Atlas failed', {
                  orgId,
                  invoiceId,
                  error: describeError(error),
                });
              }
            }
            settle();
          },
        );
      }
    });
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

interface KnownState {
  readonly orgId: string;
  readonly state: OrgState | undefined;
  readonly failed: boolean;
}

/** One GET per organisation, in parallel; a failed read is reported, not thrown. */
async function readStates(
  deps: InvoiceCommandDeps,
  orgIds: readonly string[],
  signal: AbortSignal,
): Promise<KnownState[]> {
  const settled = await Promise.allSettled(orgIds.map((orgId) => deps.state.readState(orgId, signal)));
  return settled.map((result, i) => {
    const orgId = orgIds[i] ?? '';
    if (result.status === 'fulfilled') return { orgId, state: result.value?.state, failed: false };
    deps.log.warn('reading an organisation state failed', { orgId, error: describeError(result.reason) });
    return { orgId, state: undefined, failed: true };
  });
}

async function answerFromState(
  deps: InvoiceCommandDeps,
  parsed: Extract<ParsedCommand, { kind: 'latest' | 'pending' | 'list' }>,
  command: string,
  budget: Budget,
): Promise<SlackReply> {
  const orgIds = parsed.kind === 'latest' && parsed.orgId !== undefined ? [parsed.orgId] : deps.orgIds;
  if (!orgIds.every((id) => deps.orgIds.includes(id))) return unwatchedOrgReply(orgIds[0] ?? '');
  const known = await readStates(deps, orgIds, budget.signal());
  if (known.every((k) => k.failed)) return archiveUnavailableReply();
  const notes = stateNotes(known);
  const rows = known.flatMap(toRows).sort(newestFirst);
  const { visibility } = parsed;
  switch (parsed.kind) {
    case 'list':
      return invoiceListReply({
        title: listTitle(Math.min(parsed.count, rows.length)),
        rows: rows.slice(0, parsed.count),
        empty: 'No invoice is recorded yet for the watched organisations.',
        notes,
        visibility,
        command,
      });
    case 'pending':
      return pendingReply({
        current: rows.filter((row) => row.entry.statusName === 'PENDING'),
        awaiting: rows.filter((row) => (balanceOf(row.entry.statusName, row.entry).owedCents ?? 0) > 0),
        notes,
        visibility,
        command,
      });
    case 'latest':
      return answerLatest(deps, rows, notes, visibility, command, budget);
  }
}

function listTitle(shown: number): string {
  if (shown === 0) return 'Atlas invoices';
  return shown === 1 ? 'Latest Atlas invoice' : `Latest ${shown} Atlas invoices`;
}

async function answerLatest(
  deps: InvoiceCommandDeps,
  rows: readonly InvoiceRow[],
  notes: readonly string[],
  visibility: Visibility,
  command: string,
  budget: Budget,
): Promise<SlackReply> {
  const latest = new Map<string, InvoiceRow>();
  for (const row of rows) if (!latest.has(row.orgId)) latest.set(row.orgId, row);
  const [only, ...others] = latest.values();
  // One organisation: the whole invoice with its link when it is archived (one index GET and a presign more).
  if (only !== undefined && others.length === 0 && only.entry.archived !== undefined) {
    try {
      const entry = await deps.index.readIndex(only.invoiceId, budget.signal());
      if (entry !== undefined && entry.orgId === only.orgId)
        return await answerArchived(deps, entry, visibility);
    } catch (error) {
      deps.log.warn('reading the latest invoice index failed', {
        invoiceId: only.invoiceId,
        error: describeError(error),
      });
    }
  }
  return invoiceListReply({
    title: latest.size === 1 ? 'Latest Atlas invoice' : 'Latest Atlas invoice of each organisation',
    rows: [...latest.values()],
    empty: 'No invoice is recorded yet for the watched organisations.',
    notes,
    visibility,
    command,
  });
}

function toRows(known: KnownState): InvoiceRow[] {
  const { state } = known;
  if (state === undefined) return [];
  return Object.entries(state.invoices).map(([invoiceId, entry]) => ({
    orgId: known.orgId,
    orgName: state.orgName,
    invoiceId,
    entry,
  }));
}

/** Newest billing period first; ties in a stable order (organisation, then invoice id). */
function newestFirst(a: InvoiceRow, b: InvoiceRow): number {
  const byStart = (Date.parse(b.entry.startDate) || 0) - (Date.parse(a.entry.startDate) || 0);
  if (byStart !== 0) return byStart;
  return a.orgId.localeCompare(b.orgId) || a.invoiceId.localeCompare(b.invoiceId);
}

function stateNotes(known: readonly KnownState[]): string[] {
  const notes: string[] = [];
  const unread = known.filter((k) => k.failed).length;
  const unpolled = known.filter((k) => !k.failed && k.state === undefined).length;
  if (unread > 0) notes.push(`${plural(unread, 'organisation')} could not be read right now.`);
  if (unpolled > 0) notes.push(`${plural(unpolled, 'organisation')} not polled yet.`);
  return notes;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `promise`'s value, or `fallback` once `ms` have passed. */
async function withinBudget<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
