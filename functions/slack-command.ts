import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createCsvLinkPresigner } from '../lib/archive/presign';
import type { S3ClientFactory } from '../lib/archive/s3-client';
import { createArchiveStores } from '../lib/archive/stores';
import type { AtlasInvoiceApi } from '../lib/atlas/types';
import { createSpendChartLinks } from '../lib/command/chart-links';
import { createLazyAtlas } from '../lib/command/lazy-atlas';
import { type CommandDeps, createCommandUseCase } from '../lib/command/use-case';
import { type AtlasConfig, type CommandConfig, loadCommandConfig } from '../lib/config';
import { createHandlerStart, type HandlerClients, type HandlerEnvironment } from '../lib/handler-start';
import type { Logger } from '../lib/log';
import { createSecretsManagerReader } from '../lib/secrets';
import { createSlackEdge, type LambdaHttpResult } from '../lib/slack/edge/slack-edge';

export interface SlackCommandHandlerDeps extends HandlerEnvironment, CommandTuning {
  /** Default: `new S3Client({ forcePathStyle })`. */
  readonly s3?: S3ClientFactory | undefined;
  /** Default: the undici client of lib/atlas/client.ts, loaded on the first look-up. */
  readonly atlas?: ((config: AtlasConfig, log: Logger) => AtlasInvoiceApi) | undefined;
  /** Epoch milliseconds (signature window, deadlines, link signing). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Epoch milliseconds of the billing calendar the spend answers read (see SpendCommandDeps). Default `now`. */
  readonly calendar?: (() => number) | undefined;
}

/** How the answers are paced; not deployment settings, so tests and the local run may tune them. */
export interface CommandTuning {
  /** The longest wait for Atlas on an id not archived yet (default 1,800 ms; the whole answer must fit in 3 s). */
  readonly atlasDeadlineMs?: number | undefined;
  /** The poller's schedule, so answers can say when an invoice will be archived (default POLL_INTERVAL_MINUTES). */
  readonly pollIntervalMinutes?: number | undefined;
  /** Milliseconds from arrival by which every answer is ready (default 2,500: Slack waits 3,000). */
  readonly replyBudgetMs?: number | undefined;
}

export interface CommandClients extends HandlerClients {
  readonly atlas: AtlasInvoiceApi;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** The billing calendar of the spend answers; default `now`. */
  readonly calendar?: (() => number) | undefined;
}

export type SlackCommandEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;
export type SlackCommandHandler = (event: SlackCommandEvent, context: Context) => Promise<LambdaHttpResult>;

export const DEFAULT_ATLAS_DEADLINE_MS = 1_800;

/** A person is waiting: one quick retry at most, and no single wait longer than the whole deadline. */
const INTERACTIVE_RETRY = { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 300 } as const;
const INTERACTIVE_TIMEOUTS = { connectMs: 1_500, headersMs: 1_800, bodyMs: 1_800 } as const;

/** The use case's dependencies from the validated configuration and the clients of this cold start. */
export function buildCommandDeps(
  config: CommandConfig,
  clients: CommandClients,
  tuning: CommandTuning = {},
): CommandDeps {
  const { s3, log, now } = clients;
  const stores = createArchiveStores(s3, config.archive);
  const { bucket, prefix, presignTtlSeconds } = config.archive;
  return {
    index: stores.index,
    state: stores.state,
    presigner: createCsvLinkPresigner({ s3, bucket, ttlSeconds: presignTtlSeconds, now }),
    spend: stores.spend,
    charts: createSpendChartLinks({ s3, bucket, prefix, ttlSeconds: presignTtlSeconds, now }),
    spendSettings: config.spend,
    atlas: clients.atlas,
    orgIds: config.orgIds,
    access: config.slack.access,
    now,
    calendar: clients.calendar,
    log,
    atlasDeadlineMs: tuning.atlasDeadlineMs ?? DEFAULT_ATLAS_DEADLINE_MS,
    pollIntervalMinutes: tuning.pollIntervalMinutes ?? config.pollIntervalMinutes,
    replyBudgetMs: tuning.replyBudgetMs,
    atlasBaseUrl: config.atlas.baseUrl,
  };
}

/**
 * The slash-command and button function behind API Gateway (HTTP API payload 2.0 or REST v1). Configuration,
 * clients and the Slack edge are built once per cold start, on the first request, with no network call other than
 * reading the secret; a failed start is logged (by variable name only) and rethrown so the Lambda error metric fires,
 * and the next request tries again.
 */
const COMMAND_START = { fn: 'slack-command', title: 'slash command', loadConfig: loadCommandConfig } as const;

export function createSlackCommandHandler(deps: SlackCommandHandlerDeps): SlackCommandHandler {
  const now = deps.now ?? Date.now;
  const start = createHandlerStart(
    { ...deps, s3: deps.s3 ?? defaultS3 },
    COMMAND_START,
    (config, clients) => {
      const { log } = clients;
      const atlas = deps.atlas ? deps.atlas(config.atlas, log) : interactiveAtlas(config.atlas, log);
      return createSlackEdge({
        signingSecret: config.slack.signingSecret,
        useCase: createCommandUseCase(
          buildCommandDeps(config, { ...clients, atlas, now, calendar: deps.calendar }, deps),
        ),
        log,
        now,
        slackApiUrl: config.slack.apiUrl,
      });
    },
  );
  return async (event, context) => {
    const receivedAt = now();
    const edge = await start(context.awsRequestId);
    return edge(event, context, receivedAt);
  };
}

function defaultS3({ forcePathStyle }: { readonly forcePathStyle: boolean }): S3Client {
  return new S3Client({ forcePathStyle });
}

/** Loaded on the first look-up, off the cold start of every other answer: only ids not archived yet need Atlas. */
function interactiveAtlas(config: AtlasConfig, log: Logger): AtlasInvoiceApi {
  return createLazyAtlas(async () => {
    const { createAtlasClient } = await import('../lib/atlas/client');
    return createAtlasClient({ ...config, log, retry: INTERACTIVE_RETRY, timeouts: INTERACTIVE_TIMEOUTS });
  });
}

// Module scope: the Secrets Manager client is built during Lambda's init phase and reused by warm invocations. The S3
// client depends on the validated configuration (its path style may come from the secret), so it is built with the
// rest of the cold start, once, on the first request.
const secretsManager = new SecretsManagerClient({});

export const handler: SlackCommandHandler = createSlackCommandHandler({
  env: process.env,
  secrets: createSecretsManagerReader(secretsManager),
});
