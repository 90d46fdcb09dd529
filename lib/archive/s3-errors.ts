import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ArchiveError, StateConflictError } from '../errors';

/**
 * S3 failure handling shared by the archive, the state store and the index store: reading the SDK's errors (without
 * depending on its classes: the SDK sets `name` to S3's error code and `$metadata.httpStatusCode` to the status,
 * and stand-ins sometimes get only one right), turning them into this project's errors, and the small JSON-object
 * GET/PUT both stores use. Nothing here echoes a credential: messages carry the operation, key and S3 code only.
 */
export type S3Sender = Pick<S3Client, 'send'>;

/** `ServerSideEncryption` values this project writes with. */
export type ArchiveEncryption = 'AES256' | 'aws:kms';

export interface ServerSideEncryptionOptions {
  /** Default AES256 (SSE-S3). */
  readonly serverSideEncryption?: ArchiveEncryption;
  /** With `aws:kms`: the key id or ARN; the bucket's default KMS key when absent. */
  readonly kmsKeyId?: string;
}

export function sseParams(options: ServerSideEncryptionOptions): {
  ServerSideEncryption: ArchiveEncryption;
  SSEKMSKeyId?: string;
} {
  const serverSideEncryption = options.serverSideEncryption ?? 'AES256';
  if (serverSideEncryption === 'aws:kms' && options.kmsKeyId !== undefined) {
    return { ServerSideEncryption: serverSideEncryption, SSEKMSKeyId: options.kmsKeyId };
  }
  return { ServerSideEncryption: serverSideEncryption };
}

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

export interface JsonObject {
  readonly value: unknown;
  readonly etag: string;
}

/**
 * GET and parse one JSON object. Undefined when the key does not exist; ArchiveError naming the key when S3 fails or
 * the body is not JSON (the caller validates the shape).
 */
export async function getJsonObject(
  s3: S3Sender,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<JsonObject | undefined> {
  let text: string;
  let etag: string | undefined;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    etag = out.ETag;
    if (out.Body === undefined)
      throw new ArchiveError(`S3 GetObject of ${key} returned no body`, 'GetObject', key);
    text = await out.Body.transformToString('utf-8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toArchiveError('GetObject', key, error);
  }
  if (etag === undefined) throw new ArchiveError(`S3 GetObject of ${key} returned no ETag`, 'GetObject', key);
  try {
    return { value: JSON.parse(text) as unknown, etag };
  } catch (error) {
    throw new CorruptObjectError(`${key} is not valid JSON`, key, etag, { cause: error });
  }
}

/**
 * The object exists and S3 served it, but its body is not what it should be (not JSON, or refused by its codec):
 * no retry will help. `etag` names the version read, so a caller may replace or move exactly that version.
 */
export class CorruptObjectError extends ArchiveError {
  override readonly name = 'CorruptObjectError';
  constructor(
    message: string,
    key: string,
    readonly etag: string,
    options?: ErrorOptions,
  ) {
    super(message, 'GetObject', key, options);
  }
}

/** What a JSON store (state, index) needs: the bucket, the key prefix and how to encrypt. */
export interface JsonStoreOptions extends ServerSideEncryptionOptions {
  readonly s3: S3Sender;
  readonly bucket: string;
  /** Empty or ending in `/`. */
  readonly prefix: string;
}

/**
 * GET, parse and validate one JSON object: undefined when the key does not exist; an ArchiveError naming the key
 * (and `what` it should have been) when S3 fails, the body is not JSON or `parse` refuses its shape.
 */
export async function readJsonObject<T>(
  store: Pick<JsonStoreOptions, 's3' | 'bucket'>,
  key: string,
  what: string,
  parse: (value: unknown) => T,
  signal?: AbortSignal,
): Promise<{ readonly value: T; readonly etag: string } | undefined> {
  const object = await getJsonObject(store.s3, store.bucket, key, signal);
  if (object === undefined) return undefined;
  try {
    return { value: parse(object.value), etag: object.etag };
  } catch (error) {
    throw invalidObject(what, key, error, object.etag);
  }
}

export interface PutJsonOptions extends ServerSideEncryptionOptions {
  /** `IfMatch`: replace only this version. */
  readonly ifMatch?: string;
  /** `IfNoneMatch: '*'`: create only. */
  readonly ifNoneMatch?: '*';
  readonly signal?: AbortSignal;
}

/**
 * PUT one JSON object with server-side encryption; returns its ETag. A lost precondition (412, or 409 from a
 * concurrent conditional write) throws StateConflictError; anything else an ArchiveError.
 */
export async function putJsonObject(
  s3: S3Sender,
  bucket: string,
  key: string,
  value: unknown,
  options: PutJsonOptions,
): Promise<string> {
  return putJsonText(s3, bucket, key, JSON.stringify(value), options);
}

/** `putJsonObject` for a body already encoded (and checked) as JSON text. */
export async function putJsonText(
  s3: S3Sender,
  bucket: string,
  key: string,
  json: string,
  options: PutJsonOptions,
): Promise<string> {
  try {
    const out = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: json,
        ContentType: 'application/json; charset=utf-8',
        ...sseParams(options),
        ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}),
        ...(options.ifNoneMatch !== undefined ? { IfNoneMatch: options.ifNoneMatch } : {}),
      }),
      { abortSignal: options.signal },
    );
    return out.ETag ?? '';
  } catch (error) {
    const conditional = options.ifMatch !== undefined || options.ifNoneMatch !== undefined;
    if (conditional && isConditionalWriteConflict(error)) throw new StateConflictError(key, { cause: error });
    // IfMatch on a key someone deleted: S3 answers 404; the state we based this write on is gone, so it is a conflict.
    if (options.ifMatch !== undefined && isNotFound(error))
      throw new StateConflictError(key, { cause: error });
    throw toArchiveError('PutObject', key, error);
  }
}

/**
 * Minimal shape checks for objects read back from the bucket: each throws a TypeError naming the path, which the
 * stores turn into an ArchiveError naming the key.
 */
export function expectRecord(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${path} must be an object`);
  }
  return value as Record<string, unknown>;
}

export function expectString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new TypeError(`${path}.${key} must be a string`);
  return value;
}

export function optionalString(record: Record<string, unknown>, key: string, path: string): void {
  if (record[key] !== undefined) expectString(record, key, path);
}

export function expectInteger(record: Record<string, unknown>, key: string, path: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${path}.${key} must be an integer`);
  }
  return value;
}

export function expectMatch(
  record: Record<string, unknown>,
  key: string,
  path: string,
  pattern: RegExp,
): string {
  const value = expectString(record, key, path);
  if (!pattern.test(value)) throw new TypeError(`${path}.${key} is malformed`);
  return value;
}

/** The CorruptObjectError for an object (version `etag`) that parsed but failed a shape check. */
export function invalidObject(what: string, key: string, error: unknown, etag: string): CorruptObjectError {
  return new CorruptObjectError(`${what} ${key} is not valid: ${shapeProblem(error)}`, key, etag, {
    cause: error,
  });
}

/** The TypeError's message of a failed shape check (it names the path); anything else is not echoed. */
export function shapeProblem(error: unknown): string {
  return error instanceof TypeError ? error.message : 'unreadable';
}

export const SHA256_HEX = /^[a-f0-9]{64}$/;
