import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createCsvArchive } from '../lib/archive/csv-archive';
import { createIndexStore } from '../lib/archive/index-store';
import { createStateStore } from '../lib/archive/state-store';
import { createAtlasClient } from '../lib/atlas/client';
import {
  type ArchiveConfig,
  credentialValues,
  type Env,
  loadPollConfig,
  type SlackDelivery,
} from '../lib/config';
import { createCsvInspector, DEFAULT_TOP_N } from '../lib/invoices/csv-summary';
import { createLogger, type Logger } from '../lib/log';
import { PollFailedError, type PollReport } from '../lib/poll/report';
import { type PollDeps, runPoll } from '../lib/poll/run-poll';
import { createDeadline, type RetryPolicy } from '../lib/retry';
import { createSecretsManagerReader, once, resolveEnv } from '../lib/secrets';
import {
  type ChatPoster,
  createSlackNotifier,
  type NotifierTransport,
  slackWebClientOptions,
} from '../lib/slack/notifier';

/**
 * EventBridge-scheduled poller. Thin: builds its clients once per cold start, runs `runPoll` with a deadline a safety
 * margin short of the Lambda's remaining time, and maps the result. Failure policy: when any organisation failed
 * (after all were attempted), or the configuration cannot be loaded, it logs once with context and rethrows, so the
 * Lambda error metric, its alarm and EventBridge's retry see it. Secrets are redacted from every log line.
 */
export interface PollHandlerDeps {
  /** `process.env` in production; merged with the JSON secret named by APP_SECRET_ID when set. */
  readonly env: Env;
  readonly secretsManager: Pick<SecretsManagerClient, 'send'>;
  /** Builds the S3 client once the configuration is known (path style may come from the secret). */
  readonly createS3?: (archive: ArchiveConfig) => S3Client;
  /** Log sink (one JSON object per line). Default stdout. */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
  /** Milliseconds of the Lambda's remaining time kept back for the final save and report. Default 10,000. */
  readonly safetyMarginMs?: number;
  /** See PollDeps.reserveMs. */
  readonly reserveMs?: number;
  readonly topN?: number;
  readonly atlasRetry?: RetryPolicy;
  readonly slackRetry?: RetryPolicy;
  /** Multipart part size for the CSV upload (bytes, at least 5 MiB). */
  readonly partSize?: number;
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

export function createPollHandler(deps: PollHandlerDeps): PollHandler {
  const fields = { fn: 'poll-invoices' };
  const startupLog = createLogger({ write: deps.write, redact: credentialValues(deps.env), fields });

  const load = once(async () => {
    const env = await resolveEnv(deps.env, createSecretsManagerReader(deps.secretsManager));
    const config = loadPollConfig(env);
    const log = createLogger({
      level: config.logLevel,
      write: deps.write,
      redact: credentialValues(env),
      fields,
    });
    const { bucket, prefix } = config.archive;
    const s3 = (deps.createS3 ?? defaultS3)(config.archive);
    const indexStore = createIndexStore({ s3, bucket, prefix });
    const services: Omit<PollDeps, 'deadline' | 'log' | 'now'> & { log: Logger } = {
      atlas: createAtlasClient({
        baseUrl: config.atlas.baseUrl,
        credentials: config.atlas.credentials,
        log,
        ...(deps.atlasRetry !== undefined ? { retry: deps.atlasRetry } : {}),
      }),
      archive: createCsvArchive({
        s3,
        bucket,
        prefix,
        createInspector: createCsvInspector,
        index: indexStore,
        ...(deps.partSize !== undefined ? { partSize: deps.partSize } : {}),
      }),
      stateStore: createStateStore({ s3, bucket, prefix }),
      indexStore,
      notifier: createSlackNotifier({
        transport: slackTransport(config.slack, log),
        log,
        ...(deps.slackRetry !== undefined ? { retry: deps.slackRetry } : {}),
      }),
      orgIds: config.orgIds,
      concurrency: config.concurrency,
      topN: deps.topN ?? DEFAULT_TOP_N,
      log,
    };
    return services;
  });

  const invoke = async (event: ScheduledEvent, context: Context): Promise<PollReport> => {
    let services: Awaited<ReturnType<typeof load>>;
    try {
      services = await load();
    } catch (error) {
      startupLog.error('poll could not start: configuration failed', {
        error,
        requestId: context.awsRequestId,
      });
      throw error;
    }
    const log = services.log.child({ requestId: context.awsRequestId, eventId: event?.id });
    const margin = deps.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
    const report = await runPoll({
      ...services,
      log,
      now: deps.now ?? (() => new Date()),
      deadline: createDeadline(Math.max(0, context.getRemainingTimeInMillis() - margin)),
      ...(deps.reserveMs !== undefined ? { reserveMs: deps.reserveMs } : {}),
    });
    if (!report.ok) {
      const error = new PollFailedError(report);
      log.error('poll failed', {
        error,
        totals: report.totals,
        failures: report.orgs.flatMap((org) =>
          org.errors.map((failure) => ({ orgId: org.orgId, ...failure })),
        ),
      });
      throw error;
    }
    log.info('poll finished', { totals: report.totals });
    return report;
  };
  return Object.assign(invoke, {
    prepare: async () => {
      await load();
    },
  });
}

function defaultS3(archive: ArchiveConfig): S3Client {
  // Region, credentials and AWS_ENDPOINT_URL_S3 come from the SDK's own environment handling.
  return new S3Client({ forcePathStyle: archive.forcePathStyle });
}

function slackTransport(slack: SlackDelivery, log: Logger): NotifierTransport {
  if (slack.kind === 'webhook') return { kind: 'webhook', url: slack.url };
  // Most polls post nothing: @slack/web-api (its own file in the bundle, see infra/build.ts) is loaded and the
  // WebClient built on the first post, then reused. A failed load is retried on the next post.
  const client = once(async () => {
    const { WebClient } = await import('@slack/web-api');
    return new WebClient(slack.token, slackWebClientOptions({ apiUrl: slack.apiUrl, log }));
  });
  const poster: ChatPoster = {
    chat: { postMessage: async (message) => (await client()).chat.postMessage(message) },
  };
  return { kind: 'bot', client: poster, defaultChannel: slack.defaultChannel, routes: slack.routes };
}

// Module scope: one client per cold start, reused by warm invocations. It makes no call until the first invocation.
const secretsManager = new SecretsManagerClient({});

export const handler: PollHandler = createPollHandler({ env: process.env, secretsManager });
