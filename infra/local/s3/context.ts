import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Mutable } from '../aws/local-server';
import type { SigV4Auth } from '../aws/sigv4';
import { S3Error, s3Errors } from './errors';
import type { S3Operation } from './routes';
import type { BucketState, ObjectAttributes, ObjectStore, ObjectVersion } from './store';
import { el, S3_XMLNS, type Xml, type XmlContent, xmlDocument } from './xml';

/** Everything one S3 request's handler needs; built by the server per request. */
export interface S3Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly store: ObjectStore;
  readonly settings: S3Settings;
  readonly requestId: string;
  readonly operation: S3Operation;
  readonly bucketName: string | undefined;
  readonly key: string | undefined;
  /** First value of each query parameter, decoded. */
  readonly query: ReadonlyMap<string, string>;
  /** Undefined until verified, and when signatures are not verified at all. */
  auth: SigV4Auth | undefined;
  /** The client sent `Expect: 100-continue` and has not been told to go on yet. */
  awaitingContinue: boolean;
  /** This request's log entry, completed by handlers and the response helpers as the request is answered. */
  readonly record: RequestLogEntry;
}

/**
 * One entry of the request log. It is entered when the request arrives and completed before each part of the
 * response is written, so a client holding its response always finds the entry final.
 */
export interface S3RequestRecord {
  readonly operation: S3Operation;
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  /** HTTP status; 0 when the connection was dropped without an answer. */
  readonly status: number;
  /** S3 error code when the request failed (`NoSuchKey`, `PreconditionFailed`, ...). */
  readonly errorCode: string | undefined;
  /** Request body bytes as received on the wire. */
  readonly bytesIn: number;
  /** Response body bytes sent. */
  readonly bytesOut: number;
  readonly auth: 'header' | 'query' | 'anonymous';
  /** The body came `Content-Encoding: aws-chunked` (the SDK's default for streams). */
  readonly awsChunked: boolean;
  readonly versionId?: string;
  readonly uploadId?: string;
  readonly partNumber?: number;
  /** Server time at arrival, epoch milliseconds. */
  readonly time: number;
}

export type RequestLogEntry = Mutable<S3RequestRecord>;

export interface S3Settings {
  readonly region: string;
  /** Every part but the last must be at least this big (S3: 5 MiB). */
  readonly minPartSize: number;
  /** aws-chunked: every chunk but the last must be at least this big (S3: 8 KiB). */
  readonly minChunkSize: number;
  /** Server time, epoch milliseconds. */
  now(): number;
}

/** The canonical owner every listing shows. */
export const OWNER = el('Owner', [
  el('ID', '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a'),
  el('DisplayName', 'local'),
]);

export const MAX_KEY_BYTES = 1024;
export const MAX_METADATA_BYTES = 2048;
/** S3's largest single PUT and largest part, in bytes (5 GiB). */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Tell a client waiting on `Expect: 100-continue` to send its body. */
export function continueBody(ctx: S3Context): void {
  if (ctx.awaitingContinue) {
    ctx.res.writeContinue();
    ctx.awaitingContinue = false;
  }
}

export function requireBucket(ctx: S3Context): BucketState {
  const name = ctx.bucketName as string;
  const bucket = ctx.store.bucket(name);
  if (!bucket) throw s3Errors.noSuchBucket(name);
  return bucket;
}

export function requireKey(ctx: S3Context): string {
  const key = ctx.key as string;
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', {
      MaxSizeAllowed: String(MAX_KEY_BYTES),
      Size: String(Buffer.byteLength(key, 'utf8')),
    });
  }
  return key;
}

function baseHeaders(ctx: S3Context): OutgoingHttpHeaders {
  return {
    'x-amz-request-id': ctx.requestId,
    'x-amz-id-2': randomBytes(24).toString('base64'),
    Date: new Date(ctx.settings.now()).toUTCString(),
    Server: 'AmazonS3',
  };
}

