import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { Sha1, Sha256 } from '@aws-sdk/checksums/sha';
import { headerValue } from '../aws/sigv4';
import { S3Error, s3Errors } from './errors';

/**
 * Receiving a request body the way S3 does: plain, or `aws-chunked` with a trailing checksum
 * (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what the SDK sends for streams) decoded on the fly; hashed while it streams
 * (MD5 for the ETag, SHA-256 when the signature covers the payload, the flexible checksum when one was declared,
 * with the SDK's own checksum implementations) and checked against every digest the client sent before anything is
 * committed. Signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) are refused: no AWS SDK for JavaScript sends them.
 */

const CHECKSUMS = { CRC32: Crc32, CRC32C: Crc32c, CRC64NVME: Crc64Nvme, SHA1: Sha1, SHA256: Sha256 } as const;
export type ChecksumAlgorithm = keyof typeof CHECKSUMS;

export const UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
/** S3's minimum for every aws-chunked chunk but the last. */
const MIN_CHUNK_SIZE = 8192;
const MAX_LINE = 4096;

export interface BodyPlan {
  readonly chunked: boolean;
  /** Hex SHA-256 the signature covers, to check against the bytes; undefined for UNSIGNED-PAYLOAD and chunked. */
  readonly sha256: string | undefined;
  /** The body length the client declared (decoded length for aws-chunked). */
  readonly length: number;
  /** A flexible checksum to verify: its value comes in an `x-amz-checksum-*` header or the aws-chunked trailer. */
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly header: string } | undefined;
}

export interface ReceivedBody {
  readonly size: number;
  readonly md5Hex: string;
  /** Base64, verified against what the client sent. */
  readonly checksum: { readonly algorithm: ChecksumAlgorithm; readonly value: string } | undefined;
  /** Bytes read from the socket (before aws-chunked decoding). */
  readonly wireBytes: number;
}

/** The header S3 carries an algorithm's checksum in: `x-amz-checksum-crc32`, ... */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

const NOT_CHECKSUMS = new Set(['x-amz-checksum-type', 'x-amz-checksum-algorithm', 'x-amz-checksum-mode']);

/**
 * Work out from the headers how to read and check the body. `withChecksum` false: the `x-amz-checksum-*` headers
 * describe something else than this body (CompleteMultipartUpload's whole object). Throws S3Error for what S3
 * would refuse.
 */
export function planBody(req: IncomingMessage, withChecksum = true): BodyPlan {
  const raw = req.rawHeaders;
  const payload = headerValue(raw, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
  const chunked = payload === UNSIGNED_TRAILER;
  if (payload.startsWith('STREAMING-') && !chunked) {
    throw s3Errors.notImplemented(`x-amz-content-sha256: ${payload}`);
  }
  if (!chunked && payload !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(payload)) {
    throw s3Errors.invalidRequest(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a streaming mode or a SHA-256.',
    );
  }
  const lengthText = headerValue(raw, chunked ? 'x-amz-decoded-content-length' : 'content-length');
  if (lengthText === undefined || !/^\d+$/.test(lengthText)) {
    throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
  const trailer = headerValue(raw, 'x-amz-trailer')?.trim().toLowerCase();
  const declared = trailer === undefined ? [] : [trailer];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name.startsWith('x-amz-checksum-') && !NOT_CHECKSUMS.has(name)) declared.push(name);
  }
  if (declared.length > 1) throw s3Errors.invalidRequest('Expecting a single x-amz-checksum- header.');
  if (trailer !== undefined && !chunked) throw s3Errors.invalidRequest('x-amz-trailer requires aws-chunked.');
  const header = withChecksum ? declared[0] : undefined;
  const algorithm = header?.slice('x-amz-checksum-'.length).toUpperCase();
  if (algorithm !== undefined && !(algorithm in CHECKSUMS))
    throw s3Errors.notImplemented(`the checksum ${header}`);
  return {
    chunked,
    sha256: /^[0-9a-f]{64}$/.test(payload) ? payload : undefined,
    length: Number(lengthText),
    checksum: header ? { algorithm: algorithm as ChecksumAlgorithm, header } : undefined,
  };
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
  let wireBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      wireBytes += chunk.length;
      callback(null, chunk);
    },
  });
  const decoder = plan.chunked ? new AwsChunkedDecoder() : undefined;
  const md5 = createHash('md5');
  const sha256 = plan.sha256 === undefined ? undefined : createHash('sha256');
  const checksum = plan.checksum ? new CHECKSUMS[plan.checksum.algorithm]() : undefined;
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      md5.update(chunk);
      sha256?.update(chunk);
      checksum?.update(chunk);
      callback(null, chunk);
    },
  });
  const onAbort = () => {
    if (!req.complete)
      counter.destroy(new S3Error(400, 'RequestAborted', 'The client closed the connection'));
  };
  req.once('close', onAbort);
  req.pipe(counter);
  try {
    await pipeline(decoder ? [counter, decoder, hasher, sink] : [counter, hasher, sink]);
  } catch (error) {
    req.unpipe(counter);
    throw error instanceof S3Error ? error : s3Errors.incompleteBody();
  } finally {
    req.off('close', onAbort);
  }

  if (size !== plan.length) throw s3Errors.incompleteBody();
  if (sha256 && sha256.digest('hex') !== plan.sha256) {
    throw new S3Error(
      400,
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  let verified: ReceivedBody['checksum'];
  if (plan.checksum && checksum) {
    const value = Buffer.from(await checksum.digest()).toString('base64');
    const sent = decoder
      ? decoder.trailers.get(plan.checksum.header)
      : headerValue(req.rawHeaders, plan.checksum.header);
    if (sent === undefined) throw s3Errors.invalidRequest(`The ${plan.checksum.header} trailer was missing.`);
    if (sent.trim() !== value) {
      throw new S3Error(
        400,
        'BadDigest',
        `The ${plan.checksum.header} you specified did not match the calculated checksum.`,
      );
    }
    verified = { algorithm: plan.checksum.algorithm, value };
  }
  return { size, md5Hex: md5.digest('hex'), checksum: verified, wireBytes };
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

/** Receive a small body (an XML document) into memory; S3 refuses more than `limit` bytes. */
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
      chunks.push(chunk);
      callback(
        size > limit ? new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.') : null,
      );
    },
  });
  const received = await receiveBody(req, plan, sink);
  return { ...received, body: Buffer.concat(chunks) };
}

