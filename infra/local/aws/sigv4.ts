import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-sdk/checksums/sha';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import type { AwsCredentialPair } from './credentials';

/**
 * SigV4 checked on the server side by signing the received request again with the SDK's own signer
 * (`@smithy/signature-v4`) and comparing the two signatures in constant time, for header-signed requests and
 * presigned URLs alike. The stand-ins therefore accept exactly what the SDK signs, with no second implementation of
 * canonicalisation to drift from it. Each stand-in maps a failure onto its own protocol's error codes.
 */

export type SigV4Failure = 'missing' | 'malformed' | 'unknown-key' | 'mismatch' | 'expired' | 'skewed';

export interface ReceivedRequest {
  readonly method: string;
  /** The path exactly as it arrived, without the query string. */
  readonly path: string;
  /** Decoded query pairs in wire order (see `parseQuery`). */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Node's `IncomingMessage.rawHeaders`. */
  readonly rawHeaders: readonly string[];
  /** The body, for the JSON services whose signature covers it without an `x-amz-content-sha256` header. */
  readonly body?: Uint8Array;
}

export interface SigV4Options {
  readonly service: string;
  readonly region: string;
  readonly credentials: readonly AwsCredentialPair[];
  /** Server time, epoch milliseconds. */
  readonly now: number;
  /** S3 signs the path as sent; every other service encodes it once more (the SDK's `uriEscapePath`). */
  readonly uriEscapePath: boolean;
}

export type SigV4Result =
  | { readonly ok: true; readonly kind: 'header' | 'query' }
  | { readonly ok: false; readonly failure: SigV4Failure; readonly message: string };

/** The clock skew AWS tolerates for header-signed requests. */
const MAX_SKEW_MS = 15 * 60_000;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Query parameters a presigned URL carries about its own signature; the signer adds them back. */
const PRESIGN_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);
const CREDENTIAL = /^([^/\s]+)\/\d{8}\/[^/]+\/[^/]+\/aws4_request$/;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** True when the request carries SigV4 credentials in a header or in its query. */
export function isSigned(request: ReceivedRequest): boolean {
  return (
    request.query.some(([name]) => name === 'X-Amz-Algorithm') ||
    headerValue(request.rawHeaders, 'authorization') !== undefined
  );
}

/**
 * Verify a request's signature against the known key pairs. Time comes from `options.now`. For S3 the payload is
 * not read here: the signature covers the `x-amz-content-sha256` header, which the caller checks against the body.
 */
export async function verifySigV4(request: ReceivedRequest, options: SigV4Options): Promise<SigV4Result> {
  const param = (name: string) => request.query.find(([n]) => n === name)?.[1];
  const presigned = param('X-Amz-Algorithm') !== undefined;
  const authorization = headerValue(request.rawHeaders, 'authorization');
  if (!presigned && authorization === undefined) return fail('missing', 'Access Denied');
  const header = presigned ? undefined : AUTHORIZATION.exec(authorization ?? '');
  const credential = presigned ? param('X-Amz-Credential') : header?.[1];
  const signedHeaders = (presigned ? param('X-Amz-SignedHeaders') : header?.[2])?.split(';');
  const signature = presigned ? param('X-Amz-Signature') : header?.[3];
  const amzDate = presigned ? param('X-Amz-Date') : headerValue(request.rawHeaders, 'x-amz-date');
  const expires = presigned ? Number(param('X-Amz-Expires')) : 0;
  const signedAt = parseAmzDate(amzDate ?? '');
  const accessKeyId = CREDENTIAL.exec(credential ?? '')?.[1];
  if (
    accessKeyId === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    Number.isNaN(signedAt) ||
    (presigned && (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !Number.isInteger(expires)))
  ) {
    return fail('malformed', 'The SigV4 authorization is malformed or incomplete.');
  }
  const pair = options.credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!pair) return fail('unknown-key', 'The AWS Access Key Id you provided does not exist in our records.');
  if (presigned && options.now > signedAt + expires * 1000) return fail('expired', 'Request has expired');
  if (!presigned && Math.abs(options.now - signedAt) > MAX_SKEW_MS) {
    return fail('skewed', 'The difference between the request time and the current time is too large.');
  }

  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: options.uriEscapePath,
    applyChecksum: false,
  });
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const values = headerValues(request.rawHeaders, name);
    if (values.length > 0) headers[name] = values.join(',');
  }
  // The JSON services sign the body's hash in x-amz-content-sha256: sign what arrived, so a changed body fails.
  if (request.body && headers['x-amz-content-sha256'] !== undefined) {
    headers['x-amz-content-sha256'] = createHash('sha256').update(request.body).digest('hex');
  }
  const query: QueryParameterBag = {};
  for (const [name, value] of request.query) {
    if (presigned && PRESIGN_PARAMS.has(name)) continue;
    const previous = query[name];
    query[name] = previous === undefined || previous === null ? value : [previous, value].flat();
  }
  const toSign: HttpRequest = {
    method: request.method,
    protocol: 'http:',
    hostname: headers.host ?? '',
    path: request.path,
    query,
    headers,
    ...(request.body ? { body: request.body } : {}),
  };
  const signingDate = new Date(signedAt);
  const signableHeaders = new Set(signedHeaders);
  let expected: string | undefined;
  try {
    if (presigned) {
      // A presigned URL covers no payload: the SDK signs UNSIGNED-PAYLOAD and hoists that header into the query.
      const payloadHeader = 'x-amz-content-sha256';
      toSign.headers[payloadHeader] ??= param('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
      const signed = await signer.presign(toSign, {
        signingDate,
        expiresIn: expires,
        signableHeaders,
        unsignableHeaders: new Set([payloadHeader]),
        unhoistableHeaders: new Set([payloadHeader]),
      });
      expected = signed.query?.['X-Amz-Signature'] as string | undefined;
    } else {
      const signed = await signer.sign(toSign, { signingDate, signableHeaders });
      expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization ?? '')?.[1];
    }
  } catch {
    // The signer refuses what it cannot sign (a lifetime over a week, for one).
    return fail('malformed', 'The SigV4 authorization is malformed or incomplete.');
  }
  if (expected === undefined || !signaturesEqual(expected, signature)) {
    return fail(
      'mismatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return { ok: true, kind: presigned ? 'query' : 'header' };
}

/**
 * Split a raw query string (without `?`) into decoded name/value pairs in wire order; `?uploads` gives
 * `['uploads', '']`. `+` stays a plus sign (AWS clients encode spaces as `%20`). Throws URIError on a bad escape.
 */
export function parseQuery(raw: string): Array<[string, string]> {
  return raw
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      return [decodeURIComponent(name), eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1))];
    });
}

/** The first value of a header in Node's `rawHeaders` (case-insensitive), or undefined. */
export function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  return headerValues(rawHeaders, name)[0];
}

function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) values.push(rawHeaders[i + 1] as string);
  }
  return values;
}

/** Epoch milliseconds of an `X-Amz-Date` value (`20240131T235959Z`); NaN when malformed. */
function parseAmzDate(value: string): number {
  const m = AMZ_DATE.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Constant-time comparison; different lengths compare unequal without revealing where. */
function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(a, a);
}

function fail(failure: SigV4Failure, message: string): SigV4Result {
  return { ok: false, failure, message };
}
