import type { CsvArchive } from '../archive/csv-archive';
import type { IndexReader, IndexWriter, StateReader, StateWriter } from '../archive/ports';
import type { CsvDownload, ListInvoicesOptions, RequestOptions } from '../atlas/types';
import { StateConflictError } from '../errors';
import { isObjectId } from '../ids';
import { compareUpdated, diffInvoices, type InvoiceChange } from '../invoices/diff';
import type { InvoiceMetadata } from '../invoices/invoice';
import { toAmounts } from '../invoices/money';
import type { CsvSummary, InvoiceIndexEntry, OrgState } from '../invoices/types';
import type { Logger } from '../log';
import type { Deadline } from '../retry';
import { buildStatusChangeMessage, buildWatchingMessage } from '../slack/notification-blocks';
import type { Notifier } from '../slack/notifier';
import { type CompletedWork, mergeCompleted } from './merge-state';
import {
  type OrgPollReport,
  POLL_STEPS,
  type PollFailure,
  type PollReport,
  type PollStep,
  summarise,
} from './report';

/**
 * The two Atlas calls the poll makes (`createAtlasClient` satisfies it). The deadline, when the client understands it,
 * keeps retries from starting when they could not finish in time.
 */
export interface PollAtlas {
  listInvoices(
    orgId: string,
    options?: ListInvoicesOptions & { deadline?: Deadline },
  ): Promise<InvoiceMetadata[]>;
  getInvoiceCsv(
    orgId: string,
    invoiceId: string,
    options?: RequestOptions & { deadline?: Deadline },
  ): Promise<CsvDownload>;
}

export interface PollDeps {
  readonly atlas: PollAtlas;
  readonly archive: CsvArchive;
  readonly stateStore: StateReader & StateWriter;
  readonly indexStore: IndexReader & IndexWriter;
  readonly notifier: Notifier;
  readonly log: Logger;
  readonly now: () => Date;
  /** Invoice work stops starting `reserveMs` before it; requests in flight abort at it. */
  readonly deadline: Deadline;
  readonly orgIds: readonly string[];
  /** Organisations polled at once. */
  readonly concurrency: number;
  /** Projects and SKUs kept in each CSV summary. */
  readonly topN: number;
  /** Milliseconds kept back for the save: no new invoice work starts with less than this left. Default 5,000. */
  readonly reserveMs?: number;
  /** Conditional-save rounds per organisation before giving up on a contended state. Default 5. */
  readonly maxSaveRounds?: number;
}

export const DEFAULT_RESERVE_MS = 5_000;
export const DEFAULT_MAX_SAVE_ROUNDS = 5;

/**
 * One scheduled poll. Organisations run with bounded concurrency and independently: one's failure is recorded in its
 * report and the others go on. Never throws; the caller decides what a failed report means (the handler rethrows).
 *
 * Per organisation: read state → list invoices → diff → for each change, oldest billing period first: archive the
 * CSV and write its index → notify → remember the completed work; then save the state once, conditionally, recording
 * exactly the work that completed. Consequences, by construction:
 * - an invoice whose archive or notification failed is not recorded, so the next run re-does it;
 * - a crash anywhere before the save loses only the record, never the work's trigger: the next run re-does the
 *   archive (found identical, so not written again) and the notification; a message posted just before such a crash
 *   is the only possible duplicate;
 * - a lost conditional save (another run wrote first) re-reads, merges what this run completed into the newer state,
 *   does whatever the merged state still lacks, and saves again (bounded rounds);
 * - with little time left, no new invoice is started and what completed is saved.
 * A new organisation (no state) gets its CSVs archived and one "now watching" message instead of one per invoice.
 */
