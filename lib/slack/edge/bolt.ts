// Everything this project relies on about @slack/bolt's insides lives in this file: the deep import paths, the modules
// the bundle replaces with stubs, and the receiver behaviour the edge works around. test/slack/edge/bolt.test.ts checks
// each fact against the installed Bolt and names the one a Bolt upgrade changed.
//
// Bolt is imported by file, not through '@slack/bolt': the package index also loads ExpressReceiver (express and its
// body parsing), which this function never uses. Types come from the package index: type imports are erased.
import App, {
  type Logger as BoltLogger,
  type ExtendedErrorHandlerArgs,
  LogLevel,
} from '@slack/bolt/dist/App';
import AwsLambdaReceiver, {
  type AwsEvent,
  type AwsResponse,
} from '@slack/bolt/dist/receivers/AwsLambdaReceiver';

export type { RespondArguments } from '@slack/bolt';
export type { AwsEvent, AwsResponse, BoltLogger, ExtendedErrorHandlerArgs };
export { App, AwsLambdaReceiver, LogLevel };

/** The files imported above; each must resolve in the installed Bolt and export what this project uses. */
export const BOLT_DEEP_IMPORTS = {
  app: '@slack/bolt/dist/App',
  awsLambdaReceiver: '@slack/bolt/dist/receivers/AwsLambdaReceiver',
} as const;

/**
 * Modules that Bolt's App.js loads eagerly although a Lambda behind AwsLambdaReceiver never runs them: the HTTP and
 * Socket Mode receivers and what they bring (express, body parsing with iconv-lite, the OAuth package with
 * jsonwebtoken, socket-mode with its own undici). infra/build.ts replaces each with a stub that throws if it is ever
 * used, which cuts the slash-command bundle from about 2.2 MB to under 0.8 MB. Entries are package names or files
 * inside a package, without extension, resolvable from @slack/bolt.
 */
export const BOLT_BUNDLE_STUBS = [
  '@slack/bolt/dist/receivers/HTTPReceiver',
  '@slack/bolt/dist/receivers/SocketModeReceiver',
  '@slack/bolt/dist/receivers/ExpressReceiver',
  '@slack/oauth',
  '@slack/socket-mode',
  'express',
  'raw-body',
] as const;

/**
 * Lambda's Node.js 24 and later runtimes refuse a handler that takes a third (callback) argument before calling it;
 * Bolt's own deploy example exports one. Every handler this project gives Lambda, and the one Bolt's receiver builds
 * (`toHandler()`), takes exactly these two: the event and the context.
 */
export const LAMBDA_HANDLER_ARITY = 2;

/*
 * What Bolt 5.1's AwsLambdaReceiver does that the edge (slack-edge.ts) works around, so that the receiver is handed
 * only requests it reads correctly (each checked by the test):
 * - it parses a form body only when Content-Type is exactly `application/x-www-form-urlencoded`; with a parameter
 *   (`; charset=utf-8`) it falls back to JSON.parse and throws a SyntaxError;
 * - it decodes a base64 body as ASCII, so bytes outside ASCII reach the signature check and the parser altered;
 * - its signature check reads `Date.now()` (not an injectable clock) and accepts any timestamp in the future;
 * - an error thrown after `ack()` turns the answer into a 500 unless `app.error` resolves; no `ack()` at all is a 404.
 */
