import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION, localAwsAccess } from '../aws/credentials';
import {
  closeServer,
  discardBody,
  FaultQueue,
  listenLocal,
  type Mutable,
  newRequestId,
} from '../aws/local-server';
import { isSigned, parseQuery, verifySigV4 } from '../aws/sigv4';
import type { ChecksumAlgorithm } from './body';
import { S3Error, s3Errors, sigV4Error, xmlDocument } from './errors';
import { HANDLERS, type S3Context, type S3Operation } from './handlers';
import { ObjectStore, type ObjectVersion } from './store';

/**
 * A local S3 for the operations the product makes, speaking the real REST protocol to the real SDK (`client-s3`,
 * `lib-storage`, `s3-request-presigner`): path-style addressing, SigV4 in headers and presigned URLs, aws-chunked
 * bodies with trailing checksums, multipart uploads, versioning and conditional writes that fail the way S3 fails.
 * Objects stream to and from disk, so memory stays flat for any object size. Test hooks (request log, fault
 * injection, direct access to what is stored) sit beside the protocol, never inside it.
 */

export interface S3StandInOptions {
  /** Where objects live, kept after close. Default: a fresh temp directory, removed on close. */
  readonly dir?: string;
  /** Buckets to create at start; `{ name, versioning: true }` turns versioning on. */
  readonly buckets?: ReadonlyArray<string | { readonly name: string; readonly versioning?: boolean }>;
  /** Server time in epoch milliseconds, for signature expiry and skew checks and Last-Modified. */
  readonly clock?: () => number;
}

/** One entry of the request log, complete before its response is written. */
export interface S3RequestRecord {
  readonly operation: S3Operation;
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  /** HTTP status; 0 until answered. */
  readonly status: number;
  /** S3 error code when the request failed (`NoSuchKey`, `PreconditionFailed`, ...). */
  readonly errorCode: string | undefined;
  /** Request body bytes as received on the wire (0 when refused before the body was sent). */
  readonly bytesIn: number;
  readonly auth: 'header' | 'query' | 'anonymous';
  /** The body came `aws-chunked` (the SDK's default for streams). */
  readonly awsChunked: boolean;
  /** Server time at arrival, epoch milliseconds. */
  readonly time: number;
}

/** Make the next matching request(s) fail after authentication, before the operation runs. */
export interface S3Fault {
  readonly operation?: S3Operation;
  /** Only requests for keys starting with this. */
  readonly keyPrefix?: string;
  /** HTTP status to answer with (500, 503, ...). */
  readonly status: number;
  /** S3 error code; default SlowDown for 503, InternalError otherwise. */
  readonly code?: string;
  /** How many matching requests to affect. Default 1. */
  readonly times?: number;
}

export interface StoredObjectInfo {
  readonly key: string;
  readonly versionId: string;
  readonly size: number;
  /** Quoted, as S3 sends it. */
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly serverSideEncryption: string;
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly value: string } | undefined;
  /** Set for objects made by a multipart upload. */
  readonly partsCount: number | undefined;
}

