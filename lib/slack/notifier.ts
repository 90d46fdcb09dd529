import type { Logger as SlackLogger, WebClientOptions } from '@slack/web-api';
// The two runtime values come from their own files, not the package index, so that a bundle which loads
// @slack/web-api lazily (the poller builds its WebClient on the first post) keeps it out of its start-up path.
import { ErrorCode } from '@slack/web-api/dist/errors';
import { LogLevel as SlackLogLevel } from '@slack/web-api/dist/logger';
import { request } from 'undici';
import type { ChannelRouting, WebhookDelivery } from '../config';
import { DeadlineError, SlackDeliveryError } from '../errors';
import type { Logger } from '../log';
import {
  type Deadline,
  NO_DEADLINE,
  parseRetryAfter,
  type RetryPolicy,
  RetryStopped,
  withRetries,
} from '../retry';
import {
  FILE_PROCESSING_DELAYS_MS,
  type FileUploadClient,
  isFileNotReady,
  postWhileFileProcesses,
  type SlackFileUpload,
  uploadSlackFile,
} from './files';
import type { SlackMessage } from './notification-blocks';
import { fetchOverUndici } from './undici-fetch';

/**
 * Delivery of the poller's messages to Slack, through the bot token (`chat.postMessage`, one channel per organisation)
 * or an incoming webhook (one fixed channel).
 *
 * Each message is posted at most twice per change: a post is retried within the call only when Slack cannot have
 * acted on it, i.e. the connection was never made (refused, name not resolved, connect timeout), Slack rate-limited it
 * (429, waiting at least `Retry-After`), or Slack answered that it did not process it (HTTP 503, `service_unavailable`,
 * `request_timeout`, `ratelimited`). A failure after which the message may have been posted (a timeout or a reset
 * while waiting for the answer, HTTP 500/502/504, `internal_error`, `fatal_error`: "some aspect of the operation may
 * have succeeded") is not retried here: the caller records the message as not delivered and the next poll posts it
 * again, once. Retries back off with jitter, bounded in attempts, and no wait may pass the caller's deadline.
 * Permanent refusals (`channel_not_found`, `not_in_channel`, `invalid_auth`, `is_archived`, webhook 400/403/404/410,
 * ...) are not retried. Every failure surfaces as SlackDeliveryError naming Slack's error code and the channel, never
 * the token or the webhook URL (which is itself a credential).
 *
 * A message can show a picture (the spend chart): `uploadImage` uploads it once with the bot token (Slack's current
 * upload flow, lib/slack/files.ts) and messages refer to its file id through `postWithImage`. Through a webhook there
 * is no upload: messages go without the picture, whose alt text carries its figures.
 */
export interface Notifier {
  /**
   * Post one message for `orgId` to its channel. Resolves once Slack accepted it. Throws SlackDeliveryError (refused,
   * retries exhausted, or an answer that leaves open whether it was posted), or DeadlineError when the deadline passed
   * while waiting to retry.
   */
  post(orgId: string, message: SlackMessage, deadline?: Deadline): Promise<void>;
  /**
   * Upload a picture that messages for `orgId` can then show by the returned file id (upload once, show in several
   * messages). Undefined when they cannot show one: through an incoming webhook (said once in the log per notifier,
   * which the handler builds once per cold start), or when the upload failed (logged with Slack's code). Never throws.
   */
  uploadImage(orgId: string, image: SlackFileUpload, deadline?: Deadline): Promise<string | undefined>;
  /**
   * `post` for a message that shows a just-uploaded file: posted again while Slack refuses it because the file is
   * still being processed (a few seconds, never past the deadline), then, if Slack still cannot show the file,
   * `fallback` (the same message without the picture) is posted instead. Throws as `post`.
   */
  postWithImage(
    orgId: string,
    message: SlackMessage,
    fallback: SlackMessage,
    deadline?: Deadline,
  ): Promise<void>;
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

/** What the bot transport calls: posting, and the two upload methods (`WebClient` satisfies it). */
export type SlackBotClient = ChatPoster & FileUploadClient;

export type NotifierTransport =
  | (ChannelRouting & { readonly kind: 'bot'; readonly client: SlackBotClient })
  | WebhookDelivery;

export interface NotifierOptions {
  readonly transport: NotifierTransport;
  readonly log: Logger;
  /** Default: 4 attempts, 1 s base, 10 s cap. */
  readonly retry?: RetryPolicy;
  /** Per webhook request, in milliseconds (the WebClient has its own `timeout`). Default 10 s. */
  readonly timeoutMs?: number;
  readonly random?: () => number;
  /** Waits before posting again a message whose file Slack is still processing. Default FILE_PROCESSING_DELAYS_MS. */
  readonly fileProcessingDelaysMs?: readonly number[];
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

/**
 * Codes with which Slack says it did not process the request (rate-limited; "the service is temporarily unavailable";
 * "the POST data was either missing or truncated"): safe to send again.
 */
const NOT_PROCESSED_ERRORS = new Set(['ratelimited', 'service_unavailable', 'request_timeout']);

/** Codes after which "it's possible some aspect of the operation succeeded" (Slack's words): never sent again here. */
const MAYBE_PROCESSED_ERRORS = new Set(['internal_error', 'fatal_error']);

/** Network errors raised before a request was sent (no connection was made), found anywhere in the cause chain. */
const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
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
    // One HTTP stack: the undici the functions already hold, not Node's own copy that fetch loads on first use.
    fetch: fetchOverUndici,
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

