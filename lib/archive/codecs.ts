import { ArchiveError } from '../errors';
import { isObjectId, OBJECT_ID_PATTERN } from '../ids';
import type { InvoiceAmounts, InvoiceIndexEntry, InvoiceStateEntry, OrgState } from '../invoices/types';
import {
  expectInteger,
  expectMatch,
  expectRecord,
  expectString,
  optionalString,
  SHA256_HEX,
  shapeProblem,
} from './shape-checks';

/**
 * The one definition of each JSON object kept in the bucket (organisation state, invoice index). The stores read with
 * `parse` and write only what `parse` accepts back (`encodeJson`), so nothing is ever written that a later read would
 * refuse: an organisation can never be locked out of its own state by the poller's own writes.
 */
export interface JsonCodec<T> {
  /** What the object is, for messages: `state object`, `index object`. */
  readonly what: string;
  /** Validates a parsed value; throws a TypeError naming the first bad path. */
  parse(value: unknown): T;
}

export function stateCodec(orgId: string): JsonCodec<OrgState> {
  return { what: 'state object', parse: (value) => parseOrgState(value, orgId) };
}

export function indexCodec(invoiceId: string): JsonCodec<InvoiceIndexEntry> {
  return { what: 'index object', parse: (value) => parseIndexEntry(value, invoiceId) };
}

/**
 * `value` as the JSON text to store, after checking that `codec` reads exactly that text back. Throws an ArchiveError
 * naming the key and the first bad path instead of writing an object no read would accept.
 */
export function encodeJson<T>(codec: JsonCodec<T>, key: string, value: T): string {
  const text = JSON.stringify(value);
  try {
    codec.parse(JSON.parse(text));
  } catch (error) {
    throw new ArchiveError(
      `refusing to write ${codec.what} ${key}: ${shapeProblem(error)}`,
      'PutObject',
      key,
      {
        cause: error,
      },
    );
  }
  return text;
}

/** Alert keys kept per organisation (two months of thresholds and spike days fit many times over). */
const MAX_FIRED_KEYS = 2_000;
/** `budget:{orgId}/{projectId}:{percent}:{YYYY-MM}` is about 70 characters. */
const MAX_FIRED_KEY_LENGTH = 200;

/** Validate a parsed state object for `orgId`; throws a TypeError naming the first bad path. */
export function parseOrgState(value: unknown, orgId: string): OrgState {
  const root = expectRecord(value, 'state');
  if (root.version !== 1) throw new TypeError('state.version must be 1');
  if (expectString(root, 'orgId', 'state') !== orgId)
    throw new TypeError('state.orgId names another organisation');
  optionalString(root, 'orgName', 'state');
  expectString(root, 'watchingSince', 'state');
  expectString(root, 'lastPollAt', 'state');
  const invoices = expectRecord(root.invoices, 'state.invoices');
  for (const [invoiceId, entry] of Object.entries(invoices)) {
    if (!isObjectId(invoiceId)) throw new TypeError('state.invoices has a key that is not an invoice id');
    checkStateEntry(entry, `state.invoices.${invoiceId}`);
  }
  if (root.spend !== undefined) {
    const spend = expectRecord(root.spend, 'state.spend');
    const fired = spend.fired;
    if (!Array.isArray(fired) || fired.length > MAX_FIRED_KEYS)
      throw new TypeError(`state.spend.fired must be an array of at most ${MAX_FIRED_KEYS} keys`);
    for (const key of fired) {
      if (typeof key !== 'string' || key === '' || key.length > MAX_FIRED_KEY_LENGTH)
        throw new TypeError('state.spend.fired holds something that is not an alert key');
    }
  }
  return root as unknown as OrgState;
}

/**
 * The rules one invoice's state entry meets. The poll also holds every listed invoice to them before it records
 * anything, so an invoice Atlas sent without a readable `updated` or with an amount beyond exact integers is skipped
 * and reported instead of stored.
 */
