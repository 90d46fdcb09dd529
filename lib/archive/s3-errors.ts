import { ArchiveError } from '../errors';

/**
 * Reading the S3 SDK's errors without depending on its classes (the SDK sets `name` to S3's error code and
 * `$metadata.httpStatusCode` to the status, and stand-ins sometimes get only one right), and turning them into this
 * project's errors. Nothing here echoes a credential: messages carry the operation, key and S3 code only.
 */
export function s3Status(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function s3ErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** The object does not exist: `NoSuchKey` (GET), `NotFound` (HEAD), or a bare 404 that is not about the bucket. */
export function isNotFound(error: unknown): boolean {
  const name = s3ErrorName(error);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || s3Status(error) === 404;
}

/** A conditional write lost: 412 `PreconditionFailed`, or 409 `ConditionalRequestConflict` (a concurrent write). */
export function isConditionalWriteConflict(error: unknown): boolean {
  const name = s3ErrorName(error);
  return (
    name === 'PreconditionFailed' ||
    name === 'ConditionalRequestConflict' ||
    s3Status(error) === 412 ||
    (s3Status(error) === 409 && name !== 'OperationAborted' && name !== 'BucketAlreadyExists')
  );
}

/** Wrap an S3 failure as an ArchiveError naming the operation, the key and S3's code. */
export function toArchiveError(operation: string, key: string, error: unknown): ArchiveError {
  if (error instanceof ArchiveError) return error;
  const name = s3ErrorName(error) ?? 'Error';
  const status = s3Status(error);
  const detail = status === undefined ? name : `${name}, HTTP ${status}`;
  return new ArchiveError(`S3 ${operation} of ${key} failed (${detail})`, operation, key, { cause: error });
}
