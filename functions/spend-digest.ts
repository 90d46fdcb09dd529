import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WebClient } from '@slack/web-api';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { withS3Timeouts } from '../lib/archive/s3-client';
import { createSpendStore } from '../lib/archive/spend-store';
import { createStateStore } from '../lib/archive/state-store';
import { type DigestConfig, loadDigestConfig, type SlackDelivery } from '../lib/config';
import { createSpendChartReader } from '../lib/digest/chart-reader';
import {
  type DigestDeps,
  DigestFailedError,
  type DigestReport,
  runSpendDigest,
} from '../lib/digest/run-digest';
import { createHandlerStart, type HandlerEnvironment } from '../lib/handler-start';
import type { Logger } from '../lib/log';
import { createDeadline, type RetryPolicy } from '../lib/retry';
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
export interface DigestHandlerDeps extends HandlerEnvironment {
  /** The archive's S3 client, given the validated path-style setting (which may come from the secret). */
  readonly s3: (options: { readonly forcePathStyle: boolean }) => S3Client;
  /** Epoch milliseconds. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** The clients the digest's dependencies are built over, built once per cold start. */
export interface DigestClients {
  readonly s3: S3Client;
  readonly log: Logger;
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
  const { s3, log, now } = clients;
  const { bucket, prefix } = config.archive;
  const slack = slackClients(config.slack, log);
  return {
    orgIds: config.orgIds,
    delivery: config.slack,
    state: createStateStore({ s3, bucket, prefix }),
    spend: createSpendStore({ s3, bucket, prefix }),
    settings: config.spend,
    notifier: createSlackNotifier({
      transport: slack.transport,
      log,
      ...(options.slackRetry === undefined ? {} : { retry: options.slackRetry }),
    }),
    charts:
      slack.uploader === undefined
        ? undefined
        : { reader: createSpendChartReader({ s3, bucket, prefix }), uploader: slack.uploader },
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

export function createDigestHandler(deps: DigestHandlerDeps, options: DigestTestOptions = {}): DigestHandler {
  const now = deps.now ?? Date.now;
  const start = createHandlerStart({
    ...deps,
    fn: 'spend-digest',
    failedStart: 'spend digest could not start: configuration failed',
    loadConfig: loadDigestConfig,
    build: (config, log) =>
      buildDigestDeps(
        config,
        { s3: deps.s3({ forcePathStyle: config.archive.forcePathStyle }), log, now },
        options,
      ),
  });

  return async (event, context) => {
    const services = await start(context.awsRequestId);
    const log = services.log.child({ requestId: context.awsRequestId, eventId: event?.id });
    const margin = options.safetyMarginMs ?? DEFAULT_DIGEST_SAFETY_MARGIN_MS;
    const report = await runSpendDigest({
      ...services,
      log,
      deadline: createDeadline(Math.max(0, context.getRemainingTimeInMillis() - margin)),
    });
    if (!report.ok) {
      const error = new DigestFailedError(report);
      log.error('spend digest failed', {
        error,
        failures: report.channels
          .filter((c) => !c.posted || c.unreadable.length > 0)
          .map(({ channel, posted, unreadable, error: cause }) => ({
            channel,
            posted,
            unreadable,
            error: cause,
          })),
      });
      throw error;
    }
    log.info('spend digest posted', {
      channels: report.channels.map(({ channel, orgIds, missing, charts }) => ({
        channel,
        organisations: orgIds.length,
        missing: missing.length,
        charts,
      })),
    });
    return report;
  };
}

// Module scope: built once per cold start and reused by warm invocations; no call is made until the first invocation.
export const handler: DigestHandler = createDigestHandler({
  env: process.env,
  secrets: createSecretsManagerReader(new SecretsManagerClient({})),
  s3: ({ forcePathStyle }) => new S3Client(withS3Timeouts({ forcePathStyle })),
});
