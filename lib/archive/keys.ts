import { spendRecordKey } from '../spend/spend-record';

/**
 * Object layout in the archive bucket (one bucket, versioning on):
 *   {prefix}{orgId}/{YYYY-MM}/{invoiceId}.csv     the invoice CSV, bytes as Atlas sent them
 *   {prefix}state/{orgId}.json                     what the poller last saw and announced (conditional writes)
 *   {prefix}state/quarantine/{orgId}-{time}.json   a state object that could not be read, moved aside as it was
 *   {prefix}index/{invoiceId}.json                 what `/invoice <id>` needs, in one GET
 *   {prefix}spend/{orgId}/{YYYY-MM}.json           the month's daily usage series (spendRecordKey, conditional writes)
 *   {prefix}spend/{orgId}/{YYYY-MM}.png            the month's spend chart
 * Ids are validated 24-hex strings before they reach these functions, so keys never need escaping.
 */
export function csvKey(prefix: string, orgId: string, startDate: string, invoiceId: string): string {
  return `${prefix}${orgId}/${billingMonth(startDate)}/${invoiceId}.csv`;
}

export function stateKey(prefix: string, orgId: string): string {
  return `${prefix}state/${orgId}.json`;
}

/** Where an unreadable state object is kept once moved aside; `at` is the poll's time (to the second, UTC). */
export function quarantineKey(prefix: string, orgId: string, at: Date): string {
  const time = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${prefix}state/quarantine/${orgId}-${time}.json`;
}

/** The spend chart of one organisation's billing month (`YYYY-MM`), next to its usage record (same checks). */
export function spendChartKey(prefix: string, orgId: string, month: string): string {
  return spendRecordKey(prefix, orgId, month).replace(/\.json$/, '.png');
}

export function indexKey(prefix: string, invoiceId: string): string {
  return `${prefix}index/${invoiceId}.json`;
}

/** `YYYY-MM` of the billing period's start in UTC; `unknown` when Atlas sent no readable date. */
export function billingMonth(startDate: string): string {
  const at = new Date(startDate);
  if (Number.isNaN(at.getTime())) return 'unknown';
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** A download file name that is safe in a Content-Disposition header: `atlas-invoice-2024-06-<id>.csv`. */
export function csvFileName(startDate: string, invoiceId: string): string {
  return `atlas-invoice-${billingMonth(startDate)}-${invoiceId}.csv`;
}
