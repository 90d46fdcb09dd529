import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { CsvDownload } from '../atlas/types';
import { ArchiveError, DeadlineError } from '../errors';
import type { CsvInspection, CsvInspector } from '../invoices/csv-summary';
import type { InvoiceMetadata } from '../invoices/invoice';
import type { ArchivedCsv, CsvSummary, InvoiceStateEntry } from '../invoices/types';
import { csvKey } from './keys';
import type { IndexReader } from './ports';
import {
  isNotFound,
  type ServerSideEncryptionOptions,
  SHA256_HEX,
  sseParams,
  toArchiveError,
} from './s3-errors';

/** `createCsvInspector` from lib/invoices/csv-summary.ts, injected so tests can observe or replace it. */
export type CreateCsvInspector = (options: { topN: number }) => CsvInspector;

export interface CsvArchiveOptions extends ServerSideEncryptionOptions {
  /** The full client: lib-storage's Upload reads its configuration (endpoint, checksums). */
  readonly s3: S3Client;
  readonly bucket: string;
  /** Empty or ending in `/`. */
  readonly prefix: string;
  readonly createInspector: CreateCsvInspector;
  /**
   * Consulted only when an object's metadata carries no sha256 (multipart objects: their metadata is fixed before the
   * hash is known) and the state has none: the index entry's hash is trusted when its key, size and `updated` match.
   */
  readonly index?: IndexReader;
  /**
   * Bytes per multipart part (S3 minimum 5 MiB). Default 5 MiB: up to 10,000 parts, so 50 GiB per CSV, with the least
   * memory held (in test/bench/archive.bench.ts, 8 MiB parts raised the peak RSS by 20 to 30 MB and were no faster).
   */
  readonly partSize?: number;
  /** Parts uploaded in parallel. Memory held is about (queueSize + 1) × partSize whatever the CSV's size. */
  readonly queueSize?: number;
}

export interface ArchiveCsvInput {
  readonly orgId: string;
  readonly invoice: InvoiceMetadata;
  /** What the state says the archive holds; bytes hashing to its sha256 (for this invoice's key) are not written. */
  readonly previous: InvoiceStateEntry['archived'];
  /** Opens the download from Atlas; called once. */
  readonly openCsv: () => Promise<CsvDownload>;
  readonly topN: number;
  readonly signal?: AbortSignal;
}

export const ARCHIVE_OUTCOMES = { archived: 'archived', identical: 'identical' } as const;
export type ArchiveOutcome = (typeof ARCHIVE_OUTCOMES)[keyof typeof ARCHIVE_OUTCOMES];

export interface ArchiveCsvResult {
  /** `identical`: the bytes equal what the archive holds, and nothing was written. */
  readonly outcome: ArchiveOutcome;
  readonly csv: ArchivedCsv;
  readonly summary: CsvSummary;
}

/** The port the poll use case depends on. */
export interface CsvArchive {
  archiveCsv(input: ArchiveCsvInput): Promise<ArchiveCsvResult>;
}

export const DEFAULT_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_QUEUE_SIZE = 2;

/**
 * Streams an invoice CSV from Atlas through the inspector into S3 with lib-storage's Upload: one PutObject when the
 * body fits in one part, a multipart upload otherwise, so memory stays flat however large the CSV is. The object is
 * stored byte for byte as Atlas sent it at `csvKey(prefix, orgId, startDate, invoiceId)` with
 * `Content-Type: text/csv; charset=utf-8`, server-side encryption and metadata `status`, `updated` and (when the
 * object is created after the hash is known, i.e. single-part) `sha256`.
 *
 * Unchanged bytes are not written again: the gate after the inspector holds back the end of the stream until the hash
 * is known, and when it equals the stored hash (the state's, else the object's metadata via HeadObject, which also
 * covers a first run and a crash between archive and save; without a state hash the HeadObject goes out as the download
 * starts, so it costs no wait at the end) it fails the stream instead. Upload then never sends the single
 * PutObject (nothing is written) or the final part and CompleteMultipartUpload (the multipart upload is aborted), and
 * the call resolves `identical`.
 *
 * Throws ArchiveError (S3 failed, or the download broke off; the cause says which), DeadlineError when `signal`
 * aborts, and whatever `openCsv` throws (AtlasApiError).
 */
