import { randomBytes } from 'node:crypto';
import { CONFIG_NAMES, type Env, readOptional } from '../../lib/config';

/**
 * Which parts of a local run are real and which are stand-ins, and the environment the real handlers get. Pure:
 * nothing here reads `process.env` or starts a server. The rule is "any real setting replaces its stand-in":
 * - Atlas is real as soon as any Atlas setting is exported (organisations, base URL or credentials); an incomplete
 *   set then fails the handlers' own validation, naming the variable, rather than silently falling back.
 * - Slack delivery is real with SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL.
 * - The archive is real with ARCHIVE_BUCKET (the AWS SDK then finds region and credentials as it always does).
 * - With the sandbox, the demo organisation's budget is a stand-in too (see demo-story.ts), until SPEND_BUDGETS is
 *   exported (it must then name the demo organisation, as it must name the watched ones).
 * APP_SECRET_ID is not read locally: export the settings themselves.
 */

export const LOCAL_ARCHIVE_BUCKET = 'local-invoice-archive';

const ATLAS_NAMES = [
  'ATLAS_ORG_IDS',
  'ATLAS_BASE_URL',
  'ATLAS_CLIENT_ID',
  'ATLAS_CLIENT_SECRET',
  'ATLAS_PUBLIC_KEY',
  'ATLAS_PRIVATE_KEY',
  'ATLAS_ORG_CREDENTIALS',
] as const;
const SLACK_DELIVERY_NAMES = ['SLACK_BOT_TOKEN', 'SLACK_WEBHOOK_URL', 'SLACK_API_URL'] as const;
const ARCHIVE_NAMES = ['ARCHIVE_BUCKET', 'S3_FORCE_PATH_STYLE'] as const;

export interface LocalPlan {
  readonly atlas: 'real' | 'sandbox';
  readonly slack: 'bot' | 'webhook' | 'stand-in';
  readonly archive: 'real' | 'stand-in';
  /** Settings the user exported that this run ignores, and why (safe to print: names only). */
  readonly notes: readonly string[];
}

export function planLocalRun(env: Env): LocalPlan {
  const set = (name: string) => readOptional(env, name) !== undefined;
  const atlas = ATLAS_NAMES.some(set) ? 'real' : 'sandbox';
  const slack = set('SLACK_WEBHOOK_URL') ? 'webhook' : set('SLACK_BOT_TOKEN') ? 'bot' : 'stand-in';
  const notes: string[] = [];
  if (set('APP_SECRET_ID'))
    notes.push('APP_SECRET_ID is not read by npm start: export the settings themselves.');
  if (atlas === 'sandbox' && set('SLACK_CHANNEL_ROUTES')) {
    notes.push(
      'SLACK_CHANNEL_ROUTES is ignored: it routes real organisations and the demo organisation is polled.',
    );
  }
  return { atlas, slack, archive: set('ARCHIVE_BUCKET') ? 'real' : 'stand-in', notes };
}

/** What the started stand-ins offer; only those the plan uses need to be given. */
export interface StandInEndpoints {
  readonly atlas?: {
    readonly url: string;
    readonly orgId: string;
    readonly clientId: string;
    readonly clientSecret: string;
    /** `SPEND_BUDGETS` for the demo organisation, used unless the user exported their own. */
    readonly spendBudgets?: string;
  };
  /** The S3 stand-in's environment (`S3StandIn.env()`: endpoint, key pair, region, path style). */
  readonly s3?: Readonly<Record<string, string>>;
  readonly slack?: { readonly apiUrl: string; readonly token: string; readonly channel: string };
  /** The Slack workspace the local slash commands come from. */
  readonly teamId: string;
}

export interface HandlerEnvironment {
  /** Exactly what the handlers' `env` holds. */
  readonly env: Readonly<Record<string, string>>;
  /** True when the signing secret was generated for this run (so it is not a secret and may be shown). */
  readonly localSigningSecret: boolean;
  /** True when `SPEND_BUDGETS` is the demo's stand-in, not the user's. */
  readonly standInBudgets: boolean;
}

/**
 * The environment the real handlers read: the user's settings of the configuration contract, with every part the
 * plan runs on a stand-in replaced by the stand-in's values. Nothing else of the user's environment is copied.
 * Throws when the plan needs a stand-in that `endpoints` does not describe.
 */
export function buildHandlerEnv(
  userEnv: Env,
  plan: LocalPlan,
  endpoints: StandInEndpoints,
  generateSecret: () => string = randomSigningSecret,
): HandlerEnvironment {
  const env: Record<string, string> = {};
  for (const name of CONFIG_NAMES) {
    const value = userEnv[name];
    if (value !== undefined && value.trim() !== '') env[name] = value;
  }
  if (plan.atlas === 'sandbox') {
    const atlas = required(endpoints.atlas, 'the Atlas sandbox');
    for (const name of ATLAS_NAMES) delete env[name];
    delete env.SLACK_CHANNEL_ROUTES;
    Object.assign(env, {
      ATLAS_ORG_IDS: atlas.orgId,
      ATLAS_BASE_URL: atlas.url,
      ATLAS_CLIENT_ID: atlas.clientId,
      ATLAS_CLIENT_SECRET: atlas.clientSecret,
    });
  }
  const standInBudgets =
    plan.atlas === 'sandbox' &&
    env.SPEND_BUDGETS === undefined &&
    endpoints.atlas?.spendBudgets !== undefined;
  if (standInBudgets) env.SPEND_BUDGETS = endpoints.atlas?.spendBudgets as string;
  if (plan.archive === 'stand-in') {
    const s3 = required(endpoints.s3, 'the S3 stand-in');
    for (const name of ARCHIVE_NAMES) delete env[name];
    Object.assign(env, { ...s3, ARCHIVE_BUCKET: LOCAL_ARCHIVE_BUCKET, S3_FORCE_PATH_STYLE: 'true' });
  }
  if (plan.slack === 'stand-in') {
    const slack = required(endpoints.slack, 'the Slack stand-in');
    for (const name of SLACK_DELIVERY_NAMES) delete env[name];
    Object.assign(env, { SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl });
    env.SLACK_CHANNEL ??= slack.channel;
  }
  env.SLACK_ALLOWED_TEAM_IDS ??= endpoints.teamId;
  const localSigningSecret = env.SLACK_SIGNING_SECRET === undefined;
  env.SLACK_SIGNING_SECRET ??= generateSecret();
  return { env, localSigningSecret, standInBudgets };
}

/** A fresh signing secret for one local run: 32 hex characters, like Slack's. */
export function randomSigningSecret(): string {
  return randomBytes(16).toString('hex');
}

/** The first id of a comma-separated allow-list, or the fallback when the list is unset. */
export function firstListed(env: Env, name: string, fallback: string): string {
  const first = readOptional(env, name)
    ?.split(',')
    .map((s) => s.trim())
    .find((s) => s !== '');
  return first ?? fallback;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the local run needs ${what} but it was not started`);
  return value;
}
