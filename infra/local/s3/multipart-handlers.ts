import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  type ChecksumAlgorithm,
  checksumHeaderName,
  createChecksum,
  isChecksumAlgorithm,
} from '../aws/checksums';
import { uriEncode } from '../aws/sigv4';
import { planBody, receiveToBuffer, receiveToFile } from './body';
import {
  attributesFromHeaders,
  continueBody,
  encryptionHeaders,
  header,
  isoDate,
  MAX_PUT_BYTES,
  OWNER,
  parseNonNegative,
  parsePartNumber,
  requireBucket,
  requireKey,
  type S3Context,
  s3Root,
  send,
  sendXml,
  versionHeader,
} from './context';
import { S3Error, s3Errors } from './errors';
import { checkWriteConditions, writeConditions } from './object-handlers';
import type { BucketState, ChecksumType, MultipartUpload, ObjectChecksum, UploadedPart } from './store';
import { childElements, childText, el, optional, parseXml, type XmlElement, XmlParseError } from './xml';

/**
 * CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts and
 * ListMultipartUploads. Parts stream to their own blob files; completing checks the part list exactly as S3 does
 * (order, ETags, sizes, part checksums), evaluates If-Match / If-None-Match under the key lock, and the object
 * becomes the parts' files in order. ETag: MD5 of the concatenated binary part MD5s, then `-N`.
 */

const MAX_COMPLETE_BODY = 2 * 1024 * 1024;

