// Bolt is imported by file, not through '@slack/bolt': the package index also loads ExpressReceiver (express), and a
// bundler can then stub what App.js requires but this function never runs (HTTPReceiver, SocketModeReceiver, OAuth).
import App, { type ExtendedErrorHandlerArgs } from '@slack/bolt/dist/App';
import AwsLambdaReceiver, {
  type AwsEvent,
  type AwsResponse,
} from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import { describeError } from '../errors';
import type { Logger } from '../log';
import { createBoltLogger } from './bolt-logger';
import { type ListenerDeps, registerListeners } from './listeners/register';
import { REQUEST_SCOPE_KEY, type RequestScope, scopeOf } from './request-scope';
import type { LambdaHttpResult, SlackDispatch } from './slack-http';

export interface SlackAppOptions {
  /** Only handed to the receiver, which does not check it: `createSlackHttpHandler` verifies every request first. */
  readonly signingSecret: string;
  readonly deps: ListenerDeps;
  readonly log: Logger;
  /** SLACK_API_URL, for Bolt's (unused) Web API client, so a stray call would reach the stand-in, not slack.com. */
  readonly slackApiUrl?: string | undefined;
}

/**
 * The Bolt App and its AwsLambdaReceiver, built once per cold start, without a network call: no token is given, so
 * there is no `auth.test`; `authorize` answers with an empty authorisation because every answer goes through `ack()`
 * or the response_url. Returns the dispatch function the HTTP adapter calls with verified requests.
 */
export function createSlackDispatch(options: SlackAppOptions): SlackDispatch {
  const { log } = options;
  const boltLogger = createBoltLogger(log);
  const scopes = new WeakMap<object, RequestScope>();
  const receiver = new AwsLambdaReceiver({
    signingSecret: options.signingSecret,
    signatureVerification: false,
    logger: boltLogger,
    customPropertiesExtractor: (event) => ({ [REQUEST_SCOPE_KEY]: scopes.get(event) }),
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
  registerListeners(app, options.deps);
  // Resolving (not rethrowing) keeps whatever was acked as the HTTP answer instead of Bolt's 500; a listener that
  // failed before acking is answered with the safe message by the HTTP adapter, which reads `failed`.
  app.error(async ({ error, context }: ExtendedErrorHandlerArgs) => {
    const original = (error as { original?: unknown }).original ?? error;
    log.error('a Slack listener failed', { error: describeError(original) });
    const scope = scopeOf(context);
    if (scope !== undefined) scope.failed = true;
  });
  const handle = receiver.toHandler();
  return async (event, context, scope): Promise<LambdaHttpResult> => {
    scopes.set(event, scope);
    const response: AwsResponse = await handle(event as unknown as AwsEvent, context);
    return { statusCode: response.statusCode, headers: stringHeaders(response.headers), body: response.body };
  };
}

function stringHeaders(headers: AwsResponse['headers']): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));
}
