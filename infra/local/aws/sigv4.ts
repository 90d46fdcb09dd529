import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AwsCredentialPair } from './credentials';

/**
 * AWS Signature Version 4, server side: rebuilds the canonical request from what arrived on the wire and checks the
 * signature a client computed, for header-signed requests (`Authorization: AWS4-HMAC-SHA256 ...`) and query-signed
 * (presigned) URLs. Shared by the S3 and Secrets Manager stand-ins; each maps a `SigV4Failure` onto its own
 * protocol's error codes. Follows https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html and
 * matches `@smithy/signature-v4` byte for byte (S3 signs the path as sent; other services encode it once more).
 */

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of zero bytes, hex. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const STREAMING_PAYLOAD = {
  signed: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  signedTrailer: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  unsignedTrailer: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
} as const;
/** The clock skew AWS tolerates for header-signed requests, in milliseconds. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60_000;
/** The longest lifetime a presigned URL may declare, in seconds (one week). */
export const MAX_PRESIGN_SECONDS = 604_800;

const KEY_TYPE = 'aws4_request';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

export type QueryPairs = ReadonlyArray<readonly [string, string]>;

/** RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 (and `escapeUri` in the SDK) does. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Split a raw query string (without `?`) into decoded name/value pairs in wire order; `?uploads` gives
 * `['uploads', '']`. `+` stays a plus sign (AWS clients encode spaces as `%20`). Throws URIError on a bad escape.
 */
export function parseQuery(raw: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([decodeURIComponent(name), decodeURIComponent(value)]);
  }
  return pairs;
}

/** Sorted, re-encoded query as SigV4 signs it; `X-Amz-Signature` is left out (it cannot sign itself). */
export function canonicalQueryString(pairs: QueryPairs): string {
  const encoded = pairs
    .filter(([name]) => name.toLowerCase() !== 'x-amz-signature')
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const);
  encoded.sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]));
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * The canonical URI. S3 signs the path exactly as it was sent (`uriEscapePath: false` in the SDK: keys are encoded
 * once, never twice); every other service signs the normalised path encoded a second time.
 */
export function canonicalUri(rawPath: string, escapePath: boolean): string {
  const path = rawPath === '' ? '/' : rawPath;
  if (!escapePath) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${
    segments.length > 0 && path.endsWith('/') ? '/' : ''
  }`;
  return uriEncode(normalised).replace(/%2F/g, '/');
}

/**
 * `name:value` lines for the signed headers, from Node's `rawHeaders` (repeated headers joined with `,`, values
 * with runs of spaces collapsed and ends trimmed). A signed header that did not arrive contributes an empty value,
 * which then fails the signature comparison as it would at AWS.
 */
export function canonicalHeaderLines(
  rawHeaders: readonly string[],
  signedHeaders: readonly string[],
): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = (rawHeaders[i + 1] as string)
      .replace(/[\r\n]/g, ' ')
      .replace(/[ \t]+/g, ' ')
      .replace(/^ | $/g, '');
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  return signedHeaders.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('');
}

export interface CanonicalRequestParts {
  readonly method: string;
  readonly canonicalUri: string;
  readonly canonicalQuery: string;
  /** Output of `canonicalHeaderLines` (each line ends in `\n`). */
  readonly canonicalHeaders: string;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
}

export function createCanonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    parts.canonicalUri,
    parts.canonicalQuery,
    parts.canonicalHeaders,
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function createStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

const signingKeys = new Map<string, Buffer>();

/** HMAC chain `AWS4{secret}` → date → region → service → `aws4_request`; cached per day, region and service. */
export function deriveSigningKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const cacheKey = `${date}\n${region}\n${service}\n${secretAccessKey}`;
  const cached = signingKeys.get(cacheKey);
  if (cached) return cached;
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, 'utf8');
  for (const part of [date, region, service, KEY_TYPE]) key = createHmac('sha256', key).update(part).digest();
  if (signingKeys.size > 64) signingKeys.clear();
  signingKeys.set(cacheKey, key);
  return key;
}

export function signHex(signingKey: Buffer, stringToSign: string): string {
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex signatures (different lengths compare unequal without leaking where). */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** String to sign for one chunk of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body; chained from the seed signature. */
export function chunkStringToSign(
  amzDate: string,
  scope: string,
  previousSignature: string,
  chunkSha256: string,
): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256}`;
}

