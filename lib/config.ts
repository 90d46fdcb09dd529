import { ConfigError } from './errors';
import { isObjectId } from './ids';
import { parseDollarsToCents } from './invoices/money';
import { isRecord } from './is-record';
import { LOG_LEVELS, type LogLevel } from './log';
import { DEFAULT_SPEND_SETTINGS, type SpendBudget, type SpendSettings } from './spend/settings';

/**
 * The one place that reads configuration. Handlers pass `process.env` (merged with the Secrets Manager secret, see
 * `secrets.ts`); everything else receives typed values. Every problem throws a ConfigError naming the variable, never
 * echoing a credential. The deployment parameters of serverless.yml are checked by the same readers before anything is
 * deployed (`checkDeployParameters`).
 */
export type Env = Readonly<Record<string, string | undefined>>;

export type AtlasCredentials =
  | { readonly kind: 'service-account'; readonly clientId: string; readonly clientSecret: string }
  | { readonly kind: 'api-key'; readonly publicKey: string; readonly privateKey: string };

/**
 * Credentials chosen by organisation: a service account or API key belongs to one organisation, so each watched
 * organisation may have its own (ATLAS_ORG_CREDENTIALS); the single ATLAS_CLIENT_ID / ATLAS_PUBLIC_KEY pair, when
 * set, serves every organisation without an entry.
 */
export interface AtlasOrgCredentials {
  readonly kind: 'per-organisation';
  readonly fallback: AtlasCredentials | undefined;
  /** orgId -> its own credentials. */
  readonly byOrg: ReadonlyMap<string, AtlasCredentials>;
}

export type AtlasCredentialChoice = AtlasCredentials | AtlasOrgCredentials;

export interface AtlasConfig {
  /** Origin without trailing slash, e.g. `https://cloud.mongodb.com`. */
  readonly baseUrl: string;
  /** One credential for every organisation, or one per organisation (see AtlasOrgCredentials). */
  readonly credentials: AtlasCredentialChoice;
}

export interface ArchiveConfig {
  readonly bucket: string;
  /** Empty or ending in `/`. */
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  readonly presignTtlSeconds: number;
}

/** Where the bot token posts an organisation's messages: its route, else the default channel. */
export interface ChannelRouting {
  readonly defaultChannel: string | undefined;
  /** orgId -> channel id. */
  readonly routes: ReadonlyMap<string, string>;
}

/** An incoming webhook: one fixed channel. */
export interface WebhookDelivery {
  readonly kind: 'webhook';
  readonly url: string;
}

export type SlackDelivery =
  | (ChannelRouting & { readonly kind: 'bot'; readonly token: string; readonly apiUrl: string | undefined })
  | WebhookDelivery;

export interface PollConfig {
  readonly orgIds: readonly string[];
  readonly atlas: AtlasConfig;
  readonly archive: ArchiveConfig;
  readonly slack: SlackDelivery;
  readonly concurrency: number;
  readonly logLevel: LogLevel;
  /** What the spend watch alerts on (SPEND_BUDGETS, SPEND_ALERT_PERCENTS, SPEND_SPIKE_PERCENT, SPEND_SPIKE_MIN_USD). */
  readonly spend: SpendSettings;
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
  /** The budgets `/invoice spend` measures against (SPEND_BUDGETS), with the rest of the spend settings. */
  readonly spend: SpendSettings;
  readonly logLevel: LogLevel;
}

/** The spend digest's function: the archive it reads, where it posts (the poller's routing) and the budgets. */
export interface DigestConfig {
  readonly orgIds: readonly string[];
  readonly archive: ArchiveConfig;
  readonly slack: SlackDelivery;
  readonly spend: SpendSettings;
  readonly logLevel: LogLevel;
}

/**
 * The spend watch's settings (lib/spend/settings.ts: budgets in the order given, at most one per organisation or
 * project; alert percentages ascending without repeats; the spike rule), and the digest's schedule.
 */
export interface SpendConfig extends SpendSettings {
  /** EventBridge expression of the digest; undefined when the digest is off. */
  readonly digestSchedule: string | undefined;
}

