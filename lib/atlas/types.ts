import type { Invoice, InvoiceMetadata, KnownInvoiceStatus, Link } from '../invoices/invoice';

/**
 * The Atlas Admin API adapter's own types: pagination, flavours, request options and the port the use cases call.
 * The invoice shapes themselves are domain types (lib/invoices/invoice.ts).
 */
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
