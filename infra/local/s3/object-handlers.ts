import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { checksumHeaderName } from '../aws/checksums';
import { planBody, receiveToFile } from './body';
import {
  attributesFromHeaders,
  continueBody,
  encryptionHeaders,
  etagListMatches,
  header,
  isoDate,
  MAX_PUT_BYTES,
  objectHeaders,
  parsePartNumber,
  requireBucket,
  requireKey,
  type S3Context,
  s3Root,
  send,
  sendXml,
  versionHeader,
  writeHead,
} from './context';
import { S3Error, s3Errors } from './errors';
import { type BucketState, NULL_VERSION, type ObjectVersion } from './store';
import { el } from './xml';

/** PutObject, GetObject, HeadObject, DeleteObject and CopyObject. */

export interface WriteConditions {
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
}

/** `If-None-Match` on a write accepts only `*` (anything else is 501, as in S3). */
export function writeConditions(ctx: S3Context): WriteConditions {
  const ifNoneMatch = header(ctx.req, 'if-none-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw s3Errors.notImplemented('If-None-Match');
  return { ifMatch: header(ctx.req, 'if-match'), ifNoneMatch };
}

/**
 * S3's conditional-write rules against the key's current state: `If-None-Match: *` fails (412) when a live object
 * exists; `If-Match` fails with 404 NoSuchKey when none does and 412 when its ETag differs. Evaluated once early
 * (so a doomed upload is refused before its body is sent) and again under the key lock at commit time, which is
 * the check that counts.
 */
export function checkWriteConditions(
  ctx: S3Context,
  bucket: BucketState,
  key: string,
  c: WriteConditions,
): void {
  const current = ctx.store.current(bucket, key);
  const live = current && !current.deleteMarker ? current : undefined;
  if (c.ifNoneMatch !== undefined && live) throw s3Errors.preconditionFailed('If-None-Match');
  if (c.ifMatch !== undefined) {
    if (!live) throw s3Errors.noSuchKey(key);
    if (!etagListMatches(c.ifMatch, live.etag)) throw s3Errors.preconditionFailed('If-Match');
  }
}

export async function putObject(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const plan = planBody(ctx.req, ctx.auth, { requireLength: true, minChunkSize: ctx.settings.minChunkSize });
  if (plan.declaredLength !== undefined && plan.declaredLength > MAX_PUT_BYTES) {
    throw s3Errors.entityTooLarge(plan.declaredLength, MAX_PUT_BYTES);
  }
  const attributes = attributesFromHeaders(ctx.req, plan.storedContentEncoding);
  const conditions = writeConditions(ctx);
  checkWriteConditions(ctx, bucket, key, conditions);

  continueBody(ctx);
  const temp = ctx.store.tempPath();
  const received = await receiveToFile(ctx.req, plan, temp);
  ctx.record.bytesIn = received.wireBytes;
  let version: ObjectVersion;
  try {
    version = await ctx.store.withKeyLock(bucket.name, key, async () => {
      checkWriteConditions(ctx, bucket, key, conditions);
      const file = await ctx.store.adoptTemp(temp);
      return ctx.store.putVersion(bucket, key, {
        deleteMarker: false,
        lastModified: ctx.settings.now(),
        size: received.size,
        etag: `"${received.md5Hex}"`,
        segments: [{ file, size: received.size }],
        attributes,
        ...(received.checksum ? { checksum: { ...received.checksum, type: 'FULL_OBJECT' as const } } : {}),
      });
    });
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  ctx.record.versionId = version.versionId;
  send(ctx, 200, {
    ETag: version.etag,
    ...encryptionHeaders(attributes),
    ...versionHeader(bucket, version.versionId),
    ...checksumHeaders(version),
  });
}

/** GetObject and HeadObject: versions, conditional reads, Range / partNumber, response-* overrides. */
export async function getObject(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const version = resolveVersion(ctx, bucket, key);
  ctx.record.versionId = version.versionId;

  const condition = readCondition(ctx, version);
  if (condition === 'not-modified') {
    send(ctx, 304, {
      ETag: version.etag,
      'Last-Modified': new Date(version.lastModified).toUTCString(),
      ...versionHeader(bucket, version.versionId),
    });
    return;
  }

  const headers = { ...objectHeaders(bucket, version), ...responseOverrides(ctx) };
  let start = 0;
  let end = version.size;
  let partial = false;
  const partNumberText = ctx.query.get('partNumber');
  const range = header(ctx.req, 'range');
  if (partNumberText !== undefined) {
    if (range !== undefined) {
      throw s3Errors.invalidRequest('Cannot specify both Range header and partNumber query parameter');
    }
    [start, end] = partBounds(version, parsePartNumber(partNumberText));
    partial = version.partsCount !== undefined;
    if (version.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(version.partsCount);
  } else if (range !== undefined) {
    const bounds = parseRange(range, version.size);
    if (bounds) {
      [start, end] = bounds;
      partial = true;
    }
  }
  if (partial) headers['Content-Range'] = `bytes ${start}-${end - 1}/${version.size}`;
  else if (header(ctx.req, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    Object.assign(headers, checksumHeaders(version));
  }
  headers['Content-Length'] = String(end - start);

  writeHead(ctx, partial ? 206 : 200, headers);
  if (ctx.req.method === 'HEAD') {
    ctx.res.end();
    return;
  }
  const body = ctx.store.readRange(version.segments, start, end);
  body.on('data', (chunk: Buffer) => {
    ctx.record.bytesOut += chunk.length;
  });
  try {
    await pipeline(body, ctx.res);
  } catch {
    // The client went away mid-download (or a blob vanished): nothing more can be said on this response.
    ctx.res.destroy();
  }
}

export async function deleteObject(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const versionId = ctx.query.get('versionId');
  const headers: OutgoingHttpHeaders = await ctx.store.withKeyLock(bucket.name, key, async () => {
    if (versionId !== undefined && versionId !== '') {
      const removed = await ctx.store.deleteVersion(bucket, key, versionId);
      return {
        'x-amz-version-id': versionId,
        ...(removed?.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
      };
    }
    const marker = await ctx.store.deleteCurrent(bucket, key, ctx.settings.now());
    return marker ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId } : {};
  });
  send(ctx, 204, headers);
}

/** CopyObject within the stand-in: the copy gets hard links to the source's blobs, never a byte copy. */
export async function copyObject(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const source = parseCopySource(header(ctx.req, 'x-amz-copy-source') ?? '');
  const sourceBucket = ctx.store.bucket(source.bucket);
  if (!sourceBucket) throw s3Errors.noSuchBucket(source.bucket);
  const sourceVersion = source.versionId
    ? ctx.store.versions(sourceBucket, source.key).find((v) => v.versionId === source.versionId)
    : ctx.store.current(sourceBucket, source.key);
  if (!sourceVersion || sourceVersion.deleteMarker) throw s3Errors.noSuchKey(source.key);

  const directive = (header(ctx.req, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw s3Errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  }
  if (directive === 'COPY' && sourceBucket === bucket && source.key === key && !source.versionId) {
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const attributes =
    directive === 'REPLACE'
      ? attributesFromHeaders(ctx.req, header(ctx.req, 'content-encoding'))
      : sourceVersion.attributes;
  const etag =
    sourceVersion.partsCount === undefined
      ? sourceVersion.etag
      : `"${await md5OfSegments(ctx, sourceVersion)}"`;

  const version = await ctx.store.withKeyLock(bucket.name, key, async () => {
    const segments = await Promise.all(
      sourceVersion.segments.map(async (s) => ({ file: await ctx.store.cloneBlob(s.file), size: s.size })),
    );
    const fullChecksum = sourceVersion.checksum?.type === 'FULL_OBJECT' ? sourceVersion.checksum : undefined;
    return ctx.store.putVersion(bucket, key, {
      deleteMarker: false,
      lastModified: ctx.settings.now(),
      size: sourceVersion.size,
      etag,
      segments,
      attributes,
      ...(fullChecksum ? { checksum: fullChecksum } : {}),
    });
  });
  ctx.record.versionId = version.versionId;
  sendXml(
    ctx,
    s3Root('CopyObjectResult', [el('LastModified', isoDate(version.lastModified)), el('ETag', version.etag)]),
    {
      ...encryptionHeaders(attributes),
      ...versionHeader(bucket, version.versionId),
      ...(sourceBucket.versioning === undefined
        ? {}
        : { 'x-amz-copy-source-version-id': sourceVersion.versionId }),
    },
  );
}

/** `x-amz-checksum-<alg>` and `x-amz-checksum-type` for a version that has a checksum. */
export function checksumHeaders(version: ObjectVersion): OutgoingHttpHeaders {
  if (!version.checksum) return {};
  return {
    [checksumHeaderName(version.checksum.algorithm)]: version.checksum.value,
    'x-amz-checksum-type': version.checksum.type,
  };
}

function resolveVersion(ctx: S3Context, bucket: BucketState, key: string): ObjectVersion {
  const versionId = ctx.query.get('versionId');
  if (versionId !== undefined && versionId !== '') {
    const version = ctx.store.versions(bucket, key).find((v) => v.versionId === versionId);
    if (!version) {
      if (versionId !== NULL_VERSION && !/^[A-Za-z0-9._-]{1,1024}$/.test(versionId)) {
        throw s3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
      }
      throw s3Errors.noSuchVersion(key, versionId);
    }
    if (version.deleteMarker) {
      throw new S3Error(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        { Method: ctx.req.method ?? 'GET', ResourceType: 'DeleteMarker' },
        {
          'x-amz-delete-marker': 'true',
          'x-amz-version-id': version.versionId,
          'Last-Modified': new Date(version.lastModified).toUTCString(),
        },
      );
    }
    return version;
  }
  const current = ctx.store.current(bucket, key);
  if (!current) throw s3Errors.noSuchKey(key);
  if (current.deleteMarker) {
    throw s3Errors.noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': current.versionId });
  }
  return current;
}

/**
 * RFC 7232 as S3 applies it: If-Match (else If-Unmodified-Since) failing is 412; If-None-Match (else
 * If-Modified-Since) matching is 304. Dates compare at whole seconds, like Last-Modified.
 */
function readCondition(ctx: S3Context, version: ObjectVersion): 'ok' | 'not-modified' {
  const lastModified = Math.floor(version.lastModified / 1000) * 1000;
  const ifMatch = header(ctx.req, 'if-match');
  const ifUnmodifiedSince = Date.parse(header(ctx.req, 'if-unmodified-since') ?? '');
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, version.etag)) throw s3Errors.preconditionFailed('If-Match');
  } else if (!Number.isNaN(ifUnmodifiedSince) && lastModified > ifUnmodifiedSince) {
    throw s3Errors.preconditionFailed('If-Unmodified-Since');
  }
  const ifNoneMatch = header(ctx.req, 'if-none-match');
  const ifModifiedSince = Date.parse(header(ctx.req, 'if-modified-since') ?? '');
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, version.etag)) return 'not-modified';
  } else if (!Number.isNaN(ifModifiedSince) && lastModified <= ifModifiedSince) {
    return 'not-modified';
  }
  return 'ok';
}

