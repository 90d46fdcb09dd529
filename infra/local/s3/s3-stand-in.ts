import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChecksumAlgorithm } from '../aws/checksums';
import { type AwsCredentialPair, LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION } from '../aws/credentials';
import { closeServer, discardBody, FaultQueue, listenLocal, newRequestId } from '../aws/local-server';
import { hasSigV4Credentials, headerValue, parseQuery, verifySigV4 } from '../aws/sigv4';
import {
  createBucket,
  deleteBucket,
  deleteObjects,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  isValidBucketName,
  listBuckets,
  listObjects,
  listObjectsV2,
  listObjectVersions,
  putBucketVersioning,
} from './bucket-handlers';
import {
  type RequestLogEntry,
  type S3Context,
  type S3RequestRecord,
  type S3Settings,
  sendError,
} from './context';
import { defaultCodeForStatus, defaultMessageForCode, S3Error, s3Errors, sigV4Error } from './errors';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './multipart-handlers';
import { copyObject, deleteObject, getObject, putObject } from './object-handlers';
import { routeS3, type S3Operation } from './routes';
import { ObjectStore, type ObjectVersion, type VersioningStatus } from './store';

/**
 * A local S3 that speaks the real REST protocol to the real SDK: path-style addressing, SigV4 (headers and
 * presigned URLs), aws-chunked bodies with trailing checksums, multipart uploads, versioning and conditional writes
 * that fail the way S3 fails. Objects stream to and from disk, so memory stays flat for any object size. Test hooks
 * (request log, fault injection, direct reads of what is stored) sit beside the protocol, never inside it.
 */

export interface S3StandInOptions {
  /** Where objects live. Default: a fresh temp directory, removed on close unless `keep`. */
  readonly dir?: string;
  /** Keep a default temp directory after close (a given `dir` is never removed). */
  readonly keep?: boolean;
  /** Key pairs that may sign requests. Default: the local pair in `aws/credentials.ts`. */
  readonly credentials?: readonly AwsCredentialPair[];
  readonly region?: string;
  /** Buckets to create at start; `{ name, versioning: true }` turns versioning on. */
  readonly buckets?: ReadonlyArray<string | { readonly name: string; readonly versioning?: boolean }>;
  /** Default true. When false, any request is accepted and bodies are still decoded. */
  readonly verifySignatures?: boolean;
  readonly port?: number;
  /** Server time in epoch milliseconds, for signature expiry, skew checks and Last-Modified. */
  readonly clock?: () => number;
  /** Smallest part (except the last) CompleteMultipartUpload accepts. Default 5 MiB, as S3. */
  readonly minPartSize?: number;
  /** Smallest aws-chunked chunk (except the last). Default 8 KiB, as S3; 0 disables. */
  readonly minChunkSize?: number;
}

/** Make the next matching request(s) fail (or stall) after authentication, before the operation runs. */
export interface S3Fault {
  readonly operation?: S3Operation | readonly S3Operation[];
  readonly bucket?: string;
  /** Only requests for keys starting with this. */
  readonly keyPrefix?: string;
  /** HTTP status to answer with (500, 503, ...). Without one the request only waits `delayMs` then runs. */
  readonly status?: number;
  /** S3 error code; default from the status (500 InternalError, 503 SlowDown, ...). */
  readonly code?: string;
  readonly message?: string;
  /** How many matching requests to affect. Default 1. */
  readonly times?: number;
  readonly retryAfterSeconds?: number;
  readonly delayMs?: number;
  /** Destroy the connection without an answer, as a network failure looks to the client. */
  readonly resetConnection?: boolean;
}

