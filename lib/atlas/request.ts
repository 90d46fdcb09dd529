import type { Dispatcher } from 'undici';
import { AtlasApiError, DeadlineError } from '../errors';
import type { Logger } from '../log';
import { parseRetryAfter, type RetryPolicy, RetryStopped, type RetryVerdict, withRetries } from '../retry';
import {
  cleanDetail,
  type FailureContext,
  httpFailure,
  isRetryableNetworkError,
  networkFailure,
  parseErrorBody,
} from './api-errors';
import type { Authenticator } from './auth';

/** All in milliseconds. */
export interface Timeouts {
  /** TCP (and TLS) connection set-up. Applies to the client's own Agent only. */
  readonly connectMs: number;
  /** From sending the request to the end of the response headers. */
  readonly headersMs: number;
  /** Longest silence between two body chunks (not the whole body: a 500 MB CSV may take minutes). */
  readonly bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 };
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000 };
/** A Retry-After longer than this is not waited for: the call fails with the 429 instead. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000;
/** Largest JSON body read into memory (a 500-invoice page with linked invoices is a few MB). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** Only this much of an error body is read; the rest is discarded. */
const MAX_ERROR_BYTES = 64 * 1024;

export interface Transport {
  readonly dispatcher: Dispatcher;
  /** `http(s)://host[:port]`. */
  readonly origin: string;
  /** Path prefix of the base URL without trailing slash ('' normally). */
  readonly basePath: string;
  readonly timeouts: Timeouts;
  readonly retry: RetryPolicy;
  readonly maxRetryAfterMs: number;
  readonly random: () => number;
  readonly log: Logger;
  readonly userAgent: string;
  /** Removes secrets from any text that came from the server. */
  readonly scrub: (text: string) => string;
}

/** Anything with the remaining time of a deadline (lib/retry `Deadline` fits). */
export interface RemainingTime {
  remaining(): number;
}

export interface CallSpec<T> {
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, without query. */
  readonly path: string;
  readonly query?: URLSearchParams | undefined;
  /** Accept and any other request headers except Authorization and User-Agent. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  readonly auth?: Authenticator | undefined;
  readonly signal?: AbortSignal | undefined;
  /** When known, a retry whose wait would end after the deadline is not attempted: the last error is thrown. */
  readonly deadline?: RemainingTime | undefined;
  readonly failure: FailureContext;
  /**
   * Turns a 2xx response into the result. It may read the body; a network error while reading is retried like any
   * other. Whatever it does not consume it must hand on (the CSV stream) or leave to the caller's cleanup.
   */
  readonly consume: (response: Dispatcher.ResponseData) => Promise<T>;
}

/** Statuses retried with backoff (after Retry-After for 429 and 503). */
function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * One logical call: authorisation, retries for 429, 5xx and network errors within the retry policy and the caller's
 * deadline (the shared loop of lib/retry.ts), and one AtlasApiError (or DeadlineError once the signal aborted) for
 * every failure. A 401 that the authenticator answers (a token that expired, a digest nonce gone stale) repeats the
 * attempt without counting it. Every response body that is not handed to `consume` is drained or destroyed so no
 * socket leaks.
 */