/** String to sign for the trailing headers of a `...-PAYLOAD-TRAILER` body. */
export function trailerStringToSign(
  amzDate: string,
  scope: string,
  previousSignature: string,
  trailerSha256: string,
): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${trailerSha256}`;
}

/** Epoch milliseconds of an `X-Amz-Date` value (`20240131T235959Z`); NaN when malformed. */
export function parseAmzDate(value: string): number {
  const m = AMZ_DATE.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const at = Date.UTC(y, mo - 1, d, h, mi, s);
  return new Date(at).getUTCDate() === d ? at : Number.NaN;
}

export function formatAmzDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export const SIGV4_FAILURES = {
  /** No Authorization header and no X-Amz-Algorithm query parameter. */
  missing: 'missing',
  /** The Authorization header or the X-Amz-* query parameters cannot be parsed. */
  malformed: 'malformed',
  /** The credential scope names another region. */
  wrongRegion: 'wrong-region',
  /** The credential scope names another service. */
  wrongService: 'wrong-service',
  /** No date, or the scope's date is not the request date. */
  badDate: 'bad-date',
  unknownKey: 'unknown-key',
  /** The key has a session token and the request carried another (or none). */
  badToken: 'bad-token',
  mismatch: 'mismatch',
  /** Header auth: request time too far from the server's clock. */
  skewed: 'skewed',
  /** Query auth: X-Amz-Date + X-Amz-Expires is in the past. */
  expired: 'expired',
  /** Query auth: X-Amz-Date is in the future beyond the allowed skew. */
  notYetValid: 'not-yet-valid',
  /** Header auth: an `x-amz-*` header was sent but not signed. */
  unsignedHeaders: 'unsigned-headers',
} as const;
export type SigV4FailureReason = (typeof SIGV4_FAILURES)[keyof typeof SIGV4_FAILURES];

export interface SigV4Failure {
  readonly reason: SigV4FailureReason;
  /** A message in AWS's own words for this failure; never contains a secret. */
  readonly message: string;
  /** Extra fields AWS returns with the error (AWSAccessKeyId, StringToSign, CanonicalRequest, ServerTime, ...). */
  readonly details: Readonly<Record<string, string>>;
}

export interface SigV4Auth {
  readonly kind: 'header' | 'query';
  readonly accessKeyId: string;
  readonly amzDate: string;
  /** `20240131/us-east-1/s3/aws4_request`. */
  readonly scope: string;
  /** The verified request signature: the seed for chunk signatures. */
  readonly signature: string;
  readonly signingKey: Buffer;
  readonly signedHeaders: readonly string[];
  /** The payload hash the signature covers: hex, UNSIGNED-PAYLOAD or a STREAMING-* marker. */
  readonly payloadHash: string;
}

export type SigV4Result =
  | { readonly ok: true; readonly auth: SigV4Auth }
  | { readonly ok: false; readonly failure: SigV4Failure };

export interface SigV4Request {
  readonly method: string;
  /** The path exactly as it arrived, without the query string. */
  readonly rawPath: string;
  /** Decoded query pairs in wire order (see `parseQuery`). */
  readonly query: QueryPairs;
  /** Node's `IncomingMessage.rawHeaders`. */
  readonly rawHeaders: readonly string[];
}

export interface SigV4VerifyOptions {
  readonly service: string;
  readonly region: string;
  readonly credentials: readonly AwsCredentialPair[];
  /** Server time, epoch milliseconds. */
  readonly now: number;
  /** S3 signs the raw path; other services encode it again. */
  readonly escapePath: boolean;
  /**
   * Header auth only: the payload hash to sign with when the service does not send `x-amz-content-sha256` (the
   * JSON services: the hex SHA-256 of the body). S3 always uses the header's value.
   */
  readonly payloadHash?: string;
  readonly maxSkewMs?: number;
}

/** True when the request carries any SigV4 credentials (header or query). */
export function hasSigV4Credentials(request: SigV4Request): boolean {
  return (
    request.query.some(([name]) => name === 'X-Amz-Algorithm') ||
    headerValue(request.rawHeaders, 'authorization') !== undefined
  );
}

/**
 * Verify a request's SigV4 signature against the known key pairs. Pure: no I/O, time comes from `options.now`.
 * The payload itself is not read here: the caller checks a hex `payloadHash` against the body it receives, and
 * chunk signatures as the chunks arrive.
 */
export function verifySigV4(request: SigV4Request, options: SigV4VerifyOptions): SigV4Result {
  const isQuery = request.query.some(([name]) => name === 'X-Amz-Algorithm');
  const parsed = isQuery ? parseQueryAuth(request) : parseHeaderAuth(request, options);
  if ('reason' in parsed) return { ok: false, failure: parsed };

  const [date, region, service, terminator] = parsed.scopeParts;
  if (terminator !== KEY_TYPE || date === undefined || region === undefined || service === undefined) {
    return fail('malformed', `the credential scope must be date/region/service/${KEY_TYPE}`);
  }
  if (region !== options.region) {
    return fail('wrongRegion', `the region '${region}' is wrong; expecting '${options.region}'`, {
      Region: options.region,
    });
  }
  if (service !== options.service) {
    return fail('wrongService', `the service '${service}' is wrong; expecting '${options.service}'`);
  }
  const signedAt = parseAmzDate(parsed.amzDate);
  if (Number.isNaN(signedAt))
    return fail('badDate', 'AWS authentication requires a valid Date or x-amz-date header');
  if (parsed.amzDate.slice(0, 8) !== date) {
    return fail(
      'badDate',
      `the credential date '${date}' does not match the request date '${parsed.amzDate}'`,
    );
  }
  if (!parsed.signedHeaders.includes('host')) {
    return fail('malformed', "the 'host' header must be signed");
  }

  const credential = options.credentials.find((c) => c.accessKeyId === parsed.accessKeyId);
  if (!credential) {
    return fail('unknownKey', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: parsed.accessKeyId,
    });
  }
  if (credential.sessionToken !== undefined && parsed.securityToken !== credential.sessionToken) {
    return fail('badToken', 'The provided token is malformed or otherwise invalid.');
  }

  const maxSkew = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (isQuery) {
    const expiresAt = signedAt + parsed.expiresSeconds * 1000;
    if (options.now > expiresAt) {
      return fail('expired', 'Request has expired', {
        'X-Amz-Expires': String(parsed.expiresSeconds),
        Expires: new Date(expiresAt).toISOString(),
        ServerTime: new Date(options.now).toISOString(),
      });
    }
    if (signedAt - options.now > maxSkew) {
      return fail('notYetValid', 'Request is not valid yet', {
        ServerTime: new Date(options.now).toISOString(),
      });
    }
  } else if (Math.abs(options.now - signedAt) > maxSkew) {
    return fail('skewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: parsed.amzDate,
      ServerTime: new Date(options.now).toISOString(),
      MaxAllowedSkewMilliseconds: String(maxSkew),
    });
  }

  const canonicalRequest = createCanonicalRequest({
    method: request.method,
    canonicalUri: canonicalUri(request.rawPath, options.escapePath),
    canonicalQuery: canonicalQueryString(request.query),
    canonicalHeaders: canonicalHeaderLines(request.rawHeaders, parsed.signedHeaders),
    signedHeaders: parsed.signedHeaders,
    payloadHash: parsed.payloadHash,
  });
  const scope = parsed.scopeParts.join('/');
  const stringToSign = createStringToSign(parsed.amzDate, scope, canonicalRequest);
  const signingKey = deriveSigningKey(credential.secretAccessKey, date, region, service);
  const expected = signHex(signingKey, stringToSign);
  if (!signaturesEqual(expected, parsed.signature)) {
    return fail(
      'mismatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: parsed.accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: parsed.signature,
        CanonicalRequest: canonicalRequest,
      },
    );
  }

  if (!isQuery) {
    const unsigned = unsignedAmzHeaders(request.rawHeaders, parsed.signedHeaders);
    if (unsigned.length > 0) {
      return fail('unsignedHeaders', 'There were headers present in the request which were not signed', {
        HeadersNotSigned: unsigned.join(', '),
      });
    }
  }

  return {
    ok: true,
    auth: {
      kind: isQuery ? 'query' : 'header',
      accessKeyId: parsed.accessKeyId,
      amzDate: parsed.amzDate,
      scope,
      signature: expected,
      signingKey,
      signedHeaders: parsed.signedHeaders,
      payloadHash: parsed.payloadHash,
    },
  };
}

interface ParsedAuth {
  readonly accessKeyId: string;
  readonly scopeParts: readonly string[];
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly payloadHash: string;
  readonly securityToken: string | undefined;
  readonly expiresSeconds: number;
}

function parseHeaderAuth(request: SigV4Request, options: SigV4VerifyOptions): ParsedAuth | SigV4Failure {
  const header = headerValue(request.rawHeaders, 'authorization');
  if (header === undefined) return failure('missing', 'Access Denied');
  if (!header.startsWith(`${SIGV4_ALGORITHM} `)) {
    return failure('malformed', `Unsupported authorization type; only ${SIGV4_ALGORITHM} is accepted`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) return failure('malformed', 'The authorization header is malformed');
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return failure(
      'malformed',
      'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature',
    );
  }
  if (!HEX_SIGNATURE.test(signature))
    return failure('malformed', 'The authorization header is malformed; bad Signature');
  const slash = credential.indexOf('/');
  if (slash <= 0) return failure('malformed', 'The authorization header is malformed; bad Credential');

  const amzDate = headerValue(request.rawHeaders, 'x-amz-date') ?? amzDateFromHttpDate(request.rawHeaders);
  if (amzDate === undefined)
    return failure('badDate', 'AWS authentication requires a valid Date or x-amz-date header');
  const payloadHash =
    options.payloadHash ?? headerValue(request.rawHeaders, 'x-amz-content-sha256') ?? UNSIGNED_PAYLOAD;
  return {
    accessKeyId: credential.slice(0, slash),
    scopeParts: credential.slice(slash + 1).split('/'),
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate,
    payloadHash,
    securityToken: headerValue(request.rawHeaders, 'x-amz-security-token'),
    expiresSeconds: 0,
  };
}

function parseQueryAuth(request: SigV4Request): ParsedAuth | SigV4Failure {
  const get = (name: string) => request.query.find(([n]) => n === name)?.[1];
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== SIGV4_ALGORITHM) {
    return failure('malformed', `X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}"`);
  }
  const credential = get('X-Amz-Credential');
  const amzDate = get('X-Amz-Date');
  const expires = get('X-Amz-Expires');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  if (
    credential === undefined ||
    amzDate === undefined ||
    expires === undefined ||
    signedHeaders === undefined ||
    signature === undefined
  ) {
    return failure(
      'malformed',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (!/^\d+$/.test(expires)) return failure('malformed', 'X-Amz-Expires should be a number');
  const expiresSeconds = Number(expires);
  if (expiresSeconds > MAX_PRESIGN_SECONDS) {
    return failure(
      'malformed',
      `X-Amz-Expires must be less than a week (in seconds) that is; ${MAX_PRESIGN_SECONDS}`,
    );
  }
  if (!HEX_SIGNATURE.test(signature)) return failure('malformed', 'X-Amz-Signature is malformed');
  const slash = credential.indexOf('/');
  if (slash <= 0) return failure('malformed', 'Error parsing the X-Amz-Credential parameter');
  return {
    accessKeyId: credential.slice(0, slash),
    scopeParts: credential.slice(slash + 1).split('/'),
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate,
    payloadHash: get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD,
    securityToken: get('X-Amz-Security-Token'),
    expiresSeconds,
  };
}

/** The first value of a header in Node's `rawHeaders` (case-insensitive), or undefined. */
export function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) return rawHeaders[i + 1];
  }
  return undefined;
}

function amzDateFromHttpDate(rawHeaders: readonly string[]): string | undefined {
  const date = headerValue(rawHeaders, 'date');
  if (date === undefined) return undefined;
  const at = Date.parse(date);
  return Number.isNaN(at) ? undefined : formatAmzDate(at);
}

function unsignedAmzHeaders(rawHeaders: readonly string[], signedHeaders: readonly string[]): string[] {
  const unsigned = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name.startsWith('x-amz-') && !signedHeaders.includes(name)) unsigned.add(name);
  }
  return [...unsigned];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function failure(
  reason: keyof typeof SIGV4_FAILURES,
  message: string,
  details: Record<string, string> = {},
): SigV4Failure {
  return { reason: SIGV4_FAILURES[reason], message, details };
}

function fail(
  reason: keyof typeof SIGV4_FAILURES,
  message: string,
  details: Record<string, string> = {},
): SigV4Result {
  return { ok: false, failure: failure(reason, message, details) };
}
