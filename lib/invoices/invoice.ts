/**
 * An Atlas invoice as the domain knows it: the Admin API's shapes (v2 `2023-01-01`, v1.0 and Cloud Manager share the
 * fields), which are also what the archive, the state and the messages describe. Every money field is an integer number
 * of US cents. Fields are optional where the spec marks none required: code reading them must cope with absence.
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
