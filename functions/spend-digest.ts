import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WebClient } from '@slack/web-api';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { withS3Timeouts } from '../lib/archive/s3-client';
import { createArchiveStores } from '../lib/archive/stores';
import { type DigestConfig, loadDigestConfig, type SlackDelivery } from '../lib/config';
import { createSpendChartReader } from '../lib/digest/chart-reader';
import { type DigestDeps, type DigestReport, describeDigest, runSpendDigest } from '../lib/digest/run-digest';
import { createHandlerStart, type HandlerClients, type HandlerDeps } from '../lib/handler-start';
import type { Logger } from '../lib/log';
import type { RetryPolicy } from '../lib/retry';
import { runScheduled } from '../lib/scheduled-run';
import { createSecretsManagerReader } from '../lib/secrets';
import type { FileUploadClient } from '../lib/slack/files';
import { createSlackNotifier, type NotifierTransport, slackWebClientOptions } from '../lib/slack/notifier';

/**
 * The scheduled spend digest (EventBridge, `digestSchedule`). Thin: reads the configuration and builds its clients
 * once per cold start, runs `runSpendDigest` with a deadline a safety margin short of the Lambda's remaining time,
 * and maps the result. Failure policy, as the poller's: when a channel could not be posted or an organisation could
 * not be read (after every channel was tried), or the configuration cannot be loaded, it logs once with context and
 * rethrows, so the function's error metric and its alarm fire. The function is deployed without retries: a second
 * run would post again to the channels that got their digest.
 */
export interface DigestHandlerDeps extends HandlerDeps {
  /** Epoch milliseconds. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

export interface DigestClients extends HandlerClients {
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** Knobs for tests only; production passes none. */
export interface DigestTestOptions {
  /** Milliseconds of the Lambda's remaining time kept back for the report. Default 5,000. */
  readonly safetyMarginMs?: number;
  readonly slackRetry?: RetryPolicy;
  readonly fileProcessingDelaysMs?: readonly number[];
}

export type DigestHandler = (event: ScheduledEvent, context: Context) => Promise<DigestReport>;

/** What `runSpendDigest` needs besides the per-invocation deadline. */
export type DigestServices = Omit<DigestDeps, 'deadline'>;

export const DEFAULT_DIGEST_SAFETY_MARGIN_MS = 5_000;

/** The use case's dependencies from the validated configuration and the clients. No network call. */
export function buildDigestDeps(
  config: DigestConfig,
  clients: DigestClients,
  options: DigestTestOptions = {},
): DigestServices {
  const slack = slackClients(config.slack, clients.log);
  const { s3, log, now } = clients;
  const stores = createArchiveStores(s3, config.archive);
  return {
    orgIds: config.orgIds,
    delivery: config.slack,
    state: stores.state,
    spend: stores.spend,
    settings: config.spend,
    notifier: createSlackNotifier({
      transport: slack.transport,
      log,
      ...(options.slackRetry === undefined ? {} : { retry: options.slackRetry }),
    }),
    charts:
      slack.uploader === undefined
        ? undefined
        : { reader: createSpendChartReader({ s3, ...config.archive }), uploader: slack.uploader },
    log,
    now,
    ...(options.fileProcessingDelaysMs === undefined
      ? {}
      : { fileProcessingDelaysMs: options.fileProcessingDelaysMs }),
  };
}

/** One WebClient posts and uploads the charts; an incoming webhook can post but not upload. */
function slackClients(
  slack: SlackDelivery,
  log: Logger,
): { readonly transport: NotifierTransport; readonly uploader: FileUploadClient | undefined } {
  if (slack.kind === 'webhook')
    return { transport: { kind: 'webhook', url: slack.url }, uploader: undefined };
  const web = new WebClient(slack.token, slackWebClientOptions({ apiUrl: slack.apiUrl, log }));
  return {
    transport: { kind: 'bot', client: web, defaultChannel: slack.defaultChannel, routes: slack.routes },
    uploader: web,
  };
}

const DIGEST_START = { fn: 'spend-digest', title: 'spend digest', loadConfig: loadDigestConfig } as const;

export function createDigestHandler(deps: DigestHandlerDeps, options: DigestTestOptions = {}): DigestHandler {
  const now = deps.now ?? Date.now;
  const start = createHandlerStart(deps, DIGEST_START, (config, clients) =>
    buildDigestDeps(config, { ...clients, now }, options),
  );

  return async (event, context) => {
    const services = await start(context.awsRequestId);
    const margin = options.safetyMarginMs ?? DEFAULT_DIGEST_SAFETY_MARGIN_MS;
    return runScheduled({ log: services.log, event, context }, margin, describeDigest, (log, deadline) =>
      runSpendDigest({ ...services, log, deadline }),
    );
  };
}

// Module scope: built once per cold start and reused by warm invocations; no call is made until the first invocation.
export const handler: DigestHandler = createDigestHandler({
  env: process.env,
  secrets: createSecretsManagerReader(new SecretsManagerClient({})),
  s3: ({ forcePathStyle }) => new S3Client(withS3Timeouts({ forcePathStyle })),
});