/** What `new S3Client(...)` needs to talk to the stand-in. */
export interface S3ClientSettings {
  readonly endpoint: string;
  readonly region: string;
  readonly forcePathStyle: true;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface S3StandIn {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Every request so far, oldest first (live view). */
  readonly requests: readonly S3RequestRecord[];
  resetRequests(): void;
  /** Requests per operation since the last reset. */
  counts(): Partial<Record<S3Operation, number>>;
  failNext(fault: S3Fault): void;
  clearFaults(): void;
  /** Settings for `new S3Client(...)`: endpoint, region, path style and the local key pair. */
  clientConfig(): S3ClientSettings;
  /** Environment for code that builds its own client: AWS_ENDPOINT_URL_S3, keys, region, S3_FORCE_PATH_STYLE. */
  env(): Record<string, string>;
  /** Store an object without HTTP (seeding a test). */
  putObject(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options?: { contentType?: string; metadata?: Record<string, string> },
  ): Promise<StoredObjectInfo>;
  /** The stored bytes of the current (or given) version; throws when there is none. */
  getObjectBytes(bucket: string, key: string, versionId?: string): Promise<Buffer>;
  /** The stored bytes as a stream from disk, for objects too big to hold. */
  getObjectStream(bucket: string, key: string): Readable;
  /** The current version's description, or undefined when the key has no object. */
  headObject(bucket: string, key: string): StoredObjectInfo | undefined;
  /** Every version of a key, newest first. */
  listVersions(bucket: string, key: string): StoredObjectInfo[];
  /** Keys with an object, in S3's listing order (UTF-8 bytes). */
  listKeys(bucket: string, prefix?: string): string[];
  /** Keys of the multipart uploads started and neither completed nor aborted, sorted. */
  openUploads(bucket: string, prefix?: string): string[];
  close(): Promise<void>;
}

export async function startS3StandIn(options: S3StandInOptions = {}): Promise<S3StandIn> {
  const clock = options.clock ?? Date.now;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 's3-stand-in-')));
  const store = await ObjectStore.open(dir);
  for (const bucket of options.buckets ?? []) {
    const { name, versioning = false } = typeof bucket === 'string' ? { name: bucket } : bucket;
    await store.createBucket(name, versioning);
  }
  const requests: Array<Mutable<S3RequestRecord>> = [];
  const faults = new FaultQueue<S3Fault>();

  async function handle(req: IncomingMessage, res: ServerResponse, awaitingContinue: boolean): Promise<void> {
    const url = req.url ?? '/';
    const question = url.indexOf('?');
    const path = question === -1 ? url : url.slice(0, question);
    let target: { bucket?: string; key?: string; pairs: Array<[string, string]> } = { pairs: [] };
    try {
      const [bucket, ...rest] = path.slice(1).split('/').map(decodeURIComponent);
      const pairs = question === -1 ? [] : parseQuery(url.slice(question + 1));
      target = { bucket: bucket || undefined, key: rest.join('/') || undefined, pairs };
    } catch {
      // A malformed escape: answered 501 like any other request the stand-in does not serve.
    }
    const query = new Map([...target.pairs].reverse());
    const copies = req.headers['x-amz-copy-source'] !== undefined;
    const operation = routeS3(req.method ?? 'GET', target.bucket, target.key, query, copies);
    const signature = { method: req.method ?? 'GET', path, query: target.pairs, rawHeaders: req.rawHeaders };
    const record: Mutable<S3RequestRecord> = {
      operation,
      method: req.method ?? 'GET',
      bucket: target.bucket,
      key: target.key,
      status: 0,
      errorCode: undefined,
      bytesIn: 0,
      auth: query.has('X-Amz-Algorithm') ? 'query' : isSigned(signature) ? 'header' : 'anonymous',
      awsChunked: (req.headers['content-encoding'] ?? '').includes('aws-chunked'),
      time: clock(),
    };
    requests.push(record);
    const send = async (status: number, headers: OutgoingHttpHeaders, body?: string | Readable) => {
      record.status = status;
      const all: OutgoingHttpHeaders = {
        'x-amz-request-id': newRequestId(),
        date: new Date(clock()).toUTCString(),
        ...(typeof body === 'string' ? { 'content-type': 'application/xml' } : {}),
      };
      // Names compare case-insensitively: a handler's `Content-Type` replaces the default, never doubles it.
      for (const [name, value] of Object.entries(headers)) all[name.toLowerCase()] = value;
      // The length goes last: Node re-encodes a Content-Disposition that follows it (nodejs/node#46528), which
      // would mangle the UTF-8 bytes S3 sends for a non-ASCII file name.
      const length = all['content-length'] ?? (typeof body === 'string' ? Buffer.byteLength(body) : 0);
      delete all['content-length'];
      res.writeHead(status, { ...all, 'content-length': length });
      if (!(body instanceof Readable)) return void res.end(req.method === 'HEAD' ? undefined : body);
      try {
        await pipeline(body, res);
      } catch {
        // The client went away mid-download: nothing more can be said on this response.
        res.destroy();
      }
    };
    let ctx: S3Context | undefined;
    try {
      const verified = await verifySigV4(signature, {
        service: 's3',
        region: LOCAL_AWS_REGION,
        credentials: [LOCAL_AWS_CREDENTIALS],
        now: clock(),
        uriEscapePath: false,
      });
      if (!verified.ok) throw sigV4Error(verified.failure, verified.message, record.auth === 'query');
      const fault = faults.take(
        (f) =>
          (f.operation === undefined || f.operation === operation) &&
          (target.key ?? '').startsWith(f.keyPrefix ?? ''),
      );
      if (fault) {
        const code = fault.code ?? (fault.status === 503 ? 'SlowDown' : 'InternalError');
        throw new S3Error(fault.status, code, `Injected fault: ${code}`);
      }
      if (operation === 'Unsupported') throw s3Errors.notImplemented(`${req.method} ${path} with this query`);
      const bucket = store.bucket(target.bucket ?? '');
      if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
      ctx = {
        req,
        res,
        store,
        bucket,
        key: target.key ?? '',
        query,
        now: clock(),
        awaitingContinue,
        send,
        received: (body) => {
          record.bytesIn = body.wireBytes;
        },
      };
      await HANDLERS[operation](ctx);
    } catch (error) {
      if (res.headersSent || res.destroyed) return void res.destroy();
      const s3Error =
        error instanceof S3Error
          ? error
          : new S3Error(500, 'InternalError', 'We encountered an internal error.');
      if (!(error instanceof S3Error)) console.error('S3 stand-in: unexpected error', error);
      record.errorCode = s3Error.code;
      // The body must not be left half-read: either the client has not sent it yet (it waits for 100-continue, so
      // close after answering) or it is on its way and is drained so the answer reaches a reading client.
      if (ctx?.awaitingContinue ?? awaitingContinue) res.shouldKeepAlive = false;
      else if (!req.complete) await discardBody(req);
      const fields = {
        Code: s3Error.code,
        Message: s3Error.message,
        ...(target.key ? { Key: target.key } : {}),
      };
      await send(s3Error.status, {}, xmlDocument('Error', fields));
    }
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void handle(req, res, false));
  server.on('checkContinue', (req, res) => void handle(req, res, true));
  const { url } = await listenLocal(server);

  const describe = (key: string, version: ObjectVersion): StoredObjectInfo => ({
    key,
    versionId: version.versionId,
    size: version.size,
    etag: version.etag,
    lastModified: new Date(version.lastModified),
    contentType: version.attributes.contentType,
    metadata: { ...version.attributes.metadata },
    serverSideEncryption: version.attributes.serverSideEncryption ?? 'AES256',
    checksum: version.checksum,
    partsCount: version.partsCount,
  });
  const versionsOf = (bucket: string, key: string) => store.bucket(bucket)?.keys.get(key) ?? [];
  const storedVersion = (bucket: string, key: string, versionId?: string): ObjectVersion => {
    const versions = versionsOf(bucket, key);
    const version =
      versionId === undefined ? versions.at(-1) : versions.find((v) => v.versionId === versionId);
    if (!version)
      throw new Error(`S3 stand-in: no object ${bucket}/${key}${versionId ? ` version ${versionId}` : ''}`);
    return version;
  };
  const access = localAwsAccess(url, 'AWS_ENDPOINT_URL_S3');

  return {
    url,
    requests,
    resetRequests: () => {
      requests.length = 0;
    },
    counts: () => {
      const counts: Partial<Record<S3Operation, number>> = {};
      for (const r of requests) counts[r.operation] = (counts[r.operation] ?? 0) + 1;
      return counts;
    },
    failNext: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    clientConfig: () => ({ ...access.clientConfig(), forcePathStyle: true }),
    env: () => ({ ...access.env(), S3_FORCE_PATH_STYLE: 'true' }),
    putObject: async (bucketName, key, body, put = {}) => {
      const bucket = store.bucket(bucketName);
      if (!bucket) throw new Error(`S3 stand-in: no bucket ${bucketName}`);
      const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const file = await store.addBlob({ data });
      const metadata = Object.fromEntries(
        Object.entries(put.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const version = await store.withKeyLock(bucketName, key, () =>
        store.putVersion(bucket, key, {
          lastModified: clock(),
          size: data.length,
          etag: `"${createHash('md5').update(data).digest('hex')}"`,
          segments: [{ file, size: data.length }],
          attributes: {
            metadata,
            ...(put.contentType === undefined ? {} : { contentType: put.contentType }),
          },
        }),
      );
      return describe(key, version);
    },
    getObjectBytes: async (bucket, key, versionId) => {
      const { segments } = storedVersion(bucket, key, versionId);
      return Buffer.concat(await Promise.all(segments.map((s) => readFile(store.blobPath(s.file)))));
    },
    getObjectStream: (bucket, key) => store.read(storedVersion(bucket, key).segments),
    headObject: (bucket, key) => {
      const version = versionsOf(bucket, key).at(-1);
      return version && describe(key, version);
    },
    listVersions: (bucket, key) =>
      versionsOf(bucket, key)
        .map((v) => describe(key, v))
        .reverse(),
    listKeys: (bucket, prefix = '') =>
      [...(store.bucket(bucket)?.keys.keys() ?? [])]
        .filter((key) => key.startsWith(prefix))
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    openUploads: (bucket, prefix = '') =>
      [...(store.bucket(bucket)?.uploads.values() ?? [])]
        .map((upload) => upload.key)
        .filter((key) => key.startsWith(prefix))
        .sort(),
    close: async () => {
      await closeServer(server);
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Query parameters that do not change which operation a request for an object is. */
const OBJECT_PARAMS = /^(x-id|versionId|response-.+|X-Amz-.+|x-amz-checksum-mode)$/;

/**
 * Which served operation a path-style request (`/bucket/key?subresource`) is, from its method, whether it names a
 * key, its query and whether it copies; anything else is `Unsupported`.
 */
function routeS3(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: ReadonlyMap<string, string>,
  copies: boolean,
): S3Operation {
  if (bucket === undefined) return 'Unsupported';
  if (key === undefined)
    return method === 'HEAD' && query.size === 0 && !copies ? 'HeadBucket' : 'Unsupported';
  const exactly = (...names: string[]) =>
    names.every((name) => query.has(name)) &&
    [...query.keys()].every((name) => names.includes(name) || OBJECT_PARAMS.test(name));
  if (copies) return method === 'PUT' && exactly() ? 'CopyObject' : 'Unsupported';
  if (method === 'GET' && exactly()) return 'GetObject';
  if (method === 'HEAD' && exactly()) return 'HeadObject';
  if (method === 'PUT' && exactly()) return 'PutObject';
  if (method === 'PUT' && exactly('uploadId', 'partNumber')) return 'UploadPart';
  if (method === 'POST' && exactly('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && exactly('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && exactly('uploadId')) return 'AbortMultipartUpload';
  return 'Unsupported';
}
