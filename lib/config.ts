import { ConfigError } from './errors';
import { isObjectId, isSlackId } from './ids';
import { LOG_LEVELS, type LogLevel } from './log';

/**
 * The one place that reads configuration. Handlers pass `process.env` (merged with the Secrets Manager secret, see
 * `secrets.ts`); everything else receives typed values. Every problem throws a ConfigError naming the variable, never
 * echoing a credential.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export type AtlasCredentials =
  | { readonly kind: 'service-account'; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: 'api-key'; readonly publicKey: string; readonly privateKey: string };

export interface AtlasConfig {
  /** Origin without trailing slash, e.g. `https://cloud.mongodb.com`. */
  readonly baseUrl: string;
  readonly credentials: AtlasCredentials;
}

export interface ArchiveConfig {
  readonly bucket: string;
  /** Empty or ending in `/`. */
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  readonly presignTtlSeconds: number;
}

export type SlackDelivery =
  | {
      readonly kind: 'bot';
      readonly token: string;
      readonly defaultChannel: string | undefined;
      /** orgId -> channel. */
      readonly routes: ReadonlyMap<string, string>;
      readonly apiUrl: string | undefined;
    }
  | { readonly kind: 'webhook'; readonly url: string };

export interface PollConfig {
  readonly orgIds: readonly string[];
  readonly atlas: AtlasConfig;
  readonly archive: ArchiveConfig;
  readonly slack: SlackDelivery;
  readonly concurrency: number;
  readonly logLevel: LogLevel;
}

export interface SlackAccess {
  readonly teamIds: ReadonlySet<string>;
  /** Undefined: every channel of an allowed team. */
  readonly channelIds: ReadonlySet<string> | undefined;
  /** Undefined: every user of an allowed team. */
  readonly userIds: ReadonlySet<string> | undefined;
}

export interface CommandConfig {
  readonly orgIds: readonly string[];
  readonly atlas: AtlasConfig;
  readonly archive: ArchiveConfig;
  readonly slack: {
    readonly signingSecret: string;
    readonly botToken: string | undefined;
    readonly apiUrl: string | undefined;
    readonly access: SlackAccess;
  };
  /** How often the poller runs, so answers can say when a new invoice will be archived. */
  readonly pollIntervalMinutes: number | undefined;
  readonly logLevel: LogLevel;
}

export const DEFAULT_ATLAS_BASE_URL = 'https://cloud.mongodb.com';
export const DEFAULT_ARCHIVE_PREFIX = 'atlas-invoices/';
export const DEFAULT_PRESIGN_TTL_SECONDS = 900;
export const DEFAULT_POLL_CONCURRENCY = 4;

/** Names whose values are credentials: accepted from the secret, redacted from logs. */
export const CREDENTIAL_NAMES = [
  'ATLAS_CLIENT_ID',
  'ATLAS_CLIENT_SECRET',
  'ATLAS_PUBLIC_KEY',
  'ATLAS_PRIVATE_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_WEBHOOK_URL',
] as const;

/** Every name of the configuration contract (the secret's JSON may carry any of them). */
export const CONFIG_NAMES = [
  'ATLAS_ORG_IDS',
  'ATLAS_BASE_URL',
  ...CREDENTIAL_NAMES,
  'ARCHIVE_BUCKET',
  'ARCHIVE_PREFIX',
  'S3_FORCE_PATH_STYLE',
  'PRESIGN_TTL_SECONDS',
  'SLACK_CHANNEL',
  'SLACK_CHANNEL_ROUTES',
  'SLACK_ALLOWED_TEAM_IDS',
  'SLACK_ALLOWED_CHANNEL_IDS',
  'SLACK_ALLOWED_USER_IDS',
  'SLACK_API_URL',
  'POLL_CONCURRENCY',
  'POLL_INTERVAL_MINUTES',
  'LOG_LEVEL',
] as const;

export function loadPollConfig(env: Env): PollConfig {
  const orgIds = readOrgIds(env);
  return {
    orgIds,
    atlas: readAtlas(env),
    archive: readArchive(env),
    slack: readSlackDelivery(env, orgIds),
    concurrency: readInteger(env, 'POLL_CONCURRENCY', DEFAULT_POLL_CONCURRENCY, 1, 32),
    logLevel: readLogLevel(env),
  };
}

