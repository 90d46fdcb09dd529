import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { checksumHeader, planBody, type ReceivedBody, receiveToBuffer, receiveToFile } from './body';
import { S3Error, s3Errors, xmlDocument } from './errors';
import type {
  BucketState,
  MultipartUpload,
  ObjectAttributes,
  ObjectStore,
  ObjectVersion,
  UploadedPart,
} from './store';

/**
 * The operations the stand-in serves: HeadBucket, PutObject, GetObject, HeadObject, CopyObject within a bucket (the
 * poller moves an unreadable state aside with it) and the multipart upload (Create, UploadPart, Complete, Abort). Conditional writes (`If-None-Match: *`, `If-Match`) are checked before the
 * body is read, so a client waiting on `Expect: 100-continue` never sends a doomed body, and again under the key's
 * lock at commit, which is the check that counts: of two racing writers exactly one wins.
 */

/** The operations served; `Unsupported` is any other request, answered 501 NotImplemented. */
export type S3Operation =
  | 'HeadBucket'
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'CopyObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'Unsupported';

/** Everything one request's handler needs; built by the server per request. */
export interface S3Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly store: ObjectStore;
  readonly bucket: BucketState;
  readonly key: string;
  /** First value of each query parameter, decoded. */
  readonly query: ReadonlyMap<string, string>;
  /** Server time, epoch milliseconds. */
  readonly now: number;
  /** The client sent `Expect: 100-continue` and has not been told to go on yet. */
  awaitingContinue: boolean;
  /** Completes the request log entry, then writes the response: head, and the body when given. */
  send(status: number, headers: OutgoingHttpHeaders, body?: string | Readable): Promise<void>;
  /** Counts the request body bytes received into the log entry. */
  received(body: ReceivedBody): void;
}

/** S3's minimum size for every part of a multipart upload but the last. */
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_COMPLETE_BODY = 1024 * 1024;

