import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createCsvArchive } from '../lib/archive/csv-archive';
import { withS3Timeouts } from '../lib/archive/s3-client';
import { createArchiveStores } from '../lib/archive/stores';
import { createAtlasClient } from '../lib/atlas/client';
import { loadPollConfig, type PollConfig, type SlackDelivery } from '../lib/config';
import { createHandlerStart, type HandlerClients, type HandlerDeps } from '../lib/handler-start';
import { DEFAULT_TOP_N } from '../lib/invoices/cost-tally';
import { createCsvInspector } from '../lib/invoices/csv-summary';
import type { Logger } from '../lib/log';
import { once } from '../lib/once';
import { describePoll, type PollReport } from '../lib/poll/report';
import { type PollDeps, runPoll } from '../lib/poll/run-poll';
import type { RetryPolicy } from '../lib/retry';
import { runScheduled } from '../lib/scheduled-run';
import { createSecretsManagerReader } from '../lib/secrets';
import {
  createSlackNotifier,
  type NotifierTransport,
  type SlackBotClient,
  slackWebClientOptions,
} from '../lib/slack/notifier';
import { renderSpendChartPng } from '../lib/spend/chart/render-png';

/**
 * EventBridge-scheduled poller. Thin: reads the configuration and builds its clients once per cold start, runs
 * `runPoll` with a deadline a safety margin short of the Lambda's remaining time (every request of the poll carries
 * it, so the function stops itself before Lambda would kill it), and maps the result. Failure policy: when any
 * organisation failed (after all were attempted), or the configuration cannot be loaded, it logs once with context
 * and rethrows, so the Lambda error metric, its alarm and EventBridge's retry see it. Secrets are redacted from every
 * log line.
 */
export interface PollHandlerDeps extends HandlerDeps {
  readonly now?: (() => Date) | undefined;
}

/** Knobs for tests and benchmarks only; production passes none and gets the defaults. */
export interface PollTestOptions {
  /** Milliseconds of the Lambda's remaining time kept back for the report. Default 10,000. */
  readonly safetyMarginMs?: number;
  /** See PollDeps.reserveMs. */
  readonly reserveMs?: number;
  readonly atlasRetry?: RetryPolicy;
  readonly slackRetry?: RetryPolicy;
}

export interface PollHandler {
  (event: ScheduledEvent, context: Context): Promise<PollReport>;
  /**
   * The per-cold-start setup on its own: reads the secret when APP_SECRET_ID is set, loads the configuration and
   * builds the clients, without any other network call. The first invocation does it anyway; this lets a benchmark
   * (or a warm-up) pay for it separately. Rejects with the configuration error; a later call tries again.
   */
  prepare(): Promise<void>;
}

export const DEFAULT_SAFETY_MARGIN_MS = 10_000;

/** What `runPoll` needs besides the per-invocation deadline and clock. */
export type PollServices = Omit<PollDeps, 'deadline' | 'now'>;

/** The use case's dependencies from the validated configuration and the clients. No network call. */
export function buildPollDeps(
  config: PollConfig,
  clients: HandlerClients,
  options: PollTestOptions = {},
): PollServices {
  const { s3, log } = clients;
  const { bucket, prefix } = config.archive;
  const stores = createArchiveStores(s3, config.archive);
  return {
    atlas: createAtlasClient({
      baseUrl: config.atlas.baseUrl,
      credentials: config.atlas.credentials,
      log,
      ...(options.atlasRetry !== undefined ? { retry: options.atlasRetry } : {}),
    }),
    archive: createCsvArchive({
      s3,
      bucket,
      prefix,
      createInspector: createCsvInspector,
      index: stores.index,
    }),
    stateStore: stores.state,
    indexStore: stores.index,
    spendStore: stores.spend,
    spend: config.spend,
    renderChart: renderSpendChartPng,
    notifier: createSlackNotifier({
      transport: slackTransport(config.slack, log),
      log,
      ...(options.slackRetry !== undefined ? { retry: options.slackRetry } : {}),
    }),
    orgIds: config.orgIds,
    atlasBaseUrl: config.atlas.baseUrl,
    concurrency: config.concurrency,
    topN: DEFAULT_TOP_N,
    log,
    ...(options.reserveMs !== undefined ? { reserveMs: options.reserveMs } : {}),
  };
}

const POLL_START = { fn: 'poll-invoices', title: 'poll', loadConfig: loadPollConfig } as const;

export function createPollHandler(deps: PollHandlerDeps, options: PollTestOptions = {}): PollHandler {
  const start = createHandlerStart(deps, POLL_START, (config, clients) =>
    buildPollDeps(config, clients, options),
  );

  const invoke = async (event: ScheduledEvent, context: Context): Promise<PollReport> => {
    const services = await start(context.awsRequestId);
    const margin = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
    return runScheduled({ log: services.log, event, context }, margin, describePoll, (log, deadline) =>
      runPoll({ ...services, log, now: deps.now ?? (() => new Date()), deadline }),
    );
  };
  return Object.assign(invoke, {
    prepare: async () => {
      await start();
    },
  });
}

function slackTransport(slack: SlackDelivery, log: Logger): NotifierTransport {
  if (slack.kind === 'webhook') return { kind: 'webhook', url: slack.url };
  // Most polls post nothing: @slack/web-api (its own file in the bundle, see infra/build.ts) is loaded and the
  // WebClient built on the first post, then reused. A failed load is retried on the next post.
  const client = once(async () => {
    const { WebClient } = await import('@slack/web-api');
    return new WebClient(slack.token, slackWebClientOptions({ apiUrl: slack.apiUrl, log }));
  });
  const bot: SlackBotClient = {
    chat: { postMessage: async (message) => (await client()).chat.postMessage(message) },
    files: {
      getUploadURLExternal: async (args) => (await client()).files.getUploadURLExternal(args),
      completeUploadExternal: async (args) => (await client()).files.completeUploadExternal(args),
    },
  };
  return { kind: 'bot', client: bot, defaultChannel: slack.defaultChannel, routes: slack.routes };
}

// Module scope: built once per cold start and reused by warm invocations; no call is made until the first invocation.
// The S3 client is made on that first invocation, once the path-style setting is known (it may come from the secret);
// region, credentials and AWS_ENDPOINT_URL_S3 come from the SDK's own environment handling.
export const handler: PollHandler = createPollHandler({
  env: process.env,
  secrets: createSecretsManagerReader(new SecretsManagerClient({})),
  s3: ({ forcePathStyle }) => new S3Client(withS3Timeouts({ forcePathStyle })),
});