export function loadCommandConfig(env: Env): CommandConfig {
  const signingSecret = readOptional(env, 'SLACK_SIGNING_SECRET');
  if (signingSecret === undefined)
    throw new ConfigError('SLACK_SIGNING_SECRET', 'is required to verify requests');
  if (/\s/.test(signingSecret)) throw new ConfigError('SLACK_SIGNING_SECRET', 'must not contain white space');
  const botToken = readBotToken(env);
  const teamIds = readSlackIdList(env, 'SLACK_ALLOWED_TEAM_IDS');
  if (teamIds === undefined) {
    throw new ConfigError(
      'SLACK_ALLOWED_TEAM_IDS',
      'is required: list the Slack workspace ids (T...) allowed to see billing data',
    );
  }
  return {
    orgIds: readOrgIds(env),
    atlas: readAtlas(env),
    archive: readArchive(env),
    slack: {
      signingSecret,
      botToken,
      apiUrl: readSlackApiUrl(env),
      access: {
        teamIds,
        channelIds: readSlackIdList(env, 'SLACK_ALLOWED_CHANNEL_IDS'),
        userIds: readSlackIdList(env, 'SLACK_ALLOWED_USER_IDS'),
      },
    },
    pollIntervalMinutes:
      readOptional(env, 'POLL_INTERVAL_MINUTES') === undefined
        ? undefined
        : readInteger(env, 'POLL_INTERVAL_MINUTES', 15, 1, 1440),
    logLevel: readLogLevel(env),
  };
}

/** Every credential value present, for log redaction. */
export function credentialValues(env: Env): string[] {
  return CREDENTIAL_NAMES.map((name) => env[name]?.trim()).filter((v): v is string => !!v);
}

export function readOptional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function readOrgIds(env: Env): string[] {
  const raw = readOptional(env, 'ATLAS_ORG_IDS');
  if (raw === undefined)
    throw new ConfigError('ATLAS_ORG_IDS', 'is required: comma-separated Atlas organisation ids');
  const ids = splitList(raw);
  if (ids.length === 0) throw new ConfigError('ATLAS_ORG_IDS', 'lists no organisation id');
  ids.forEach((id, i) => {
    if (!isObjectId(id)) {
      throw new ConfigError(
        'ATLAS_ORG_IDS',
        `entry ${i + 1} is not a 24-character lower-case hexadecimal id`,
      );
    }
  });
  return [...new Set(ids)];
}

export function readAtlas(env: Env): AtlasConfig {
  return {
    baseUrl: readUrl(env, 'ATLAS_BASE_URL', DEFAULT_ATLAS_BASE_URL).replace(/\/+$/, ''),
    credentials: readAtlasCredentials(env),
  };
}

export function readAtlasCredentials(env: Env): AtlasCredentials {
  const clientId = readOptional(env, 'ATLAS_CLIENT_ID');
  const clientSecret = readOptional(env, 'ATLAS_CLIENT_SECRET');
  const publicKey = readOptional(env, 'ATLAS_PUBLIC_KEY');
  const privateKey = readOptional(env, 'ATLAS_PRIVATE_KEY');
  if (clientId !== undefined || clientSecret !== undefined) {
    if (clientId === undefined)
      throw new ConfigError('ATLAS_CLIENT_ID', 'is required with ATLAS_CLIENT_SECRET');
    if (clientSecret === undefined)
      throw new ConfigError('ATLAS_CLIENT_SECRET', 'is required with ATLAS_CLIENT_ID');
    if (clientId.includes(':')) throw new ConfigError('ATLAS_CLIENT_ID', 'must not contain ":"');
    return { kind: 'service-account', clientId, clientSecret };
  }
  if (publicKey !== undefined || privateKey !== undefined) {
    if (publicKey === undefined)
      throw new ConfigError('ATLAS_PUBLIC_KEY', 'is required with ATLAS_PRIVATE_KEY');
    if (privateKey === undefined)
      throw new ConfigError('ATLAS_PRIVATE_KEY', 'is required with ATLAS_PUBLIC_KEY');
    return { kind: 'api-key', publicKey, privateKey };
  }
  throw new ConfigError(
    'ATLAS_CLIENT_ID',
    'no Atlas credentials: set ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET (service account), or ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY (API key)',
  );
}

export function readArchive(env: Env): ArchiveConfig {
  const bucket = readOptional(env, 'ARCHIVE_BUCKET');
  if (bucket === undefined)
    throw new ConfigError('ARCHIVE_BUCKET', 'is required: the S3 bucket for the archive');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ConfigError('ARCHIVE_BUCKET', 'is not a valid S3 bucket name');
  }
  const prefix = env.ARCHIVE_PREFIX === undefined ? DEFAULT_ARCHIVE_PREFIX : env.ARCHIVE_PREFIX.trim();
  if (
    prefix !== '' &&
    (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.split('/').includes('..'))
  ) {
    throw new ConfigError(
      'ARCHIVE_PREFIX',
      'must be empty or a relative path ending in "/", e.g. atlas-invoices/',
    );
  }
  if (!/^[\x21-\x7e]*$/.test(prefix))
    throw new ConfigError('ARCHIVE_PREFIX', 'must be printable ASCII without spaces');
  return {
    bucket,
    prefix,
    forcePathStyle: readBoolean(env, 'S3_FORCE_PATH_STYLE', false),
    presignTtlSeconds: readInteger(env, 'PRESIGN_TTL_SECONDS', DEFAULT_PRESIGN_TTL_SECONDS, 60, 604_800),
  };
}

