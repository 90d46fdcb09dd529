import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  chunkStringToSign,
  EMPTY_SHA256,
  sha256Hex,
  signaturesEqual,
  signHex,
  trailerStringToSign,
} from '../aws/sigv4';

/**
 * Decodes `Content-Encoding: aws-chunked` request bodies on the fly, as S3 does:
 *
 *   hex-size[;chunk-signature=sig]\r\n <bytes> \r\n ... 0[;chunk-signature=sig]\r\n [trailer lines\r\n] \r\n
 *
 * Emits only the payload bytes, verifies each chunk's signature against the chain started by the request's seed
 * signature when `signing` is given (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`), and collects trailing headers
 * (`x-amz-checksum-crc32:...`) into `trailers` for the caller to check once the stream ends. Memory use is one
 * header line at most, whatever the body size.
 */

/** S3's minimum size for every chunk but the last (the SDK's `requestStreamBufferSize` hint exists because of it). */
export const MIN_CHUNK_SIZE = 8192;
const MAX_LINE = 4096;
const CR = 0x0d;
const LF = 0x0a;

export interface AwsChunkedSigning {
  readonly signingKey: Buffer;
  readonly amzDate: string;
  readonly scope: string;
  /** The request's own (verified) signature: chunk 1 chains from it. */
  readonly seedSignature: string;
  /** `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: the trailer carries `x-amz-trailer-signature`. */
  readonly signedTrailer: boolean;
}

export interface AwsChunkedOptions {
  readonly signing?: AwsChunkedSigning;
  /** Every chunk but the last must be at least this long; 0 disables the check. Default `MIN_CHUNK_SIZE`. */
  readonly minChunkSize?: number;
}

export const AWS_CHUNKED_ERRORS = {
  incompleteBody: 'IncompleteBody',
  invalidChunkSize: 'InvalidChunkSizeError',
  signatureDoesNotMatch: 'SignatureDoesNotMatch',
  malformed: 'InvalidRequest',
} as const;
export type AwsChunkedErrorCode = (typeof AWS_CHUNKED_ERRORS)[keyof typeof AWS_CHUNKED_ERRORS];

/** A body that is not valid aws-chunked encoding; `code` is the S3 error code to answer with. */
export class AwsChunkedError extends Error {
  override readonly name = 'AwsChunkedError';
  constructor(
    readonly code: AwsChunkedErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type State = 'header' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers, lower-case names (the trailer signature excluded). Complete once the stream has ended. */
  readonly trailers = new Map<string, string>();
  private state: State = 'header';
  private line = '';
  private remaining = 0;
  private chunkHash: Hash | undefined;
  private chunkSignature: string | undefined;
  private previousSignature: string;
  private previousChunkSize: number | undefined;
  private trailerSignature: string | undefined;
  private readonly signing: AwsChunkedSigning | undefined;
  private readonly minChunkSize: number;

  constructor(options: AwsChunkedOptions = {}) {
    super();
    this.signing = options.signing;
    this.minChunkSize = options.minChunkSize ?? MIN_CHUNK_SIZE;
    this.previousSignature = options.signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      const rest = this.line.replace(/\r$/, '');
      if (this.state === 'trailer' && rest !== '') this.onTrailerLine(rest);
      if (this.state === 'trailer') this.finishTrailer();
      if (this.state !== 'done') {
        throw new AwsChunkedError('IncompleteBody', 'The request body terminated unexpectedly');
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const newline = chunk.indexOf(LF, offset);
          const end = newline === -1 ? chunk.length : newline;
          this.line += chunk.toString('latin1', offset, end);
          if (this.line.length > MAX_LINE)
            throw new AwsChunkedError('InvalidRequest', 'aws-chunked line too long');
          offset = newline === -1 ? chunk.length : newline + 1;
          if (newline === -1) break;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          if (this.state === 'header') this.onChunkHeader(line);
          else this.onTrailerLine(line);
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, chunk.length - offset);
          const piece = chunk.subarray(offset, offset + take);
          this.chunkHash?.update(piece);
          this.push(piece);
          this.remaining -= take;
          offset += take;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
        case 'data-lf': {
          const expected = this.state === 'data-cr' ? CR : LF;
          if (chunk[offset] !== expected) {
            throw new AwsChunkedError('IncompleteBody', 'aws-chunked data is longer than its declared size');
          }
          offset += 1;
          if (this.state === 'data-cr') {
            this.state = 'data-lf';
          } else {
            this.verifyChunk(this.chunkHash?.digest('hex') ?? EMPTY_SHA256);
            this.state = 'header';
          }
          break;
        }
        case 'done': {
          for (; offset < chunk.length; offset++) {
            const byte = chunk[offset];
            if (byte !== CR && byte !== LF) {
              throw new AwsChunkedError(
                'InvalidRequest',
                'unexpected bytes after the final aws-chunked chunk',
              );
            }
          }
          break;
        }
      }
    }
  }

  private onChunkHeader(line: string): void {
    const [sizeText = '', ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) {
      throw new AwsChunkedError('IncompleteBody', 'malformed aws-chunked chunk size');
    }
    const size = Number.parseInt(sizeText, 16);
    let signature: string | undefined;
    for (const extension of extensions) {
      const eq = extension.indexOf('=');
      if (eq !== -1 && extension.slice(0, eq).trim() === 'chunk-signature')
        signature = extension.slice(eq + 1).trim();
    }
    if (this.signing && signature === undefined) {
      throw new AwsChunkedError('SignatureDoesNotMatch', 'aws-chunked chunk without a chunk-signature');
    }
    if (
      this.previousChunkSize !== undefined &&
      size > 0 &&
      this.minChunkSize > 0 &&
      this.previousChunkSize < this.minChunkSize
    ) {
      throw new AwsChunkedError(
        'InvalidChunkSizeError',
        `Only the last chunk is allowed to have a size less than ${this.minChunkSize} bytes`,
      );
    }
    this.chunkSignature = signature;
    if (size === 0) {
      this.verifyChunk(EMPTY_SHA256);
      this.state = 'trailer';
      return;
    }
    this.previousChunkSize = size;
    this.remaining = size;
    this.chunkHash = this.signing ? createHash('sha256') : undefined;
    this.state = 'data';
  }

  private verifyChunk(chunkSha256: string): void {
    if (!this.signing) return;
    const { signingKey, amzDate, scope } = this.signing;
    const expected = signHex(
      signingKey,
      chunkStringToSign(amzDate, scope, this.previousSignature, chunkSha256),
    );
    if (!signaturesEqual(expected, this.chunkSignature ?? '')) {
      throw new AwsChunkedError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      );
    }
    this.previousSignature = expected;
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      this.finishTrailer();
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new AwsChunkedError('InvalidRequest', 'malformed aws-chunked trailer');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') this.trailerSignature = value;
    else this.trailers.set(name, value);
  }

  private finishTrailer(): void {
    if (this.signing?.signedTrailer) {
      const canonical = [...this.trailers].map(([name, value]) => `${name}:${value}\n`).join('');
      const { signingKey, amzDate, scope } = this.signing;
      const expected = signHex(
        signingKey,
        trailerStringToSign(amzDate, scope, this.previousSignature, sha256Hex(canonical)),
      );
      if (!signaturesEqual(expected, this.trailerSignature ?? '')) {
        throw new AwsChunkedError(
          'SignatureDoesNotMatch',
          'The trailer signature we calculated does not match the signature you provided.',
        );
      }
    }
    this.state = 'done';
  }
}
