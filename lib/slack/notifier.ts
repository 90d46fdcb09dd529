import type { Logger as SlackLogger, WebClientOptions } from '@slack/web-api';
// The two runtime values come from their own files, not the package index, so that a bundle which loads
// @slack/web-api lazily (the poller builds its WebClient on the first post) keeps it out of its start-up path.
import { ErrorCode } from '@slack/web-api/dist/errors';
import { LogLevel as SlackLogLevel } from '@slack/web-api/dist/logger';
import { request } from 'undici';
import { DeadlineError, SlackDeliveryError } from '../errors';
import type { Logger } from '../log';
import { backoffDelay, type Deadline, NO_DEADLINE, parseRetryAfter, type RetryPolicy, sleep } from '../retry';
import type { SlackMessage } from './notification-blocks';

/**
 * Delivery of the poller's messages to Slack, through the bot token (`chat.postMessage`, one channel per organisation)
 * or an incoming webhook (one fixed channel). Both share one bounded retry: 429 waits at least `Retry-After`, 5xx and
 * network errors back off with jitter, and no wait may pass the caller's deadline. Permanent refusals
 * (`channel_not_found`, `not_in_channel`, `invalid_auth`, `is_archived`, webhook 400/403/404/410, ...) are not retried.
 * Every failure surfaces as SlackDeliveryError naming Slack's error code and the channel, never the token or the
 * webhook URL (which is itself a credential).
 */
export interface Notifier {
  /**
   * Post one message for `orgId` to its channel. Resolves once Slack accepted it. Throws SlackDeliveryError (refused,
   * or retries exhausted), or DeadlineError when the deadline passed while waiting to retry.
   */
  post(orgId: string, message: SlackMessage, deadline?: Deadline): Promise<void>;
}

/** The one Web API method used, as a narrow port (`WebClient` satisfies it). */
export interface ChatPoster {
  readonly chat: {
    postMessage(args: {
      channel: string;
      text: string;
      blocks: SlackMessage['blocks'][number][];
      unfurl_links?: boolean;
      unfurl_media?: boolean;
    }): Promise<unknown>;
  };
}

export type NotifierTransport =
  | {
      readonly kind: 'bot';
      readonly client: ChatPoster;
      readonly defaultChannel: string | undefined;
      /** orgId -> channel id. */
      readonly routes: ReadonlyMap<string, string>;
    }
  | { readonly kind: 'webhook'; readonly url: string };

export interface NotifierOptions {
  readonly transport: NotifierTransport;
  readonly log: Logger;
  /** Default: 4 attempts, 1 s base, 10 s cap. */
  readonly retry?: RetryPolicy;
  /** Per webhook request, in milliseconds (the WebClient has its own `timeout`). Default 10 s. */
  readonly timeoutMs?: number;
  readonly random?: () => number;
}

export const DEFAULT_SLACK_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 10_000 };
export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;

/** Slack's codes for refusals that the same request will never get past. */
const PERMANENT_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'channel_is_archived',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'org_login_required',
  'ekm_access_denied',
  'restricted_action',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_payload',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'action_prohibited',
  'posting_to_general_channel_denied',
  'no_service',
  'no_service_id',
  'no_team',
  'team_disabled',
  'invalid_token',
]);

/** Codes Slack documents as worth retrying. Any other `ok: false` answer is treated as permanent. */
const TRANSIENT_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * Options for the handler's `new WebClient(token, ...)`: the notifier owns retrying (bounded, deadline-aware, honouring
 * Retry-After), so the client itself does not retry, rejects 429s at once and times requests out.
 */
export function slackWebClientOptions(init: {
  apiUrl: string | undefined;
  timeoutMs?: number;
  log: Logger;
}): WebClientOptions {
  return {
    ...(init.apiUrl !== undefined ? { slackApiUrl: init.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: init.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS,
    logger: toSlackLogger(init.log),
    logLevel: SlackLogLevel.WARN,
  };
}

export function createSlackNotifier(options: NotifierOptions): Notifier {
  const { transport, log } = options;
  const policy = options.retry ?? DEFAULT_SLACK_RETRY;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS;
  const random = options.random ?? Math.random;

  const send = async (channel: string, message: SlackMessage, signal: AbortSignal): Promise<void> => {
    if (transport.kind === 'bot') {
      await transport.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: [...message.blocks],
        unfurl_links: false,
        unfurl_media: false,
      });
      return;
    }
    await postWebhook(transport.url, message, signal, timeoutMs);
  };

  return {
    async post(orgId: string, message: SlackMessage, deadline: Deadline = NO_DEADLINE): Promise<void> {
      const channel =
        transport.kind === 'bot' ? (transport.routes.get(orgId) ?? transport.defaultChannel) : 'webhook';
      if (channel === undefined) {
        throw new SlackDeliveryError(
          `no Slack channel is configured for organisation ${orgId}`,
          'no_channel',
        );
      }
      for (let attempt = 1; ; attempt += 1) {
        if (deadline.signal.aborted) throw new DeadlineError(`deadline passed before posting to ${channel}`);
        let failure: Failure;
        try {
          await send(channel, message, deadline.signal);
          return;
        } catch (error) {
          failure = classify(error);
          if (!failure.retryable || attempt >= policy.maxAttempts) {
            throw deliveryError(failure, channel, attempt, error);
          }
        }
        const waitMs = backoffDelay(attempt, policy, failure.retryAfterMs, random);
        if (waitMs >= deadline.remaining()) {
          throw new SlackDeliveryError(
            `Slack delivery to ${channel} failed (${failure.slackError}) and the next try would pass the deadline`,
            failure.slackError,
            failure.status,
          );
        }
        log.warn('slack delivery will be retried', {
          channel,
          attempt,
          slackError: failure.slackError,
          status: failure.status,
          waitMs,
        });
        await sleep(waitMs, deadline.signal);
      }
    },
  };
}