export const DEFAULT_ATLAS_BASE_URL = 'https://cloud.mongodb.com';
export const DEFAULT_ARCHIVE_PREFIX = 'atlas-invoices/';
export const DEFAULT_PRESIGN_TTL_SECONDS = 900;
export const DEFAULT_POLL_CONCURRENCY = 4;
export const DEFAULT_DIGEST_SCHEDULE = 'cron(0 9 ? * MON *)';

/** Names whose values are credentials: accepted from the secret, redacted from logs. */
export const CREDENTIAL_NAMES = [
  'ATLAS_CLIENT_ID',
  'ATLAS_CLIENT_SECRET',
  'ATLAS_PUBLIC_KEY',
  'ATLAS_PRIVATE_KEY',
  'ATLAS_ORG_CREDENTIALS',
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
  'SPEND_BUDGETS',
  'SPEND_ALERT_PERCENTS',
  'SPEND_SPIKE_PERCENT',
  'SPEND_SPIKE_MIN_USD',
  'DIGEST_SCHEDULE',
] as const;

/** Whole-number settings and their ranges (the deployment parameters that feed them share these). */
const RANGES = {
  POLL_CONCURRENCY: [1, 32],
  // 2 or more: EventBridge spells one minute `rate(1 minute)`, which the schedule's `rate(N minutes)` cannot.
  POLL_INTERVAL_MINUTES: [2, 1440],
  PRESIGN_TTL_SECONDS: [60, 604_800],
  SPEND_SPIKE_PERCENT: [1, 10_000],
} as const satisfies Record<string, readonly [number, number]>;

export function loadPollConfig(env: Env): PollConfig {
  requireFilledSecret(env, [ATLAS_NEED, SLACK_DELIVERY_NEED]);
  const orgIds = readOrgIds(env);
  return {
    orgIds,
    atlas: readAtlas(env, orgIds),
    archive: readArchive(env),
    slack: readSlackDelivery(env, orgIds),
    concurrency: readInteger(env, 'POLL_CONCURRENCY', DEFAULT_POLL_CONCURRENCY),
    logLevel: readLogLevel(env),
    spend: readSpendSettings(env),
  };
}

export function loadCommandConfig(env: Env): CommandConfig {
  requireFilledSecret(env, [ATLAS_NEED, SIGNING_SECRET_NEED]);
  const signingSecret = readOptional(env, 'SLACK_SIGNING_SECRET');
  if (signingSecret === undefined)
    throw new ConfigError('SLACK_SIGNING_SECRET', 'is required to verify requests');
  if (/\s/.test(signingSecret)) throw new ConfigError('SLACK_SIGNING_SECRET', 'must not contain white space');
  const botToken = readBotToken(env);
  const teamIds = readTeamIds(env);
  const orgIds = readOrgIds(env);
  return {
    orgIds,
    atlas: readAtlas(env, orgIds),
    archive: readArchive(env),
    slack: {
      signingSecret,
      botToken,
      apiUrl: readSlackApiUrl(env),
      access: {
        teamIds,
        channelIds: readSlackIdList(env, 'SLACK_ALLOWED_CHANNEL_IDS', SLACK_ID_KINDS.channel),
        userIds: readSlackIdList(env, 'SLACK_ALLOWED_USER_IDS', SLACK_ID_KINDS.user),
      },
    },
    pollIntervalMinutes:
      readOptional(env, 'POLL_INTERVAL_MINUTES') === undefined
        ? undefined
        : readInteger(env, 'POLL_INTERVAL_MINUTES', 15),
    spend: readSpendSettings(env),
    logLevel: readLogLevel(env),
  };
}

/**
 * The digest reads only the archive (no Atlas call), so it needs no Atlas credential: only a way to post (the bot
 * token, which can also upload the charts, or the webhook) and the same routing as the poller's notifications.
 */
export function loadDigestConfig(env: Env): DigestConfig {
  requireFilledSecret(env, [SLACK_DELIVERY_NEED]);
  const orgIds = readOrgIds(env);
  return {
    orgIds,
    archive: readArchive(env),
    slack: readSlackDelivery(env, orgIds),
    spend: readSpendSettings(env),
    logLevel: readLogLevel(env),
  };
}

/** `readSpendConfig` without the digest's schedule, which only the deployment uses. */
export function readSpendSettings(env: Env): SpendSettings {
  const { digestSchedule: _schedule, ...settings } = readSpendConfig(env);
  return settings;
}