export async function createMultipartUpload(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const attributes = attributesFromHeaders(ctx.req, header(ctx.req, 'content-encoding'));
  const algorithmText = header(ctx.req, 'x-amz-checksum-algorithm')?.toUpperCase();
  const typeText = header(ctx.req, 'x-amz-checksum-type')?.toUpperCase();
  if (algorithmText !== undefined && !isChecksumAlgorithm(algorithmText)) {
    throw s3Errors.invalidRequest('Checksum algorithm provided is unsupported.');
  }
  if (typeText !== undefined && typeText !== 'COMPOSITE' && typeText !== 'FULL_OBJECT') {
    throw s3Errors.invalidRequest('Value for x-amz-checksum-type header is invalid.');
  }
  if (typeText !== undefined && algorithmText === undefined) {
    throw s3Errors.invalidRequest(
      'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
    );
  }
  const algorithm = algorithmText as ChecksumAlgorithm | undefined;
  const type = algorithm === undefined ? undefined : (typeText ?? defaultChecksumType(algorithm));
  if (algorithm !== undefined && !supportsType(algorithm, type as ChecksumType)) {
    throw s3Errors.invalidRequest(
      `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  }

  const uploadId = randomBytes(48).toString('base64url');
  const upload: MultipartUpload = {
    uploadId,
    bucket: bucket.name,
    key,
    initiated: ctx.settings.now(),
    attributes,
    ...(algorithm ? { checksumAlgorithm: algorithm, checksumType: type as ChecksumType } : {}),
    parts: new Map(),
  };
  bucket.uploads.set(uploadId, upload);
  ctx.record.uploadId = uploadId;
  sendXml(
    ctx,
    s3Root('InitiateMultipartUploadResult', [
      el('Bucket', bucket.name),
      el('Key', key),
      el('UploadId', uploadId),
    ]),
    {
      ...encryptionHeaders(attributes),
      ...(algorithm ? { 'x-amz-checksum-algorithm': algorithm, 'x-amz-checksum-type': type } : {}),
    },
  );
}

export async function uploadPart(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const upload = requireUpload(ctx, bucket, key);
  const partNumber = parsePartNumber(ctx.query.get('partNumber'));
  ctx.record.partNumber = partNumber;
  const plan = planBody(ctx.req, ctx.auth, {
    requireLength: true,
    minChunkSize: ctx.settings.minChunkSize,
    ...(upload.checksumAlgorithm ? { forceAlgorithm: upload.checksumAlgorithm } : {}),
  });
  if (plan.declaredLength !== undefined && plan.declaredLength > MAX_PUT_BYTES) {
    throw s3Errors.entityTooLarge(plan.declaredLength, MAX_PUT_BYTES);
  }

  continueBody(ctx);
  const temp = ctx.store.tempPath();
  const received = await receiveToFile(ctx.req, plan, temp);
  ctx.record.bytesIn = received.wireBytes;
  if (bucket.uploads.get(upload.uploadId) !== upload) {
    await rm(temp, { force: true });
    throw s3Errors.noSuchUpload(upload.uploadId);
  }
  const file = await ctx.store.adoptTemp(temp);
  const part: UploadedPart = {
    partNumber,
    file,
    size: received.size,
    etag: `"${received.md5Hex}"`,
    lastModified: ctx.settings.now(),
    ...(received.checksum ? { checksum: received.checksum.value } : {}),
  };
  const replaced = upload.parts.get(partNumber);
  upload.parts.set(partNumber, part);
  if (replaced) ctx.store.discardFiles([replaced.file]);
  send(ctx, 200, {
    ETag: part.etag,
    ...encryptionHeaders(upload.attributes),
    ...(received.checksum
      ? { [checksumHeaderName(received.checksum.algorithm)]: received.checksum.value }
      : {}),
  });
}

export async function completeMultipartUpload(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const upload = requireUpload(ctx, bucket, key);
  const conditions = writeConditions(ctx);
  const plan = planBody(ctx.req, ctx.auth, {
    requireLength: false,
    minChunkSize: ctx.settings.minChunkSize,
    checksumHeadersDescribeObject: true,
  });
  continueBody(ctx);
  const { body, wireBytes } = await receiveToBuffer(ctx.req, plan, MAX_COMPLETE_BODY);
  ctx.record.bytesIn = wireBytes;
  const requested = parseCompleteRequest(body);
  const parts = matchParts(ctx, upload, requested);

  const etag = `"${createHash('md5')
    .update(Buffer.concat(parts.map((p) => Buffer.from(p.etag.slice(1, -1), 'hex'))))
    .digest('hex')}-${parts.length}"`;
  const checksum = await objectChecksum(ctx, upload, parts);
  const size = parts.reduce((total, p) => total + p.size, 0);

  const version = await ctx.store.withKeyLock(bucket.name, key, async () => {
    if (bucket.uploads.get(upload.uploadId) !== upload) throw s3Errors.noSuchUpload(upload.uploadId);
    checkWriteConditions(ctx, bucket, key, conditions);
    bucket.uploads.delete(upload.uploadId);
    const used = new Set(parts.map((p) => p.file));
    ctx.store.discardFiles([...upload.parts.values()].map((p) => p.file).filter((f) => !used.has(f)));
    return ctx.store.putVersion(bucket, key, {
      deleteMarker: false,
      lastModified: ctx.settings.now(),
      size,
      etag,
      segments: parts.map((p) => ({ file: p.file, size: p.size })),
      attributes: upload.attributes,
      partsCount: parts.length,
      ...(checksum ? { checksum } : {}),
    });
  });
  ctx.record.versionId = version.versionId;
  const host = header(ctx.req, 'host') ?? '127.0.0.1';
  const location = `http://${host}/${uriEncode(bucket.name)}/${key.split('/').map(uriEncode).join('/')}`;
  sendXml(
    ctx,
    s3Root('CompleteMultipartUploadResult', [
      el('Location', location),
      el('Bucket', bucket.name),
      el('Key', key),
      el('ETag', etag),
      checksum ? el(checksumElementName(checksum.algorithm), checksum.value) : undefined,
      checksum ? el('ChecksumType', checksum.type) : undefined,
    ]),
    { ...encryptionHeaders(upload.attributes), ...versionHeader(bucket, version.versionId) },
  );
}

export async function abortMultipartUpload(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const upload = requireUpload(ctx, bucket, key);
  bucket.uploads.delete(upload.uploadId);
  ctx.store.discardFiles([...upload.parts.values()].map((p) => p.file));
  send(ctx, 204);
}

export async function listParts(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const upload = requireUpload(ctx, bucket, key);
  const maxParts = Math.min(parseNonNegative(ctx.query.get('max-parts'), 1000, 'max-parts'), 1000);
  const marker = parseNonNegative(ctx.query.get('part-number-marker'), 0, 'part-number-marker');
  const all = [...upload.parts.values()]
    .filter((p) => p.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  const algorithm = upload.checksumAlgorithm;
  sendXml(
    ctx,
    s3Root('ListPartsResult', [
      el('Bucket', bucket.name),
      el('Key', key),
      el('UploadId', upload.uploadId),
      el('PartNumberMarker', marker),
      el('NextPartNumberMarker', page[page.length - 1]?.partNumber ?? marker),
      el('MaxParts', maxParts),
      el('IsTruncated', truncated),
      el('Initiator', [el('ID', 'local'), el('DisplayName', 'local')]),
      OWNER,
      el('StorageClass', upload.attributes.storageClass ?? 'STANDARD'),
      optional('ChecksumAlgorithm', algorithm),
      optional('ChecksumType', upload.checksumType),
      ...page.map((p) =>
        el('Part', [
          el('PartNumber', p.partNumber),
          el('LastModified', isoDate(p.lastModified)),
          el('ETag', p.etag),
          el('Size', p.size),
          algorithm && p.checksum !== undefined ? el(checksumElementName(algorithm), p.checksum) : undefined,
        ]),
      ),
    ]),
  );
}

export async function listMultipartUploads(ctx: S3Context): Promise<void> {
  const bucket = requireBucket(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const uploads = [...bucket.uploads.values()]
    .filter((u) => u.key.startsWith(prefix))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated - b.initiated));
  sendXml(
    ctx,
    s3Root('ListMultipartUploadsResult', [
      el('Bucket', bucket.name),
      el('KeyMarker', ''),
      el('UploadIdMarker', ''),
      el('Prefix', prefix),
      el('MaxUploads', 1000),
      el('IsTruncated', false),
      ...uploads.map((u) =>
        el('Upload', [
          el('Key', u.key),
          el('UploadId', u.uploadId),
          el('Initiator', [el('ID', 'local'), el('DisplayName', 'local')]),
          OWNER,
          el('StorageClass', u.attributes.storageClass ?? 'STANDARD'),
          el('Initiated', isoDate(u.initiated)),
          optional('ChecksumAlgorithm', u.checksumAlgorithm),
          optional('ChecksumType', u.checksumType),
        ]),
      ),
    ]),
  );
}

function requireUpload(ctx: S3Context, bucket: BucketState, key: string): MultipartUpload {
  const uploadId = ctx.query.get('uploadId') ?? '';
  ctx.record.uploadId = uploadId;
  const upload = bucket.uploads.get(uploadId);
  if (!upload || upload.key !== key) throw s3Errors.noSuchUpload(uploadId);
  return upload;
}

interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
}