export interface StoredObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly size: number;
  /** Quoted, as S3 sends it. */
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType: string | undefined;
  readonly contentDisposition: string | undefined;
  readonly cacheControl: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly serverSideEncryption: string;
  readonly checksum:
    | { readonly algorithm: ChecksumAlgorithm; readonly value: string; readonly type: string }
    | undefined;
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
  readonly port: number;
  readonly region: string;
  readonly dir: string;
  /** Every request so far, oldest first (live view). */
  readonly requests: readonly S3RequestRecord[];
  resetRequests(): void;
  /** Requests per operation since the last reset. */
  counts(): Partial<Record<S3Operation, number>>;
  failNext(fault: S3Fault): void;
  clearFaults(): void;
  /** Settings for `new S3Client(...)`: endpoint, region, path style and the first key pair. */
  clientConfig(): S3ClientSettings;
  /** Environment for code that builds its own client: AWS_ENDPOINT_URL_S3, keys, region, S3_FORCE_PATH_STYLE. */
  env(): Record<string, string>;
  createBucket(name: string, options?: { versioning?: boolean }): Promise<void>;
  setVersioning(bucket: string, status: VersioningStatus): Promise<void>;
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
  getObjectStream(bucket: string, key: string, versionId?: string): Readable;
  /** The current version's description, or undefined when the key has no live object. */
  headObject(bucket: string, key: string): StoredObjectInfo | undefined;
  /** Every version of a key, delete markers included, newest first. */
  listVersions(bucket: string, key: string): StoredObjectInfo[];
  /** Keys with a live object, in S3's listing order. */
  listKeys(bucket: string, prefix?: string): string[];
  close(): Promise<void>;
}

const HANDLERS: Record<
  Exclude<S3Operation, 'Unsupported' | 'MethodNotAllowed'>,
  (ctx: S3Context) => Promise<void>
> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  PutBucketVersioning: putBucketVersioning,
  GetBucketVersioning: getBucketVersioning,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  ListMultipartUploads: listMultipartUploads,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: getObject,
  DeleteObject: deleteObject,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
};

/** Thrown by a `resetConnection` fault: the socket is gone, so nothing may be written. */
class ConnectionReset extends Error {}