/** Send a complete response. `body` is omitted for HEAD whatever is passed. */
export function send(
  ctx: S3Context,
  status: number,
  headers: OutgoingHttpHeaders = {},
  body: string | Buffer = '',
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const all: OutgoingHttpHeaders = { ...baseHeaders(ctx), ...headers };
  if (all['Content-Length'] === undefined) all['Content-Length'] = bytes.length;
  ctx.record.status = status;
  if (ctx.req.method !== 'HEAD') ctx.record.bytesOut += bytes.length;
  ctx.res.writeHead(status, all);
  if (ctx.req.method === 'HEAD') {
    ctx.res.end();
    return;
  }
  ctx.res.end(bytes);
}

export function sendXml(ctx: S3Context, root: Xml, headers: OutgoingHttpHeaders = {}, status = 200): void {
  send(ctx, status, { 'Content-Type': 'application/xml', ...headers }, xmlDocument(root));
}

/** Write the response head for a streamed body (GET object); the caller pipes the bytes. */
export function writeHead(ctx: S3Context, status: number, headers: OutgoingHttpHeaders): void {
  ctx.record.status = status;
  ctx.res.writeHead(status, { ...baseHeaders(ctx), ...headers });
}

/** S3's `<Error>` document; HEAD requests get the status and headers only, as S3 sends them. */
export function sendError(ctx: S3Context, error: S3Error, extraHeaders: OutgoingHttpHeaders = {}): void {
  ctx.record.errorCode = error.code;
  const children: Xml[] = [el('Code', error.code), el('Message', error.message)];
  for (const [name, value] of Object.entries(error.details)) children.push(el(name, value));
  if (ctx.key !== undefined && error.details.Key === undefined && error.status === 404) {
    children.push(el('Key', ctx.key));
  }
  children.push(el('RequestId', ctx.requestId), el('HostId', randomBytes(24).toString('base64')));
  const headers: OutgoingHttpHeaders = { ...error.headers, ...extraHeaders };
  if (ctx.req.method === 'HEAD') {
    send(ctx, error.status, { ...headers, 'Content-Length': 0 });
    return;
  }
  send(
    ctx,
    error.status,
    { 'Content-Type': 'application/xml', ...headers },
    xmlDocument(el('Error', children)),
  );
}

/** A root element in S3's namespace. */
export function s3Root(name: string, content: XmlContent): Xml {
  return el(name, content, { xmlns: S3_XMLNS });
}

export function isoDate(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

const STORED_HEADERS = [
  ['content-type', 'contentType'],
  ['content-disposition', 'contentDisposition'],
  ['cache-control', 'cacheControl'],
  ['content-language', 'contentLanguage'],
  ['expires', 'expires'],
] as const;

const SSE_VALUES = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
  'EXPRESS_ONEZONE',
]);

/**
 * The attributes a PutObject / CreateMultipartUpload / CopyObject (REPLACE) sets from its headers. Throws S3Error
 * for an unknown encryption or storage class and for user metadata over S3's 2 KB.
 */
