import { uriEncode } from '../aws/sigv4';
import { planBody, receiveToBuffer } from './body';
import {
  continueBody,
  isoDate,
  OWNER,
  parseNonNegative,
  requireBucket,
  type S3Context,
  s3Root,
  send,
  sendXml,
} from './context';
import { S3Error, s3Errors } from './errors';
import { decodeContinuationToken, encodeContinuationToken, type ListEntry, walkKeys } from './listing';
import { type BucketState, compareUtf8, type ObjectVersion } from './store';
import {
  childElements,
  childText,
  el,
  optional,
  parseXml,
  type Xml,
  type XmlElement,
  XmlParseError,
} from './xml';

/** Bucket-level operations: buckets themselves, versioning, listings and DeleteObjects. */

const MAX_CONFIG_BODY = 1024 * 1024;
const MAX_LIST_KEYS = 1000;

/** S3's rules for general-purpose bucket names. */
export function isValidBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias')
  );
}

export async function listBuckets(ctx: S3Context): Promise<void> {
  const buckets = ctx.store.bucketNames().map((name) => ctx.store.bucket(name) as BucketState);
  sendXml(
    ctx,
    s3Root('ListAllMyBucketsResult', [
      OWNER,
      el(
        'Buckets',
        buckets.map((b) =>
          el('Bucket', [
            el('Name', b.name),
            el('CreationDate', isoDate(b.created)),
            el('BucketRegion', ctx.settings.region),
          ]),
        ),
      ),
    ]),
  );
}

