import { pipeline, Transform, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { CsvDownload } from '../atlas/types';
import { ArchiveError, DeadlineError } from '../errors';
import type { CsvInspection, CsvInspector, CsvInspectorOptions } from '../invoices/csv-summary';
import type { InvoiceMetadata } from '../invoices/invoice';
import type { ArchivedCsv, CsvSummary, InvoiceStateEntry } from '../invoices/types';
import { billingPeriodOf, type UsageSeries } from '../spend/usage-series';
import { csvKey } from './keys';
import type { IndexReader } from './ports';
import { isNotFound, toArchiveError } from './s3-errors';
import { SHA256_HEX } from './shape-checks';
import { type ServerSideEncryptionOptions, sseParams } from './sse';

/** `createCsvInspector` from lib/invoices/csv-summary.ts, injected so tests can observe or replace it. */
export type CreateCsvInspector = (
  options: Pick<CsvInspectorOptions, 'topN' | 'period' | 'pinnedProjectIds'>,
) => CsvInspector;

export interface CsvArchiveOptions extends ServerSideEncryptionOptions {
  /** The full client: lib-storage's Upload reads its configuration (endpoint, checksums). */
  readonly s3: S3Client;
  readonly bucket: string;
  /** Empty or ending in `/`. */
  readonly prefix: string;
  readonly createInspector: CreateCsvInspector;
  /**
   * Consulted only when an object's metadata carries no sha256 (multipart objects: their metadata is fixed before the
   * hash is known) and the state has none: the index entry's hash is trusted when its key, size and ETag match the
   * stored object's (the ETag changes whenever the object is replaced).
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
  /** Projects the usage series lists even past its top N (those with a budget). */
  readonly pinnedProjectIds?: readonly string[];
  readonly signal?: AbortSignal;
}

export const ARCHIVE_OUTCOMES = { archived: 'archived', identical: 'identical' } as const;
export type ArchiveOutcome = (typeof ARCHIVE_OUTCOMES)[keyof typeof ARCHIVE_OUTCOMES];

export interface ArchiveCsvResult {
  /** `identical`: the bytes equal what the archive holds, and nothing was written. */
  readonly outcome: ArchiveOutcome;
  readonly csv: ArchivedCsv;
  readonly summary: CsvSummary;
  /**
   * The billing period's daily usage series, read in the same pass (also when the bytes were identical: they were
   * read all the same); undefined when the invoice's period is not one a series can cover.
   */
  readonly usage: UsageSeries | undefined;
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
 * `Content-Type: text/csv; charset=utf-8`, server-side encryption and metadata holding only facts that stay true for
 * those bytes: `invoice-id`, `org-id` and (when the object is created after the hash is known, i.e. single-part)
 * `sha256`. The invoice's status lives in the index and the state, which are rewritten when it changes; the CSV is
 * not (identical bytes are never written again), so its metadata must not describe a status.
 *
 * Unchanged bytes are not written again: the gate after the inspector holds back the end of the stream until the hash
 * is known, and when it equals the stored hash (the state's, else the object's `sha256` metadata via HeadObject, else
 * the index entry's hash when the index vouches for that very object: same key, size and ETag) it fails the stream
 * instead. HeadObject covers a first run and a crash between archive and save; without a state hash it goes out as the
 * download starts, so it costs no wait at the end. Upload then never sends the single PutObject (nothing is written)
 * or the final part and CompleteMultipartUpload (the multipart upload is aborted), and the call resolves `identical`.
 *
 * Bounded by `signal`: every request (HeadObject, index read, each PutObject/UploadPart) carries it, and when it
 * aborts the download is torn down and `upload.abort()` called; a multipart upload this call created and did not
 * complete is aborted before the call settles (whatever the reason), so no parts are left behind.
 *
 * Throws ArchiveError (S3 failed, or the download broke off; the cause says which), DeadlineError when `signal`
 * aborts, and whatever `openCsv` throws (AtlasApiError).
 */
export function createCsvArchive(options: CsvArchiveOptions): CsvArchive {
  const { s3, bucket, prefix } = options;
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;

  /** The hash of what `key` holds now, when S3 or the index can vouch for it, and that object's ETag. */
  async function storedObject(
    key: string,
    invoiceId: string,
    signal?: AbortSignal,
  ): Promise<{ sha256: string; etag: string | undefined } | undefined> {
    let head: { Metadata?: Record<string, string>; ContentLength?: number; ETag?: string };
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toArchiveError('HeadObject', key, error);
    }
    const sha256 = head.Metadata?.sha256;
    if (sha256 !== undefined && SHA256_HEX.test(sha256)) return { sha256, etag: head.ETag };
    if (options.index === undefined || head.ETag === undefined) return undefined;
    const entry = await options.index.readIndex(invoiceId, signal).catch(() => undefined);
    const vouches =
      entry !== undefined &&
      entry.csv.key === key &&
      entry.csv.bytes === head.ContentLength &&
      entry.csv.etag === head.ETag;
    return vouches ? { sha256: entry.csv.sha256, etag: head.ETag } : undefined;
  }

  return {
    async archiveCsv(input: ArchiveCsvInput): Promise<ArchiveCsvResult> {
      const { invoice, signal } = input;
      const key = csvKey(prefix, input.orgId, invoice.startDate, invoice.id);
      if (signal?.aborted) throw new DeadlineError(`deadline passed before archiving ${key}`);
      // The state's hash is the cheap answer; after a crash between archive and save it can be out of date, so a
      // hash that differs from it is checked against what S3 holds before anything is written.
      const stateSha256 = input.previous?.key === key ? input.previous.sha256 : undefined;
      // The invoice's own period frames the usage series; one a series cannot cover (unreadable, or longer than
      // MAX_PERIOD_DAYS) is left to the CSV's Billing Period row rather than failing the archive.
      const period = { start: invoice.startDate, end: invoice.endDate };
      const inspector = options.createInspector({
        topN: input.topN,
        ...(billingPeriodOf(period.start, period.end) === undefined ? {} : { period }),
        ...(input.pinnedProjectIds === undefined ? {} : { pinnedProjectIds: input.pinnedProjectIds }),
      });
      const download = await input.openCsv();
      const inspection = inspector.result();
      // Awaited only by the gate; a stream torn down early must not leave an unhandled rejection behind.
      inspection.catch(() => {});
      // Without a state hash the gate must ask S3 whatever the bytes turn out to be: ask while they stream, so the
      // answer is there when the hash is (one request either way; with a state hash, only a mismatch asks).
      const stored = stateSha256 === undefined ? storedObject(key, invoice.id, signal) : undefined;
      stored?.catch(() => {});

      // Mutated before the final part is released: Upload copies these params when it sends the single PutObject.
      const metadata: Record<string, string> = { 'invoice-id': invoice.id, 'org-id': input.orgId };
      let identical: (CsvInspection & { etag: string | undefined }) | undefined;
      const storedMatch = async (sha256: string) => {
        if (sha256 === stateSha256) return { etag: undefined };
        const found = await (stored ?? storedObject(key, invoice.id, signal));
        return found?.sha256 === sha256 ? { etag: found.etag } : undefined;
      };
      const gate = new Transform({
        transform(chunk: Buffer, _encoding, callback: TransformCallback) {
          callback(null, chunk);
        },
        flush(callback: TransformCallback) {
          inspection
            .then(async (result) => {
              const match = await storedMatch(result.sha256);
              if (match !== undefined) {
                identical = { ...result, etag: match.etag };
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

      const requests = trackRequests(s3, signal);
      const upload = new Upload({
        client: requests.client,
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
        // This function aborts the multipart upload itself, and waits for that, whatever made the upload fail.
        leavePartsOnError: true,
      });
      const onAbort = () => {
        gate.destroy(new DeadlineError(`deadline passed while archiving ${key}`));
        void upload.abort();
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });

      let etag: string | undefined;
      try {
        etag = (await upload.done()).ETag;
      } catch (error) {
        gate.destroy();
        await requests.settled();
        if (requests.uploadId !== undefined) await abandonUpload(s3, bucket, key, requests.uploadId);
        if (identical !== undefined) {
          return {
            outcome: ARCHIVE_OUTCOMES.identical,
            csv: withEtag({ key, sha256: identical.sha256, bytes: identical.bytes }, identical.etag),
            summary: identical.summary,
            usage: identical.usage,
          };
        }
        if (signal?.aborted)
          throw new DeadlineError(`deadline passed while archiving ${key}`, { cause: error });
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
        csv: withEtag({ key, sha256: result.sha256, bytes: result.bytes }, etag),
        summary: result.summary,
        usage: result.usage,
      };
    },
  };
}

/** How long the clean-up of an abandoned multipart upload may take; it runs after the deadline passed too. */
const ABANDON_TIMEOUT_MS = 3_000;

/**
 * Abort a multipart upload that will not be completed, so its parts stop costing storage. Best effort: a failure
 * here is left to the bucket's lifecycle rule (incomplete uploads aborted after a day) rather than hiding the error
 * that made the upload fail.
 */
async function abandonUpload(s3: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  await s3
    .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), {
      abortSignal: AbortSignal.timeout(ABANDON_TIMEOUT_MS),
    })
    .catch(() => {});
}

/**
 * The client Upload sends through. lib-storage sends its requests without an abort signal, so `upload.abort()` alone
 * would leave a PutObject or UploadPart in flight (and a stalled one hanging) after the poll gave up: every request
 * sent through this client carries `signal`. It also remembers the multipart upload created, and lets the caller
 * wait until no request it sent is still in flight.
 */
function trackRequests(s3: S3Client, signal: AbortSignal | undefined) {
  const inFlight = new Set<Promise<unknown>>();
  const tracked = {
    uploadId: undefined as string | undefined,
    client: undefined as unknown as S3Client,
    async settled(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
  const send = (command: Parameters<S3Client['send']>[0], sendOptions?: { abortSignal?: AbortSignal }) => {
    const request = s3
      .send(command, { ...sendOptions, abortSignal: signal ?? sendOptions?.abortSignal })
      .then((out: unknown) => {
        const uploadId = (out as { UploadId?: string }).UploadId;
        if (command instanceof CreateMultipartUploadCommand && uploadId !== undefined)
          tracked.uploadId = uploadId;
        return out;
      });
    inFlight.add(request);
    const forget = () => inFlight.delete(request);
    request.then(forget, forget);
    return request;
  };
  tracked.client = new Proxy(s3, {
    get: (target, property, receiver) =>
      property === 'send' ? send : Reflect.get(target, property, receiver),
  });
  return tracked;
}

function withEtag(csv: Omit<ArchivedCsv, 'etag'>, etag: string | undefined): ArchivedCsv {
  return etag === undefined ? csv : { ...csv, etag };
}

/** Raised inside the stream to stop Upload before it writes; never escapes `archiveCsv`. */
class IdenticalContent extends Error {
  override readonly name = 'IdenticalContent';
  constructor() {
    super('the CSV is identical to the archived copy');
  }
}