  const channelOf = (orgId: string): string | undefined =>
    transport.kind === 'bot' ? (transport.routes.get(orgId) ?? transport.defaultChannel) : 'webhook';
  let webhookImageNoted = false;

  const notifier: Notifier = {
    async post(orgId: string, message: SlackMessage, deadline: Deadline = NO_DEADLINE): Promise<void> {
      const channel = channelOf(orgId);
      if (channel === undefined) {
        throw new SlackDeliveryError(
          `no Slack channel is configured for organisation ${orgId}`,
          'no_channel',
        );
      }
      let attempts = 0;
      try {
        await withRetries(
          async (n) => {
            attempts = n;
            if (deadline.signal.aborted)
              throw new DeadlineError(`deadline passed before posting to ${channel}`);
            await send(channel, message, deadline.signal);
          },
          {
            policy,
            random,
            deadline,
            signal: deadline.signal,
            classify: (error) => {
              const failure = classify(error);
              return { retryable: failure.kind === 'retry', retryAfterMs: failure.retryAfterMs };
            },
            onRetry: ({ attempt, waitMs, error }) => {
              const failure = classify(error);
              log.warn('slack delivery will be retried', {
                channel,
                attempt,
                slackError: failure.slackError,
                status: failure.status,
                waitMs,
              });
            },
          },
        );
      } catch (error) {
        throw stoppedError(error, channel, attempts, policy.maxAttempts);
      }
    },

    async uploadImage(orgId, image, deadline = NO_DEADLINE) {
      if (transport.kind !== 'bot') {
        if (!webhookImageNoted) {
          webhookImageNoted = true;
          log.info(
            'spend charts are not shown in Slack: an incoming webhook cannot carry an uploaded picture, so messages go without it (their text and alt text carry the figures); post with SLACK_BOT_TOKEN (scope files:write) to show them',
          );
        }
        return undefined;
      }
      try {
        return await uploadSlackFile(transport.client, image, { deadline, timeoutMs });
      } catch (error) {
        log.warn('picture upload to Slack failed: messages go without it', {
          channel: channelOf(orgId),
          slackError: error instanceof SlackDeliveryError ? error.slackError : undefined,
          error,
        });
        return undefined;
      }
    },

    async postWithImage(orgId, message, fallback, deadline = NO_DEADLINE) {
      try {
        await postWhileFileProcesses(() => notifier.post(orgId, message, deadline), {
          deadline,
          delaysMs: options.fileProcessingDelaysMs ?? FILE_PROCESSING_DELAYS_MS,
        });
      } catch (error) {
        if (!isFileNotReady(error)) throw error;
        log.warn('Slack could not show the uploaded picture yet: the message goes without it', {
          channel: channelOf(orgId),
        });
        await notifier.post(orgId, fallback, deadline);
      }
    },
  };
  return notifier;
}

/**
 * `retry`: Slack cannot have acted on the request, send it again; `unclear`: it may have posted the message, so it is
 * not sent again by this call; `permanent`: the same request will never get through.
 */
type FailureKind = 'retry' | 'unclear' | 'permanent';

interface Failure {
  readonly slackError: string;
  readonly status: number | undefined;
  readonly kind: FailureKind;
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
  const failure = (
    slackError: string,
    status: number | undefined,
    kind: FailureKind,
    retryAfterMs?: number,
  ) => ({
    slackError,
    status,
    kind,
    retryAfterMs,
  });
  if (error instanceof WebhookFailure) {
    if (error.status === 429) return failure('ratelimited', 429, 'retry', error.retryAfterMs);
    if (error.status < 500 || PERMANENT_ERRORS.has(error.slackError))
      return failure(error.slackError, error.status, 'permanent');
    return failure(error.slackError, error.status, error.status === 503 ? 'retry' : 'unclear');
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
      const kind = NOT_PROCESSED_ERRORS.has(code)
        ? 'retry'
        : MAYBE_PROCESSED_ERRORS.has(code)
          ? 'unclear'
          : 'permanent';
      return failure(code, 200, kind);
    }
    case ErrorCode.RateLimitedError: {
      const seconds = typeof coded.retryAfter === 'number' ? coded.retryAfter : undefined;
      return failure('ratelimited', 429, 'retry', seconds === undefined ? undefined : seconds * 1000);
    }
    case ErrorCode.HTTPError: {
      const status = typeof coded.statusCode === 'number' ? coded.statusCode : undefined;
      const code = `http_${status ?? 'error'}`;
      if (status === 503 || status === 429 || status === 408) return failure(code, status, 'retry');
      return failure(code, status, status !== undefined && status < 500 ? 'permanent' : 'unclear');
    }
    default:
      if (error instanceof DeadlineError) return failure('deadline', undefined, 'permanent');
      if (isConnectError(error)) return failure('connect_failed', undefined, 'retry');
      // WebClient's answer to a 429 without a readable Retry-After: rate-limited, so not processed.
      if (error instanceof Error && error.message.startsWith('Retry header did not contain a valid timeout'))
        return failure('ratelimited', 429, 'retry');
      // Timeouts and resets while waiting for the answer: the message may have been posted.
      return failure('no_answer', undefined, 'unclear');
  }
}