export async function runPoll(deps: PollDeps): Promise<PollReport> {
  const startedAt = deps.now().toISOString();
  const reports: OrgPollReport[] = new Array(deps.orgIds.length);
  let next = 0;
  const worker = async () => {
    while (next < deps.orgIds.length) {
      const index = next;
      next += 1;
      const orgId = deps.orgIds[index] as string;
      reports[index] = await pollOrganisation(deps, orgId);
    }
  };
  const workers = Math.max(1, Math.min(deps.concurrency, deps.orgIds.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return summarise(reports, startedAt, deps.now().toISOString());
}

interface Counters {
  invoicesSeen: number;
  archived: number;
  identical: number;
  notified: number;
  conflicts: number;
  saved: boolean;
  firstRun: boolean;
}

async function pollOrganisation(deps: PollDeps, orgId: string): Promise<OrgPollReport> {
  const { deadline } = deps;
  const log = deps.log.child({ orgId });
  const reserveMs = deps.reserveMs ?? DEFAULT_RESERVE_MS;
  const maxRounds = deps.maxSaveRounds ?? DEFAULT_MAX_SAVE_ROUNDS;
  const now = deps.now().toISOString();
  const counters: Counters = {
    invoicesSeen: 0,
    archived: 0,
    identical: 0,
    notified: 0,
    conflicts: 0,
    saved: false,
    firstRun: false,
  };
  const errors: PollFailure[] = [];
  const changed = new Set<string>();
  const deferred = new Set<string>();
  let orgName: string | undefined;

  const fail = (step: PollStep, error: unknown, invoiceId?: string) => {
    const failure: PollFailure = {
      step,
      ...(invoiceId !== undefined ? { invoiceId } : {}),
      error: error instanceof Error ? error.name : 'Error',
      message: error instanceof Error ? error.message : String(error),
    };
    errors.push(failure);
    log.warn(`poll step failed: ${step}`, { ...(invoiceId !== undefined ? { invoiceId } : {}), error });
  };
  const finish = (): OrgPollReport => ({
    orgId,
    ...(orgName !== undefined ? { orgName } : {}),
    firstRun: counters.firstRun,
    invoicesSeen: counters.invoicesSeen,
    changed: changed.size,
    archived: counters.archived,
    identical: counters.identical,
    notified: counters.notified,
    deferred: deferred.size,
    conflicts: counters.conflicts,
    saved: counters.saved,
    errors,
  });

  let base: OrgState | undefined;
  let etag: string | undefined;
  try {
    const stored = await deps.stateStore.readState(orgId, deadline.signal);
    base = stored?.state;
    etag = stored?.etag;
  } catch (error) {
    fail(POLL_STEPS.readState, error);
    return finish();
  }
  orgName = base?.orgName;

  let listed: InvoiceMetadata[];
  try {
    listed = await deps.atlas.listInvoices(orgId, {
      viewLinkedInvoices: false,
      signal: deadline.signal,
      deadline,
    });
  } catch (error) {
    fail(POLL_STEPS.list, error);
    return finish();
  }
  listed = listed.filter((invoice) => {
    if (isObjectId(invoice.id)) return true;
    log.warn('listing returned an invoice without a valid id; skipped');
    return false;
  });
  counters.invoicesSeen = listed.length;

  const completed = new Map<string, CompletedWork>();
  const attempted = new Set<string>();
  let watchingSince: string | undefined;
  let summaryAttempted = false;
  const meta = () => ({ orgId, orgName, now, watchingSince });
  const record = (work: CompletedWork) => {
    const earlier = completed.get(work.invoice.id);
    completed.set(work.invoice.id, { ...earlier, ...work });
  };
  const timeLeft = () => deadline.remaining() >= reserveMs;

  const archiveAndIndex = async (change: InvoiceChange): Promise<CsvSummary | undefined> => {
    const { invoice } = change;
    try {
      const result = await deps.archive.archiveCsv({
        orgId,
        invoice,
        previous: change.previous?.archived,
        openCsv: () => deps.atlas.getInvoiceCsv(orgId, invoice.id, { signal: deadline.signal, deadline }),
        topN: deps.topN,
        signal: deadline.signal,
      });
      orgName = cleanName(result.summary.organizationName) ?? orgName;
      await deps.indexStore.writeIndex(
        indexEntry(orgId, orgName, invoice, result, deps.now()),
        deadline.signal,
      );
      if (result.outcome === 'identical') counters.identical += 1;
      else counters.archived += 1;
      record({
        invoice,
        archived: {
          statusName: invoice.statusName,
          updated: invoice.updated,
          sha256: result.csv.sha256,
          key: result.csv.key,
        },
      });
      return result.summary;
    } catch (error) {
      fail(POLL_STEPS.archive, error, invoice.id);
      return undefined;
    }
  };

  const notifyChange = async (change: InvoiceChange, summary: CsvSummary | undefined) => {
    const { invoice } = change;
    try {
      const known =
        summary ??
        (await deps.indexStore.readIndex(invoice.id, deadline.signal).catch(() => undefined))?.summary;
      const message = buildStatusChangeMessage({
        orgId,
        orgName,
        invoice,
        fromStatus: change.fromStatus,
        summary: known,
      });
      await deps.notifier.post(orgId, message, deadline);
      counters.notified += 1;
      record({ invoice, notifiedStatus: invoice.statusName });
    } catch (error) {
      fail(POLL_STEPS.notify, error, invoice.id);
    }
  };

  const sendWatching = async (current: OrgState) => {
    summaryAttempted = true;
    const archivedCount = listed.filter(
      (invoice) => current.invoices[invoice.id]?.archived !== undefined,
    ).length;
    try {
      await deps.notifier.post(
        orgId,
        buildWatchingMessage({ orgId, orgName, invoices: listed, archivedCount }),
        deadline,
      );
      counters.notified += 1;
      watchingSince = now;
      // The summary covers every listed invoice the state does not already know in a newer version.
      for (const invoice of listed) {
        const entry = current.invoices[invoice.id];
        if (entry !== undefined && compareUpdated(invoice.updated, entry.updated) < 0) continue;
        record({ invoice, notifiedStatus: invoice.statusName });
      }
    } catch (error) {
      fail(POLL_STEPS.notify, error);
    }
  };

  for (let round = 1; ; round += 1) {
    const current = mergeCompleted(base, completed.values(), meta());
    const firstRun = current.watchingSince === '';
    counters.firstRun ||= firstRun;
    const { changes } = diffInvoices(listed, current);
    for (const change of changes) {
      const id = change.invoice.id;
      if (attempted.has(id)) continue;
      changed.add(id);
      if (!timeLeft()) {
        deferred.add(id);
        continue;
      }
      attempted.add(id);
      deferred.delete(id);
      const summary = change.archive ? await archiveAndIndex(change) : undefined;
      if (change.archive && summary === undefined) continue;
      if (change.notify && !firstRun) await notifyChange(change, summary);
    }
    if (firstRun && !summaryAttempted && timeLeft()) {
      await sendWatching(mergeCompleted(base, completed.values(), meta()));
    }

    if (completed.size === 0 && watchingSince === undefined) break;
    const state = mergeCompleted(base, completed.values(), meta());
    try {
      etag = await deps.stateStore.writeState(state, etag);
      counters.saved = true;
      break;
    } catch (error) {
      if (!(error instanceof StateConflictError)) {
        fail(POLL_STEPS.save, error);
        break;
      }
      counters.conflicts += 1;
      log.info('state changed under this run; re-reading and merging', { round });
      if (round >= maxRounds) {
        fail(POLL_STEPS.save, error);
        break;
      }
    }
    try {
      const stored = await deps.stateStore.readState(orgId);
      base = stored?.state;
      etag = stored?.etag;
    } catch (error) {
      fail(POLL_STEPS.save, error);
      break;
    }
  }
  if (deferred.size > 0)
    log.warn('deadline near: invoices left for the next run', { deferred: deferred.size });
  return finish();
}

function indexEntry(
  orgId: string,
  orgName: string | undefined,
  invoice: InvoiceMetadata,
  result: { csv: InvoiceIndexEntry['csv']; summary: CsvSummary },
  at: Date,
): InvoiceIndexEntry {
  return {
    version: 1,
    invoiceId: invoice.id,
    orgId,
    ...(orgName !== undefined ? { orgName } : {}),
    statusName: invoice.statusName,
    startDate: invoice.startDate,
    endDate: invoice.endDate,
    updated: invoice.updated,
    amounts: toAmounts(invoice),
    summary: result.summary,
    csv: result.csv,
    archivedAt: at.toISOString(),
  };
}

function cleanName(name: string | undefined): string | undefined {
  const trimmed = name?.trim();
  return trimmed ? trimmed : undefined;
}