interface Failure {
  readonly slackError: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
}

/** Raised by the webhook transport with what Slack answered. */
class WebhookFailure extends Error {
  override readonly name = 'WebhookFailure';
  constructor(
    readonly status: number,
    readonly slackError: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`webhook answered HTTP ${status} (${slackError})`);
  }
}

async function postWebhook(url: string, message: SlackMessage, signal: AbortSignal, timeoutMs: number) {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ text: message.text, blocks: message.blocks }),
    signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const body = (await response.body.text()).trim();
  if (response.statusCode === 200) return;
  const retryAfter = response.headers['retry-after'];
  throw new WebhookFailure(
    response.statusCode,
    slackCode(body) ?? `http_${response.statusCode}`,
    parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
  );
}

function classify(error: unknown): Failure {
  if (error instanceof WebhookFailure) {
    const rateLimited = error.status === 429;
    return {
      slackError: rateLimited ? 'ratelimited' : error.slackError,
      status: error.status,
      retryable: rateLimited || (error.status >= 500 && !PERMANENT_ERRORS.has(error.slackError)),
      retryAfterMs: error.retryAfterMs,
    };
  }
  const coded = error as {
    code?: unknown;
    data?: { error?: unknown };
    retryAfter?: unknown;
    statusCode?: unknown;
  };
  switch (coded?.code) {
    case ErrorCode.PlatformError: {
      const code = slackCode(String(coded.data?.error ?? '')) ?? 'unknown_error';
      return {
        slackError: code,
        status: 200,
        retryable: TRANSIENT_ERRORS.has(code),
        retryAfterMs: undefined,
      };
    }
    case ErrorCode.RateLimitedError: {
      const seconds = typeof coded.retryAfter === 'number' ? coded.retryAfter : undefined;
      return {
        slackError: 'ratelimited',
        status: 429,
        retryable: true,
        retryAfterMs: seconds === undefined ? undefined : seconds * 1000,
      };
    }
    case ErrorCode.HTTPError: {
      const status = typeof coded.statusCode === 'number' ? coded.statusCode : undefined;
      return {
        slackError: `http_${status ?? 'error'}`,
        status,
        retryable: status === undefined || status >= 500 || status === 408,
        retryAfterMs: undefined,
      };
    }
    default:
      if (error instanceof DeadlineError) {
        return { slackError: 'deadline', status: undefined, retryable: false, retryAfterMs: undefined };
      }
      // Network failures, timeouts and a 429 without a readable Retry-After: worth another try.
      return { slackError: 'request_failed', status: undefined, retryable: true, retryAfterMs: undefined };
  }
}

function deliveryError(failure: Failure, channel: string, attempts: number, cause: unknown): Error {
  if (cause instanceof DeadlineError) return cause;
  const why = failure.retryable ? `after ${attempts} attempts` : 'permanently';
  const where = channel === 'webhook' ? 'through the incoming webhook' : `to channel ${channel}`;
  const status = failure.status === undefined ? '' : `, HTTP ${failure.status}`;
  return new SlackDeliveryError(
    `Slack refused the message ${where} ${why}: ${failure.slackError}${status}`,
    failure.slackError,
    failure.status,
    { cause },
  );
}

/** Slack error codes are short snake_case words; anything else from a body is not echoed. */
function slackCode(text: string): string | undefined {
  return /^[a-z][a-z0-9_]{0,63}$/.test(text) ? text : undefined;
}

function toSlackLogger(log: Logger): SlackLogger {
  let level = SlackLogLevel.WARN;
  const join = (parts: unknown[]) =>
    parts.map((part) => (typeof part === 'string' ? part : String(part))).join(' ');
  return {
    debug: () => {},
    info: () => {},
    warn: (...parts: unknown[]) => log.warn(`@slack/web-api: ${join(parts)}`),
    error: (...parts: unknown[]) => log.error(`@slack/web-api: ${join(parts)}`),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