export function readSlackDelivery(env: Env, orgIds: readonly string[]): SlackDelivery {
  const webhook = readOptional(env, 'SLACK_WEBHOOK_URL');
  const routesRaw = readOptional(env, 'SLACK_CHANNEL_ROUTES');
  if (webhook !== undefined) {
    const url = readUrl(env, 'SLACK_WEBHOOK_URL', webhook);
    if (routesRaw !== undefined) {
      throw new ConfigError(
        'SLACK_CHANNEL_ROUTES',
        'needs SLACK_BOT_TOKEN: an incoming webhook (SLACK_WEBHOOK_URL) always posts to its own channel',
      );
    }
    return { kind: 'webhook', url };
  }
  const token = readBotToken(env);
  if (token === undefined) {
    throw new ConfigError('SLACK_BOT_TOKEN', 'is required to notify Slack (or set SLACK_WEBHOOK_URL)');
  }
  const defaultChannel = readOptional(env, 'SLACK_CHANNEL');
  if (defaultChannel !== undefined && !isChannel(defaultChannel)) {
    throw new ConfigError('SLACK_CHANNEL', 'must be a channel id such as C0123ABCD (or #name)');
  }
  const routes = new Map<string, string>();
  for (const [i, entry] of splitList(routesRaw ?? '').entries()) {
    const [orgId, channel, extra] = entry.split('=').map((s) => s.trim());
    if (extra !== undefined || !isObjectId(orgId) || channel === undefined || !isChannel(channel)) {
      throw new ConfigError('SLACK_CHANNEL_ROUTES', `entry ${i + 1} must look like <orgId>=<channel id>`);
    }
    if (!orgIds.includes(orgId)) {
      throw new ConfigError(
        'SLACK_CHANNEL_ROUTES',
        `entry ${i + 1} routes an organisation not in ATLAS_ORG_IDS`,
      );
    }
    routes.set(orgId, channel);
  }
  if (defaultChannel === undefined && orgIds.some((id) => !routes.has(id))) {
    throw new ConfigError(
      'SLACK_CHANNEL',
      'is required unless SLACK_CHANNEL_ROUTES names every organisation',
    );
  }
  return { kind: 'bot', token, defaultChannel, routes, apiUrl: readSlackApiUrl(env) };
}

function readBotToken(env: Env): string | undefined {
  const token = readOptional(env, 'SLACK_BOT_TOKEN');
  if (token !== undefined && !/^xox[bp]-[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError('SLACK_BOT_TOKEN', 'must be a bot token starting with xoxb-');
  }
  return token;
}

function readSlackApiUrl(env: Env): string | undefined {
  const raw = readOptional(env, 'SLACK_API_URL');
  if (raw === undefined) return undefined;
  const url = readUrl(env, 'SLACK_API_URL', raw);
  return url.endsWith('/') ? url : `${url}/`;
}

function readSlackIdList(env: Env, name: string): ReadonlySet<string> | undefined {
  const raw = readOptional(env, name);
  if (raw === undefined) return undefined;
  const ids = splitList(raw);
  ids.forEach((id, i) => {
    if (!isSlackId(id))
      throw new ConfigError(name, `entry ${i + 1} is not a Slack id (upper-case letters and digits)`);
  });
  if (ids.length === 0) throw new ConfigError(name, 'lists no id');
  return new Set(ids);
}

function readUrl(env: Env, name: string, fallback: string): string {
  const raw = readOptional(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(name, 'must use https (plain http is accepted only on 127.0.0.1)');
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError(name, 'must not embed credentials');
  return url.toString().replace(/\/$/, url.pathname === '/' ? '' : '/');
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readOptional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, 'must be true or false');
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readOptional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  return value;
}

function readLogLevel(env: Env): LogLevel {
  const raw = readOptional(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!(raw in LOG_LEVELS))
    throw new ConfigError('LOG_LEVEL', `must be one of ${Object.keys(LOG_LEVELS).join(', ')}`);
  return raw as LogLevel;
}

function isChannel(value: string): boolean {
  return /^[CGD][A-Z0-9]{2,30}$/.test(value) || /^#[a-z0-9][a-z0-9_-]{0,79}$/.test(value);
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
