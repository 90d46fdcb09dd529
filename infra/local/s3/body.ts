import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  algorithmOfHeader,
  type ChecksumAlgorithm,
  checksumHeaderName,
  checksumLength,
  createChecksum,
  type IncrementalChecksum,
  isChecksumAlgorithm,
} from '../aws/checksums';
import { headerValue, type SigV4Auth, STREAMING_PAYLOAD, UNSIGNED_PAYLOAD } from '../aws/sigv4';
import { AwsChunkedDecoder, AwsChunkedError, type AwsChunkedSigning } from './aws-chunked';
import { S3Error, s3Errors } from './errors';

/**
 * Receiving a request body the way S3 does: plain or aws-chunked (decoded on the fly, chunk signatures verified),
 * hashed while it streams (MD5 for the ETag, SHA-256 when the signature covers the payload, the flexible checksum
 * when one was declared), and checked against every digest the client sent before anything is committed.
 */

export interface BodyPlan {
  /** What the signature says about the payload: hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-* marker. */
  readonly payloadHash: string;
  readonly chunked: boolean;
  readonly signing: AwsChunkedSigning | undefined;
  /** Decoded body length the client declared, when it declared one. */
  readonly declaredLength: number | undefined;
  /** Base64 MD5 from `Content-MD5`. */
  readonly contentMd5: string | undefined;
  /** The flexible checksum to compute, and where its expected value comes from. */
  readonly checksum: ChecksumPlan | undefined;
  /** `Content-Encoding` to store, with `aws-chunked` taken out. */
  readonly storedContentEncoding: string | undefined;
  /** Every chunk but the last must be at least this long (aws-chunked). */
  readonly minChunkSize: number;
}

export interface ChecksumPlan {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64 value from an `x-amz-checksum-*` header. */
  readonly expected: string | undefined;
  /** The value arrives as an aws-chunked trailer. */
  readonly fromTrailer: boolean;
}

export interface ReceivedBody {
  readonly size: number;
  readonly md5Hex: string;
  /** Base64 checksum in the planned algorithm, verified when the client sent one. */
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly value: string } | undefined;
  /** Raw bytes read from the socket (before aws-chunked decoding). */
  readonly wireBytes: number;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const KNOWN_PAYLOADS = new Set<string>([UNSIGNED_PAYLOAD, ...Object.values(STREAMING_PAYLOAD)]);

/**
 * Work out from the headers how to read and check the body. `requireLength`: PutObject and UploadPart refuse a
 * body of unknown length (411), as S3 does. Throws S3Error for contradictory or malformed headers.
 */