export const HANDLERS: Record<Exclude<S3Operation, 'Unsupported'>, (ctx: S3Context) => Promise<void>> = {
  HeadBucket: (ctx) => ctx.send(200, {}),
  GetObject: getObject,
  HeadObject: getObject,
  async PutObject(ctx) {
    const plan = planBody(ctx.req);
    const conditions = writeConditions(ctx);
    const temp = ctx.store.tempPath();
    const received = await receive(ctx, () => receiveToFile(ctx.req, plan, temp));
    const version = await commit(ctx, conditions, async () => ({
      size: received.size,
      etag: `"${received.md5Hex}"`,
      segments: [{ file: await ctx.store.addBlob({ tempPath: temp }), size: received.size }],
      attributes: attributesOf(ctx.req),
      ...(received.checksum ? { checksum: received.checksum } : {}),
    })).catch(async (error: unknown) => {
      await rm(temp, { force: true });
      throw error;
    });
    await ctx.send(200, {
      ETag: version.etag,
      ...writtenHeaders(ctx.bucket, version),
      ...checksumHeaders(version),
    });
  },
  /**
   * A copy of the current version of `x-amz-copy-source` (same bucket) to this key, with
   * `x-amz-copy-source-if-match` honoured: 404 NoSuchKey when the source is gone, 412 when its ETag differs. The
   * copy gets its own bytes, the source's content type and metadata, and the encryption the request asks for.
   */
  async CopyObject(ctx) {
    const raw = decodeURIComponent(String(ctx.req.headers['x-amz-copy-source']).split('?')[0] ?? '');
    const [bucket, ...rest] = raw.replace(/^\//, '').split('/');
    if (bucket !== ctx.bucket.name) throw s3Errors.notImplemented('CopyObject between buckets');
    const source = ctx.store.current(ctx.bucket, rest.join('/'));
    if (!source) throw s3Errors.noSuchKey();
    const ifMatch = ctx.req.headers['x-amz-copy-source-if-match'];
    if (typeof ifMatch === 'string' && ifMatch.trim().replace(/^W\//, '') !== source.etag)
      throw s3Errors.preconditionFailed();
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.store.read(source.segments)) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    const sse = ctx.req.headers['x-amz-server-side-encryption'];
    const version = await commit(ctx, { ifMatch: undefined, ifNoneMatch: false }, async () => ({
      size: data.length,
      etag: source.etag,
      segments: [{ file: await ctx.store.addBlob({ data }), size: data.length }],
      attributes: {
        ...source.attributes,
        ...(typeof sse === 'string' ? { serverSideEncryption: sse } : {}),
      },
      ...(source.checksum ? { checksum: source.checksum } : {}),
    }));
    const fields = { ETag: version.etag, LastModified: new Date(version.lastModified).toISOString() };
    await ctx.send(200, writtenHeaders(ctx.bucket, version), xmlDocument('CopyObjectResult', fields));
  },
  async CreateMultipartUpload(ctx) {
    const uploadId = randomBytes(32).toString('base64url');
    const upload: MultipartUpload = { key: ctx.key, attributes: attributesOf(ctx.req), parts: new Map() };
    ctx.bucket.uploads.set(uploadId, upload);
    const fields = { Bucket: ctx.bucket.name, Key: ctx.key, UploadId: uploadId };
    await ctx.send(200, sseHeader(upload.attributes), xmlDocument('InitiateMultipartUploadResult', fields));
  },
  async UploadPart(ctx) {
    const upload = requireUpload(ctx);
    const partNumber = Number(ctx.query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      throw new S3Error(
        400,
        'InvalidArgument',
        'Part number must be an integer between 1 and 10000, inclusive',
      );
    }
    const plan = planBody(ctx.req);
    const temp = ctx.store.tempPath();
    const received = await receive(ctx, () => receiveToFile(ctx.req, plan, temp));
    if (ctx.bucket.uploads.get(ctx.query.get('uploadId') ?? '') !== upload) {
      await rm(temp, { force: true });
      throw s3Errors.noSuchUpload();
    }
    const part = {
      file: await ctx.store.addBlob({ tempPath: temp }),
      size: received.size,
      etag: `"${received.md5Hex}"`,
    };
    const replaced = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (replaced) ctx.store.discard([replaced.file]);
    const checksum = received.checksum
      ? { [checksumHeader(received.checksum.algorithm)]: received.checksum.value }
      : {};
    await ctx.send(200, { ETag: part.etag, ...sseHeader(upload.attributes), ...checksum });
  },
  async CompleteMultipartUpload(ctx) {
    const upload = requireUpload(ctx);
    const conditions = writeConditions(ctx);
    const plan = planBody(ctx.req, false);
    const { body } = await receive(ctx, () => receiveToBuffer(ctx.req, plan, MAX_COMPLETE_BODY));
    const parts = chosenParts(upload, body.toString('utf8'));
    const md5s = Buffer.concat(parts.map((p) => Buffer.from(p.etag.slice(1, -1), 'hex')));
    const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
    const uploadId = ctx.query.get('uploadId') ?? '';
    const version = await commit(ctx, conditions, async () => {
      if (ctx.bucket.uploads.get(uploadId) !== upload) throw s3Errors.noSuchUpload();
      ctx.bucket.uploads.delete(uploadId);
      const used = new Set(parts.map((p) => p.file));
      ctx.store.discard([...upload.parts.values()].map((p) => p.file).filter((file) => !used.has(file)));
      return {
        size: parts.reduce((total, p) => total + p.size, 0),
        etag,
        segments: parts.map(({ file, size }) => ({ file, size })),
        attributes: upload.attributes,
        partsCount: parts.length,
      };
    });
    const fields = { Bucket: ctx.bucket.name, Key: ctx.key, ETag: etag };
    await ctx.send(
      200,
      writtenHeaders(ctx.bucket, version),
      xmlDocument('CompleteMultipartUploadResult', fields),
    );
  },
  async AbortMultipartUpload(ctx) {
    const upload = requireUpload(ctx);
    ctx.bucket.uploads.delete(ctx.query.get('uploadId') ?? '');
    ctx.store.discard([...upload.parts.values()].map((p) => p.file));
    await ctx.send(204, {});
  },
};

/** GetObject and HeadObject: the current version or `versionId`, download headers from `response-*` parameters. */
async function getObject(ctx: S3Context): Promise<void> {
  const versionId = ctx.query.get('versionId');
  const version =
    versionId === undefined
      ? ctx.store.current(ctx.bucket, ctx.key)
      : ctx.bucket.keys.get(ctx.key)?.find((v) => v.versionId === versionId);
  if (!version) {
    if (versionId === undefined) throw s3Errors.noSuchKey();
    throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.');
  }
  const a = version.attributes;
  const headers: OutgoingHttpHeaders = {
    'Content-Length': version.size,
    'Content-Type': a.contentType ?? 'binary/octet-stream',
    ETag: version.etag,
    'Last-Modified': new Date(version.lastModified).toUTCString(),
    ...writtenHeaders(ctx.bucket, version),
    ...(version.partsCount === undefined ? {} : { 'x-amz-mp-parts-count': version.partsCount }),
  };
  for (const [name, value] of Object.entries(a.metadata)) headers[`x-amz-meta-${name}`] = value;
  if ((ctx.query.get('x-amz-checksum-mode') ?? ctx.req.headers['x-amz-checksum-mode']) === 'ENABLED') {
    Object.assign(headers, checksumHeaders(version));
  }
  for (const [param, value] of ctx.query) {
    // Presigned links set download headers this way; a non-ASCII file name goes out as its UTF-8 bytes, as in S3.
    if (RESPONSE_OVERRIDES.has(param))
      headers[param.slice('response-'.length)] = Buffer.from(value).toString('latin1');
  }
  await ctx.send(200, headers, ctx.req.method === 'HEAD' ? undefined : ctx.store.read(version.segments));
}

const RESPONSE_OVERRIDES = new Set(
  [
    'content-type',
    'content-disposition',
    'content-encoding',
    'content-language',
    'cache-control',
    'expires',
  ].map((name) => `response-${name}`),
);

interface WriteConditions {
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: boolean;
}

/**
 * `If-None-Match: *` fails (412) when the key has an object; `If-Match` fails with 404 NoSuchKey when it has none
 * and 412 when the ETag differs. Checked now, before the body is asked for, and again by `commit`.
 */
function writeConditions(ctx: S3Context): WriteConditions {
  const ifNoneMatch = ctx.req.headers['if-none-match'];
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*')
    throw s3Errors.notImplemented('If-None-Match other than *');
  const conditions = { ifMatch: ctx.req.headers['if-match'], ifNoneMatch: ifNoneMatch !== undefined };
  checkConditions(ctx, conditions);
  return conditions;
}

function checkConditions(ctx: S3Context, conditions: WriteConditions): void {
  const current = ctx.store.current(ctx.bucket, ctx.key);
  if (conditions.ifNoneMatch && current) throw s3Errors.preconditionFailed();
  if (conditions.ifMatch === undefined) return;
  if (!current) throw s3Errors.noSuchKey();
  const etags = conditions.ifMatch.split(',').map((etag) => etag.trim().replace(/^W\//, ''));
  if (!etags.includes('*') && !etags.includes(current.etag)) throw s3Errors.preconditionFailed();
}

/** Make the new version current under the key's lock, after checking the write conditions once more. */
function commit(
  ctx: S3Context,
  conditions: WriteConditions,
  build: () => Promise<Omit<ObjectVersion, 'versionId' | 'lastModified'>>,
): Promise<ObjectVersion> {
  return ctx.store.withKeyLock(ctx.bucket.name, ctx.key, async () => {
    checkConditions(ctx, conditions);
    return ctx.store.putVersion(ctx.bucket, ctx.key, { ...(await build()), lastModified: ctx.now });
  });
}

/** Ask a client waiting on `Expect: 100-continue` for the body, receive it, and log its size. */
async function receive<T extends ReceivedBody>(ctx: S3Context, read: () => Promise<T>): Promise<T> {
  if (ctx.awaitingContinue) {
    ctx.res.writeContinue();
    ctx.awaitingContinue = false;
  }
  const received = await read();
  ctx.received(received);
  return received;
}

function requireUpload(ctx: S3Context): MultipartUpload {
  const upload = ctx.bucket.uploads.get(ctx.query.get('uploadId') ?? '');
  if (!upload || upload.key !== ctx.key) throw s3Errors.noSuchUpload();
  return upload;
}

/**
 * The uploaded parts a CompleteMultipartUpload document names, after S3's checks: ascending part numbers, ETags
 * that match, every part but the last at least 5 MiB. Part checksums in the document are not compared.
 */
function chosenParts(upload: MultipartUpload, xml: string): UploadedPart[] {
  const requested = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, part = '']) => ({
    number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(part)?.[1]),
    etag: (/<ETag>([^<]*)<\/ETag>/.exec(part)?.[1] ?? '')
      .replace(/&quot;|&#34;/g, '"')
      .replace(/^"?(.*?)"?$/, '"$1"'),
  }));
  if (!/^\s*(<\?xml[^>]*\?>)?\s*<CompleteMultipartUpload[\s>]/.test(xml) || requested.length === 0) {
    throw new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  if (requested.some(({ number }, index) => index > 0 && !(number > (requested[index - 1]?.number ?? 0)))) {
    throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
  }
  return requested.map(({ number, etag }, index) => {
    const part = upload.parts.get(number);
    if (!part || part.etag !== etag) {
      throw new S3Error(
        400,
        'InvalidPart',
        'One or more of the specified parts could not be found or its ETag does not match.',
      );
    }
    if (index < requested.length - 1 && part.size < MIN_PART_SIZE) {
      throw new S3Error(
        400,
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
      );
    }
    return part;
  });
}

/** What a write stores besides the bytes: content type, user metadata, server-side encryption. */
function attributesOf(req: IncomingMessage): ObjectAttributes {
  const metadata: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (name.startsWith('x-amz-meta-'))
      metadata[name.slice('x-amz-meta-'.length)] = req.rawHeaders[i + 1] as string;
  }
  const sse = req.headers['x-amz-server-side-encryption'];
  return {
    ...(req.headers['content-type'] === undefined ? {} : { contentType: req.headers['content-type'] }),
    metadata,
    ...(typeof sse === 'string' ? { serverSideEncryption: sse } : {}),
  };
}

/** Every S3 object is encrypted at rest: AES256 unless the writer chose otherwise. */
function sseHeader(attributes: ObjectAttributes): OutgoingHttpHeaders {
  return { 'x-amz-server-side-encryption': attributes.serverSideEncryption ?? 'AES256' };
}

function writtenHeaders(bucket: BucketState, version: ObjectVersion): OutgoingHttpHeaders {
  return {
    ...sseHeader(version.attributes),
    ...(bucket.versioned ? { 'x-amz-version-id': version.versionId } : {}),
  };
}

function checksumHeaders(version: ObjectVersion): OutgoingHttpHeaders {
  if (!version.checksum) return {};
  return {
    [checksumHeader(version.checksum.algorithm)]: version.checksum.value,
    'x-amz-checksum-type': 'FULL_OBJECT',
  };
}
