import { DeadlineError } from '../errors';
import type { InvoiceMetadata } from '../invoices/invoice';
import type { OrgState } from '../invoices/types';
import type { Logger } from '../log';
import type { PollDeps } from './deps';
import { type CompletedWork, mergeCompleted } from './merge-state';
import type { OrgPollReport, PollFailure, PollStep, StatusMove } from './report';

/**
 * Everything one organisation's poll knows and has done so far. Each step (`steps/`) reads it and adds to it; the
 * save records exactly `completed`, merged into `base`.
 */
export interface OrgPoll {
  readonly orgId: string;
  readonly log: Logger;
  /** ISO timestamp of this poll. */
  readonly now: string;
  orgName: string | undefined;
  /** The newest state read (undefined: never saved, or reset) and the ETag the next conditional save names. */
  base: OrgState | undefined;
  etag: string | undefined;
  /** Where the unreadable state was moved, when this run re-baselines the organisation. */
  resetFrom: string | undefined;
  /** The listing, invalid invoices left out. */
  listed: readonly InvoiceMetadata[];
  /** What this run completed, per invoice. */
  readonly completed: Map<string, CompletedWork>;
  /** Invoices whose work this run started: each is tried once per run, whatever the save rounds. */
  readonly attempted: Set<string>;
  /** Invoices with work to do, and those of them left for the next run for lack of time. */
  readonly changed: Set<string>;
  readonly deferred: Set<string>;
  /** Set when this run delivered the first-run message ("now watching", or the reset notice). */
  watchingSince: string | undefined;
  firstRunMessageTried: boolean;
  /**
   * Invoices whose CSV and index this run stored and whose spend work is still outstanding (the PENDING invoice's
   * alerts): archived, though not yet recorded as such.
   */
  readonly stored: Set<string>;
  /** Keys of the spend alerts this run delivered (or settled at a state reset), recorded with the save. */
  readonly fired: Set<string>;
  readonly counts: {
    firstRun: boolean;
    invoicesSeen: number;
    invalidInvoices: number;
    archived: number;
    identical: number;
    notified: number;
    spendRecords: number;
    spendAlerts: number;
    conflicts: number;
    saved: boolean;
  };
  readonly seen: { newInvoices: number; updatedOnly: number; statusChanges: StatusMove[] };
  readonly errors: PollFailure[];
  /** Whether the deadline has passed (a failure after it is reported as the deadline's). */
  readonly deadlinePassed: () => boolean;
}

export function startOrgPoll(deps: PollDeps, orgId: string): OrgPoll {
  return {
    orgId,
    log: deps.log.child({ orgId }),
    now: deps.now().toISOString(),
    orgName: undefined,
    base: undefined,
    etag: undefined,
    resetFrom: undefined,
    listed: [],
    completed: new Map(),
    attempted: new Set(),
    changed: new Set(),
    deferred: new Set(),
    watchingSince: undefined,
    firstRunMessageTried: false,
    stored: new Set(),
    fired: new Set(),
    counts: {
      firstRun: false,
      invoicesSeen: 0,
      invalidInvoices: 0,
      archived: 0,
      identical: 0,
      notified: 0,
      spendRecords: 0,
      spendAlerts: 0,
      conflicts: 0,
      saved: false,
    },
    seen: { newInvoices: 0, updatedOnly: 0, statusChanges: [] },
    errors: [],
    deadlinePassed: () => deps.deadline.signal.aborted,
  };
}

/**
 * Record a failed step (logged once, kept for the report). A request cut off by the deadline is reported as the
 * deadline's doing, whatever error the cut surfaced as.
 */
export function failStep(poll: OrgPoll, step: PollStep, error: unknown, invoiceId?: string): void {
  const reported =
    poll.deadlinePassed() && !(error instanceof DeadlineError)
      ? new DeadlineError(`deadline passed during ${step}`, { cause: error })
      : error;
  poll.errors.push({
    step,
    ...(invoiceId !== undefined ? { invoiceId } : {}),
    error: reported instanceof Error ? reported.name : 'Error',
    message: reported instanceof Error ? reported.message : String(reported),
  });
  poll.log.warn(`poll step failed: ${step}`, {
    ...(invoiceId !== undefined ? { invoiceId } : {}),
    error: reported,
  });
}

/** Remember a finished piece of work, on top of what this run already did for that invoice. */
export function recordWork(poll: OrgPoll, work: CompletedWork): void {
  const earlier = poll.completed.get(work.invoice.id);
  poll.completed.set(work.invoice.id, { ...earlier, ...work });
}

/** The state as it would be saved now: the base with this run's completed work merged in. */
export function mergedState(poll: OrgPoll): OrgState {
  return mergeCompleted(poll.base, poll.completed.values(), {
    orgId: poll.orgId,
    orgName: poll.orgName,
    now: poll.now,
    watchingSince: poll.watchingSince,
    fired: poll.fired,
  });
}

export function reportOf(poll: OrgPoll): OrgPollReport {
  const { counts, seen } = poll;
  return {
    orgId: poll.orgId,
    ...(poll.orgName !== undefined ? { orgName: poll.orgName } : {}),
    firstRun: counts.firstRun,
    invoicesSeen: counts.invoicesSeen,
    invalidInvoices: counts.invalidInvoices,
    newInvoices: seen.newInvoices,
    statusChanges: seen.statusChanges,
    updatedOnly: seen.updatedOnly,
    ...(poll.resetFrom !== undefined ? { stateReset: poll.resetFrom } : {}),
    changed: poll.changed.size,
    archived: counts.archived,
    identical: counts.identical,
    notified: counts.notified,
    spendRecords: counts.spendRecords,
    spendAlerts: counts.spendAlerts,
    deferred: poll.deferred.size,
    conflicts: counts.conflicts,
    saved: counts.saved,
    errors: poll.errors,
  };
}
