import { describe, expect, it } from 'vitest';
import {
  checkDeployParameters,
  credentialsForOrg,
  credentialValues,
  DEPLOY_PARAMETERS,
  type Env,
  loadCommandConfig,
  loadPollConfig,
  readSpendConfig,
} from '../../lib/config';
import { ConfigError } from '../../lib/errors';

const ORG_A = '5f1a2b3c4d5e6f708192a3b4';
const ORG_B = '6a1b2c3d4e5f60718293a4b5';

const pollEnv: Env = {
  ATLAS_ORG_IDS: `${ORG_A}, ${ORG_B}`,
  ATLAS_CLIENT_ID: 'mdb_sa_id_1234',
  ATLAS_CLIENT_SECRET: 'mdb_sa_sk_secret-value',
  ARCHIVE_BUCKET: 'billing-archive',
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_CHANNEL: 'C0123ABCD',
};

const commandEnv: Env = {
  ATLAS_ORG_IDS: ORG_A,
  ATLAS_PUBLIC_KEY: 'pubkey',
  ATLAS_PRIVATE_KEY: 'private-key-value',
  ARCHIVE_BUCKET: 'billing-archive',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  SLACK_ALLOWED_TEAM_IDS: 'T1DC2JH3J',
};

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadPollConfig', () => {
  it('reads a complete bot-token configuration with defaults', () => {
    const config = loadPollConfig(pollEnv);

    expect(config.orgIds).toEqual([ORG_A, ORG_B]);
    expect(config.atlas).toEqual({
      baseUrl: 'https://cloud.mongodb.com',
      credentials: {
        kind: 'service-account',
        clientId: 'mdb_sa_id_1234',
        clientSecret: 'mdb_sa_sk_secret-value',
      },
    });
    expect(config.archive).toEqual({
      bucket: 'billing-archive',
      prefix: 'atlas-invoices/',
      forcePathStyle: false,
      presignTtlSeconds: 900,
    });
    expect(config.slack).toMatchObject({ kind: 'bot', defaultChannel: 'C0123ABCD', apiUrl: undefined });
    expect(config.concurrency).toBe(4);
  });

  it('carries the spend settings, defaults when none are set', () => {
    expect(loadPollConfig(pollEnv).spend).toEqual({
      budgets: [],
      alertPercents: [50, 80, 100],
      spikePercent: 50,
      spikeMinCents: 10_000,
    });
    const config = loadPollConfig({
      ...pollEnv,
      SPEND_BUDGETS: `${ORG_A}=5000,${ORG_B}/${'c'.repeat(24)}=1200.50`,
      SPEND_ALERT_PERCENTS: '75,100',
    });
    expect(config.spend).toMatchObject({
      budgets: [
        { orgId: ORG_A, projectId: undefined, cents: 500_000 },
        { orgId: ORG_B, projectId: 'c'.repeat(24), cents: 120_050 },
      ],
      alertPercents: [75, 100],
    });
  });

  it('fails at start with one message naming SPEND_BUDGETS when a budget is malformed', () => {
    const error = configError(() => loadPollConfig({ ...pollEnv, SPEND_BUDGETS: `${ORG_A}=lots` }));

    expect(error.variable).toBe('SPEND_BUDGETS');
    expect(error.message).toBe(
      'SPEND_BUDGETS: entry 1 needs a positive amount in US dollars, e.g. 5000 or 1200.50',
    );
  });

  it('routes organisations to their own channels', () => {
    const config = loadPollConfig({ ...pollEnv, SLACK_CHANNEL_ROUTES: `${ORG_B}=C0999ZZZZ` });

    expect(config.slack.kind === 'bot' && config.slack.routes.get(ORG_B)).toBe('C0999ZZZZ');
  });

  it('prefers the webhook when SLACK_WEBHOOK_URL is set', () => {
    const config = loadPollConfig({
      ...pollEnv,
      SLACK_BOT_TOKEN: undefined,
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/xyz',
    });

    expect(config.slack).toEqual({ kind: 'webhook', url: 'https://hooks.slack.com/services/T1/B1/xyz' });
  });

  it('accepts plain http only on loopback', () => {
    expect(loadPollConfig({ ...pollEnv, ATLAS_BASE_URL: 'http://127.0.0.1:4010/' }).atlas.baseUrl).toBe(
      'http://127.0.0.1:4010',
    );
    expect(
      configError(() => loadPollConfig({ ...pollEnv, ATLAS_BASE_URL: 'http://example.com' })).variable,
    ).toBe('ATLAS_BASE_URL');
  });

  it.each([
    [{ ATLAS_ORG_IDS: undefined }, 'ATLAS_ORG_IDS'],
    [{ ATLAS_ORG_IDS: 'not-an-id' }, 'ATLAS_ORG_IDS'],
    [{ ATLAS_CLIENT_SECRET: '' }, 'ATLAS_CLIENT_SECRET'],
    [{ ATLAS_CLIENT_ID: undefined, ATLAS_CLIENT_SECRET: undefined }, 'ATLAS_CLIENT_ID'],
    [{ ARCHIVE_BUCKET: 'Bad_Bucket' }, 'ARCHIVE_BUCKET'],
    [{ ARCHIVE_PREFIX: '/abs/' }, 'ARCHIVE_PREFIX'],
    [{ ARCHIVE_PREFIX: 'no-slash' }, 'ARCHIVE_PREFIX'],
    [{ PRESIGN_TTL_SECONDS: '10' }, 'PRESIGN_TTL_SECONDS'],
    [{ PRESIGN_TTL_SECONDS: '1e3' }, 'PRESIGN_TTL_SECONDS'],
    [{ S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE'],
    [{ SLACK_BOT_TOKEN: 'not-a-token' }, 'SLACK_BOT_TOKEN'],
    [{ SLACK_BOT_TOKEN: undefined }, 'SLACK_BOT_TOKEN'],
    [{ SLACK_CHANNEL: 'general channel' }, 'SLACK_CHANNEL'],
    [{ SLACK_CHANNEL: undefined }, 'SLACK_CHANNEL'],
    [{ SLACK_CHANNEL_ROUTES: `${ORG_A}:C0123ABCD` }, 'SLACK_CHANNEL_ROUTES'],
    [{ SLACK_CHANNEL_ROUTES: '0123456789abcdef01234567=C0123ABCD' }, 'SLACK_CHANNEL_ROUTES'],
    [
      { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/x', SLACK_CHANNEL_ROUTES: `${ORG_A}=C1ABC` },
      'SLACK_CHANNEL_ROUTES',
    ],
    [{ POLL_CONCURRENCY: '0' }, 'POLL_CONCURRENCY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('refuses %o naming %s', (override, variable) => {
    const error = configError(() => loadPollConfig({ ...pollEnv, ...override }));

    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it('never echoes a credential in its errors', () => {
    const error = configError(() => loadPollConfig({ ...pollEnv, SLACK_BOT_TOKEN: 'xoxq-leaked-secret' }));

    expect(error.message).not.toContain('leaked-secret');
  });
});

describe('loadCommandConfig', () => {
  it('reads the access lists and the signing secret', () => {
    const config = loadCommandConfig({ ...commandEnv, SLACK_ALLOWED_USER_IDS: 'U1,U2' });

    expect(config.atlas.credentials).toEqual({
      kind: 'api-key',
      publicKey: 'pubkey',
      privateKey: 'private-key-value',
    });
    expect([...config.slack.access.teamIds]).toEqual(['T1DC2JH3J']);
    expect(config.slack.access.channelIds).toBeUndefined();
    expect([...(config.slack.access.userIds ?? [])]).toEqual(['U1', 'U2']);
    expect(config.pollIntervalMinutes).toBeUndefined();
    expect(loadCommandConfig({ ...commandEnv, POLL_INTERVAL_MINUTES: '30' }).pollIntervalMinutes).toBe(30);
  });

  it.each([
    [{ SLACK_SIGNING_SECRET: undefined }, 'SLACK_SIGNING_SECRET'],
    [{ SLACK_ALLOWED_TEAM_IDS: undefined }, 'SLACK_ALLOWED_TEAM_IDS'],
    [{ SLACK_ALLOWED_TEAM_IDS: 't-lower' }, 'SLACK_ALLOWED_TEAM_IDS'],
    [{ SLACK_ALLOWED_CHANNEL_IDS: ' , ' }, 'SLACK_ALLOWED_CHANNEL_IDS'],
    [{ SLACK_API_URL: 'ftp://x' }, 'SLACK_API_URL'],
    [{ POLL_INTERVAL_MINUTES: 'hourly' }, 'POLL_INTERVAL_MINUTES'],
  ])('refuses %o naming %s', (override, variable) => {
    expect(configError(() => loadCommandConfig({ ...commandEnv, ...override })).variable).toBe(variable);
  });
});

describe('ATLAS_ORG_CREDENTIALS', () => {
  const perOrg = JSON.stringify({
    [ORG_B]: { clientId: 'mdb_sa_id_orgb', clientSecret: 'mdb_sa_sk_orgb-secret-value' },
  });

  it('gives an organisation its own credential and the single pair to the others', () => {
    const config = loadPollConfig({ ...pollEnv, ATLAS_ORG_CREDENTIALS: perOrg });
    const choice = config.atlas.credentials;

    expect(choice.kind).toBe('per-organisation');
    expect(credentialsForOrg(choice, ORG_B)).toEqual({
      credentials: {
        kind: 'service-account',
        clientId: 'mdb_sa_id_orgb',
        clientSecret: 'mdb_sa_sk_orgb-secret-value',
      },
      source: `the ATLAS_ORG_CREDENTIALS entry for ${ORG_B}`,
    });
    expect(credentialsForOrg(choice, ORG_A)).toEqual({
      credentials: {
        kind: 'service-account',
        clientId: 'mdb_sa_id_1234',
        clientSecret: 'mdb_sa_sk_secret-value',
      },
      source: 'ATLAS_CLIENT_ID, ATLAS_CLIENT_SECRET',
    });
  });

  it('accepts API keys per organisation and needs no single pair when every organisation has an entry', () => {
    const config = loadPollConfig({
      ...pollEnv,
      ATLAS_CLIENT_ID: undefined,
      ATLAS_CLIENT_SECRET: undefined,
      ATLAS_ORG_CREDENTIALS: JSON.stringify({
        [ORG_A]: { publicKey: 'pubkeya', privateKey: 'private-key-a' },
        [ORG_B]: { clientId: 'mdb_sa_id_b', clientSecret: 'mdb_sa_sk_b' },
      }),
    });

    expect(credentialsForOrg(config.atlas.credentials, ORG_A)?.credentials).toEqual({
      kind: 'api-key',
      publicKey: 'pubkeya',
      privateKey: 'private-key-a',
    });
    expect(credentialsForOrg(config.atlas.credentials, ORG_B)?.credentials.kind).toBe('service-account');
    expect(credentialsForOrg(config.atlas.credentials, '0123456789abcdef01234567')).toBeUndefined();
  });

  it('refuses an organisation left without any credential, naming it', () => {
    const error = configError(() =>
      loadPollConfig({
        ...pollEnv,
        ATLAS_CLIENT_ID: undefined,
        ATLAS_CLIENT_SECRET: undefined,
        ATLAS_ORG_CREDENTIALS: perOrg,
      }),
    );

    expect(error.variable).toBe('ATLAS_ORG_CREDENTIALS');
    expect(error.message).toContain(`has no entry for organisation ${ORG_A}`);
    expect(error.message).not.toContain(ORG_B);
  });

  it('refuses an entry for an organisation that is not watched', () => {
    const error = configError(() =>
      loadPollConfig({
        ...pollEnv,
        ATLAS_ORG_IDS: ORG_A,
        SLACK_CHANNEL_ROUTES: undefined,
        ATLAS_ORG_CREDENTIALS: perOrg,
      }),
    );

    expect(error.message).toBe(
      `ATLAS_ORG_CREDENTIALS: has an entry for organisation ${ORG_B}, which is not in ATLAS_ORG_IDS`,
    );
  });

  it.each([
    ['not json', 'is not valid JSON'],
    ['["x"]', 'must be a JSON object'],
    ['{"not-an-org": {"clientId": "a", "clientSecret": "leaked-secret"}}', 'key 1 is not a 24-character'],
    [`{"${ORG_A}": {"clientId": "a"}}`, `the entry for organisation ${ORG_A} needs clientSecret`],
    [
      `{"${ORG_A}": {"clientId": "a", "clientSecret": "leaked-secret", "privateKey": "x"}}`,
      'must hold one credential',
    ],
    [`{"${ORG_A}": {"clientId": "a", "clientSecret": "leaked-secret", "token": "x"}}`, 'has "token"'],
    [`{"${ORG_A}": "leaked-secret"}`, 'must be an object'],
    [`{"${ORG_A}": {"publicKey": "pk", "privateKey": 5}}`, 'needs privateKey'],
  ])('refuses %s naming the organisation and field, never a value', (raw, message) => {
    const error = configError(() => loadPollConfig({ ...pollEnv, ATLAS_ORG_CREDENTIALS: raw }));

    expect(error.variable).toBe('ATLAS_ORG_CREDENTIALS');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('leaked-secret');
  });

  it('lists every credential inside it for log redaction', () => {
    const values = credentialValues({ ...pollEnv, ATLAS_ORG_CREDENTIALS: perOrg });

    expect(values).toEqual(
      expect.arrayContaining([
        'mdb_sa_sk_secret-value',
        'mdb_sa_id_orgb',
        'mdb_sa_sk_orgb-secret-value',
        perOrg,
      ]),
    );
  });
});

describe('a deployed function whose secret is not filled yet', () => {
  const deployed: Env = {
    APP_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:atlas-invoice-notifier/prod-AbCdEf',
    ATLAS_ORG_IDS: ORG_A,
    ARCHIVE_BUCKET: 'billing-archive',
    SLACK_CHANNEL: 'C0123ABCD',
    SLACK_ALLOWED_TEAM_IDS: 'T1DC2JH3J',
  };

  it('says so once, naming every missing key of the poller', () => {
    const error = configError(() => loadPollConfig(deployed));

    expect(error.variable).toBe('APP_SECRET_ID');
    expect(error.message).toBe(
      'APP_SECRET_ID: secret not filled yet: missing ATLAS_CLIENT_ID + ATLAS_CLIENT_SECRET (or ATLAS_PUBLIC_KEY + ATLAS_PRIVATE_KEY, or ATLAS_ORG_CREDENTIALS) and SLACK_BOT_TOKEN (or SLACK_WEBHOOK_URL). Put them in the secret (README: Deploy, step 3); every run fails until then',
    );
  });

  it('names only what is still missing, per function', () => {
    const atlasOnly = { ...deployed, ATLAS_CLIENT_ID: 'mdb_sa_id_1', ATLAS_CLIENT_SECRET: 'mdb_sa_sk_1' };

    expect(configError(() => loadPollConfig(atlasOnly)).message).toMatch(
      /secret not filled yet: missing SLACK_BOT_TOKEN \(or SLACK_WEBHOOK_URL\)\./,
    );
    expect(configError(() => loadCommandConfig(atlasOnly)).message).toMatch(
      /secret not filled yet: missing SLACK_SIGNING_SECRET\./,
    );
  });

  it('leaves a half-filled credential to the check that names its variable', () => {
    const error = configError(() =>
      loadPollConfig({ ...deployed, ATLAS_CLIENT_ID: 'mdb_sa_id_1', SLACK_BOT_TOKEN: 'xoxb-1-2-abc' }),
    );

    expect(error.variable).toBe('ATLAS_CLIENT_SECRET');
  });
});

describe('Slack ids', () => {
  it.each([
    [{ SLACK_CHANNEL: '#billing' }, 'SLACK_CHANNEL', 'not a name'],
    [{ SLACK_CHANNEL: 'U0123ABCD' }, 'SLACK_CHANNEL', 'channel id'],
    [{ SLACK_CHANNEL_ROUTES: `${ORG_A}=#billing` }, 'SLACK_CHANNEL_ROUTES', 'entry 1'],
  ])('refuses %o for notifications', (override, variable, message) => {
    const error = configError(() => loadPollConfig({ ...pollEnv, ...override }));

    expect(error.variable).toBe(variable);
    expect(error.message).toContain(message);
  });

  it.each([
    [{ SLACK_ALLOWED_TEAM_IDS: 'C0123ABCD' }, 'SLACK_ALLOWED_TEAM_IDS', 'workspace (team) id'],
    [{ SLACK_ALLOWED_CHANNEL_IDS: 'T0123ABCD' }, 'SLACK_ALLOWED_CHANNEL_IDS', 'channel id'],
    [{ SLACK_ALLOWED_USER_IDS: 'U1,C2' }, 'SLACK_ALLOWED_USER_IDS', 'entry 2 is not a Slack user id'],
  ])('refuses %o for /invoice access', (override, variable, message) => {
    const error = configError(() => loadCommandConfig({ ...commandEnv, ...override }));

    expect(error.variable).toBe(variable);
    expect(error.message).toContain(message);
  });

  it('accepts channel, DM and enterprise user ids where Slack uses them', () => {
    const config = loadCommandConfig({
      ...commandEnv,
      SLACK_ALLOWED_CHANNEL_IDS: 'C0A,G0B,D0C',
      SLACK_ALLOWED_USER_IDS: 'U0A,W0B',
    });

    expect([...(config.slack.access.channelIds ?? [])]).toEqual(['C0A', 'G0B', 'D0C']);
    expect([...(config.slack.access.userIds ?? [])]).toEqual(['U0A', 'W0B']);
  });
});

describe('readSpendConfig', () => {
  const PROJECT = '0123456789abcdef01234567';

  it('has the documented defaults', () => {
    expect(readSpendConfig({ ATLAS_ORG_IDS: ORG_A })).toEqual({
      budgets: [],
      alertPercents: [50, 80, 100],
      spikePercent: 50,
      spikeMinCents: 10_000,
      digestSchedule: 'cron(0 9 ? * MON *)',
    });
  });

  it('reads budgets in integer cents per organisation and project', () => {
    const config = readSpendConfig({
      ATLAS_ORG_IDS: `${ORG_A},${ORG_B}`,
      SPEND_BUDGETS: `${ORG_A}=5000, ${ORG_A}/${PROJECT}=1200.5,${ORG_B}=0.99`,
      SPEND_ALERT_PERCENTS: '100, 75,120,75',
      SPEND_SPIKE_PERCENT: '30',
      SPEND_SPIKE_MIN_USD: '99.95',
      DIGEST_SCHEDULE: 'off',
    });

    expect(config).toEqual({
      budgets: [
        { orgId: ORG_A, projectId: undefined, cents: 500_000 },
        { orgId: ORG_A, projectId: PROJECT, cents: 120_050 },
        { orgId: ORG_B, projectId: undefined, cents: 99 },
      ],
      alertPercents: [75, 100, 120],
      spikePercent: 30,
      spikeMinCents: 9_995,
      digestSchedule: undefined,
    });
  });

  it('accepts rate and cron digest schedules', () => {
    for (const schedule of ['rate(1 day)', 'rate(7 days)', 'cron(30 8 ? * MON-FRI *)']) {
      expect(readSpendConfig({ ATLAS_ORG_IDS: ORG_A, DIGEST_SCHEDULE: schedule }).digestSchedule).toBe(
        schedule,
      );
    }
  });

  it.each([
    [{ SPEND_BUDGETS: `${ORG_A}:5000` }, 'SPEND_BUDGETS', 'entry 1 must look like'],
    [{ SPEND_BUDGETS: `${ORG_A}=-5` }, 'SPEND_BUDGETS', 'positive amount'],
    [{ SPEND_BUDGETS: `${ORG_A}=12.345` }, 'SPEND_BUDGETS', 'positive amount'],
    [{ SPEND_BUDGETS: `${ORG_A}=0` }, 'SPEND_BUDGETS', 'positive amount'],
    [{ SPEND_BUDGETS: `${ORG_B}=10` }, 'SPEND_BUDGETS', 'not in ATLAS_ORG_IDS'],
    [{ SPEND_BUDGETS: `${ORG_A}=10,${ORG_A}=20` }, 'SPEND_BUDGETS', 'entry 2 repeats'],
    [{ SPEND_ALERT_PERCENTS: '50,eighty' }, 'SPEND_ALERT_PERCENTS', 'entry 2'],
    [{ SPEND_ALERT_PERCENTS: '0' }, 'SPEND_ALERT_PERCENTS', 'from 1 to 1000'],
    [{ SPEND_SPIKE_PERCENT: '0' }, 'SPEND_SPIKE_PERCENT', 'from 1 to 10000'],
    [{ SPEND_SPIKE_MIN_USD: '$100' }, 'SPEND_SPIKE_MIN_USD', 'US dollars'],
    [{ DIGEST_SCHEDULE: 'weekly' }, 'DIGEST_SCHEDULE', 'EventBridge schedule'],
    [{ DIGEST_SCHEDULE: 'rate(1 days)' }, 'DIGEST_SCHEDULE', 'EventBridge schedule'],
    [{ DIGEST_SCHEDULE: 'cron(0 9 * * *)' }, 'DIGEST_SCHEDULE', 'EventBridge schedule'],
  ])('refuses %o naming %s', (override, variable, message) => {
    const error = configError(() => readSpendConfig({ ATLAS_ORG_IDS: ORG_A, ...override }));

    expect(error.variable).toBe(variable);
    expect(error.message).toContain(message);
  });
});

describe('checkDeployParameters', () => {
  const good = {
    atlasOrgIds: `${ORG_A},${ORG_B}`,
    slackChannel: 'C0123ABCD',
    slackChannelRoutes: `${ORG_B}=C0999ZZZZ`,
    slackAllowedTeamIds: 'T0123ABCD',
    slackAllowedChannelIds: '',
    slackAllowedUserIds: '',
    pollIntervalMinutes: '15',
    pollConcurrency: '4',
    presignTtlSeconds: '900',
    archivePrefix: 'atlas-invoices/',
    existingSecretArn: '',
    alarmEmail: 'billing@example.com',
    logRetentionInDays: '30',
    noncurrentVersionDays: '730',
    logLevel: 'info',
    staticEgress: 'false',
    vpcSubnetIds: '',
    vpcSecurityGroupIds: '',
    spendBudgets: `${ORG_A}=5000`,
    spendAlertPercents: '50,80,100',
    spendSpikePercent: '50',
    spendSpikeMinUsd: '100',
    digestSchedule: 'cron(0 9 ? * MON *)',
  };

  it('knows every parameter and finds nothing wrong with a sound set', () => {
    expect([...DEPLOY_PARAMETERS].sort()).toEqual(Object.keys(good).sort());
    expect(checkDeployParameters(good)).toEqual([]);
  });

  it('returns one line per bad parameter, in its own words', () => {
    const problems = checkDeployParameters({
      ...good,
      atlasOrgIds: 'nothex',
      slackChannel: '#billing',
      presignTtlSeconds: '99999999',
    });

    expect(problems).toEqual([
      'atlasOrgIds: entry 1 is not a 24-character lower-case hexadecimal id',
      'slackChannel: must be a channel id such as C0123ABCD, not a name (channel details → About, at the bottom)',
      'presignTtlSeconds: must be a whole number from 60 to 604800',
    ]);
  });

  it('requires the organisations and the Slack workspace', () => {
    expect(checkDeployParameters({ ...good, atlasOrgIds: '', slackAllowedTeamIds: '' })).toEqual([
      'atlasOrgIds: is required: comma-separated Atlas organisation ids',
      'slackAllowedTeamIds: is required: list the Slack workspace ids (T...) allowed to see billing data',
    ]);
  });

  it('checks routes and budgets against the watched organisations', () => {
    const other = '0123456789abcdef01234567';

    expect(
      checkDeployParameters({ ...good, slackChannelRoutes: `${other}=C1ABC`, spendBudgets: `${other}=10` }),
    ).toEqual([
      'slackChannelRoutes: entry 1 routes an organisation not in atlasOrgIds',
      'spendBudgets: entry 1 names an organisation not in atlasOrgIds',
    ]);
  });

  it.each([
    [{ staticEgress: 'yes' }, 'staticEgress: must be true or false'],
    [
      { staticEgress: 'true', vpcSubnetIds: 'subnet-0123456789abcdef0', vpcSecurityGroupIds: 'sg-01234567' },
      'staticEgress: cannot be combined with vpcSubnetIds',
    ],
    [{ vpcSubnetIds: 'subnet-0123456789abcdef0' }, 'vpcSubnetIds: needs vpcSecurityGroupIds too'],
    [{ vpcSecurityGroupIds: 'sg-01234567' }, 'vpcSecurityGroupIds: needs vpcSubnetIds too'],
    [
      { vpcSubnetIds: 'subnet-a,subnet-b', vpcSecurityGroupIds: 'sg-01234567' },
      'vpcSubnetIds: entry 1 is not an id like subnet-',
    ],
    [
      {
        vpcSubnetIds: 'subnet-0123456789abcdef0, subnet-0fedcba9876543210',
        vpcSecurityGroupIds: 'sg-01234567',
      },
      'vpcSubnetIds: entry 2 is not an id like subnet-0123456789abcdef0 (separate ids with "," and no spaces)',
    ],
    [{ existingSecretArn: 'my-secret' }, 'existingSecretArn: must be the ARN of a Secrets Manager secret'],
    [{ alarmEmail: 'billing at example.com' }, 'alarmEmail: must be one e-mail address'],
    [{ logRetentionInDays: '31' }, 'logRetentionInDays: must be one of 1, 3, 5'],
    [{ noncurrentVersionDays: '0' }, 'noncurrentVersionDays: must be a whole number of days'],
    [{ pollIntervalMinutes: '1' }, 'pollIntervalMinutes: must be a whole number from 2 to 1440'],
    [{ slackAllowedTeamIds: 'T1,acme' }, 'slackAllowedTeamIds: entry 2 is not a Slack workspace'],
    [{ spendAlertPercents: '50,,x' }, 'spendAlertPercents: entry 2 must be a whole percentage'],
    [{ digestSchedule: 'every monday' }, 'digestSchedule: must be an EventBridge schedule'],
    [{ archivePrefix: '/abs/' }, 'archivePrefix: must be empty or a relative path'],
    [{ logLevel: 'trace' }, 'logLevel: must be one of debug, info, warn, error'],
    [{ atlasOrgId: ORG_A }, 'atlasOrgId: is not a parameter of this stack'],
  ])('refuses %o', (override, line) => {
    const problems = checkDeployParameters({ ...good, ...override });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(line);
  });

  it('accepts an existing VPC and a secret of your own', () => {
    expect(
      checkDeployParameters({
        ...good,
        vpcSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
        vpcSecurityGroupIds: 'sg-0123456789abcdef0',
        existingSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:billing/atlas-AbCdEf',
      }),
    ).toEqual([]);
  });
});
