import { AppError } from '../errors';
import type { InvoiceStatus } from '../invoices/invoice';
import type { RunOutcome } from '../scheduled-run';

/** Where in an organisation's poll something failed. */
export const POLL_STEPS = {
  readState: 'read-state',
  list: 'list',
  archive: 'archive',
  spend: 'spend',
  notify: 'notify',
  save: 'save',
} as const;
export type PollStep = (typeof POLL_STEPS)[keyof typeof POLL_STEPS];

/** One failure, as safe to log and return as the error classes' own messages (never a credential). */
export interface PollFailure {
  readonly step: PollStep;
  /** Absent for failures of the whole organisation (state, listing, save) and of the "now watching" message. */
  readonly invoiceId?: string;
  readonly error: string;
  readonly message: string;
}

/** A status change seen in a listing: what the poller last saw, and what Atlas says now. */
export interface StatusMove {
  readonly invoiceId: string;
  readonly from: InvoiceStatus;
  readonly to: InvoiceStatus;
}

/** The work counted per organisation and, summed, for the whole run. */
export interface PollCounts {
  /** Invoices with archive or notification work to do. */
  readonly changed: number;
  /** CSVs written to S3. */
  readonly archived: number;
  /** CSVs downloaded whose bytes equalled the archived copy, so not written again. */
  readonly identical: number;
  /** Slack messages delivered (status changes, plus the "now watching" message). */
  readonly notified: number;
  /** Spend records written (a month's usage series, see `lib/spend/spend-record.ts`). */
  readonly spendRecords: number;
  /** Spend alerts delivered (budget, forecast, spike), counted apart from `notified`. */
  readonly spendAlerts: number;
  /** Invoices left for the next run because the deadline was near. */
  readonly deferred: number;
}

export interface OrgPollReport extends PollCounts {
  readonly orgId: string;
  readonly orgName?: string;
  /** The "now watching" run: no state yet, or its first message not delivered yet. */
  readonly firstRun: boolean;
  /** Invoices the listing returned that could be recorded. */
  readonly invoicesSeen: number;
  /**
   * Invoices the listing returned that cannot be recorded (no valid id, no readable `updated` or billing period, an
   * amount that is not an exact whole number of cents): logged and skipped, never stored.
   */
  readonly invalidInvoices: number;
  /** Invoices seen for the first time (every invoice, on a first run or after a state reset). */
  readonly newInvoices: number;
  /** Invoices whose status differs from the one last seen. */
  readonly statusChanges: readonly StatusMove[];
  /** Invoices whose `updated` moved without a status change: re-archived, not announced. */
  readonly updatedOnly: number;
  /**
   * Set when the stored state could not be read (corrupt, refused by its codec, a future version): the key it was
   * moved to. The organisation was then re-baselined: invoices recorded again without announcing their history.
   */
  readonly stateReset?: string;
  /** Conditional saves lost to another run (each followed by a re-read and a merge). */
  readonly conflicts: number;
  /** Whether the state was saved (false also when there was nothing to record). */
  readonly saved: boolean;
  readonly errors: readonly PollFailure[];
}

export interface PollTotals extends PollCounts {
  readonly organisations: number;
  readonly failedOrganisations: number;
  readonly invoicesSeen: number;
  readonly invalidInvoices: number;
  readonly newInvoices: number;
  /** Status changes seen, summed. */
  readonly statusChanges: number;
  readonly updatedOnly: number;
  /** Organisations whose unreadable state was moved aside and re-baselined. */
  readonly stateResets: number;
  /** Failures, summed. */
  readonly errors: number;
}

export interface PollReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  /** True when no organisation had an error. */
  readonly ok: boolean;
  readonly orgs: readonly OrgPollReport[];
  readonly totals: PollTotals;
}

export function summarise(orgs: readonly OrgPollReport[], startedAt: string, finishedAt: string): PollReport {
  const sum = (pick: (org: OrgPollReport) => number) => orgs.reduce((total, org) => total + pick(org), 0);
  const failedOrganisations = orgs.filter((org) => org.errors.length > 0).length;
  return {
    startedAt,
    finishedAt,
    ok: failedOrganisations === 0,
    orgs,
    totals: {
      organisations: orgs.length,
      failedOrganisations,
      invoicesSeen: sum((org) => org.invoicesSeen),
      invalidInvoices: sum((org) => org.invalidInvoices),
      newInvoices: sum((org) => org.newInvoices),
      statusChanges: sum((org) => org.statusChanges.length),
      updatedOnly: sum((org) => org.updatedOnly),
      stateResets: orgs.filter((org) => org.stateReset !== undefined).length,
      changed: sum((org) => org.changed),
      archived: sum((org) => org.archived),
      identical: sum((org) => org.identical),
      notified: sum((org) => org.notified),
      spendRecords: sum((org) => org.spendRecords),
      spendAlerts: sum((org) => org.spendAlerts),
      deferred: sum((org) => org.deferred),
      errors: sum((org) => org.errors.length),
    },
  };
}

/** The poll's log line: its totals, and when an organisation failed, each failure and the PollFailedError to throw. */
export function describePoll(report: PollReport): RunOutcome {
  if (report.ok) return { message: 'poll finished', fields: { totals: report.totals } };
  return {
    message: 'poll failed',
    error: new PollFailedError(report),
    fields: {
      totals: report.totals,
      failures: report.orgs.flatMap((org) => org.errors.map((failure) => ({ orgId: org.orgId, ...failure }))),
    },
  };
}

/**
 * Thrown by the handler after every organisation was attempted when any of them failed, so Lambda's error metric,
 * alarm and retry see it. The message lists the failed organisations and steps; `report` has everything.
 */
export class PollFailedError extends AppError {
  override readonly name = 'PollFailedError';
  constructor(readonly report: PollReport) {
    const failed = report.orgs.filter((org) => org.errors.length > 0);
    const parts = failed.map((org) => {
      const steps = [...new Set(org.errors.map((failure) => failure.step))].join(', ');
      return `${org.orgId} (${org.errors.length} error${org.errors.length === 1 ? '' : 's'}: ${steps})`;
    });
    super(`poll failed for ${failed.length} of ${report.orgs.length} organisations: ${parts.join('; ')}`);
  }
}
