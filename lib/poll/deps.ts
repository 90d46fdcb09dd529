import type { CsvArchive } from '../archive/csv-archive';
import type { IndexReader, IndexWriter, StateQuarantine, StateReader, StateWriter } from '../archive/ports';
import type { SpendStore } from '../archive/spend-store';
import type { CsvDownload, ListInvoicesOptions, RequestOptions } from '../atlas/types';
import type { InvoiceMetadata } from '../invoices/invoice';
import type { Logger } from '../log';
import type { Deadline } from '../retry';
import type { Notifier } from '../slack/notifier';
import type { SpendChartInput } from '../spend/chart/types';
import type { SpendSettings } from '../spend/settings';

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
  readonly stateStore: StateReader & StateWriter & StateQuarantine;
  readonly indexStore: IndexReader & IndexWriter;
  /** Each organisation's usage record per billing month, and the chart of the month being watched. */
  readonly spendStore: SpendStore;
  readonly notifier: Notifier;
  /** What the spend watch alerts on (budgets, alert percentages, the spike rule). */
  readonly spend: SpendSettings;
  /** Draws the spend chart as a PNG (`renderSpendChartPng`: loads its renderer on the first chart). */
  readonly renderChart: (input: SpendChartInput) => Promise<Uint8Array>;
  readonly log: Logger;
  readonly now: () => Date;
  /**
   * Invoice work stops starting `reserveMs` before it; every request in flight (Atlas, S3, Slack) aborts at it, the
   * state save and its re-reads included.
   */
  readonly deadline: Deadline;
  readonly orgIds: readonly string[];
  /** ATLAS_BASE_URL: messages link to the organisation's billing page there (when it is Atlas itself). */
  readonly atlasBaseUrl?: string | undefined;
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

/** Whether new invoice work may start: more than the reserve for the save is left before the deadline. */
export function hasTimeForWork(deps: PollDeps): boolean {
  return deps.deadline.remaining() >= (deps.reserveMs ?? DEFAULT_RESERVE_MS);
}
