import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientFactory } from './archive/s3-client';
import { credentialValues, type Env } from './config';
import { createLogger, type Logger, type LogLevel } from './log';
import { once } from './once';
import { resolveEnv, type SecretReader } from './secrets';

/**
 * The cold start every Lambda handler shares: merge the JSON secret named by APP_SECRET_ID over the environment, load
 * the function's configuration, make its logger (every credential redacted, every line naming the function as `fn`)
 * and build its services, once per cold start. A failed start (an unreadable secret, a missing or malformed setting)
 * is logged once per invocation, naming the variable and never a value, and rethrown so the function's error metric
 * fires; it is not remembered, so the next invocation tries again (a secret filled in later is picked up without a
 * redeploy).
 */
export interface HandlerEnvironment {
  /** `process.env` in Lambda; the JSON secret named by APP_SECRET_ID is merged over it once per cold start. */
  readonly env: Env;
  /** Reads the secret named by APP_SECRET_ID (production: Secrets Manager). */
  readonly secrets?: SecretReader | undefined;
  /** Where log lines go (one JSON object per line). Default stdout. */
  readonly writeLog?: ((line: string) => void) | undefined;
}

/** What a handler is built over: its environment, and how to make the archive's S3 client. */
export interface HandlerDeps extends HandlerEnvironment {
  readonly s3: S3ClientFactory;
}

/** The clients every handler's services are built over (`build…Deps(config, clients)`), once per cold start. */
export interface HandlerClients {
  readonly s3: S3Client;
  readonly log: Logger;
}

/** What tells one function's start from another's. */
export interface FunctionStart<Config> {
  /** The function's name on every log line (`fn`), e.g. `poll-invoices`. */
  readonly fn: string;
  /** What the failed-start line calls the function: `poll` logs `poll could not start: configuration failed`. */
  readonly title: string;
  /** One of lib/config.ts's loaders: throws ConfigError naming the variable. */
  readonly loadConfig: (env: Env) => Config;
}

/** The services of this cold start; `requestId` goes on the line logged when the start fails. */
export type HandlerStart<Services> = (requestId?: string) => Promise<Services>;

/**
 * `build` makes the function's services from its configuration and the clients (the archive's S3 client, made with
 * the configured path style, and the logger); it builds clients and makes no network call.
 */
export function createHandlerStart<
  Config extends { readonly logLevel: LogLevel; readonly archive: { readonly forcePathStyle: boolean } },
  Services,
>(
  deps: HandlerDeps,
  start: FunctionStart<Config>,
  build: (config: Config, clients: HandlerClients) => Services,
): HandlerStart<Services> {
  const fields = { fn: start.fn };
  const failedStart = `${start.title} could not start: configuration failed`;
  const write = deps.writeLog;
  const load = once(async () => {
    const env = await resolveEnv(deps.env, deps.secrets);
    const config = start.loadConfig(env);
    const log = createLogger({ level: config.logLevel, write, redact: credentialValues(env), fields });
    return build(config, { s3: deps.s3({ forcePathStyle: config.archive.forcePathStyle }), log });
  });
  return async (requestId) => {
    try {
      return await load();
    } catch (error) {
      // The secret may not have been read: redact what the environment itself holds.
      createLogger({ write, redact: credentialValues(deps.env), fields }).error(failedStart, {
        error,
        ...(requestId === undefined ? {} : { requestId }),
      });
      throw error;
    }
  };
}