export async function callAtlas<T>(transport: Transport, spec: CallSpec<T>): Promise<T> {
  const { method, signal } = spec;
  const uri = `${transport.basePath}${spec.path}${spec.query && spec.query.size > 0 ? `?${spec.query}` : ''}`;
  const where = `${method} ${spec.path}`;
  const session = spec.auth?.begin();
  const log = transport.log;
  /** How each failed attempt's error may be retried. */
  const verdicts = new WeakMap<object, RetryVerdict>();
  const deadlineErrors = new WeakSet<object>();
  let lastError: AtlasApiError | undefined;

  const failed = (error: AtlasApiError, verdict: RetryVerdict): AtlasApiError => {
    verdicts.set(error, verdict);
    lastError = error;
    return error;
  };
  const deadlineError = (cause?: unknown) => {
    const error = new DeadlineError(
      lastError === undefined
        ? `deadline passed during ${where}`
        : `deadline passed during ${where}; last error: ${lastError.message}`,
      { cause: lastError ?? cause },
    );
    deadlineErrors.add(error);
    return error;
  };

  const attempt = async (n: number): Promise<T> => {
    for (;;) {
      if (signal?.aborted) throw deadlineError();
      const authorization = session === undefined ? undefined : await session.authorize(method, uri, signal);
      const headers: Record<string, string> = { ...spec.headers, 'user-agent': transport.userAgent };
      if (authorization !== undefined) headers.authorization = authorization;
      const started = Date.now();
      let response: Dispatcher.ResponseData;
      try {
        response = await transport.dispatcher.request({
          origin: transport.origin,
          path: uri,
          method,
          headers,
          body: spec.body ?? null,
          signal: signal ?? null,
          headersTimeout: transport.timeouts.headersMs,
          bodyTimeout: transport.timeouts.bodyMs,
        });
      } catch (error) {
        if (signal?.aborted) throw deadlineError(error);
        const failure = networkFailure(error, spec.failure, n);
        log.debug('atlas call failed', { method, path: spec.path, attempt: n, code: failure.errorCode });
        throw failed(failure, { retryable: isRetryableNetworkError(error) });
      }
      const status = response.statusCode;
      log.debug('atlas call answered', {
        method,
        path: spec.path,
        status,
        attempt: n,
        ms: Date.now() - started,
      });

      if (status >= 200 && status < 300) {
        try {
          return await spec.consume(response);
        } catch (error) {
          response.body.destroy();
          if (signal?.aborted) throw deadlineError(error);
          if (error instanceof AtlasApiError || error instanceof DeadlineError) throw error;
          throw failed(networkFailure(error, spec.failure, n), { retryable: isRetryableNetworkError(error) });
        }
      }

      if (status === 401 && session !== undefined && session.unauthorized(response.headers)) {
        await discard(response);
        continue;
      }

      let text: string;
      try {
        text = await readText(response, MAX_ERROR_BYTES, false);
      } catch (error) {
        if (signal?.aborted) throw deadlineError(error);
        text = '';
      }
      const parsed = parseErrorBody(text);
      const body = {
        errorCode: cleanDetail(parsed.errorCode, transport.scrub)?.slice(0, 80),
        detail: cleanDetail(parsed.detail, transport.scrub),
      };
      throw failed(httpFailure(status, body, spec.failure, n), {
        retryable: isRetryableStatus(status),
        retryAfterMs: retryWait(response.headers),
      });
    }
  };

  try {
    return await withRetries(attempt, {
      policy: transport.retry,
      classify: (error) => (error instanceof Object && verdicts.get(error)) || { retryable: false },
      deadline: spec.deadline,
      signal,
      maxRetryAfterMs: transport.maxRetryAfterMs,
      random: transport.random,
      onRetry: ({ attempt: n, waitMs, error }) => {
        const failure = error as AtlasApiError;
        log.warn('atlas call retrying', {
          method,
          path: spec.path,
          status: failure.status,
          errorCode: failure.errorCode,
          attempt: n,
          waitMs,
        });
      },
    });
  } catch (error) {
    if (error instanceof RetryStopped) throw error.cause;
    // The signal aborted while waiting to retry: say which call, and what failed last.
    if (error instanceof DeadlineError && !deadlineErrors.has(error)) throw deadlineError(error);
    throw error;
  }
}

/**
 * How long the server asked us to wait, in ms: `Retry-After`, else `RateLimit-Reset` (delta seconds, also inside a
 * combined `RateLimit` header), else one token's worth of Atlas's refill (100 per minute) when `RateLimit-Remaining`
 * says the bucket is empty. Undefined when nothing says (plain backoff then).
 */
export function retryWait(
  headers: Dispatcher.ResponseData['headers'],
  now: number = Date.now(),
): number | undefined {
  const get = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const retryAfter = parseRetryAfter(get('retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = get('ratelimit-reset') ?? /(?:^|[;,\s])reset=(\d+)/i.exec(get('ratelimit') ?? '')?.[1];
  if (reset !== undefined && /^\d+$/.test(reset.trim())) return Number(reset.trim()) * 1000;
  const remaining =
    get('ratelimit-remaining') ?? /(?:^|[;,\s])remaining=(\d+)/i.exec(get('ratelimit') ?? '')?.[1];
  if (remaining !== undefined && remaining.trim() === '0') return 1000;
  return undefined;
}

/** Reads at most `limit` bytes as UTF-8; beyond it either throws (`strict`) or keeps the start and drops the rest. */
export async function readText(
  response: Dispatcher.ResponseData,
  limit: number,
  strict: boolean,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limit) {
      response.body.destroy();
      if (strict) throw new Error(`response larger than ${limit} bytes`);
      chunks.push(buffer.subarray(0, buffer.length - (total - limit)));
      break;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads and parses a JSON success body. Throws AtlasApiError for an oversized or unparseable body. */
export async function readJson(response: Dispatcher.ResponseData, failure: FailureContext): Promise<unknown> {
  let text: string;
  try {
    text = await readText(response, MAX_JSON_BYTES, true);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('response larger')) {
      throw new AtlasApiError(
        `Atlas sent more than ${MAX_JSON_BYTES} bytes for ${failure.method} ${failure.path}.`,
        {
          status: response.statusCode,
          method: failure.method,
          path: failure.path,
        },
      );
    }
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AtlasApiError(
      `Atlas sent a body that is not JSON for ${failure.method} ${failure.path} (Content-Type: ${String(response.headers['content-type'] ?? 'none').slice(0, 80)}).`,
      { status: response.statusCode, method: failure.method, path: failure.path },
    );
  }
}

/** Drains a small body so the socket can be reused, or destroys it when it is large. */
export async function discard(response: Dispatcher.ResponseData): Promise<void> {
  try {
    await response.body.dump({ limit: MAX_ERROR_BYTES });
  } catch {
    response.body.destroy();
  }
}
