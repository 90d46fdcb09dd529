import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors';
import { resolveEnv } from '../../lib/secrets';
import { FakeSecrets } from '../support/fakes';

/** The secret `app`, holding `value`. */
const appSecret = (value: string) => new FakeSecrets({ app: value });

describe('resolveEnv', () => {
  it('returns the environment untouched when APP_SECRET_ID is unset', async () => {
    const env = { ATLAS_ORG_IDS: 'x' };
    const reader = new FakeSecrets({ app: '{}' });

    await expect(resolveEnv(env, reader)).resolves.toBe(env);
    expect(reader.reads).toEqual([]);
  });

  it('merges the secret over the environment and ignores empty template values', async () => {
    const reader = new FakeSecrets({
      'arn:aws:secretsmanager:x': JSON.stringify({ ATLAS_CLIENT_SECRET: 'from-secret', SLACK_BOT_TOKEN: '' }),
    });

    const env = await resolveEnv(
      {
        APP_SECRET_ID: 'arn:aws:secretsmanager:x',
        ATLAS_CLIENT_SECRET: 'from-env',
        SLACK_BOT_TOKEN: 'xoxb-env',
      },
      reader,
    );

    expect(env.ATLAS_CLIENT_SECRET).toBe('from-secret');
    expect(env.SLACK_BOT_TOKEN).toBe('xoxb-env');
    expect(reader.reads).toEqual(['arn:aws:secretsmanager:x']);
  });

  it('takes ATLAS_ORG_CREDENTIALS as a JSON object, and an empty one as unset', async () => {
    const perOrg = { '5f1a2b3c4d5e6f708192a3b4': { clientId: 'mdb_sa_id_a', clientSecret: 'mdb_sa_sk_a' } };

    const filled = await resolveEnv(
      { APP_SECRET_ID: 'app' },
      appSecret(JSON.stringify({ ATLAS_ORG_CREDENTIALS: perOrg })),
    );
    const template = await resolveEnv({ APP_SECRET_ID: 'app' }, appSecret('{"ATLAS_ORG_CREDENTIALS": {}}'));

    expect(JSON.parse(filled.ATLAS_ORG_CREDENTIALS ?? '')).toEqual(perOrg);
    expect(template).not.toHaveProperty('ATLAS_ORG_CREDENTIALS');
  });

  it.each([
    ['not json', /not valid JSON/],
    ['["a"]', /JSON object/],
    ['{"ATLAS_CLIENT_SECRET": 5}', /must be a string/],
    ['{"ATLAS_CLIENT_SECRT": "typo-value"}', /ATLAS_CLIENT_SECRT, which is not a setting name/],
    [
      '{"ATLAS_ORG_CREDENTIALS": ["typo-value"]}',
      /ATLAS_ORG_CREDENTIALS: in the secret must be a JSON object/,
    ],
    ['{"SLACK_BOT_TOKEN": {"token": "typo-value"}}', /SLACK_BOT_TOKEN: in the secret must be a string/],
  ])('refuses a malformed secret %s without echoing values', async (raw, message) => {
    const promise = resolveEnv({ APP_SECRET_ID: 'app' }, appSecret(raw));

    await expect(promise).rejects.toThrow(ConfigError);
    await expect(promise).rejects.toThrow(message);
    await expect(promise).rejects.not.toThrow(/typo-value/);
  });
});
