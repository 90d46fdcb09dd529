import { describe, expect, it } from 'vitest';
import { type Env, loadCommandConfig, loadPollConfig } from '../../lib/config';
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