/**
 * Decodes `Content-Encoding: aws-chunked` on the fly, as S3 does:
 *
 *   hex-size[;extensions]\r\n <bytes> \r\n ... 0\r\n [trailer-name:value\r\n ...] \r\n
 *
 * Emits only the payload bytes and collects the trailing headers into `trailers` for the caller to check once the
 * stream has ended. Memory use is one header line at most, whatever the body size.
 */
export class AwsChunkedDecoder extends Transform {
  /** Trailing headers, lower-case names. Complete once the stream has ended. */
  readonly trailers = new Map<string, string>();
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  private remaining = 0;
  private previousSize: number | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let at = 0;
      while (at < chunk.length) {
        if (this.state === 'done') throw malformed('bytes after the final aws-chunked chunk');
        if (this.state === 'data') {
          const take = Math.min(this.remaining, chunk.length - at);
          this.push(chunk.subarray(at, at + take));
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) this.state = 'data-end';
          continue;
        }
        const newline = chunk.indexOf(0x0a, at);
        this.line += chunk.toString('latin1', at, newline === -1 ? chunk.length : newline);
        if (this.line.length > MAX_LINE) throw malformed('an aws-chunked line is too long');
        if (newline === -1) break;
        at = newline + 1;
        const line = this.line.replace(/\r$/, '');
        this.line = '';
        this.onLine(line);
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.state === 'done' ? null : s3Errors.incompleteBody());
  }

  private onLine(line: string): void {
    if (this.state === 'data-end') {
      if (line !== '') throw s3Errors.incompleteBody();
      this.state = 'size';
    } else if (this.state === 'trailer') {
      const colon = line.indexOf(':');
      if (line === '') this.state = 'done';
      else if (colon > 0)
        this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      else throw malformed('a malformed aws-chunked trailer');
    } else {
      const size = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line)?.[1];
      if (size === undefined) throw malformed('a malformed aws-chunked chunk size');
      this.remaining = Number.parseInt(size, 16);
      if (this.remaining > 0 && this.previousSize !== undefined && this.previousSize < MIN_CHUNK_SIZE) {
        throw new S3Error(
          400,
          'InvalidChunkSizeError',
          `Only the last chunk is allowed to have a size less than ${MIN_CHUNK_SIZE} bytes`,
        );
      }
      this.previousSize = this.remaining;
      this.state = this.remaining === 0 ? 'trailer' : 'data';
    }
  }
}

function malformed(what: string): S3Error {
  return s3Errors.invalidRequest(`The request body has ${what}.`);
}