/**
 * The spend-watch settings: budgets as integer cents per organisation or project (`orgId=5000,orgId/projectId=1200`,
 * US dollars with at most two decimals), alert percentages, the spike rule and the digest schedule (`off` disables
 * it). Budgets may only name organisations of ATLAS_ORG_IDS.
 */
export function readSpendConfig(env: Env): SpendConfig {
  const raw = readOptional(env, 'SPEND_BUDGETS');
  const budgets = raw === undefined ? [] : parseBudgets(raw, readOrgIds(env));
  return {
    budgets,
    alertPercents: readAlertPercents(env),
    spikePercent: readInteger(env, 'SPEND_SPIKE_PERCENT', DEFAULT_SPEND_SETTINGS.spikePercent),
    spikeMinCents: readSpikeMinCents(env),
    digestSchedule: readDigestSchedule(env),
  };
}

/** Every credential value present, for log redaction (including each value inside ATLAS_ORG_CREDENTIALS). */
export function credentialValues(env: Env): string[] {
  const values = CREDENTIAL_NAMES.map((name) => env[name]?.trim()).filter((v): v is string => !!v);
  const perOrg = env.ATLAS_ORG_CREDENTIALS;
  if (perOrg !== undefined) {
    try {
      values.push(...leafStrings(JSON.parse(perOrg)));
    } catch {
      // Not JSON: the whole value is already in the list, and readOrgCredentials refuses it by name.
    }
  }
  return values;
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

/**
 * The Atlas base URL and credentials. With `orgIds` (the handlers), every organisation must end up with a credential
 * and ATLAS_ORG_CREDENTIALS may name no other organisation; without (the command line), the request's organisation
 * picks its credential later.
 */
export function readAtlas(env: Env, orgIds?: readonly string[]): AtlasConfig {
  const baseUrl = readUrl(env, 'ATLAS_BASE_URL', DEFAULT_ATLAS_BASE_URL).replace(/\/+$/, '');
  const byOrg = readOrgCredentials(env);
  if (byOrg === undefined) return { baseUrl, credentials: readAtlasCredentials(env) };
  const fallback = ATLAS_PAIR_NAMES.some((name) => readOptional(env, name) !== undefined)
    ? readAtlasCredentials(env)
    : undefined;
  if (orgIds !== undefined) {
    const unwatched = [...byOrg.keys()].filter((id) => !orgIds.includes(id));
    if (unwatched.length > 0) {
      throw new ConfigError(
        'ATLAS_ORG_CREDENTIALS',
        `has an entry for organisation ${unwatched.join(', ')}, which is not in ATLAS_ORG_IDS`,
      );
    }
    const uncovered = orgIds.filter((id) => !byOrg.has(id));
    if (fallback === undefined && uncovered.length > 0) {
      throw new ConfigError(
        'ATLAS_ORG_CREDENTIALS',
        `has no entry for organisation ${uncovered.join(', ')}: add one, or set ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET (or ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY) for the organisations without one`,
      );
    }
  }
  return { baseUrl, credentials: { kind: 'per-organisation', fallback, byOrg } };
}

/** The credential for one organisation and where it was configured (for messages), or undefined if it has none. */
export function credentialsForOrg(
  choice: AtlasCredentialChoice,
  orgId: string,
): { readonly credentials: AtlasCredentials; readonly source: string } | undefined {
  if (choice.kind !== 'per-organisation') return { credentials: choice, source: pairSource(choice) };
  const own = choice.byOrg.get(orgId);
  if (own !== undefined) return { credentials: own, source: `the ATLAS_ORG_CREDENTIALS entry for ${orgId}` };
  return choice.fallback === undefined
    ? undefined
    : { credentials: choice.fallback, source: pairSource(choice.fallback) };
}

function pairSource(credentials: AtlasCredentials): string {
  return credentials.kind === 'service-account'
    ? 'ATLAS_CLIENT_ID, ATLAS_CLIENT_SECRET'
    : 'ATLAS_PUBLIC_KEY, ATLAS_PRIVATE_KEY';
}

const ATLAS_PAIR_NAMES = ['ATLAS_CLIENT_ID', 'ATLAS_CLIENT_SECRET', 'ATLAS_PUBLIC_KEY', 'ATLAS_PRIVATE_KEY'];

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
    'no Atlas credentials: set ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET (service account), or ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY (API key), or ATLAS_ORG_CREDENTIALS',
  );
}