export async function startS3StandIn(options: S3StandInOptions = {}): Promise<S3StandIn> {
  const region = options.region ?? LOCAL_AWS_REGION;
  const credentials = options.credentials ?? [LOCAL_AWS_CREDENTIALS];
  const verifySignatures = options.verifySignatures ?? true;
  const clock = options.clock ?? Date.now;
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 's3-stand-in-')));
  const store = await ObjectStore.open(dir);
  const settings: S3Settings = {
    region,
    minPartSize: options.minPartSize ?? 5 * 1024 * 1024,
    minChunkSize: options.minChunkSize ?? 8192,
    now: clock,
  };
  const requests: RequestLogEntry[] = [];
  const faults = new FaultQueue<S3Fault>();

  async function createBucketDirect(name: string, versioning = false): Promise<void> {
    if (!isValidBucketName(name)) throw new Error(`S3 stand-in: invalid bucket name ${JSON.stringify(name)}`);
    await store.createBucket(name, clock());
    const bucket = store.bucket(name);
    if (bucket && versioning && bucket.versioning !== 'Enabled') await store.setVersioning(bucket, 'Enabled');
  }
  for (const bucket of options.buckets ?? []) {
    if (typeof bucket === 'string') await createBucketDirect(bucket);
    else await createBucketDirect(bucket.name, bucket.versioning);
  }

  function takeFault(operation: S3Operation, bucket: string | undefined, key: string | undefined) {
    return faults.take((fault) => {
      const ops = fault.operation === undefined ? undefined : ([] as S3Operation[]).concat(fault.operation);
      if (ops && !ops.includes(operation)) return false;
      if (fault.bucket !== undefined && fault.bucket !== bucket) return false;
      return fault.keyPrefix === undefined || (key ?? '').startsWith(fault.keyPrefix);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    const time = clock();
    const requestId = newRequestId();
    const url = req.url ?? '/';
    const question = url.indexOf('?');
    const rawPath = question === -1 ? url : url.slice(0, question);
    const rawQuery = question === -1 ? '' : url.slice(question + 1);
    let target: { bucket: string | undefined; key: string | undefined; pairs: Array<[string, string]> };
    let malformed = false;
    try {
      target = { ...splitPath(rawPath), pairs: parseQuery(rawQuery) };
    } catch {
      malformed = true;
      target = { bucket: undefined, key: undefined, pairs: [] };
    }
    const query = new Map<string, string>();
    for (const [name, value] of target.pairs) if (!query.has(name)) query.set(name, value);
    const operation = malformed
      ? 'MethodNotAllowed'
      : routeS3(
          req.method ?? 'GET',
          target.bucket,
          target.key,
          query,
          req.headers['x-amz-copy-source'] !== undefined,
        );
    const sigv4 = { method: req.method ?? 'GET', rawPath, query: target.pairs, rawHeaders: req.rawHeaders };
    const authKind = query.has('X-Amz-Algorithm')
      ? 'query'
      : hasSigV4Credentials(sigv4)
        ? 'header'
        : 'anonymous';
    const awsChunked =
      (req.headers['content-encoding'] ?? '').includes('aws-chunked') ||
      String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
    const record: RequestLogEntry = {
      operation,
      method: req.method ?? 'GET',
      bucket: target.bucket,
      key: target.key,
      status: 0,
      errorCode: undefined,
      bytesIn: 0,
      bytesOut: 0,
      auth: authKind,
      awsChunked,
      time,
    };
    requests.push(record);
    const ctx: S3Context = {
      req,
      res,
      store,
      settings,
      requestId,
      operation,
      bucketName: target.bucket,
      key: target.key,
      query,
      auth: undefined,
      awaitingContinue: expectsContinue,
      record,
    };
    try {
      if (malformed) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
      if (verifySignatures) {
        if (authKind === 'header' && headerValue(req.rawHeaders, 'x-amz-content-sha256') === undefined) {
          throw s3Errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
        }
        const result = verifySigV4(sigv4, {
          service: 's3',
          region,
          credentials,
          now: clock(),
          escapePath: false,
        });
        if (!result.ok) throw sigV4Error(result.failure, authKind === 'query');
        ctx.auth = result.auth;
      }
      const fault = takeFault(operation, target.bucket, target.key);
      if (fault) await applyFault(ctx, fault);
      if (operation === 'Unsupported') throw s3Errors.notImplemented();
      if (operation === 'MethodNotAllowed') {
        throw s3Errors.methodNotAllowed(req.method ?? '', target.key === undefined ? 'BUCKET' : 'OBJECT');
      }
      await HANDLERS[operation](ctx);
    } catch (error) {
      if (error instanceof ConnectionReset) return;
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const s3Error = error instanceof S3Error ? error : s3Errors.internalError();
      if (!(error instanceof S3Error)) console.error('S3 stand-in: unexpected error', error);
      // The body must not be left half-read: either the client has not sent it yet (it waits for 100-continue, so
      // close after answering) or it is on its way and is drained so the answer reaches a reading client.
      if (ctx.awaitingContinue) res.shouldKeepAlive = false;
      else if (!req.complete) await discardBody(req);
      sendError(ctx, s3Error);
    }
  }

  async function applyFault(ctx: S3Context, fault: S3Fault): Promise<void> {
    if (fault.delayMs) await delay(fault.delayMs);
    if (fault.resetConnection) {
      ctx.req.socket.destroy();
      throw new ConnectionReset();
    }
    if (fault.status === undefined) return;
    const code = fault.code ?? defaultCodeForStatus(fault.status);
    throw new S3Error(
      fault.status,
      code,
      fault.message ?? defaultMessageForCode(code),
      {},
      fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) },
    );
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void handle(req, res, false));
  server.on('checkContinue', (req, res) => void handle(req, res, true));
  const { url, port } = await listenLocal(server, options.port ?? 0);

  function describe(
    bucket: string,
    key: string,
    version: ObjectVersion,
    isLatest: boolean,
  ): StoredObjectInfo {
    const a = version.attributes;
    return {
      bucket,
      key,
      versionId: version.versionId,
      isLatest,
      deleteMarker: version.deleteMarker,
      size: version.size,
      etag: version.etag,
      lastModified: new Date(version.lastModified),
      contentType: a.contentType,
      contentDisposition: a.contentDisposition,
      cacheControl: a.cacheControl,
      contentEncoding: a.contentEncoding,
      metadata: { ...a.metadata },
      serverSideEncryption: a.serverSideEncryption ?? 'AES256',
      checksum: version.checksum ? { ...version.checksum } : undefined,
      partsCount: version.partsCount,
    };
  }

  function storedVersion(bucketName: string, key: string, versionId?: string): ObjectVersion {
    const bucket = store.bucket(bucketName);
    if (!bucket) throw new Error(`S3 stand-in: no bucket ${bucketName}`);
    const version =
      versionId === undefined
        ? store.current(bucket, key)
        : store.versions(bucket, key).find((v) => v.versionId === versionId);
    if (!version || version.deleteMarker) {
      throw new Error(
        `S3 stand-in: no object ${bucketName}/${key}${versionId ? ` version ${versionId}` : ''}`,
      );
    }
    return version;
  }

  const first = credentials[0] ?? LOCAL_AWS_CREDENTIALS;
  return {
    url,
    port,
    region,
    dir,
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
    clientConfig: () => ({
      endpoint: url,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey },
    }),
    env: () => ({
      AWS_ENDPOINT_URL_S3: url,
      AWS_ACCESS_KEY_ID: first.accessKeyId,
      AWS_SECRET_ACCESS_KEY: first.secretAccessKey,
      AWS_REGION: region,
      S3_FORCE_PATH_STYLE: 'true',
    }),
    createBucket: (name, bucketOptions) => createBucketDirect(name, bucketOptions?.versioning),
    setVersioning: async (bucketName, status) => {
      const bucket = store.bucket(bucketName);
      if (!bucket) throw new Error(`S3 stand-in: no bucket ${bucketName}`);
      await store.setVersioning(bucket, status);
    },
    putObject: async (bucketName, key, body, putOptions = {}) => {
      const bucket = store.bucket(bucketName);
      if (!bucket) throw new Error(`S3 stand-in: no bucket ${bucketName}`);
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const file = await store.writeBlob(bytes);
      const version = await store.withKeyLock(bucketName, key, () =>
        store.putVersion(bucket, key, {
          deleteMarker: false,
          lastModified: clock(),
          size: bytes.length,
          etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
          segments: [{ file, size: bytes.length }],
          attributes: {
            metadata: Object.fromEntries(
              Object.entries(putOptions.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
            ),
            ...(putOptions.contentType === undefined ? {} : { contentType: putOptions.contentType }),
          },
        }),
      );
      return describe(bucketName, key, version, true);
    },
    getObjectBytes: async (bucketName, key, versionId) => {
      const version = storedVersion(bucketName, key, versionId);
      const parts = await Promise.all(version.segments.map((s) => readFile(store.blobPath(s.file))));
      return Buffer.concat(parts);
    },
    getObjectStream: (bucketName, key, versionId) => {
      const version = storedVersion(bucketName, key, versionId);
      return store.readRange(version.segments, 0, version.size);
    },
    headObject: (bucketName, key) => {
      const bucket = store.bucket(bucketName);
      const version = bucket ? store.current(bucket, key) : undefined;
      return version && !version.deleteMarker ? describe(bucketName, key, version, true) : undefined;
    },
    listVersions: (bucketName, key) => {
      const bucket = store.bucket(bucketName);
      if (!bucket) return [];
      const versions = store.versions(bucket, key);
      return versions.map((v, i) => describe(bucketName, key, v, i === versions.length - 1)).reverse();
    },
    listKeys: (bucketName, prefix = '') => {
      const bucket = store.bucket(bucketName);
      if (!bucket) return [];
      return store
        .sortedKeys(bucket)
        .filter((k) => k.startsWith(prefix) && store.current(bucket, k)?.deleteMarker === false);
    },
    close: async () => {
      await closeServer(server);
      if (ownsDir && !options.keep) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `/bucket/some/key` → bucket and key, decoded; `/bucket` and `/bucket/` have no key. Throws URIError. */
function splitPath(rawPath: string): { bucket: string | undefined; key: string | undefined } {
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (path === '') return { bucket: undefined, key: undefined };
  const slash = path.indexOf('/');
  if (slash === -1) return { bucket: decodeURIComponent(path), key: undefined };
  const key = path.slice(slash + 1);
  return {
    bucket: decodeURIComponent(path.slice(0, slash)),
    key: key === '' ? undefined : decodeURIComponent(key),
  };
}
