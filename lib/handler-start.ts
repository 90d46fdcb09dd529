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

export interface HandlerStartOptions<Config, Services> extends HandlerEnvironment {
  /** The function's name on every log line (`fn`), e.g. `poll-invoices`. */
  readonly fn: string;
  /** The error line of a failed start, e.g. `poll could not start: configuration failed`. */
  readonly failedStart: string;
  /** One of lib/config.ts's loaders: throws ConfigError naming the variable. */
  readonly loadConfig: (env: Env) => Config;
  /** The function's services from its configuration and logger; builds clients, makes no network call. */
  readonly build: (config: Config, log: Logger) => Services;
}

/** The services of this cold start; `requestId` goes on the line logged when the start fails. */
export type HandlerStart<Services> = (requestId?: string) => Promise<Services>;

export function createHandlerStart<Config extends { readonly logLevel: LogLevel }, Services>(
  options: HandlerStartOptions<Config, Services>,
): HandlerStart<Services> {
  const fields = { fn: options.fn };
  const write = options.writeLog;
  const load = once(async () => {
    const env = await resolveEnv(options.env, options.secrets);
    const config = options.loadConfig(env);
    const log = createLogger({ level: config.logLevel, write, redact: credentialValues(env), fields });
    return options.build(config, log);
  });
  return async (requestId) => {
    try {
      return await load();
    } catch (error) {
      // The secret may not have been read: redact what the environment itself holds.
      createLogger({ write, redact: credentialValues(options.env), fields }).error(options.failedStart, {
        error,
        ...(requestId === undefined ? {} : { requestId }),
      });
      throw error;
    }
  };
}