/**
 * ATLAS_ORG_CREDENTIALS: a JSON object mapping organisation ids to `{"clientId", "clientSecret"}` or
 * `{"publicKey", "privateKey"}`. Errors name the organisation and the field, never a value.
 */
function readOrgCredentials(env: Env): ReadonlyMap<string, AtlasCredentials> | undefined {
  const name = 'ATLAS_ORG_CREDENTIALS';
  const raw = readOptional(env, name);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, 'is not valid JSON (an object mapping organisation ids to credentials)');
  }
  if (!isRecord(parsed))
    throw new ConfigError(name, 'must be a JSON object mapping organisation ids to credentials');
  const byOrg = new Map<string, AtlasCredentials>();
  Object.entries(parsed).forEach(([orgId, entry], i) => {
    if (!isObjectId(orgId))
      throw new ConfigError(
        name,
        `key ${i + 1} is not a 24-character lower-case hexadecimal organisation id`,
      );
    byOrg.set(orgId, readOrgCredential(orgId, entry));
  });
  return byOrg.size === 0 ? undefined : byOrg;
}

function readOrgCredential(orgId: string, entry: unknown): AtlasCredentials {
  const fail = (problem: string) =>
    new ConfigError('ATLAS_ORG_CREDENTIALS', `the entry for organisation ${orgId} ${problem}`);
  const shapes = [
    ['clientId', 'clientSecret'],
    ['publicKey', 'privateKey'],
  ] as const;
  const usage = 'use clientId and clientSecret (service account) or publicKey and privateKey (API key)';
  if (!isRecord(entry)) throw fail(`must be an object: ${usage}`);
  const used = shapes.filter((fields) => fields.some((field) => field in entry));
  const [shape] = used;
  if (shape === undefined || used.length > 1) throw fail(`must hold one credential: ${usage}`);
  const extra = Object.keys(entry).find((field) => !(shape as readonly string[]).includes(field));
  if (extra !== undefined) {
    const shown = /^[A-Za-z]{1,20}$/.test(extra) ? `"${extra}"` : 'an unknown field';
    throw fail(`has ${shown}: ${usage}`);
  }
  const values = shape.map((field) => {
    const value = entry[field];
    if (typeof value !== 'string' || value.trim() === '') throw fail(`needs ${field} (a non-empty string)`);
    return value.trim();
  });
  const [first = '', second = ''] = values;
  if (shape[0] === 'clientId') {
    if (first.includes(':')) throw fail('has a clientId containing ":"');
    return { kind: 'service-account', clientId: first, clientSecret: second };
  }
  return { kind: 'api-key', publicKey: first, privateKey: second };
}

export function readArchive(env: Env): ArchiveConfig {
  const bucket = readOptional(env, 'ARCHIVE_BUCKET');
  if (bucket === undefined)
    throw new ConfigError('ARCHIVE_BUCKET', 'is required: the S3 bucket for the archive');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ConfigError('ARCHIVE_BUCKET', 'is not a valid S3 bucket name');
  }
  return {
    bucket,
    prefix: readArchivePrefix(env),
    forcePathStyle: readBoolean(env, 'S3_FORCE_PATH_STYLE', false),
    presignTtlSeconds: readInteger(env, 'PRESIGN_TTL_SECONDS', DEFAULT_PRESIGN_TTL_SECONDS),
  };
}

function readArchivePrefix(env: Env): string {
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
  return prefix;
}

