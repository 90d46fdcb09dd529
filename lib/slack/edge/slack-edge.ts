import type { DownloadLinkInput } from '../../command/handle-download-link';
import type { InvoiceCommandInput } from '../../command/handle-invoice-command';
import {
  buttonErrorReply,
  DOWNLOAD_BUTTON_ACTION_ID,
  internalErrorReply,
  type SlackReply,
} from '../../command/replies';
import type { CommandUseCase } from '../../command/use-case';
import { describeError } from '../../errors';
import type { Logger } from '../../log';
import { DOWNLOAD_LINK_ACTION_ID } from '../invoice-blocks';
import {
  App,
  type AwsEvent,
  AwsLambdaReceiver,
  type AwsResponse,
  type ExtendedErrorHandlerArgs,
  type RespondArguments,
} from './bolt';
import { createBoltLogger } from './bolt-logger';
import { verifySlackSignature } from './signature';

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

export interface SlackEdgeOptions {
  readonly signingSecret: string;
  readonly useCase: CommandUseCase;
  readonly log: Logger;
  /** Epoch milliseconds: the clock of the signature's five-minute window. */
  readonly now: () => number;
  /** SLACK_API_URL, for Bolt's (unused) Web API client, so a stray call would reach the stand-in, not slack.com. */
  readonly slackApiUrl?: string | undefined;
  /** Larger bodies are refused with 413 before hashing (default 256 KiB; Slack's payloads are far smaller). */
  readonly maxBodyBytes?: number;
}

/** `receivedAt`: epoch milliseconds when the request reached the function (before any cold-start work). */
export type SlackEdge = (
  event: LambdaHttpEvent,
  context: unknown,
  receivedAt?: number,
) => Promise<LambdaHttpResult>;

const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/**
 * The Slack HTTP edge of the slash-command function, in the order a request meets it:
 * 1. a body over `maxBodyBytes` is refused with 413, before hashing;
 * 2. Slack's signature is verified here, over the raw bytes and with the injected clock (Bolt's own check is off:
 *    see bolt.ts); missing, stale or wrong gives 401 with an empty body;
 * 3. a Slack retry (`X-Slack-Retry-Num`) gets 200 and `X-Slack-No-Retry: 1` and is not processed again;
 * 4. the body is decoded from base64 and Content-Type stripped of its parameters, the only shapes Bolt reads right;
 * 5. Bolt's App and AwsLambdaReceiver route the request to a listener (below), which turns Bolt's arguments into the
 *    use case's input and its reply into the ack (slash command) or a response_url post (button); a body Bolt cannot
 *    parse gets 400.
 * Built once per cold start, without a network call. Never throws.
 */