export function planBody(
  req: IncomingMessage,
  auth: SigV4Auth | undefined,
  options: {
    requireLength: boolean;
    minChunkSize: number;
    /** UploadPart of an upload created with a checksum algorithm: the part must use (or gets) that one. */
    forceAlgorithm?: ChecksumAlgorithm;
    /** CompleteMultipartUpload: `x-amz-checksum-*` headers describe the whole object, not this XML body. */
    checksumHeadersDescribeObject?: boolean;
  },
): BodyPlan {
  const raw = req.rawHeaders;
  const payloadHash = auth?.payloadHash ?? headerValue(raw, 'x-amz-content-sha256') ?? UNSIGNED_PAYLOAD;
  if (payloadHash.startsWith('STREAMING-AWS4-ECDSA')) throw s3Errors.notImplemented('x-amz-content-sha256');
  if (!KNOWN_PAYLOADS.has(payloadHash) && !HEX_SHA256.test(payloadHash)) {
    throw s3Errors.invalidArgument(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      'x-amz-content-sha256',
      payloadHash,
    );
  }
  const encodings = (headerValue(raw, 'content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const chunked = encodings.includes('aws-chunked') || payloadHash.startsWith('STREAMING-');
  const stored = encodings.filter((e) => e !== 'aws-chunked').join(',');

  const lengthHeader = chunked ? 'x-amz-decoded-content-length' : 'content-length';
  const lengthText = headerValue(raw, lengthHeader);
  if (lengthText !== undefined && !/^\d+$/.test(lengthText)) {
    throw s3Errors.invalidArgument(`${lengthHeader} must be a number`, lengthHeader, lengthText);
  }
  const declaredLength = lengthText === undefined ? undefined : Number(lengthText);
  const hasBody =
    chunked || declaredLength !== undefined || headerValue(raw, 'transfer-encoding') !== undefined;
  if (options.requireLength && hasBody && declaredLength === undefined) throw s3Errors.missingContentLength();

  const signing =
    auth && (payloadHash === STREAMING_PAYLOAD.signed || payloadHash === STREAMING_PAYLOAD.signedTrailer)
      ? {
          signingKey: auth.signingKey,
          amzDate: auth.amzDate,
          scope: auth.scope,
          seedSignature: auth.signature,
          signedTrailer: payloadHash === STREAMING_PAYLOAD.signedTrailer,
        }
      : undefined;

  return {
    payloadHash,
    chunked,
    signing,
    declaredLength,
    contentMd5: headerValue(raw, 'content-md5'),
    checksum: options.checksumHeadersDescribeObject
      ? undefined
      : planChecksum(raw, chunked, options.forceAlgorithm),
    storedContentEncoding: stored === '' ? undefined : stored,
    minChunkSize: options.minChunkSize,
  };
}

function planChecksum(
  raw: readonly string[],
  chunked: boolean,
  forceAlgorithm: ChecksumAlgorithm | undefined,
): ChecksumPlan | undefined {
  const declared: Array<{ algorithm: ChecksumAlgorithm; value: string }> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const algorithm = algorithmOfHeader(raw[i] as string);
    if (algorithm) declared.push({ algorithm, value: (raw[i + 1] as string).trim() });
  }
  if (declared.length > 1) {
    throw s3Errors.invalidRequest(
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  const trailer = headerValue(raw, 'x-amz-trailer');
  let trailerAlgorithm: ChecksumAlgorithm | undefined;
  if (trailer !== undefined) {
    trailerAlgorithm = algorithmOfHeader(trailer.trim());
    if (!trailerAlgorithm)
      throw s3Errors.invalidRequest(`The value specified in the x-amz-trailer header is not supported`);
    if (!chunked) throw s3Errors.invalidRequest('x-amz-trailer requires Content-Encoding: aws-chunked');
    if (declared.length > 0) {
      throw s3Errors.invalidRequest(
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    }
  }
  const sdkAlgorithm = (headerValue(raw, 'x-amz-sdk-checksum-algorithm') ?? '').toUpperCase();
  const header = declared[0];
  const algorithm =
    header?.algorithm ??
    trailerAlgorithm ??
    (isChecksumAlgorithm(sdkAlgorithm) ? sdkAlgorithm : forceAlgorithm);
  if (!algorithm) return undefined;
  if (forceAlgorithm && algorithm !== forceAlgorithm) {
    throw s3Errors.invalidRequest(
      `Checksum Type mismatch occurred, expected checksum Type: ${forceAlgorithm.toLowerCase()}, actual checksum Type: ${algorithm.toLowerCase()}`,
    );
  }
  if (header && !isValidBase64(header.value, checksumLength(algorithm))) {
    throw s3Errors.invalidRequest(`Value for ${checksumHeaderName(algorithm)} header is invalid.`);
  }
  return { algorithm, expected: header?.value, fromTrailer: trailerAlgorithm !== undefined };
}

/**
 * Stream the body through decoding and hashing into `sink`, then check it. The request is piped, not handed to
 * `pipeline`, so a failure mid-body leaves the socket usable for the error response. Throws S3Error.
 */
export async function receiveBody(
  req: IncomingMessage,
  plan: BodyPlan,
  sink: Writable,
): Promise<ReceivedBody> {
  const counter = new ByteCounter();
  const decoder = plan.chunked
    ? new AwsChunkedDecoder({ signing: plan.signing, minChunkSize: plan.minChunkSize })
    : undefined;
  const hasher = new BodyHasher(
    plan.payloadHash !== UNSIGNED_PAYLOAD && !plan.chunked,
    plan.checksum ? createChecksum(plan.checksum.algorithm) : undefined,
  );
  const onAbort = () => {
    if (!req.complete)
      counter.destroy(new S3Error(400, 'RequestAborted', 'The client closed the connection'));
  };
  req.once('close', onAbort);
  req.once('error', onAbort);
  req.pipe(counter);
  try {
    await pipeline(decoder ? [counter, decoder, hasher, sink] : [counter, hasher, sink]);
  } catch (error) {
    req.unpipe(counter);
    if (error instanceof AwsChunkedError) {
      throw new S3Error(error.code === 'SignatureDoesNotMatch' ? 403 : 400, error.code, error.message);
    }
    if (error instanceof S3Error) throw error;
    throw s3Errors.incompleteBody();
  } finally {
    req.off('close', onAbort);
    req.off('error', onAbort);
  }

  const size = hasher.size;
  if (plan.declaredLength !== undefined && size !== plan.declaredLength) throw s3Errors.incompleteBody();
  if (HEX_SHA256.test(plan.payloadHash) && !plan.chunked) {
    const computed = hasher.sha256Hex();
    if (computed !== plan.payloadHash) {
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        {
          ClientComputedContentSHA256: plan.payloadHash,
          S3ComputedContentSHA256: computed,
        },
      );
    }
  }
  const md5 = hasher.md5();
  if (plan.contentMd5 !== undefined) {
    if (!isValidBase64(plan.contentMd5, 16)) {
      throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    }
    if (md5.toString('base64') !== plan.contentMd5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  let checksum: ReceivedBody['checksum'];
  if (plan.checksum) {
    const value = hasher.checksumBase64();
    let expected = plan.checksum.expected;
    if (plan.checksum.fromTrailer) {
      expected = decoder?.trailers.get(checksumHeaderName(plan.checksum.algorithm));
      if (expected === undefined) {
        throw s3Errors.invalidRequest(
          'The x-amz-trailer header was sent but the trailing checksum was missing.',
        );
      }
    }
    if (expected !== undefined && expected !== value) throw s3Errors.badDigest(plan.checksum.algorithm);
    checksum = { algorithm: plan.checksum.algorithm, value };
  }
  return { size, md5Hex: md5.toString('hex'), checksum, wireBytes: counter.bytes };
}

/** Receive into a file; the file is removed again when anything fails. */
export async function receiveToFile(
  req: IncomingMessage,
  plan: BodyPlan,
  path: string,
): Promise<ReceivedBody> {
  try {
    return await receiveBody(req, plan, createWriteStream(path, { highWaterMark: 1024 * 1024 }));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}

/** Receive a small body (XML documents) into memory; S3 refuses more than `limit` bytes. */
export async function receiveToBuffer(
  req: IncomingMessage,
  plan: BodyPlan,
  limit: number,
): Promise<ReceivedBody & { readonly body: Buffer }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) {
        callback(new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.'));
        return;
      }
      chunks.push(chunk);
      callback();
    },
  });
  const received = await receiveBody(req, plan, sink);
  return { ...received, body: Buffer.concat(chunks) };
}

export function isValidBase64(value: string, bytes: number): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === bytes;
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

class BodyHasher extends Transform {
  size = 0;
  private readonly md5Hash = createHash('md5');
  private readonly sha256: Hash | undefined;
  private readonly checksum: IncrementalChecksum | undefined;
  private md5Digest: Buffer | undefined;
  private checksumDigest: Buffer | undefined;

  constructor(withSha256: boolean, checksum: IncrementalChecksum | undefined) {
    super();
    this.sha256 = withSha256 ? createHash('sha256') : undefined;
    this.checksum = checksum;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.md5Hash.update(chunk);
    this.sha256?.update(chunk);
    this.checksum?.update(chunk);
    callback(null, chunk);
  }

  md5(): Buffer {
    this.md5Digest ??= this.md5Hash.digest();
    return this.md5Digest;
  }

  sha256Hex(): string {
    return this.sha256?.digest('hex') ?? '';
  }

  checksumBase64(): string {
    this.checksumDigest ??= this.checksum?.digest() ?? Buffer.alloc(0);
    return this.checksumDigest.toString('base64');
  }
}