export function checkStateEntry(value: unknown, path: string): InvoiceStateEntry {
  const entry = expectRecord(value, path);
  expectStatus(entry, 'statusName', path);
  for (const field of ['updated', 'startDate', 'endDate']) expectTimestamp(entry, field, path);
  expectInteger(entry, 'amountBilledCents', path);
  expectInteger(entry, 'amountPaidCents', path);
  optionalString(entry, 'notifiedStatus', path);
  if (entry.failedSince !== undefined) expectTimestamp(entry, 'failedSince', path);
  if (entry.archived !== undefined) {
    const archived = expectRecord(entry.archived, `${path}.archived`);
    expectStatus(archived, 'statusName', `${path}.archived`);
    expectMatch(archived, 'sha256', `${path}.archived`, SHA256_HEX);
    expectString(archived, 'key', `${path}.archived`);
    expectTimestamp(archived, 'updated', `${path}.archived`);
    if (archived.spend !== undefined && archived.spend !== true)
      throw new TypeError(`${path}.archived.spend must be true when present`);
  }
  return entry as unknown as InvoiceStateEntry;
}

const AMOUNT_FIELDS = [
  'subtotalCents',
  'creditsCents',
  'salesTaxCents',
  'startingBalanceCents',
  'amountBilledCents',
  'amountPaidCents',
] as const;

/** Every amount a whole number of cents that a JavaScript number holds exactly. */
export function checkAmounts(value: unknown, path: string): InvoiceAmounts {
  const amounts = expectRecord(value, path);
  for (const field of AMOUNT_FIELDS) expectInteger(amounts, field, path);
  return amounts as unknown as InvoiceAmounts;
}

/** Validate a parsed index object for `invoiceId`; throws a TypeError naming the first bad path. */
export function parseIndexEntry(value: unknown, invoiceId: string): InvoiceIndexEntry {
  const root = expectRecord(value, 'index');
  if (root.version !== 1) throw new TypeError('index.version must be 1');
  if (expectString(root, 'invoiceId', 'index') !== invoiceId) {
    throw new TypeError('index.invoiceId names another invoice');
  }
  expectMatch(root, 'orgId', 'index', OBJECT_ID_PATTERN);
  optionalString(root, 'orgName', 'index');
  expectStatus(root, 'statusName', 'index');
  for (const field of ['startDate', 'endDate', 'updated']) expectTimestamp(root, field, 'index');
  expectString(root, 'archivedAt', 'index');
  checkAmounts(root.amounts, 'index.amounts');

  const summary = expectRecord(root.summary, 'index.summary');
  for (const field of ['invoiceNumber', 'billingPeriod', 'organizationName', 'organizationId']) {
    optionalString(summary, field, 'index.summary');
  }
  for (const field of ['lineItemCount', 'totalCents', 'projectCount', 'skuCount', 'malformedRows']) {
    expectInteger(summary, field, 'index.summary');
  }
  for (const list of ['projects', 'skus'] as const) {
    const lines = summary[list];
    if (!Array.isArray(lines)) throw new TypeError(`index.summary.${list} must be an array`);
    lines.forEach((raw, i) => {
      const path = `index.summary.${list}[${i}]`;
      const line = expectRecord(raw, path);
      expectString(line, 'name', path);
      optionalString(line, 'id', path);
      expectInteger(line, 'cents', path);
    });
  }

  const csv = expectRecord(root.csv, 'index.csv');
  expectString(csv, 'key', 'index.csv');
  expectMatch(csv, 'sha256', 'index.csv', SHA256_HEX);
  expectInteger(csv, 'bytes', 'index.csv');
  optionalString(csv, 'etag', 'index.csv');
  return root as unknown as InvoiceIndexEntry;
}

function expectStatus(record: Record<string, unknown>, key: string, path: string): string {
  const value = expectString(record, key, path);
  if (value.trim() === '') throw new TypeError(`${path}.${key} must not be empty`);
  return value;
}

/** A string `Date.parse` reads: the order of two versions (`compareUpdated`) and every date shown rely on it. */
function expectTimestamp(record: Record<string, unknown>, key: string, path: string): string {
  const value = expectString(record, key, path);
  if (Number.isNaN(Date.parse(value))) throw new TypeError(`${path}.${key} is not a readable timestamp`);
  return value;
}