function parseCompleteRequest(body: Buffer): RequestedPart[] {
  let root: XmlElement;
  try {
    root = parseXml(body.toString('utf8'));
  } catch (error) {
    if (error instanceof XmlParseError) throw s3Errors.malformedXml();
    throw error;
  }
  if (root.name !== 'CompleteMultipartUpload') throw s3Errors.malformedXml();
  const parts = childElements(root, 'Part').map((part) => {
    const number = childText(part, 'PartNumber');
    const etag = childText(part, 'ETag');
    if (number === undefined || etag === undefined || !/^\d+$/.test(number)) throw s3Errors.malformedXml();
    const checksums = new Map<ChecksumAlgorithm, string>();
    for (const child of part.children) {
      if (!child.name.startsWith('Checksum')) continue;
      const algorithm = child.name.slice('Checksum'.length).toUpperCase();
      if (isChecksumAlgorithm(algorithm)) checksums.set(algorithm, child.text.trim());
    }
    return { partNumber: Number(number), etag, checksums };
  });
  if (parts.length === 0) throw s3Errors.malformedXml();
  return parts;
}

/** The uploaded parts the request names, after S3's checks; throws InvalidPartOrder, InvalidPart, EntityTooSmall. */
function matchParts(
  ctx: S3Context,
  upload: MultipartUpload,
  requested: readonly RequestedPart[],
): UploadedPart[] {
  const parts: UploadedPart[] = [];
  let previous = 0;
  for (const want of requested) {
    if (want.partNumber <= previous) {
      throw new S3Error(
        400,
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
    }
    previous = want.partNumber;
    const part = upload.parts.get(want.partNumber);
    const bare = want.etag.replace(/^"|"$/g, '');
    if (!part || part.etag !== `"${bare}"`) throw invalidPart(want.partNumber, want.etag);
    const algorithm = upload.checksumAlgorithm;
    if (algorithm && upload.checksumType === 'COMPOSITE') {
      const sent = want.checksums.get(algorithm);
      if (sent === undefined) {
        throw s3Errors.invalidRequest(
          `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${want.partNumber} in the request.`,
        );
      }
      if (sent !== part.checksum) throw invalidPart(want.partNumber, want.etag);
    } else if (algorithm) {
      const sent = want.checksums.get(algorithm);
      if (sent !== undefined && sent !== part.checksum) throw invalidPart(want.partNumber, want.etag);
    }
    parts.push(part);
  }
  parts.forEach((part, index) => {
    if (index < parts.length - 1 && part.size < ctx.settings.minPartSize) {
      throw new S3Error(
        400,
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        {
          ProposedSize: String(part.size),
          MinSizeAllowed: String(ctx.settings.minPartSize),
          PartNumber: String(part.partNumber),
          ETag: part.etag.slice(1, -1),
        },
      );
    }
  });
  return parts;
}

function invalidPart(partNumber: number, etag: string): S3Error {
  return new S3Error(
    400,
    'InvalidPart',
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    { PartNumber: String(partNumber), ETag: etag },
  );
}

/**
 * COMPOSITE: the algorithm over the concatenated binary part checksums, base64, then `-N`. FULL_OBJECT: the
 * checksum of the whole object, computed by reading the parts back (and checked against a full-object checksum
 * header when the client sent one).
 */
async function objectChecksum(
  ctx: S3Context,
  upload: MultipartUpload,
  parts: readonly UploadedPart[],
): Promise<ObjectChecksum | undefined> {
  const algorithm = upload.checksumAlgorithm;
  if (!algorithm) return undefined;
  if (upload.checksumType === 'COMPOSITE') {
    const checksum = createChecksum(algorithm);
    for (const part of parts) checksum.update(Buffer.from(part.checksum ?? '', 'base64'));
    return { algorithm, value: `${checksum.digest().toString('base64')}-${parts.length}`, type: 'COMPOSITE' };
  }
  const checksum = createChecksum(algorithm);
  const segments = parts.map((p) => ({ file: p.file, size: p.size }));
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  for await (const chunk of ctx.store.readRange(segments, 0, total)) checksum.update(chunk as Buffer);
  const value = checksum.digest().toString('base64');
  const sent = header(ctx.req, checksumHeaderName(algorithm));
  if (sent !== undefined && sent !== value) throw s3Errors.badDigest(algorithm);
  return { algorithm, value, type: 'FULL_OBJECT' };
}

function defaultChecksumType(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

function supportsType(algorithm: ChecksumAlgorithm, type: ChecksumType): boolean {
  if (type === 'FULL_OBJECT')
    return algorithm === 'CRC32' || algorithm === 'CRC32C' || algorithm === 'CRC64NVME';
  return algorithm !== 'CRC64NVME';
}

/** `ChecksumCRC32`, `ChecksumCRC64NVME`, ... as the XML element names spell them. */
export function checksumElementName(algorithm: ChecksumAlgorithm): string {
  return `Checksum${algorithm}`;
}