export function attributesFromHeaders(
  req: IncomingMessage,
  contentEncoding: string | undefined,
): ObjectAttributes {
  const attributes: Record<string, unknown> = {};
  for (const [name, field] of STORED_HEADERS) {
    const value = header(req, name);
    if (value !== undefined) attributes[field] = value;
  }
  if (contentEncoding !== undefined) attributes.contentEncoding = contentEncoding;
  const metadata: Record<string, string> = {};
  let metadataBytes = 0;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (!name.startsWith('x-amz-meta-')) continue;
    const short = name.slice('x-amz-meta-'.length);
    const value = req.rawHeaders[i + 1] as string;
    metadata[short] = metadata[short] === undefined ? value : `${metadata[short]},${value}`;
    metadataBytes += Buffer.byteLength(short) + Buffer.byteLength(value);
  }
  if (metadataBytes > MAX_METADATA_BYTES) {
    throw new S3Error(
      400,
      'MetadataTooLarge',
      'Your metadata headers exceed the maximum allowed metadata size.',
      {
        Size: String(metadataBytes),
        MaxSizeAllowed: String(MAX_METADATA_BYTES),
      },
    );
  }
  attributes.metadata = metadata;
  const sse = header(req, 'x-amz-server-side-encryption');
  if (sse !== undefined) {
    if (!SSE_VALUES.has(sse)) {
      throw s3Errors.invalidArgument(
        'The encryption method specified is not supported',
        'x-amz-server-side-encryption',
        sse,
      );
    }
    attributes.serverSideEncryption = sse;
    const kmsKey = header(req, 'x-amz-server-side-encryption-aws-kms-key-id');
    if (kmsKey !== undefined) attributes.sseKmsKeyId = kmsKey;
  }
  const storageClass = header(req, 'x-amz-storage-class');
  if (storageClass !== undefined) {
    if (!STORAGE_CLASSES.has(storageClass)) {
      throw new S3Error(400, 'InvalidStorageClass', 'The storage class you specified is not valid', {
        StorageClassRequested: storageClass,
      });
    }
    attributes.storageClass = storageClass;
  }
  return attributes as unknown as ObjectAttributes;
}

/** Encryption headers S3 returns on every write and read (all new objects are encrypted, AES256 by default). */
export function encryptionHeaders(attributes: ObjectAttributes): OutgoingHttpHeaders {
  return {
    'x-amz-server-side-encryption': attributes.serverSideEncryption ?? 'AES256',
    ...(attributes.sseKmsKeyId === undefined
      ? {}
      : { 'x-amz-server-side-encryption-aws-kms-key-id': attributes.sseKmsKeyId }),
  };
}

export function versionHeader(bucket: BucketState, versionId: string): OutgoingHttpHeaders {
  return bucket.versioning === undefined ? {} : { 'x-amz-version-id': versionId };
}

/** The headers GET and HEAD describe a stored version with (no length: that depends on the range). */
export function objectHeaders(bucket: BucketState, version: ObjectVersion): OutgoingHttpHeaders {
  const a = version.attributes;
  const headers: OutgoingHttpHeaders = {
    'Last-Modified': new Date(version.lastModified).toUTCString(),
    ETag: version.etag,
    'Content-Type': a.contentType ?? 'binary/octet-stream',
    'Accept-Ranges': 'bytes',
    ...encryptionHeaders(a),
    ...versionHeader(bucket, version.versionId),
  };
  if (a.cacheControl !== undefined) headers['Cache-Control'] = a.cacheControl;
  if (a.contentDisposition !== undefined) headers['Content-Disposition'] = a.contentDisposition;
  if (a.contentEncoding !== undefined) headers['Content-Encoding'] = a.contentEncoding;
  if (a.contentLanguage !== undefined) headers['Content-Language'] = a.contentLanguage;
  if (a.expires !== undefined) headers.Expires = a.expires;
  if (a.storageClass !== undefined && a.storageClass !== 'STANDARD')
    headers['x-amz-storage-class'] = a.storageClass;
  for (const [name, value] of Object.entries(a.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

/** Strip quotes and a weak `W/` prefix so ETags compare by value. */
export function bareEtag(etag: string): string {
  const trimmed = etag.trim().replace(/^W\//, '');
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2
    ? trimmed.slice(1, -1)
    : trimmed;
}

/** Whether an `If-Match` / `If-None-Match` list (`"a", "b"` or `*`) names this ETag. */
export function etagListMatches(list: string, etag: string): boolean {
  const want = bareEtag(etag);
  return list.split(',').some((item) => item.trim() === '*' || bareEtag(item) === want);
}

/** A `partNumber` query parameter: an integer from 1 to 10,000 (S3's limits). */
export function parsePartNumber(text: string | undefined): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 10000) {
    throw s3Errors.invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      text,
    );
  }
  return Number(text);
}

/** A non-negative integer query parameter such as `max-keys`, or `fallback` when absent. */
export function parseNonNegative(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) {
    throw s3Errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, text);
  }
  return Number(text);
}