export async function createBucket(ctx: S3Context): Promise<void> {
  const name = ctx.bucketName as string;
  if (!isValidBucketName(name)) {
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  }
  const root = await readXmlBody(ctx, true);
  const constraint = root ? childText(root, 'LocationConstraint') : undefined;
  const region = ctx.settings.region;
  if ((constraint ?? 'us-east-1') !== region && !(constraint === undefined && region === 'us-east-1')) {
    throw new S3Error(
      400,
      'IllegalLocationConstraintException',
      `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
  const created = await ctx.store.createBucket(name, ctx.settings.now());
  if (!created && region !== 'us-east-1') {
    throw new S3Error(
      409,
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      { BucketName: name },
    );
  }
  send(ctx, 200, { Location: `/${name}` });
}

export async function headBucket(ctx: S3Context): Promise<void> {
  requireBucket(ctx);
  send(ctx, 200, { 'x-amz-bucket-region': ctx.settings.region, 'x-amz-access-point-alias': 'false' });
}

export async function deleteBucket(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  if (bucket.keys.size > 0 || bucket.uploads.size > 0) {
    throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', {
      BucketName: bucket.name,
    });
  }
  await ctx.store.deleteBucket(bucket.name);
  send(ctx, 204);
}

export async function getBucketLocation(ctx: S3Context): Promise<void> {
  requireBucket(ctx);
  const region = ctx.settings.region;
  sendXml(ctx, s3Root('LocationConstraint', region === 'us-east-1' ? undefined : region));
}

export async function putBucketVersioning(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const root = await readXmlBody(ctx, false);
  const status = root && root.name === 'VersioningConfiguration' ? childText(root, 'Status') : undefined;
  if (status !== 'Enabled' && status !== 'Suspended') throw s3Errors.malformedXml();
  await ctx.store.setVersioning(bucket, status);
  send(ctx, 200);
}

export async function getBucketVersioning(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  sendXml(
    ctx,
    s3Root('VersioningConfiguration', bucket.versioning ? [el('Status', bucket.versioning)] : undefined),
  );
}

interface ListParams {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly encodeUrl: boolean;
}

function listParams(ctx: S3Context): ListParams {
  const encoding = ctx.query.get('encoding-type');
  if (encoding !== undefined && encoding !== 'url') {
    throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encoding);
  }
  const delimiter = ctx.query.get('delimiter');
  return {
    prefix: ctx.query.get('prefix') ?? '',
    delimiter: delimiter === '' ? undefined : delimiter,
    maxKeys: Math.min(parseNonNegative(ctx.query.get('max-keys'), MAX_LIST_KEYS, 'max-keys'), MAX_LIST_KEYS),
    encodeUrl: encoding === 'url',
  };
}

/** With `encoding-type=url`, S3 URL-encodes keys and prefixes in the listing (slashes kept). */
function listText(params: ListParams, value: string): string {
  return params.encodeUrl ? value.split('/').map(uriEncode).join('/') : value;
}

function contents(
  ctx: S3Context,
  bucket: BucketState,
  params: ListParams,
  entries: readonly ListEntry[],
  owner: boolean,
): Xml[] {
  const out: Xml[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'key') continue;
    const v = ctx.store.current(bucket, entry.key) as ObjectVersion;
    out.push(
      el('Contents', [
        el('Key', listText(params, entry.key)),
        el('LastModified', isoDate(v.lastModified)),
        el('ETag', v.etag),
        v.checksum ? el('ChecksumAlgorithm', v.checksum.algorithm) : undefined,
        v.checksum ? el('ChecksumType', v.checksum.type) : undefined,
        el('Size', v.size),
        el('StorageClass', v.attributes.storageClass ?? 'STANDARD'),
        owner ? OWNER : undefined,
      ]),
    );
  }
  return out;
}

function commonPrefixes(params: ListParams, entries: readonly ListEntry[]): Xml[] {
  return entries.flatMap((e) =>
    e.kind === 'prefix' ? [el('CommonPrefixes', [el('Prefix', listText(params, e.prefix))])] : [],
  );
}

function isLive(ctx: S3Context, bucket: BucketState): (key: string) => boolean {
  return (key) => ctx.store.current(bucket, key)?.deleteMarker === false;
}

function lastMarker(entries: readonly ListEntry[]): string | undefined {
  const last = entries[entries.length - 1];
  return last === undefined ? undefined : last.kind === 'key' ? last.key : last.prefix;
}

export async function listObjectsV2(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after');
  let after = startAfter === '' ? undefined : startAfter;
  if (token !== undefined) {
    after = decodeContinuationToken(token);
    if (after === undefined) {
      throw s3Errors.invalidArgument(
        'The continuation token provided is incorrect',
        'continuation-token',
        token,
      );
    }
  }
  const { entries, truncated } = walkKeys(ctx.store.sortedKeys(bucket), {
    prefix: params.prefix,
    delimiter: params.delimiter,
    after,
    maxKeys: params.maxKeys,
    include: isLive(ctx, bucket),
  });
  const next = truncated ? lastMarker(entries) : undefined;
  sendXml(
    ctx,
    s3Root('ListBucketResult', [
      el('Name', bucket.name),
      el('Prefix', listText(params, params.prefix)),
      optional('Delimiter', params.delimiter === undefined ? undefined : listText(params, params.delimiter)),
      el('MaxKeys', params.maxKeys),
      optional('EncodingType', params.encodeUrl ? 'url' : undefined),
      el('KeyCount', entries.length),
      el('IsTruncated', truncated),
      optional('ContinuationToken', token),
      optional('NextContinuationToken', next === undefined ? undefined : encodeContinuationToken(next)),
      optional('StartAfter', startAfter === undefined ? undefined : listText(params, startAfter)),
      ...contents(ctx, bucket, params, entries, ctx.query.get('fetch-owner') === 'true'),
      ...commonPrefixes(params, entries),
    ]),
  );
}

export async function listObjects(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const marker = ctx.query.get('marker');
  const { entries, truncated } = walkKeys(ctx.store.sortedKeys(bucket), {
    prefix: params.prefix,
    delimiter: params.delimiter,
    after: marker === '' ? undefined : marker,
    maxKeys: params.maxKeys,
    include: isLive(ctx, bucket),
  });
  const next = truncated && params.delimiter !== undefined ? lastMarker(entries) : undefined;
  sendXml(
    ctx,
    s3Root('ListBucketResult', [
      el('Name', bucket.name),
      el('Prefix', listText(params, params.prefix)),
      el('Marker', listText(params, marker ?? '')),
      optional('NextMarker', next === undefined ? undefined : listText(params, next)),
      el('MaxKeys', params.maxKeys),
      optional('Delimiter', params.delimiter === undefined ? undefined : listText(params, params.delimiter)),
      optional('EncodingType', params.encodeUrl ? 'url' : undefined),
      el('IsTruncated', truncated),
      ...contents(ctx, bucket, params, entries, true),
      ...commonPrefixes(params, entries),
    ]),
  );
}

/** ListObjectVersions: every version and delete marker, newest first within a key, paged by key and version id. */
export async function listObjectVersions(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const keyMarker = ctx.query.get('key-marker') || undefined;
  const versionIdMarker = ctx.query.get('version-id-marker') || undefined;
  const { entries } = walkKeys(ctx.store.sortedKeys(bucket), {
    prefix: params.prefix,
    delimiter: params.delimiter,
    after: undefined,
    maxKeys: Number.POSITIVE_INFINITY,
    include: () => true,
  });
  const items: Xml[] = [];
  const prefixes: Xml[] = [];
  let count = 0;
  let truncated = false;
  let nextKey: string | undefined;
  let nextVersion: string | undefined;
  outer: for (const entry of entries) {
    const name = entry.kind === 'key' ? entry.key : entry.prefix;
    if (keyMarker !== undefined && compareUtf8(name, keyMarker) < 0) continue;
    if (entry.kind === 'prefix') {
      if (keyMarker !== undefined && name === keyMarker) continue;
      if (count === params.maxKeys) {
        truncated = true;
        break;
      }
      prefixes.push(el('CommonPrefixes', [el('Prefix', listText(params, name))]));
      count += 1;
      nextKey = name;
      nextVersion = undefined;
      continue;
    }
    let versions = [...ctx.store.versions(bucket, name)].reverse();
    if (keyMarker !== undefined && name === keyMarker) {
      if (versionIdMarker === undefined) continue;
      const at = versions.findIndex((v) => v.versionId === versionIdMarker);
      versions = at === -1 ? [] : versions.slice(at + 1);
    }
    for (const [index, v] of versions.entries()) {
      if (count === params.maxKeys) {
        truncated = true;
        break outer;
      }
      const isLatest = index === 0 && (keyMarker !== name || versionIdMarker === undefined);
      items.push(versionElement(params, name, v, isLatest));
      count += 1;
      nextKey = name;
      nextVersion = v.versionId;
    }
  }
  sendXml(
    ctx,
    s3Root('ListVersionsResult', [
      el('Name', bucket.name),
      el('Prefix', listText(params, params.prefix)),
      el('KeyMarker', keyMarker ?? ''),
      el('VersionIdMarker', versionIdMarker ?? ''),
      optional('NextKeyMarker', truncated ? nextKey : undefined),
      optional('NextVersionIdMarker', truncated ? nextVersion : undefined),
      el('MaxKeys', params.maxKeys),
      optional('Delimiter', params.delimiter),
      optional('EncodingType', params.encodeUrl ? 'url' : undefined),
      el('IsTruncated', truncated),
      ...items,
      ...prefixes,
    ]),
  );
}

function versionElement(params: ListParams, key: string, v: ObjectVersion, isLatest: boolean): Xml {
  if (v.deleteMarker) {
    return el('DeleteMarker', [
      el('Key', listText(params, key)),
      el('VersionId', v.versionId),
      el('IsLatest', isLatest),
      el('LastModified', isoDate(v.lastModified)),
      OWNER,
    ]);
  }
  return el('Version', [
    el('Key', listText(params, key)),
    el('VersionId', v.versionId),
    el('IsLatest', isLatest),
    el('LastModified', isoDate(v.lastModified)),
    el('ETag', v.etag),
    v.checksum ? el('ChecksumAlgorithm', v.checksum.algorithm) : undefined,
    el('Size', v.size),
    el('StorageClass', v.attributes.storageClass ?? 'STANDARD'),
    OWNER,
  ]);
}

/** DeleteObjects: up to 1,000 keys in one request, each deleted under its own key lock. */
export async function deleteObjects(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const root = await readXmlBody(ctx, false);
  if (root?.name !== 'Delete') throw s3Errors.malformedXml();
  const objects = childElements(root, 'Object');
  if (objects.length === 0 || objects.length > 1000) throw s3Errors.malformedXml();
  const quiet = childText(root, 'Quiet') === 'true';
  const results: Xml[] = [];
  for (const object of objects) {
    const key = childText(object, 'Key');
    if (key === undefined) throw s3Errors.malformedXml();
    const versionId = childText(object, 'VersionId');
    const result = await ctx.store.withKeyLock(bucket.name, key, async () => {
      if (versionId !== undefined) {
        const removed = await ctx.store.deleteVersion(bucket, key, versionId);
        return [
          el('Key', key),
          el('VersionId', versionId),
          removed?.deleteMarker ? el('DeleteMarker', true) : undefined,
          removed?.deleteMarker ? el('DeleteMarkerVersionId', versionId) : undefined,
        ];
      }
      const marker = await ctx.store.deleteCurrent(bucket, key, ctx.settings.now());
      return [
        el('Key', key),
        marker ? el('DeleteMarker', true) : undefined,
        marker ? el('DeleteMarkerVersionId', marker.versionId) : undefined,
      ];
    });
    if (!quiet) results.push(el('Deleted', result));
  }
  sendXml(ctx, s3Root('DeleteResult', results));
}

async function readXmlBody(ctx: S3Context, optionalBody: boolean): Promise<XmlElement | undefined> {
  const plan = planBody(ctx.req, ctx.auth, { requireLength: false, minChunkSize: ctx.settings.minChunkSize });
  continueBody(ctx);
  const { body, wireBytes } = await receiveToBuffer(ctx.req, plan, MAX_CONFIG_BODY);
  ctx.record.bytesIn = wireBytes;
  if (body.length === 0) {
    if (optionalBody) return undefined;
    throw s3Errors.malformedXml();
  }
  try {
    return parseXml(body.toString('utf8'));
  } catch (error) {
    if (error instanceof XmlParseError) throw s3Errors.malformedXml();
    throw error;
  }
}
