import { ValidationError } from '../errors';
import type { ApiFlavour } from './types';

/** The only resource version the invoice endpoints have had so far (atlas-api.md). */
export const DEFAULT_API_VERSION = '2023-01-01';
/** Atlas refuses larger pages with a 400. */
export const MAX_ITEMS_PER_PAGE = 500;

const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Throws a ValidationError unless `value` looks like an Atlas resource version (`YYYY-MM-DD`). */
export function assertApiVersion(value: string, field = 'apiVersion'): string {
  if (API_VERSION_PATTERN.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return value;
  const shown = /^[\x20-\x7e]{1,20}$/.test(value) ? ` (got "${value}")` : '';
  throw new ValidationError(
    field,
    `${field} must be an API version date such as ${DEFAULT_API_VERSION}${shown}`,
  );
}

/** Path prefix of each flavour; the invoice paths below it are the same for all three. */
export const FLAVOUR_PREFIX: Readonly<Record<ApiFlavour, string>> = {
  v2: '/api/atlas/v2',
  v1: '/api/atlas/v1.0',
  'cloud-manager': '/api/public/v1.0',
};

export type Representation = 'json' | 'csv';

/**
 * The exact Accept value to send. v2 uses versioned vendor types (a 406 otherwise); the legacy flavours use plain
 * `application/json` and `text/csv`.
 */
export function acceptFor(flavour: ApiFlavour, representation: Representation, apiVersion: string): string {
  if (flavour === 'v2') return `application/vnd.atlas.${apiVersion}+${representation}`;
  return representation === 'json' ? 'application/json' : 'text/csv';
}

export const invoicePaths = {
  list: (flavour: ApiFlavour, orgId: string) => `${FLAVOUR_PREFIX[flavour]}/orgs/${orgId}/invoices`,
  one: (flavour: ApiFlavour, orgId: string, invoiceId: string) =>
    `${FLAVOUR_PREFIX[flavour]}/orgs/${orgId}/invoices/${invoiceId}`,
  csv: (flavour: ApiFlavour, orgId: string, invoiceId: string) =>
    `${FLAVOUR_PREFIX[flavour]}/orgs/${orgId}/invoices/${invoiceId}/csv`,
  pending: (flavour: ApiFlavour, orgId: string) =>
    `${FLAVOUR_PREFIX[flavour]}/orgs/${orgId}/invoices/pending`,
} as const;

/**
 * Whether the list endpoint takes `viewLinkedInvoices`, `statusNames`, `fromDate` and `toDate`. The Cloud Manager
 * list only knows `pageNum`, `itemsPerPage`, `pretty` and `envelope`, so the client filters its pages itself.
 */
export function supportsListFilters(flavour: ApiFlavour): boolean {
  return flavour !== 'cloud-manager';
}