export function createSlackEdge(options: SlackEdgeOptions): SlackEdge {
  const { log, now } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const dispatch = createBoltDispatch(options);
  return async (event, context, receivedAt) => {
    const headers = lowerCaseHeaders(event.headers);
    const raw = event.body ?? '';
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    if (body.length > maxBodyBytes) return { statusCode: 413, body: '' };

    const verdict = verifySlackSignature({
      signingSecret: options.signingSecret,
      body,
      signature: headers['x-slack-signature'],
      timestamp: headers['x-slack-request-timestamp'],
      now: now(),
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
    try {
      return await dispatch(
        {
          ...event,
          headers: { ...headers, 'content-type': mediaType },
          body: body.toString('utf8'),
          isBase64Encoded: false,
        },
        context,
        receivedAt ?? now(),
      );
    } catch (error) {
      // Bolt parses the body before any listener runs: a signed but unreadable body ends here.
      log.warn('could not read a signed Slack request', {
        error: error instanceof Error ? error.name : 'Error',
      });
      return { statusCode: 400, body: '' };
    }
  };
}

/** Where Bolt's listener `context` carries the request's arrival time (set by the receiver's customPropertiesExtractor). */
const RECEIVED_AT_KEY = 'receivedAt';

type NormalisedEvent = LambdaHttpEvent & { readonly body: string; readonly isBase64Encoded: false };
type Dispatch = (event: NormalisedEvent, context: unknown, receivedAt: number) => Promise<LambdaHttpResult>;

/**
 * The Bolt App and its AwsLambdaReceiver, built without a network call: no token is given, so there is no
 * `auth.test`, and `authorize` answers with an empty authorisation because every answer goes through `ack()` or the
 * response_url. The receiver's signature check is off: the edge has verified every request it hands over.
 */
function createBoltDispatch(options: SlackEdgeOptions): Dispatch {
  const { log } = options;
  const boltLogger = createBoltLogger(log);
  const arrivals = new WeakMap<object, number>();
  const receiver = new AwsLambdaReceiver({
    signingSecret: options.signingSecret,
    signatureVerification: false,
    logger: boltLogger,
    customPropertiesExtractor: (event) => ({ [RECEIVED_AT_KEY]: arrivals.get(event) }),
  });
  const app = new App({
    receiver,
    authorize: async () => ({}),
    logger: boltLogger,
    ignoreSelf: false,
    convoStore: false,
    extendedErrorHandler: true,
    tokenVerificationEnabled: false,
    ...(options.slackApiUrl === undefined ? {} : { clientOptions: { slackApiUrl: options.slackApiUrl } }),
  });
  registerListeners(app, options.useCase, log);
  // The listeners answer before anything can fail (a failed response_url post comes after the ack): resolving here
  // instead of rethrowing keeps that answer as the HTTP response rather than Bolt's 500.
  app.error(async ({ error }: ExtendedErrorHandlerArgs) => {
    const original = (error as { original?: unknown }).original ?? error;
    log.error('a Slack listener failed', { error: describeError(original) });
  });
  const handle = receiver.toHandler();
  return async (event, context, receivedAt) => {
    arrivals.set(event, receivedAt);
    const response: AwsResponse = await handle(event as unknown as AwsEvent, context);
    return { statusCode: response.statusCode, headers: stringHeaders(response.headers), body: response.body };
  };
}

/** Any command name: the app manifest decides it (`/invoice`, or another where a workspace already has one). */
const ANY_COMMAND = /^\/[\w-]+$/;

/**
 * Every listener, registered in one place; each adapts Bolt's arguments to the use case and back, and answers in every
 * case: a failure of the use case is logged once and answered with the safe message, it never reaches Bolt. Our replies are plain Block Kit
 * objects; Bolt's types want its own block unions, hence the casts to RespondArguments.
 */
function registerListeners(app: App, useCase: CommandUseCase, log: Logger): void {
  // Acknowledged once, with the answer itself: the receiver sends the HTTP response only after the listener returns,
  // so an early empty ack would gain nothing.
  app.command(ANY_COMMAND, async ({ command, ack, context }) => {
    const input: InvoiceCommandInput = {
      text: command.text,
      command: command.command ?? '/invoice',
      teamId: command.team_id,
      channelId: command.channel_id,
      userId: command.user_id,
      receivedAt: receivedAtOf(context),
    };
    const reply = await answerSafely(log, 'answering the slash command failed', internalErrorReply(), () =>
      useCase.answerCommand(input),
    );
    await ack(reply as RespondArguments);
  });

  // Acked at once (an empty 200 leaves the channel message as it is), then answered ephemerally on response_url. A
  // failed post is thrown, after the ack, for `app.error` to log.
  app.action(
    { type: 'block_actions', action_id: DOWNLOAD_LINK_ACTION_ID },
    async ({ body, action, ack, respond }) => {
      await ack();
      const input: DownloadLinkInput = {
        value: 'value' in action && typeof action.value === 'string' ? action.value : undefined,
        teamId: body.team?.id ?? body.user?.team_id,
        channelId: 'channel' in body ? body.channel?.id : undefined,
        userId: body.user?.id,
      };
      const reply = await answerSafely(
        log,
        'answering the download button failed',
        buttonErrorReply(internalErrorReply()),
        () => useCase.answerDownloadLink(input),
      );
      // Bolt sets `respond` only when the payload carries a response_url, whatever its types say.
      const post = respond as typeof respond | undefined;
      if (post === undefined) {
        log.warn('a download button arrived without a response_url');
        return;
      }
      await post(reply as RespondArguments);
    },
  );

  // URL buttons still send an interaction; acknowledging it keeps Slack from flagging the click as failed.
  app.action({ type: 'block_actions', action_id: DOWNLOAD_BUTTON_ACTION_ID }, async ({ ack }) => {
    await ack();
  });
}

async function answerSafely(
  log: Logger,
  failure: string,
  fallback: SlackReply,
  answer: () => Promise<SlackReply>,
): Promise<SlackReply> {
  try {
    return await answer();
  } catch (error) {
    log.error(failure, { error: describeError(error) });
    return fallback;
  }
}

function receivedAtOf(context: unknown): number | undefined {
  if (context === null || typeof context !== 'object') return undefined;
  const value = (context as Record<string, unknown>)[RECEIVED_AT_KEY];
  return typeof value === 'number' ? value : undefined;
}

function stringHeaders(headers: AwsResponse['headers']): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));
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