export function readSlackDelivery(env: Env, orgIds: readonly string[]): SlackDelivery {
  const webhook = readOptional(env, 'SLACK_WEBHOOK_URL');
  if (webhook !== undefined) {
    const url = readUrl(env, 'SLACK_WEBHOOK_URL', webhook);
    if (readOptional(env, 'SLACK_CHANNEL_ROUTES') !== undefined) {
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
  const defaultChannel = readDefaultChannel(env);
  const routes = readChannelRoutes(env, orgIds);
  if (defaultChannel === undefined && orgIds.some((id) => !routes.has(id))) {
    throw new ConfigError(
      'SLACK_CHANNEL',
      'is required unless SLACK_CHANNEL_ROUTES names every organisation',
    );
  }
  return { kind: 'bot', token, defaultChannel, routes, apiUrl: readSlackApiUrl(env) };
}

function readDefaultChannel(env: Env): string | undefined {
  const channel = readOptional(env, 'SLACK_CHANNEL');
  if (channel !== undefined && !isChannel(channel)) {
    throw new ConfigError(
      'SLACK_CHANNEL',
      'must be a channel id such as C0123ABCD, not a name (channel details → About, at the bottom)',
    );
  }
  return channel;
}

/** orgId -> channel id. With `orgIds`, every routed organisation must be one of them. */
function readChannelRoutes(env: Env, orgIds: readonly string[] | undefined): Map<string, string> {
  const routes = new Map<string, string>();
  for (const [i, entry] of splitList(readOptional(env, 'SLACK_CHANNEL_ROUTES') ?? '').entries()) {
    const [orgId, channel, extra] = entry.split('=').map((s) => s.trim());
    if (extra !== undefined || !isObjectId(orgId) || channel === undefined || !isChannel(channel)) {
      throw new ConfigError('SLACK_CHANNEL_ROUTES', `entry ${i + 1} must look like <orgId>=<channel id>`);
    }
    if (orgIds !== undefined && !orgIds.includes(orgId)) {
      throw new ConfigError(
        'SLACK_CHANNEL_ROUTES',
        `entry ${i + 1} routes an organisation not in ATLAS_ORG_IDS`,
      );
    }
    routes.set(orgId, channel);
  }
  return routes;
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

/** Slack ids by the letter they start with: workspaces T, channels C (G for older private ones, D for DMs), users U/W. */
const SLACK_ID_KINDS = {
  team: { letters: 'T', what: 'a Slack workspace (team) id such as T0123ABCD' },
  channel: { letters: 'CGD', what: 'a Slack channel id such as C0123ABCD, not a name' },
  user: { letters: 'UW', what: 'a Slack user id such as U0123ABCD' },
} as const;

function readTeamIds(env: Env): ReadonlySet<string> {
  const teamIds = readSlackIdList(env, 'SLACK_ALLOWED_TEAM_IDS', SLACK_ID_KINDS.team);
  if (teamIds === undefined) {
    throw new ConfigError(
      'SLACK_ALLOWED_TEAM_IDS',
      'is required: list the Slack workspace ids (T...) allowed to see billing data',
    );
  }
  return teamIds;
}

function readSlackIdList(
  env: Env,
  name: string,
  kind: { readonly letters: string; readonly what: string },
): ReadonlySet<string> | undefined {
  const raw = readOptional(env, name);
  if (raw === undefined) return undefined;
  const ids = splitList(raw);
  const pattern = new RegExp(`^[${kind.letters}][A-Z0-9]{1,29}$`);
  ids.forEach((id, i) => {
    if (!pattern.test(id)) throw new ConfigError(name, `entry ${i + 1} is not ${kind.what}`);
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

function readInteger(env: Env, name: keyof typeof RANGES, fallback: number): number {
  const [min, max] = RANGES[name];
  const raw = readOptional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function readLogLevel(env: Env): LogLevel {
  const raw = readOptional(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!(raw in LOG_LEVELS))
    throw new ConfigError('LOG_LEVEL', `must be one of ${Object.keys(LOG_LEVELS).join(', ')}`);
  return raw as LogLevel;
}

/** Notifications go to a channel id (C, or G for older private channels): a name breaks when it is renamed. */
function isChannel(value: string): boolean {
  return /^[CG][A-Z0-9]{2,30}$/.test(value);
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function leafStrings(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() === '' ? [] : [value.trim()];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(leafStrings);
}

// ---------------------------------------------------------------------------------------------------------------
// Spend watch.

/** Whole US dollars or dollars and cents, e.g. `5000` or `1200.50`. */
const USD_PATTERN = /^\d{1,9}(\.\d{1,2})?$/;

function parseBudgets(raw: string, orgIds: readonly string[]): SpendBudget[] {
  const name = 'SPEND_BUDGETS';
  const seen = new Set<string>();
  return splitList(raw).map((entry, i) => {
    const match = /^([a-f0-9]{24})(?:\/([a-f0-9]{24}))?=(.+)$/.exec(entry.replace(/\s+/g, ''));
    if (match === null) {
      throw new ConfigError(name, `entry ${i + 1} must look like <orgId>=<USD> or <orgId>/<projectId>=<USD>`);
    }
    const [, orgId = '', projectId, amount = ''] = match;
    const cents = USD_PATTERN.test(amount) ? parseDollarsToCents(amount) : undefined;
    if (cents === undefined || cents === 0) {
      throw new ConfigError(
        name,
        `entry ${i + 1} needs a positive amount in US dollars, e.g. 5000 or 1200.50`,
      );
    }
    if (!orgIds.includes(orgId))
      throw new ConfigError(name, `entry ${i + 1} names an organisation not in ATLAS_ORG_IDS`);
    const key = `${orgId}/${projectId ?? ''}`;
    if (seen.has(key)) throw new ConfigError(name, `entry ${i + 1} repeats a budget given before`);
    seen.add(key);
    return { orgId, projectId, cents };
  });
}

function readAlertPercents(env: Env): number[] {
  const name = 'SPEND_ALERT_PERCENTS';
  const raw = readOptional(env, name);
  if (raw === undefined) return [...DEFAULT_SPEND_SETTINGS.alertPercents];
  const percents = splitList(raw).map((entry, i) => {
    const value = Number(entry);
    if (!/^\d+$/.test(entry) || value < 1 || value > 1000) {
      throw new ConfigError(name, `entry ${i + 1} must be a whole percentage from 1 to 1000`);
    }
    return value;
  });
  if (percents.length === 0) throw new ConfigError(name, 'lists no percentage');
  return [...new Set(percents)].sort((a, b) => a - b);
}

function readSpikeMinCents(env: Env): number {
  const raw = readOptional(env, 'SPEND_SPIKE_MIN_USD');
  if (raw === undefined) return DEFAULT_SPEND_SETTINGS.spikeMinCents;
  const cents = USD_PATTERN.test(raw) ? parseDollarsToCents(raw) : undefined;
  if (cents === undefined) {
    throw new ConfigError('SPEND_SPIKE_MIN_USD', 'must be an amount in US dollars, e.g. 100 or 99.50');
  }
  return cents;
}

const CRON_FIELD = /^[0-9A-Z*?,/#L-]+$/;

function readDigestSchedule(env: Env): string | undefined {
  const raw = readOptional(env, 'DIGEST_SCHEDULE') ?? DEFAULT_DIGEST_SCHEDULE;
  if (raw === 'off') return undefined;
  const rate = /^rate\((\d{1,4}) (minute|minutes|hour|hours|day|days)\)$/.exec(raw);
  const cron = /^cron\(([^()]+)\)$/.exec(raw)?.[1]?.split(' ');
  // EventBridge wants the singular unit for 1 and the plural otherwise: rate(1 day), rate(7 days).
  const singular = rate?.[1] === '1';
  const rateOk = rate !== null && Number(rate[1]) > 0 && singular !== (rate[2]?.endsWith('s') ?? false);
  const cronOk = cron !== undefined && cron.length === 6 && cron.every((field) => CRON_FIELD.test(field));
  if (!rateOk && !cronOk) {
    throw new ConfigError(
      'DIGEST_SCHEDULE',
      'must be an EventBridge schedule such as cron(0 9 ? * MON *) or rate(7 days), or off',
    );
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------------------------
// Credentials a deployed function cannot start without.

interface Need {
  readonly names: readonly string[];
  readonly describe: string;
}

const ATLAS_NEED: Need = {
  names: [...ATLAS_PAIR_NAMES, 'ATLAS_ORG_CREDENTIALS'],
  describe:
    'ATLAS_CLIENT_ID + ATLAS_CLIENT_SECRET (or ATLAS_PUBLIC_KEY + ATLAS_PRIVATE_KEY, or ATLAS_ORG_CREDENTIALS)',
};
const SLACK_DELIVERY_NEED: Need = {
  names: ['SLACK_BOT_TOKEN', 'SLACK_WEBHOOK_URL'],
  describe: 'SLACK_BOT_TOKEN (or SLACK_WEBHOOK_URL)',
};
const SIGNING_SECRET_NEED: Need = { names: ['SLACK_SIGNING_SECRET'], describe: 'SLACK_SIGNING_SECRET' };

/**
 * A deployed function reads its credentials from the secret, which the stack creates empty. Until it is filled, this
 * says so once, naming what is missing, instead of a first complaint about one variable.
 */
function requireFilledSecret(env: Env, needs: readonly Need[]): void {
  if (readOptional(env, 'APP_SECRET_ID') === undefined) return;
  const missing = needs.filter((need) => need.names.every((name) => readOptional(env, name) === undefined));
  if (missing.length === 0) return;
  throw new ConfigError(
    'APP_SECRET_ID',
    `secret not filled yet: missing ${missing.map((need) => need.describe).join(' and ')}. Put them in the secret (README: Deploy, step 3); every run fails until then`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Deployment parameters.

/** The parameters (serverless.yml `params`) that become a function's environment variable. */
export const DEPLOY_PARAMETER_ENV = {
  atlasOrgIds: 'ATLAS_ORG_IDS',
  slackChannel: 'SLACK_CHANNEL',
  slackChannelRoutes: 'SLACK_CHANNEL_ROUTES',
  slackAllowedTeamIds: 'SLACK_ALLOWED_TEAM_IDS',
  slackAllowedChannelIds: 'SLACK_ALLOWED_CHANNEL_IDS',
  slackAllowedUserIds: 'SLACK_ALLOWED_USER_IDS',
  pollIntervalMinutes: 'POLL_INTERVAL_MINUTES',
  pollConcurrency: 'POLL_CONCURRENCY',
  presignTtlSeconds: 'PRESIGN_TTL_SECONDS',
  archivePrefix: 'ARCHIVE_PREFIX',
  logLevel: 'LOG_LEVEL',
  spendBudgets: 'SPEND_BUDGETS',
  spendAlertPercents: 'SPEND_ALERT_PERCENTS',
  spendSpikePercent: 'SPEND_SPIKE_PERCENT',
  spendSpikeMinUsd: 'SPEND_SPIKE_MIN_USD',
  digestSchedule: 'DIGEST_SCHEDULE',
} as const satisfies Record<string, (typeof CONFIG_NAMES)[number]>;

type Params = Readonly<Record<string, string | undefined>>;

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * One check per deployment parameter. Those feeding an environment variable run the reader the functions run at
 * start, on the environment the template would give them; cross-checks (routes and budgets name watched
 * organisations) use the organisations only when those are valid, so one mistake is reported once.
 */
const DEPLOY_CHECKS: Readonly<Record<string, (env: Env, params: Params) => void>> = {
  atlasOrgIds: (env) => readOrgIds(env),
  slackChannel: (env) => readDefaultChannel(env),
  slackChannelRoutes: (env) => readChannelRoutes(env, validOrgIds(env)),
  slackAllowedTeamIds: (env) => readTeamIds(env),
  slackAllowedChannelIds: (env) => readSlackIdList(env, 'SLACK_ALLOWED_CHANNEL_IDS', SLACK_ID_KINDS.channel),
  slackAllowedUserIds: (env) => readSlackIdList(env, 'SLACK_ALLOWED_USER_IDS', SLACK_ID_KINDS.user),
  pollIntervalMinutes: (env) => readInteger(env, 'POLL_INTERVAL_MINUTES', 15),
  pollConcurrency: (env) => readInteger(env, 'POLL_CONCURRENCY', DEFAULT_POLL_CONCURRENCY),
  presignTtlSeconds: (env) => readInteger(env, 'PRESIGN_TTL_SECONDS', DEFAULT_PRESIGN_TTL_SECONDS),
  archivePrefix: (env) => readArchivePrefix(env),
  logLevel: (env) => readLogLevel(env),
  spendBudgets: (env) => {
    const raw = readOptional(env, 'SPEND_BUDGETS');
    const orgIds = validOrgIds(env);
    if (raw !== undefined && orgIds !== undefined) parseBudgets(raw, orgIds);
  },
  spendAlertPercents: (env) => readAlertPercents(env),
  spendSpikePercent: (env) => readInteger(env, 'SPEND_SPIKE_PERCENT', DEFAULT_SPEND_SETTINGS.spikePercent),
  spendSpikeMinUsd: (env) => readSpikeMinCents(env),
  digestSchedule: (env) => readDigestSchedule(env),
  existingSecretArn: (_, params) =>
    checkPattern(
      params,
      'existingSecretArn',
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
      'must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
    ),
  alarmEmail: (_, params) =>
    checkPattern(params, 'alarmEmail', /^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be one e-mail address'),
  logRetentionInDays: (_, params) => {
    const raw = params.logRetentionInDays?.trim() ?? '';
    if (!LOG_RETENTION_DAYS.includes(Number(raw)) || !/^\d+$/.test(raw)) {
      throw new ConfigError('logRetentionInDays', `must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
    }
  },
  noncurrentVersionDays: (_, params) => {
    const raw = params.noncurrentVersionDays?.trim() ?? '';
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 36_500) {
      throw new ConfigError('noncurrentVersionDays', 'must be a whole number of days from 1 to 36500');
    }
  },
  staticEgress: (_, params) => {
    const value = params.staticEgress?.trim() ?? '';
    if (value !== 'true' && value !== 'false') throw new ConfigError('staticEgress', 'must be true or false');
    if (value === 'true' && (params.vpcSubnetIds?.trim() ?? '') !== '') {
      throw new ConfigError(
        'staticEgress',
        'cannot be combined with vpcSubnetIds: choose a new VPC (staticEgress=true) or your own',
      );
    }
  },
  vpcSubnetIds: (_, params) => checkVpcIdList(params, 'vpcSubnetIds', 'subnet', 'vpcSecurityGroupIds'),
  vpcSecurityGroupIds: (_, params) => checkVpcIdList(params, 'vpcSecurityGroupIds', 'sg', 'vpcSubnetIds'),
};

/** Every deployment parameter of serverless.yml. */
export const DEPLOY_PARAMETERS: readonly string[] = Object.keys(DEPLOY_CHECKS);

/**
 * Checks the parameters a deployment will use (defaults already applied) and returns one line per bad parameter,
 * `<name>: <problem>`, in the order of DEPLOY_PARAMETERS; unknown names are reported too. Empty when all is well.
 */
export function checkDeployParameters(params: Params): string[] {
  const env: Record<string, string | undefined> = {};
  for (const [param, name] of Object.entries(DEPLOY_PARAMETER_ENV)) env[name] = params[param];
  const problems: string[] = [];
  for (const name of Object.keys(params)) {
    if (!(name in DEPLOY_CHECKS)) problems.push(`${printableName(name)}: is not a parameter of this stack`);
  }
  for (const [param, check] of Object.entries(DEPLOY_CHECKS)) {
    try {
      check(env, params);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const problem = error.message.slice(error.variable.length + 2);
      problems.push(`${param}: ${inParameterWords(problem)}`);
    }
  }
  return problems;
}

function validOrgIds(env: Env): string[] | undefined {
  try {
    return readOrgIds(env);
  } catch {
    return undefined;
  }
}

function checkPattern(params: Params, name: string, pattern: RegExp, problem: string): void {
  const value = params[name]?.trim() ?? '';
  if (value !== '' && !pattern.test(value)) throw new ConfigError(name, problem);
}

/** The template splits these lists on "," as they are (Fn::Split): no spaces, no empty entries. */
function checkVpcIdList(params: Params, name: string, prefix: string, partner: string): void {
  const raw = params[name]?.trim() ?? '';
  const pattern = new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);
  if (raw === '') return;
  raw.split(',').forEach((id, i) => {
    if (!pattern.test(id)) {
      throw new ConfigError(
        name,
        `entry ${i + 1} is not an id like ${prefix}-0123456789abcdef0 (separate ids with "," and no spaces)`,
      );
    }
  });
  if ((params[partner]?.trim() ?? '') === '') {
    throw new ConfigError(
      name,
      `needs ${partner} too: a function in a VPC needs subnets and security groups`,
    );
  }
}

/** Problems of a parameter's variable are told in the parameters' names. */
function inParameterWords(text: string): string {
  return Object.entries(DEPLOY_PARAMETER_ENV).reduce(
    (out, [param, name]) => out.replace(new RegExp(`\\b${name}\\b`, 'g'), param),
    text,
  );
}

function printableName(name: string): string {
  return /^[A-Za-z0-9_-]{1,60}$/.test(name) ? name : '(unprintable name)';
}