/** Whether the request failed before a connection was made, looking through `cause` chains and aggregates. */
function isConnectError(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 5) return false;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && CONNECT_ERROR_CODES.has(code)) return true;
  if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => isConnectError(e, depth + 1)))
    return true;
  return isConnectError(cause, depth + 1);
}

/**
 * What `post` throws once the retry loop ends: the DeadlineError of a wait or a post the deadline cut short, else a
 * SlackDeliveryError. An attempt that failed while the deadline aborted comes out of the loop as it was thrown; it
 * ends as it would have at the next wait: a retryable failure with attempts left as "would pass the deadline".
 */
function stoppedError(error: unknown, channel: string, attempts: number, maxAttempts: number): Error {
  if (error instanceof DeadlineError) return error;
  const stopped = error instanceof RetryStopped ? error : undefined;
  const cause = stopped === undefined ? error : stopped.cause;
  const failure = classify(cause);
  const pastDeadline =
    stopped === undefined
      ? failure.kind === 'retry' && attempts < maxAttempts
      : stopped.reason === 'deadline';
  if (pastDeadline) {
    return new SlackDeliveryError(
      `Slack delivery to ${channel} failed (${failure.slackError}) and the next try would pass the deadline`,
      failure.slackError,
      failure.status,
    );
  }
  return deliveryError(failure, channel, attempts, cause);
}

function deliveryError(failure: Failure, channel: string, attempts: number, cause: unknown): Error {
  if (cause instanceof DeadlineError) return cause;
  const where = channel === 'webhook' ? 'through the incoming webhook' : `to channel ${channel}`;
  const status = failure.status === undefined ? '' : `, HTTP ${failure.status}`;
  const message =
    failure.kind === 'unclear'
      ? `Slack gave no clear answer to the message ${where} (${failure.slackError}${status}): not sent again now, since it may have been posted`
      : `Slack refused the message ${where} ${failure.kind === 'retry' ? `after ${attempts} attempts` : 'permanently'}: ${failure.slackError}${status}`;
  return new SlackDeliveryError(message, failure.slackError, failure.status, { cause });
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
