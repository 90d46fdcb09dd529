import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_VERDICTS = ['ok', 'missing', 'stale', 'mismatch'] as const;
export type SignatureVerdict = (typeof SIGNATURE_VERDICTS)[number];

/** Slack's replay window: requests more than five minutes from now (either way) are refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface SignatureCheck {
  readonly signingSecret: string;
  /** The body exactly as received: bytes, or the string they decode to (hashed as UTF-8). */
  readonly body: Uint8Array | string;
  /** `X-Slack-Signature`, e.g. `v0=a2114d57…`. */
  readonly signature: string | undefined;
  /** `X-Slack-Request-Timestamp`, whole seconds since the epoch. */
  readonly timestamp: string | undefined;
  /** Epoch milliseconds. */
  readonly now: number;
  readonly toleranceSeconds?: number;
}

/**
 * Slack's request signing: HMAC-SHA256 over `v0:{timestamp}:{raw body}` with the signing secret, compared in
 * constant time. Unlike Bolt's own check (which accepts any future timestamp), a timestamp more than the tolerance
 * ahead is refused as well. Never throws.
 */
export function verifySlackSignature(check: SignatureCheck): SignatureVerdict {
  const { signature, timestamp } = check;
  if (signature === undefined || timestamp === undefined || signature === '' || timestamp === '')
    return 'missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'stale';
  const skew = Math.abs(Math.floor(check.now / 1000) - Number(timestamp));
  if (skew > (check.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) return 'stale';
  const match = /^v0=([a-f0-9]{64})$/.exec(signature);
  if (match?.[1] === undefined) return 'mismatch';
  const expected = signSlackRequest(check.signingSecret, timestamp, check.body);
  const given = Buffer.from(match[1], 'hex');
  return timingSafeEqual(Buffer.from(expected.slice(3), 'hex'), given) ? 'ok' : 'mismatch';
}

/** `v0=<hex>` for a body, as Slack computes it (also used by tests and the local run to sign requests). */
export function signSlackRequest(
  signingSecret: string,
  timestamp: string,
  body: Uint8Array | string,
): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(body);
  return `v0=${hmac.digest('hex')}`;
}
