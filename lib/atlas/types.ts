/**
 * Atlas invoice shapes as the Admin API returns them (v2 `2023-01-01`, v1.0 and Cloud Manager share the fields).
 * Every money field is an integer number of US cents. Fields are optional where the spec marks none required:
 * code reading them must cope with absence.
 */
export const INVOICE_STATUSES = [
  'PENDING',
  'CLOSED',
  'PAID',
  'FAILED',
  'FORGIVEN',
  'FREE',
  'PREPAID',
  'INVOICED',
] as const;
export type KnownInvoiceStatus = (typeof INVOICE_STATUSES)[number];
/** A status Atlas may add later is kept as its string rather than refused. */
export type InvoiceStatus = KnownInvoiceStatus | (string & {});

export interface Link {
  readonly rel?: string;
  readonly href?: string;
}

export interface InvoiceMetadata {
  readonly id: string;
  readonly orgId: string;
  readonly statusName: InvoiceStatus;
  /** ISO 8601 UTC timestamps. */
  readonly startDate: string;
  readonly endDate: string;
  readonly created?: string;
  readonly updated: string;
  readonly amountBilledCents?: number;
  readonly amountPaidCents?: number;
  readonly creditsCents?: number;
  readonly salesTaxCents?: number;
  readonly subtotalCents?: number;
  readonly startingBalanceCents?: number;
  readonly linkedInvoices?: readonly InvoiceMetadata[];
  readonly links?: readonly Link[];
}

export interface InvoiceLineItem {
  readonly sku?: string;
  readonly cloudProvider?: string;
  readonly groupId?: string;
  readonly groupName?: string;
  readonly clusterName?: string;
  readonly note?: string;
  readonly quantity?: number;
  readonly unit?: string;
  readonly unitPriceDollars?: number;
  readonly totalPriceCents?: number;
  readonly discountCents?: number;
  readonly percentDiscount?: number;
  readonly startDate?: string;
  readonly endDate?: string;
  readonly created?: string;
  readonly tags?: Readonly<Record<string, readonly string[]>>;
}

export interface InvoicePayment {
  readonly id?: string;
  readonly statusName?: string;
  readonly amountBilledCents?: number;
  readonly amountPaidCents?: number;
  readonly salesTaxCents?: number;
  readonly subtotalCents?: number;
  /** Decimal string, e.g. "1.00" (exchange rate for non-USD payments). */
  readonly unitPrice?: string;
  readonly currency?: string;
  readonly created?: string;
  readonly updated?: string;
}

export interface InvoiceRefund {
  readonly amountCents?: number;
  readonly paymentId?: string;
  readonly reason?: string;
  readonly created?: string;
}

export interface Invoice extends InvoiceMetadata {
  readonly lineItems?: readonly InvoiceLineItem[];
  readonly payments?: readonly InvoicePayment[];
  readonly refunds?: readonly InvoiceRefund[];
}

export interface Paginated<T> {
  readonly results: readonly T[];
  readonly totalCount?: number;
  readonly links?: readonly Link[];
}

export const API_FLAVOURS = ['v2', 'v1', 'cloud-manager'] as const;
/** v2: Atlas Admin API v2 (default); v1: deprecated Atlas v1.0; cloud-manager: Cloud Manager public API v1.0. */
export type ApiFlavour = (typeof API_FLAVOURS)[number];

/** Anything that knows how long is left (a `Deadline` from lib/retry.ts): a retry that would outlast it fails now. */
export interface RemainingTime {
  remaining(): number;
}

export interface ListInvoicesOptions {
  readonly statusNames?: readonly KnownInvoiceStatus[];
  /** YYYY-MM-DD. */
  readonly fromDate?: string;
  readonly toDate?: string;
  /** Default false: linked (cross-organisation) invoices can be huge and need Billing Admin. */
  readonly viewLinkedInvoices?: boolean;
  readonly signal?: AbortSignal;
  readonly deadline?: RemainingTime;
  /** Called after each page, for progress output. */
  readonly onPage?: (page: { pageNum: number; count: number; totalCount?: number | undefined }) => void;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  readonly deadline?: RemainingTime;
}

/** An invoice CSV as it arrives: the body is a byte stream that must be consumed or destroyed. */
export interface CsvDownload {
  readonly body: NodeJS.ReadableStream & AsyncIterable<Uint8Array>;
  /** From Content-Length, when the server sent one. */
  readonly contentLength: number | undefined;
}

/** The narrow port the use cases depend on; `createAtlasClient` implements it over HTTP. */
export interface AtlasInvoiceApi {
  listInvoices(orgId: string, options?: ListInvoicesOptions): Promise<InvoiceMetadata[]>;
  getInvoice(orgId: string, invoiceId: string, options?: RequestOptions): Promise<Invoice>;
  /** Accepts both shapes Atlas has used: a paginated list or a single invoice object. */
  getPendingInvoices(orgId: string, options?: RequestOptions): Promise<Invoice[]>;
  getInvoiceCsv(orgId: string, invoiceId: string, options?: RequestOptions): Promise<CsvDownload>;
}