const OVERRIDES = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
] as const;

/** Presigned URLs set download headers through `response-*` query parameters; S3 allows them on signed requests only. */
function responseOverrides(ctx: S3Context): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [param, name] of OVERRIDES) {
    const value = ctx.query.get(param);
    if (value === undefined) continue;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: header values cannot carry control characters
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value))
      throw s3Errors.invalidArgument(`Invalid ${param}`, param, value);
    // S3 sends non-ASCII values (a UTF-8 file name) as their raw UTF-8 bytes.
    headers[name] = Buffer.from(value, 'utf8').toString('latin1');
  }
  return headers;
}

/** `[start, end)` for a satisfiable single range; undefined to send the whole object (S3 ignores what it cannot parse). */
export function parseRange(range: string, size: number): [number, number] | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw s3Errors.invalidRange(size);
    return [Math.max(0, size - suffix), size];
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) throw s3Errors.invalidRange(size);
  const end = last === '' ? size : Math.min(Number(last) + 1, size);
  return [start, end];
}

function partBounds(version: ObjectVersion, partNumber: number): [number, number] {
  if (version.partsCount === undefined) {
    if (partNumber !== 1)
      throw new S3Error(416, 'InvalidPartNumber', 'The requested partnumber is not satisfiable');
    return [0, version.size];
  }
  if (partNumber > version.segments.length) {
    throw new S3Error(416, 'InvalidPartNumber', 'The requested partnumber is not satisfiable');
  }
  let start = 0;
  for (let i = 0; i < partNumber - 1; i++) start += (version.segments[i] as { size: number }).size;
  return [start, start + (version.segments[partNumber - 1] as { size: number }).size];
}

function parseCopySource(value: string): { bucket: string; key: string; versionId: string | undefined } {
  const question = value.indexOf('?');
  const path = question === -1 ? value : value.slice(0, question);
  const params = new URLSearchParams(question === -1 ? '' : value.slice(question + 1));
  let decoded: string;
  try {
    decoded = decodeURIComponent(path).replace(/^\//, '');
  } catch {
    throw s3Errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', value);
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw s3Errors.invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      'x-amz-copy-source',
      value,
    );
  }
  return {
    bucket: decoded.slice(0, slash),
    key: decoded.slice(slash + 1),
    versionId: params.get('versionId') ?? undefined,
  };
}

async function md5OfSegments(ctx: S3Context, version: ObjectVersion): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of ctx.store.readRange(version.segments, 0, version.size))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}
