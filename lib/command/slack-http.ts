import type { Logger } from '../log';
import type { SlackReply } from './replies';
import { internalErrorReply } from './replies';
import type { RequestScope } from './request-scope';
import { verifySlackSignature } from './slack-signature';

/** The parts of an API Gateway event (REST v1 or HTTP API payload 2.0) that a Slack request needs. */
export interface LambdaHttpEvent {
  readonly body?: string | null | undefined;
  readonly isBase64Encoded?: boolean | undefined;
  readonly headers?: Readonly<Record<string, string | undefined>> | null | undefined;
}

export interface LambdaHttpResult {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string | number | boolean>>;
  readonly body: string;
}

/** Hands a verified, normalised event to Bolt (see slack-app.ts). */
export type SlackDispatch = (
  event: LambdaHttpEvent & { readonly body: string; readonly isBase64Encoded: false },
  context: unknown,
  scope: RequestScope,
) => Promise<LambdaHttpResult>;

export interface SlackHttpOptions {
  readonly signingSecret: string;
  readonly dispatch: SlackDispatch;
  readonly log: Logger;
  /** Epoch milliseconds; the clock of the signature's five-minute window. */
  readonly now: () => number;
  /** Larger bodies are refused with 413 before hashing (default 256 KiB; Slack's payloads are far smaller). */
  readonly maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/**
 * The HTTP edge of the Slack function, in front of Bolt's AwsLambdaReceiver:
 * - verifies Slack's signature itself, over the raw bytes and with an injectable clock (Bolt's check reads
 *   `Date.now()` and hashes base64 bodies decoded as ASCII); missing, stale or wrong → 401 with an empty body;
 * - answers Slack's retries (`X-Slack-Retry-Num`) with 200 and `X-Slack-No-Retry: 1` without processing them again;
 * - decodes base64 bodies and strips parameters from `Content-Type` (Bolt 5.1 compares the whole header with
 *   `application/x-www-form-urlencoded`, so `; charset=utf-8` made it throw);
 * - turns a listener failure that left no answer into the safe message, and a body Bolt cannot parse into 400.
 * Never throws.
 */
export function createSlackHttpHandler(options: SlackHttpOptions) {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { log } = options;
  return async (event: LambdaHttpEvent, context: unknown, receivedAt?: number): Promise<LambdaHttpResult> => {
    const headers = lowerCaseHeaders(event.headers);
    const raw = event.body ?? '';
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    if (body.length > maxBodyBytes) return { statusCode: 413, body: '' };
    const verdict = verifySlackSignature({
      signingSecret: options.signingSecret,
      body,
      signature: headers['x-slack-signature'],
      timestamp: headers['x-slack-request-timestamp'],
      now: options.now(),
    });
    if (verdict !== 'ok') {
      log.warn('refused a request without a valid Slack signature', { verdict });
      return { statusCode: 401, body: '' };
    }
    if (headers['x-slack-retry-num'] !== undefined) {
      log.info('ignored a Slack retry', {
        retryNum: headers['x-slack-retry-num'].slice(0, 8),
        reason: headers['x-slack-retry-reason']?.slice(0, 40),
      });
      return { statusCode: 200, headers: { 'x-slack-no-retry': '1' }, body: '' };
    }
    const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const scope: RequestScope = { receivedAt: receivedAt ?? options.now(), failed: false };
    let result: LambdaHttpResult;
    try {
      result = await options.dispatch(
        {
          ...event,
          headers: { ...headers, 'content-type': mediaType },
          body: body.toString('utf8'),
          isBase64Encoded: false,
        },
        context,
        scope,
      );
    } catch (error) {
      // Bolt parses the body before any listener runs: a signed but unreadable body ends here.
      log.warn('could not read a signed Slack request', {
        error: error instanceof Error ? error.name : 'Error',
      });
      return { statusCode: 400, body: '' };
    }
    if (scope.failed && result.statusCode !== 200) return jsonReply(internalErrorReply());
    return result;
  };
}

function jsonReply(reply: SlackReply): LambdaHttpResult {
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(reply) };
}

/** Header names lower-cased; for a name given twice in different cases, the first one wins. */
function lowerCaseHeaders(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const key = name.toLowerCase();
    if (value !== undefined && out[key] === undefined) out[key] = value;
  }
  return out;
}
