import { OBJECT_ID_PATTERN } from '../ids';
import type { InvoiceIndexEntry } from '../invoices/types';
import { indexKey } from './keys';
import type { IndexReader, IndexWriter } from './ports';
import {
  expectInteger,
  expectMatch,
  expectRecord,
  expectString,
  type JsonStoreOptions,
  optionalString,
  putJsonObject,
  readJsonObject,
  SHA256_HEX,
} from './s3-errors';

export type IndexStoreOptions = JsonStoreOptions;

export type IndexStore = IndexReader & IndexWriter;

/**
 * One JSON object per invoice at `indexKey(prefix, invoiceId)`: what `/invoice <id>` needs in one GET. The poller
 * writes it (unconditionally: the newest archive wins, and each write describes a complete archived CSV) after the
 * CSV; readers get a validated entry or an ArchiveError naming the key.
 */
export function createIndexStore(options: IndexStoreOptions): IndexStore {
  const { s3, bucket, prefix } = options;
  return {
    async readIndex(invoiceId: string, signal?: AbortSignal): Promise<InvoiceIndexEntry | undefined> {
      const key = indexKey(prefix, invoiceId);
      const read = await readJsonObject(
        options,
        key,
        'index object',
        (v) => parseIndexEntry(v, invoiceId),
        signal,
      );
      return read?.value;
    },

    async writeIndex(entry: InvoiceIndexEntry, signal?: AbortSignal): Promise<void> {
      const key = indexKey(prefix, entry.invoiceId);
      await putJsonObject(s3, bucket, key, entry, {
        ...options,
        ...(signal !== undefined ? { signal } : {}),
      });
    },
  };
}

const AMOUNT_FIELDS = [
  'subtotalCents',
  'creditsCents',
  'salesTaxCents',
  'startingBalanceCents',
  'amountBilledCents',
  'amountPaidCents',
] as const;

/** Validate a parsed index object for `invoiceId`; throws a TypeError naming the first bad path. */
export function parseIndexEntry(value: unknown, invoiceId: string): InvoiceIndexEntry {
  const root = expectRecord(value, 'index');
  if (root.version !== 1) throw new TypeError('index.version must be 1');
  if (expectString(root, 'invoiceId', 'index') !== invoiceId) {
    throw new TypeError('index.invoiceId names another invoice');
  }
  expectMatch(root, 'orgId', 'index', OBJECT_ID_PATTERN);
  optionalString(root, 'orgName', 'index');
  for (const field of ['statusName', 'startDate', 'endDate', 'updated', 'archivedAt']) {
    expectString(root, field, 'index');
  }
  const amounts = expectRecord(root.amounts, 'index.amounts');
  for (const field of AMOUNT_FIELDS) expectInteger(amounts, field, 'index.amounts');

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
  return root as unknown as InvoiceIndexEntry;
}