export function createCsvArchive(options: CsvArchiveOptions): CsvArchive {
  const { s3, bucket, prefix } = options;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;

  async function storedSha256(
    key: string,
    invoiceId: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    let head: { Metadata?: Record<string, string> | undefined; ContentLength?: number | undefined };
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toArchiveError('HeadObject', key, error);
    }
    const sha256 = head.Metadata?.sha256;
    if (sha256 !== undefined && SHA256_HEX.test(sha256)) return sha256;
    if (options.index === undefined) return undefined;
    const entry = await options.index.readIndex(invoiceId, signal).catch(() => undefined);
    const matches =
      entry !== undefined &&
      entry.csv.key === key &&
      entry.csv.bytes === head.ContentLength &&
      entry.updated === head.Metadata?.updated;
    return matches ? entry.csv.sha256 : undefined;
  }

  return {
    async archiveCsv(input: ArchiveCsvInput): Promise<ArchiveCsvResult> {
      const { invoice, signal } = input;
      const key = csvKey(prefix, input.orgId, invoice.startDate, invoice.id);
      if (signal?.aborted) throw new DeadlineError(`deadline passed before archiving ${key}`);
      // The state's hash is the cheap answer; after a crash between archive and save it can be out of date, so a
      // hash that differs from it is checked against what S3 holds before anything is written.
      const stateSha256 = input.previous?.key === key ? input.previous.sha256 : undefined;
      const inspector = options.createInspector({ topN: input.topN });
      const download = await input.openCsv();
      const inspection = inspector.result();
      // Awaited only by the gate; a stream torn down early must not leave an unhandled rejection behind.
      inspection.catch(() => {});
      // Without a state hash the gate must ask S3 whatever the bytes turn out to be: ask while they stream, so the
      // answer is there when the hash is (one request either way; with a state hash, only a mismatch asks).
      const stored = stateSha256 === undefined ? storedSha256(key, invoice.id, signal) : undefined;
      stored?.catch(() => {});

      // Mutated before the final part is released: Upload copies these params when it sends the single PutObject.
      const metadata: Record<string, string> = {
        status: headerSafe(invoice.statusName),
        updated: headerSafe(invoice.updated),
      };
      let identical: CsvInspection | undefined;
      const isStored = async (sha256: string) =>
        sha256 === stateSha256 || sha256 === (await (stored ?? storedSha256(key, invoice.id, signal)));
      const gate = new Transform({
        transform(chunk: Buffer, _encoding, callback: TransformCallback) {
          callback(null, chunk);
        },
        flush(callback: TransformCallback) {
          inspection
            .then(async (result) => {
              if (await isStored(result.sha256)) {
                identical = result;
                callback(new IdenticalContent());
                return;
              }
              metadata.sha256 = result.sha256;
              callback();
            })
            .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
        },
      });

      let streamError: Error | undefined;
      pipeline(download.body, inspector.stream, gate, (error) => {
        if (error) streamError = error;
      });
      const onAbort = () => gate.destroy(new DeadlineError(`deadline passed while archiving ${key}`));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });

      const upload = new Upload({
        client: s3,
        params: {
          Bucket: bucket,
          Key: key,
          Body: gate,
          ContentType: 'text/csv; charset=utf-8',
          Metadata: metadata,
          ...sseParams(options),
        },
        partSize,
        queueSize,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        gate.destroy();
        if (identical !== undefined) {
          return {
            outcome: ARCHIVE_OUTCOMES.identical,
            csv: { key, sha256: identical.sha256, bytes: identical.bytes },
            summary: identical.summary,
          };
        }
        if (error instanceof DeadlineError || error instanceof ArchiveError) throw error;
        const cause = streamError ?? error;
        if ((cause as { $metadata?: unknown }).$metadata !== undefined)
          throw toArchiveError('Upload', key, cause);
        const name = cause instanceof Error ? cause.name : 'Error';
        throw new ArchiveError(`archiving ${key} failed: the transfer broke off (${name})`, 'Upload', key, {
          cause,
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      const result = await inspection;
      return {
        outcome: ARCHIVE_OUTCOMES.archived,
        csv: { key, sha256: result.sha256, bytes: result.bytes },
        summary: result.summary,
      };
    },
  };
}

/** Raised inside the stream to stop Upload before it writes; never escapes `archiveCsv`. */
class IdenticalContent extends Error {
  override readonly name = 'IdenticalContent';
  constructor() {
    super('the CSV is identical to the archived copy');
  }
}

/** S3 metadata travels as HTTP headers: printable ASCII only, and short. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
}
