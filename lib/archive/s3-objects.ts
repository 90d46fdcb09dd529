import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ArchiveError, CorruptObjectError, StateConflictError } from '../errors';
import type { JsonCodec } from './codecs';
import { isConditionalWriteConflict, isNotFound, toArchiveError } from './s3-errors';
import { shapeProblem } from './shape-checks';
import { type ServerSideEncryptionOptions, sseParams } from './sse';

/**
 * The bucket's small objects (the JSON state, index and spend records; the chart PNGs): one GET that parses and
 * validates JSON through the object's codec, and one PUT with server-side encryption, conditional where two polls
 * could race. Messages carry the operation, key and S3 code, never a credential.
 */
export type S3Sender = Pick<S3Client, 'send'>;

/** What a JSON store (state, index, spend) needs: the bucket, the key prefix and how to encrypt. */
export interface JsonStoreOptions extends ServerSideEncryptionOptions {
  readonly s3: S3Sender;
  readonly bucket: string;
  /** Empty or ending in `/`. */
  readonly prefix: string;
}

/** The bucket to read from and write to, and how to encrypt what is written. */
export type ObjectBucket = Omit<JsonStoreOptions, 'prefix'>;

/**
 * GET, parse and validate one JSON object: undefined when the key does not exist; an ArchiveError naming the key when
 * S3 fails, and a CorruptObjectError (naming the version read) when the body is not JSON or the codec refuses it.
 */
export async function readJsonObject<T>(
  bucket: Pick<ObjectBucket, 's3' | 'bucket'>,
  key: string,
  codec: Pick<JsonCodec<T>, 'what' | 'parse'>,
  signal?: AbortSignal,
): Promise<{ readonly value: T; readonly etag: string } | undefined> {
  const object = await getJsonObject(bucket, key, signal);
  if (object === undefined) return undefined;
  try {
    return { value: codec.parse(object.value), etag: object.etag };
  } catch (error) {
    throw new CorruptObjectError(
      `${codec.what} ${key} is not valid: ${shapeProblem(error)}`,
      key,
      object.etag,
      { cause: error },
    );
  }
}

async function getJsonObject(
  { s3, bucket }: Pick<ObjectBucket, 's3' | 'bucket'>,
  key: string,
  signal: AbortSignal | undefined,
): Promise<{ readonly value: unknown; readonly etag: string } | undefined> {
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

export interface PutOptions {
  /** `IfMatch`: replace only this version. */
  readonly ifMatch?: string | undefined;
  /** `IfNoneMatch: '*'`: create only. */
  readonly ifNoneMatch?: '*' | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * PUT one object with server-side encryption; returns its ETag. A lost precondition (412, or 409 from a concurrent
 * conditional write) throws StateConflictError; anything else an ArchiveError.
 */
export async function putObject(
  target: ObjectBucket,
  key: string,
  body: { readonly bytes: string | Uint8Array; readonly contentType: string },
  options: PutOptions = {},
): Promise<string> {
  try {
    const out = await target.s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: key,
        Body: body.bytes,
        ContentType: body.contentType,
        ...sseParams(target),
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

/** `putObject` of JSON text already encoded (and checked) by its codec. */
export function putJsonText(target: ObjectBucket, key: string, json: string, options: PutOptions = {}) {
  return putObject(target, key, { bytes: json, contentType: 'application/json; charset=utf-8' }, options);
}

/**
 * `putJsonText` that replaces only version `etag`, or creates the object when `etag` is undefined (`IfNoneMatch: '*'`):
 * two runs never silently overwrite each other; the loser gets StateConflictError and must re-read.
 */
export function putJsonTextIfUnchanged(
  target: ObjectBucket,
  key: string,
  json: string,
  etag: string | undefined,
  signal?: AbortSignal,
): Promise<string> {
  return putJsonText(target, key, json, {
    ...(etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag }),
    signal,
  });
}
