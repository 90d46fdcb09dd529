import type { InvoiceStatus } from './invoice';

/** All in integer US cents; a field Atlas omitted counts as 0. */
export interface InvoiceAmounts {
  readonly subtotalCents: number;
  readonly creditsCents: number;
  readonly salesTaxCents: number;
  readonly startingBalanceCents: number;
  readonly amountBilledCents: number;
  readonly amountPaidCents: number;
}

/** One project or SKU with what it cost on the invoice, in cents. */
export interface CostLine {
  readonly name: string;
  /** Project id for projects; absent for SKUs. */
  readonly id?: string;
  readonly cents: number;
}

/** What one streaming pass over an invoice CSV learns (see `lib/invoices/csv-summary.ts`). */
export interface CsvSummary {
  readonly invoiceNumber?: string;
  readonly billingPeriod?: string;
  readonly organizationName?: string;
  readonly organizationId?: string;
  readonly lineItemCount: number;
  /** Sum of the Amount column, in cents. */
  readonly totalCents: number;
  /** Largest first, at most `topN` entries; the counts say how many there were in all. */
  readonly projects: readonly CostLine[];
  readonly projectCount: number;
  readonly skus: readonly CostLine[];
  readonly skuCount: number;
  /** Rows that could not be read as line items (wrong column count, unreadable amount). */
  readonly malformedRows: number;
}

/** An archived CSV object. */
export interface ArchivedCsv {
  readonly key: string;
  /** Hex SHA-256 of the bytes exactly as Atlas sent them. */
  readonly sha256: string;
  readonly bytes: number;
  /**
   * The object's ETag as S3 returned it when it was written or found identical; absent when no request told it. It
   * changes whenever the object is replaced, so an index entry whose ETag equals the stored object's still describes
   * those bytes (multipart objects carry no sha256 metadata: this is how their hash is vouched for).
   */
  readonly etag?: string;
}

/**
 * The index object `/invoice <id>` reads in one GET, written by the poller next to each archived CSV.
 * Stored at `indexKey(prefix, invoiceId)`.
 */
export interface InvoiceIndexEntry {
  readonly version: 1;
  readonly invoiceId: string;
  readonly orgId: string;
  readonly orgName?: string;
  readonly statusName: InvoiceStatus;
  readonly startDate: string;
  readonly endDate: string;
  readonly updated: string;
  readonly amounts: InvoiceAmounts;
  readonly summary: CsvSummary;
  readonly csv: ArchivedCsv;
  /** ISO timestamp of the poll that wrote this entry. */
  readonly archivedAt: string;
}

/** What the poller last saw, archived and announced for one invoice. */
export interface InvoiceStateEntry {
  readonly statusName: InvoiceStatus;
  readonly updated: string;
  readonly startDate: string;
  readonly endDate: string;
  readonly amountBilledCents: number;
  readonly amountPaidCents: number;
  /**
   * What the archive holds; absent until the CSV was archived. Recorded only once everything that version asks of the
   * poll is done: the CSV and its index entry, its month's spend record and, for the PENDING invoice, its spend
   * alerts and chart.
   */
  readonly archived?: {
    readonly statusName: InvoiceStatus;
    readonly updated: string;
    readonly sha256: string;
    readonly key: string;
    /**
     * The spend record of its month holds this version's usage series (or the CSV has none). Absent in entries
     * written before the spend watch existed: the poll then reads the CSV once more to write the record.
     */
    readonly spend?: true;
  };
  /** The status the channel was last told about; absent until notified (or covered by the first-run summary). */
  readonly notifiedStatus?: InvoiceStatus;
  /**
   * While the invoice is FAILED: when the poller first saw it FAILED, as Atlas dated that version (`updated`), the
   * closest known instant to the failed payment (Atlas suspends the organisation 30 days after it). Kept while the
   * invoice stays FAILED, absent otherwise.
   */
  readonly failedSince?: string;
}

/** One object per organisation at `stateKey(prefix, orgId)`, written only with a conditional PUT. */
export interface OrgState {
  readonly version: 1;
  readonly orgId: string;
  readonly orgName?: string;
  /** When the first run for this organisation finished (its "now watching" message). */
  readonly watchingSince: string;
  readonly lastPollAt: string;
  readonly invoices: Readonly<Record<string, InvoiceStateEntry>>;
  /** The spend watch's memory; absent until an alert was sent. */
  readonly spend?: OrgSpendState;
}

export interface OrgSpendState {
  /**
   * Keys of the spend alerts sent (`lib/spend/alerts.ts`: `budget:…`, `forecast:…`, `spike:…`), this billing month's
   * and last month's, sorted: an alert whose key is here is not sent again.
   */
  readonly fired: readonly string[];
}
