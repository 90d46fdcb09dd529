import { describe, expect, it } from 'vitest';
import {
  buildHandlerEnv,
  firstListed,
  LOCAL_ARCHIVE_BUCKET,
  planLocalRun,
  type StandInEndpoints,
} from '../../infra/local/local-env';
import { loadCommandConfig, loadPollConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

const ORG = '65f0c0ffee00de0000000001';
const REAL_ORG = 'aaaaaaaaaaaaaaaaaaaaaaa1';

const endpoints: StandInEndpoints = {
  atlas: {
    url: 'http://127.0.0.1:4001',
    orgId: ORG,
    clientId: 'mdb_sa_id_local',
    clientSecret: 'mdb_sa_sk_local',
  },
  s3: {
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4002',
    AWS_ACCESS_KEY_ID: 'AKIALOCAL',
    AWS_SECRET_ACCESS_KEY: 'local-secret',
    AWS_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
  },
  slack: { apiUrl: 'http://127.0.0.1:4003/api/', token: 'xoxb-local', channel: 'C0LOCAL00' },
  teamId: 'T0LOCAL00',
};

const fixedSecret = () => 'generated-signing-secret';

describe('planLocalRun', () => {
  it('uses every stand-in when nothing is configured', () => {
    const plan = planLocalRun({ HOME: '/home/me', PATH: '/usr/bin' });

    expect(plan).toEqual({ atlas: 'sandbox', slack: 'stand-in', archive: 'stand-in', notes: [] });
  });

  it('makes each part real as soon as one of its settings is exported', () => {
    expect(planLocalRun({ ATLAS_ORG_IDS: REAL_ORG }).atlas).toBe('real');
    expect(planLocalRun({ ATLAS_PUBLIC_KEY: 'pk' }).atlas).toBe('real');
    expect(planLocalRun({ ATLAS_ORG_CREDENTIALS: '{}' }).atlas).toBe('real');
    expect(planLocalRun({ SLACK_BOT_TOKEN: 'xoxb-1' }).slack).toBe('bot');
    expect(planLocalRun({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }).slack).toBe(
      'webhook',
    );
    expect(planLocalRun({ ARCHIVE_BUCKET: 'my-bucket' }).archive).toBe('real');
  });

  it('treats blank values as unset', () => {
    expect(planLocalRun({ ATLAS_ORG_IDS: '  ', SLACK_BOT_TOKEN: '', ARCHIVE_BUCKET: ' ' })).toMatchObject({
      atlas: 'sandbox',
      slack: 'stand-in',
      archive: 'stand-in',
    });
  });

  it('notes settings the local run ignores, by name only', () => {
    const plan = planLocalRun({ APP_SECRET_ID: 'arn:secret', SLACK_CHANNEL_ROUTES: `${REAL_ORG}=C1` });

    expect(plan.notes.join('\n')).toContain('APP_SECRET_ID');
    expect(plan.notes.join('\n')).toContain('SLACK_CHANNEL_ROUTES');
    expect(plan.notes.join('\n')).not.toContain('arn:secret');
  });
});

/** What the local run hands the handlers for `userEnv`, planned as the local run plans it, with `fixedSecret`. */
function handlerEnvFor(userEnv: Record<string, string>) {
  return buildHandlerEnv(userEnv, planLocalRun(userEnv), endpoints, fixedSecret);
}

describe('buildHandlerEnv', () => {
  it('points the handlers at the stand-ins and passes their validation', () => {
    const userEnv = { HOME: '/home/me', AWS_PROFILE: 'prod', LOG_LEVEL: 'warn' };

    const { env, localSigningSecret } = handlerEnvFor(userEnv);

    expect(env).toMatchObject({
      ATLAS_ORG_IDS: ORG,
      ATLAS_BASE_URL: 'http://127.0.0.1:4001',
      ATLAS_CLIENT_ID: 'mdb_sa_id_local',
      ARCHIVE_BUCKET: LOCAL_ARCHIVE_BUCKET,
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4002',
      AWS_ACCESS_KEY_ID: 'AKIALOCAL',
      S3_FORCE_PATH_STYLE: 'true',
      SLACK_BOT_TOKEN: 'xoxb-local',
      SLACK_API_URL: 'http://127.0.0.1:4003/api/',
      SLACK_CHANNEL: 'C0LOCAL00',
      SLACK_ALLOWED_TEAM_IDS: 'T0LOCAL00',
      SLACK_SIGNING_SECRET: 'generated-signing-secret',
      LOG_LEVEL: 'warn',
    });
    expect(localSigningSecret).toBe(true);
    expect(env.HOME).toBeUndefined();
    expect(env.AWS_PROFILE).toBeUndefined();
    expect(loadPollConfig(env).orgIds).toEqual([ORG]);
    expect(loadCommandConfig(env).slack.access.teamIds).toEqual(new Set(['T0LOCAL00']));
  });

  it('keeps real settings instead of replacing them', () => {
    const userEnv = {
      ATLAS_ORG_IDS: REAL_ORG,
      ATLAS_CLIENT_ID: 'mdb_sa_id_real',
      ATLAS_CLIENT_SECRET: 'mdb_sa_sk_real',
      SLACK_BOT_TOKEN: 'xoxb-real-token',
      SLACK_CHANNEL: 'C0REAL',
      SLACK_SIGNING_SECRET: 'real-signing-secret',
      SLACK_ALLOWED_TEAM_IDS: 'T0REAL',
      ARCHIVE_BUCKET: 'real-bucket',
      AWS_ACCESS_KEY_ID: 'AKIAREAL',
    };

    const { env, localSigningSecret } = handlerEnvFor(userEnv);

    expect(env).toMatchObject({
      ATLAS_ORG_IDS: REAL_ORG,
      ATLAS_CLIENT_ID: 'mdb_sa_id_real',
      SLACK_BOT_TOKEN: 'xoxb-real-token',
      SLACK_CHANNEL: 'C0REAL',
      SLACK_SIGNING_SECRET: 'real-signing-secret',
      SLACK_ALLOWED_TEAM_IDS: 'T0REAL',
      ARCHIVE_BUCKET: 'real-bucket',
    });
    expect(localSigningSecret).toBe(false);
    expect(env.ATLAS_BASE_URL).toBeUndefined();
    expect(env.SLACK_API_URL).toBeUndefined();
    expect(env.AWS_ENDPOINT_URL_S3).toBeUndefined();
    // The SDK reads the user's own AWS credentials from the process; the handlers' env does not carry them.
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
  });

  it('passes per-organisation credentials to a real Atlas run, and drops them for the sandbox', () => {
    const perOrg = JSON.stringify({
      [REAL_ORG]: { clientId: 'mdb_sa_id_real', clientSecret: 'mdb_sa_sk_real' },
    });

    const real = handlerEnvFor({ ATLAS_ORG_IDS: REAL_ORG, ATLAS_ORG_CREDENTIALS: perOrg }).env;
    const sandbox = buildHandlerEnv(
      { ATLAS_ORG_CREDENTIALS: perOrg },
      { ...planLocalRun({}) },
      endpoints,
      fixedSecret,
    ).env;

    expect(real.ATLAS_ORG_CREDENTIALS).toBe(perOrg);
    expect(loadPollConfig(real).atlas.credentials.kind).toBe('per-organisation');
    expect(sandbox.ATLAS_ORG_CREDENTIALS).toBeUndefined();
    expect(sandbox.ATLAS_CLIENT_ID).toBe('mdb_sa_id_local');
  });

  it('gives the sandbox the demo budget as a stand-in until SPEND_BUDGETS is exported', () => {
    const withDemo: StandInEndpoints = {
      ...endpoints,
      atlas: { ...(endpoints.atlas as NonNullable<StandInEndpoints['atlas']>), spendBudgets: `${ORG}=6000` },
    };

    const standIn = buildHandlerEnv({}, planLocalRun({}), withDemo, fixedSecret);
    const own = buildHandlerEnv({ SPEND_BUDGETS: `${ORG}=900` }, planLocalRun({}), withDemo, fixedSecret);
    const real = buildHandlerEnv(
      { ATLAS_ORG_IDS: REAL_ORG },
      planLocalRun({ ATLAS_ORG_IDS: REAL_ORG }),
      withDemo,
      fixedSecret,
    );

    expect(standIn.standInBudgets).toBe(true);
    expect(loadPollConfig(standIn.env).spend.budgets).toEqual([
      { orgId: ORG, projectId: undefined, cents: 600_000 },
    ]);
    expect(own.standInBudgets).toBe(false);
    expect(own.env.SPEND_BUDGETS).toBe(`${ORG}=900`);
    expect(real.standInBudgets).toBe(false);
    expect(real.env.SPEND_BUDGETS).toBeUndefined();
  });

  it('leaves an invalid real setting for the handlers’ validation to name', () => {
    const userEnv = { ATLAS_ORG_IDS: 'bad' };

    const { env } = handlerEnvFor(userEnv);

    expect(() => loadPollConfig(env)).toThrow(ConfigError);
    expect(() => loadPollConfig(env)).toThrow(/ATLAS_ORG_IDS/);
  });

  it('refuses a plan whose stand-in was not started', () => {
    expect(() => buildHandlerEnv({}, planLocalRun({}), { teamId: 'T0LOCAL00' })).toThrow(/Atlas sandbox/);
  });
});

describe('firstListed', () => {
  it('returns the first id of an allow-list, or the fallback', () => {
    expect(firstListed({ SLACK_ALLOWED_USER_IDS: ' , U1 ,U2' }, 'SLACK_ALLOWED_USER_IDS', 'U0')).toBe('U1');
    expect(firstListed({}, 'SLACK_ALLOWED_USER_IDS', 'U0')).toBe('U0');
  });
});
