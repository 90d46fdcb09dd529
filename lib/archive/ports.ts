import type { InvoiceIndexEntry, OrgState } from '../invoices/types';

/**
 * Narrow ports over the archive bucket. The poller writes through the full stores
 * (`createStateStore` in state-store.ts, `createIndexStore` in index-store.ts); the slash command only reads.
 */
export interface StoredState {
  readonly state: OrgState;
  /** The object's ETag, for the next conditional write (`IfMatch`). */
  readonly etag: string;
}

export interface StateReader {
  /** Undefined when the organisation has never been polled. */
  readState(orgId: string, signal?: AbortSignal): Promise<StoredState | undefined>;
}

export interface StateWriter {
  /**
   * Conditional write: `IfMatch: etag` when `etag` is given, `IfNoneMatch: '*'` otherwise.
   * Throws StateConflictError when another run wrote first (S3 412 or 409); returns the new ETag.
   */
  writeState(state: OrgState, etag: string | undefined, signal?: AbortSignal): Promise<string>;
}

export interface StateQuarantine {
  /**
   * Copies the state object version `etag`, found unreadable, byte for byte to `quarantineKey(prefix, orgId, at)` and
   * returns that key. The state key itself is left for the caller to replace with a conditional write on `etag`.
   * Throws StateConflictError when the state is no longer that version, ArchiveError when S3 fails.
   */
  quarantineState(orgId: string, etag: string, at: Date, signal?: AbortSignal): Promise<string>;
}

export interface IndexReader {
  /** Undefined when the invoice has not been archived. */
  readIndex(invoiceId: string, signal?: AbortSignal): Promise<InvoiceIndexEntry | undefined>;
}

export interface IndexWriter {
  writeIndex(entry: InvoiceIndexEntry, signal?: AbortSignal): Promise<void>;
}

export interface PresignedLink {
  readonly url: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export interface CsvLinkPresigner {
  /** Signs a GET of `key` that downloads as `fileName`; makes no network call. */
  presignCsv(key: string, fileName: string): Promise<PresignedLink>;
}
