import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createPollHandler } from '../../functions/poll-invoices';
import { DEMO_SERVICE_ACCOUNT } from '../../infra/local/atlas-sandbox';
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from '../../infra/local/secrets-manager';
import { ConfigError } from '../../lib/errors';
import { createSecretsManagerReader } from '../../lib/secrets';
import { BUCKET, type StandIns, startStandIns } from '../poll/stand-ins';
import { ROOT } from './cloudformation';
import { invokePoll, QUICK, standInDeps } from './poll-handler';

/**
 * Between `serverless deploy` and step 3 of the README (filling the secret), the secret holds exactly what the stack
 * created. The poll then fails (so the alarm fires) with one clear log line naming what is missing, and works on
 * the first run after the secret is filled.
 */
const SECRET_ID = 'atlas-invoice-notifier/prod';
const CHANNEL = 'C0UNFILLED';

/** The SecretString the stack creates (infra/resources/app-secret.yml). */
function createdSecretString(): string {
  const file = parse(readFileSync(path.join(ROOT, 'infra/resources/app-secret.yml'), 'utf8'));
  return String(file.AppSecret.Properties.SecretString);
}

let standIns: StandIns;
let secrets: SecretsManagerStandIn;
let secretsClient: SecretsManagerClient;

beforeAll(async () => {
  [standIns, secrets] = await Promise.all([
    startStandIns({ orgs: [{ name: 'Unfilled Org', invoices: 2 }] }),
    startSecretsManagerStandIn(),
  ]);
  secretsClient = new SecretsManagerClient(secrets.clientConfig());
});

afterAll(async () => {
  secretsClient.destroy();
  await Promise.all([standIns.close(), secrets.close()]);
});

describe('a freshly deployed stack whose secret is not filled yet', () => {
  const logs: string[] = [];
  let handler: ReturnType<typeof createPollHandler>;
  const invoke = () => invokePoll(handler);

  beforeAll(() => {
    const { sandbox, slack } = standIns;
    secrets.setSecret(SECRET_ID, createdSecretString());
    handler = createPollHandler(
      {
        // What serverless.yml puts in the function's environment; the credentials come from the secret only.
        env: {
          APP_SECRET_ID: SECRET_ID,
          ATLAS_ORG_IDS: sandbox.orgIds()[0],
          ATLAS_BASE_URL: sandbox.url,
          ARCHIVE_BUCKET: BUCKET,
          ARCHIVE_PREFIX: 'unfilled/',
          S3_FORCE_PATH_STYLE: 'true',
          SLACK_CHANNEL: CHANNEL,
          SLACK_API_URL: slack.apiUrl,
        },
        secrets: createSecretsManagerReader(secretsClient),
        ...standInDeps(standIns, logs),
      },
      QUICK,
    );
  });

  it('fails each run with one error line that says so and names the missing keys, without a stack trace', async () => {
    await expect(invoke()).rejects.toThrow(ConfigError);
    await expect(invoke()).rejects.toThrow('secret not filled yet');

    const lines = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.level).toBe('error');
      expect(line.error).toEqual({
        name: 'ConfigError',
        variable: 'APP_SECRET_ID',
        message:
          'APP_SECRET_ID: secret not filled yet: missing ATLAS_CLIENT_ID + ATLAS_CLIENT_SECRET (or ATLAS_PUBLIC_KEY + ATLAS_PRIVATE_KEY, or ATLAS_ORG_CREDENTIALS) and SLACK_BOT_TOKEN (or SLACK_WEBHOOK_URL). Put them in the secret (README: Deploy, step 3); every run fails until then',
      });
    }
    expect(logs.join('\n')).not.toMatch(/stack|\bat .*\.ts:\d+/);
  });

  it('polls on the first run after the secret is filled, without a redeploy', async () => {
    const filled = {
      ...JSON.parse(createdSecretString()),
      ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
      ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
      SLACK_BOT_TOKEN: standIns.slack.token,
    };
    secrets.setSecret(SECRET_ID, JSON.stringify(filled));

    const report = await invoke();

    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({ organisations: 1, invoicesSeen: 2, archived: 2, notified: 1 });
    expect(standIns.slack.messagesIn(CHANNEL)).toHaveLength(1);
  });
});
