import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createIndexStore } from '../lib/archive/index-store';
import { createCsvLinkPresigner } from '../lib/archive/presign';
import { createStateStore } from '../lib/archive/state-store';
import type { AtlasInvoiceApi } from '../lib/atlas/types';
import { createLazyAtlas } from '../lib/command/lazy-atlas';
import { createSlackDispatch } from '../lib/command/slack-app';
import { createSlackHttpHandler, type LambdaHttpResult } from '../lib/command/slack-http';
import { type AtlasConfig, credentialValues, type Env, loadCommandConfig } from '../lib/config';
import { createLogger, type Logger } from '../lib/log';
import { createSecretsManagerReader, once, resolveEnv, type SecretReader } from '../lib/secrets';

export interface SlackCommandHandlerDeps {
  /** `process.env` in Lambda; the secret named by APP_SECRET_ID is merged over it once per cold start. */
  readonly env: Env;
  readonly secrets?: SecretReader | undefined;
  /** The S3 client for the archive, given the validated path-style setting. */
  readonly s3: (options: { readonly forcePathStyle: boolean }) => S3Client;
  /** Default: the undici client of lib/atlas/client.ts, loaded on the first look-up. */
  readonly atlas?: ((config: AtlasConfig, log: Logger) => AtlasInvoiceApi) | undefined;
  /** Epoch milliseconds (signature window, deadlines, link signing). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Where log lines go (default stdout). */
  readonly writeLog?: ((line: string) => void) | undefined;
  /** The longest wait for Atlas on an id not archived yet (default 1,800 ms; the whole answer must fit in 3 s). */
  readonly atlasDeadlineMs?: number | undefined;
  /** The poller's schedule, so answers can say when an invoice will be archived. */
  readonly pollIntervalMinutes?: number | undefined;
  /** Milliseconds from arrival by which every answer is ready (default 2,500: Slack waits 3,000). */
  readonly replyBudgetMs?: number | undefined;
}

export type SlackCommandEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;
export type SlackCommandHandler = (event: SlackCommandEvent, context: Context) => Promise<LambdaHttpResult>;

export const DEFAULT_ATLAS_DEADLINE_MS = 1_800;

/** A person is waiting: one quick retry at most, and no single wait longer than the whole deadline. */
const INTERACTIVE_RETRY = { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 300 } as const;
const INTERACTIVE_TIMEOUTS = { connectMs: 1_500, headersMs: 1_800, bodyMs: 1_800 } as const;

/**
 * The slash-command and button function behind API Gateway (HTTP API payload 2.0 or REST v1). Configuration,
 * clients and the Bolt app are built once per cold start, on the first request, with no network call other than
 * reading the secret; a failed start is logged (by variable name only) and rethrown so the Lambda error metric fires,
 * and the next request tries again.
 */
export function createSlackCommandHandler(deps: SlackCommandHandlerDeps): SlackCommandHandler {
  const now = deps.now ?? Date.now;
  const start = once(async () => {
    const env = await resolveEnv(deps.env, deps.secrets);
    const config = loadCommandConfig(env);
    const log = createLogger({
      level: config.logLevel,
      redact: credentialValues(env),
      fields: { function: 'slack-command' },
      ...(deps.writeLog ? { write: deps.writeLog } : {}),
    });
    const s3 = deps.s3({ forcePathStyle: config.archive.forcePathStyle });
    const { bucket, prefix } = config.archive;
    const atlas = deps.atlas
      ? deps.atlas(config.atlas, log)
      : createLazyAtlas(async () => {
          const { createAtlasClient } = await import('../lib/atlas/client');
          return createAtlasClient({
            ...config.atlas,
            log,
            retry: INTERACTIVE_RETRY,
            timeouts: INTERACTIVE_TIMEOUTS,
          });
        });
    const dispatch = createSlackDispatch({
      signingSecret: config.slack.signingSecret,
      log,
      slackApiUrl: config.slack.apiUrl,
      deps: {
        index: createIndexStore({ s3, bucket, prefix }),
        state: createStateStore({ s3, bucket, prefix }),
        presigner: createCsvLinkPresigner({ s3, bucket, ttlSeconds: config.archive.presignTtlSeconds, now }),
        atlas,
        orgIds: config.orgIds,
        access: config.slack.access,
        now,
        log,
        atlasDeadlineMs: deps.atlasDeadlineMs ?? DEFAULT_ATLAS_DEADLINE_MS,
        pollIntervalMinutes: deps.pollIntervalMinutes ?? config.pollIntervalMinutes,
        replyBudgetMs: deps.replyBudgetMs,
      },
    });
    return createSlackHttpHandler({ signingSecret: config.slack.signingSecret, dispatch, log, now });
  });
  return async (event, context) => {
    const receivedAt = now();
    let handle: Awaited<ReturnType<typeof start>>;
    try {
      handle = await start();
    } catch (error) {
      const log = createLogger({
        redact: credentialValues(deps.env),
        ...(deps.writeLog ? { write: deps.writeLog } : {}),
      });
      log.error('the slash-command function could not start', { error });
      throw error;
    }
    return handle(event, context, receivedAt);
  };
}

// Built at module scope so Lambda's init phase pays for them once and warm requests reuse their connections. The S3
// client's path style is part of the validated configuration (it may come from the secret), so the client made here
// is used when it matches and replaced once otherwise.
const secretsManager = new SecretsManagerClient({});
const envPathStyle = /^(true|1)$/i.test(process.env.S3_FORCE_PATH_STYLE?.trim() ?? '');
const s3Client = new S3Client({ forcePathStyle: envPathStyle });

export const handler: SlackCommandHandler = createSlackCommandHandler({
  env: process.env,
  secrets: createSecretsManagerReader(secretsManager),
  s3: ({ forcePathStyle }) => (forcePathStyle === envPathStyle ? s3Client : new S3Client({ forcePathStyle })),
});
