import { encodeSpendRecord, parseSpendRecord, type SpendRecord, spendRecordKey } from '../spend/spend-record';
import { spendChartKey } from './keys';
import { type JsonStoreOptions, putJsonTextIfUnchanged, putObject, readJsonObject } from './s3-objects';

/**
 * The spend watch's objects, next to the state: one usage-series record per organisation and billing month at
 * `spendRecordKey(prefix, orgId, month)` and its chart at `spendChartKey(prefix, orgId, month)`.
 *
 * Records are written like the state: conditionally (`IfMatch: etag`, or `IfNoneMatch: '*'` for the first), through
 * the one codec that also reads them, so two polls never silently overwrite each other (the loser gets
 * StateConflictError) and nothing is stored that a read would refuse. A record that cannot be read surfaces as a
 * CorruptObjectError naming the key. The chart is derived from the record and written unconditionally: the newest
 * drawing wins.
 */
export interface StoredSpend {
  readonly record: SpendRecord;
  /** The object's ETag, for the next conditional write. */
  readonly etag: string;
}

export interface SpendReader {
  /** Undefined when the organisation has no record for `month` (`YYYY-MM`). */
  readSpend(orgId: string, month: string, signal?: AbortSignal): Promise<StoredSpend | undefined>;
}

export interface SpendWriter {
  /**
   * Conditional write: `IfMatch: etag` when given, `IfNoneMatch: '*'` otherwise; returns the new ETag. Throws
   * StateConflictError when another run wrote first, SpendRecordError for a record the codec refuses (nothing sent).
   */
  writeSpend(
    record: SpendRecord,
    month: string,
    etag: string | undefined,
    signal?: AbortSignal,
  ): Promise<string>;
}

export interface SpendChartWriter {
  /** Stores the PNG and returns its key. */
  writeChart(orgId: string, month: string, png: Uint8Array, signal?: AbortSignal): Promise<string>;
}

export type SpendStore = SpendReader & SpendWriter & SpendChartWriter;

/** Spend records are read through the spend domain's own codec (`decodeSpendRecord`'s checks). */
const SPEND_CODEC = { what: 'spend record', parse: parseSpendRecord } as const;

export function createSpendStore(options: JsonStoreOptions): SpendStore {
  const { prefix } = options;
  return {
    async readSpend(orgId, month, signal) {
      const read = await readJsonObject(options, spendRecordKey(prefix, orgId, month), SPEND_CODEC, signal);
      return read && { record: read.value, etag: read.etag };
    },

    async writeSpend(record, month, etag, signal) {
      const key = spendRecordKey(prefix, record.orgId, month);
      return putJsonTextIfUnchanged(options, key, encodeSpendRecord(record), etag, signal);
    },

    async writeChart(orgId, month, png, signal) {
      const key = spendChartKey(prefix, orgId, month);
      await putObject(options, key, { bytes: png, contentType: 'image/png' }, { signal });
      return key;
    },
  };
}
