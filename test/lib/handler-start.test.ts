import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type Env, loadPollConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { createHandlerStart } from '../../lib/handler-start';
import type { Logger } from '../../lib/log';
import { FakeSecrets } from '../support/fakes';

const ORG = '5f1a2b3c4d5e6f708192a3b4';
const CLIENT_SECRET = 'mdb_sa_sk_not-a-real-secret-0001';
const ENV: Env = {
  ATLAS_ORG_IDS: ORG,
  ATLAS_CLIENT_ID: 'mdb_sa_id_0001',
  ARCHIVE_BUCKET: 'invoices',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/not-a-real-hook',
  APP_SECRET_ID: 'app-secret',
};

function startWith(secrets: FakeSecrets) {
  const lines: Record<string, unknown>[] = [];
  const built: { orgIds: readonly string[]; log: Logger; s3: S3Client }[] = [];
  const pathStyles: boolean[] = [];
  const start = createHandlerStart(
    {
      env: ENV,
      secrets,
      writeLog: (line) => lines.push(JSON.parse(line)),
      s3: ({ forcePathStyle }) => {
        pathStyles.push(forcePathStyle);
        return new S3Client({ region: 'us-east-1', forcePathStyle });
      },
    },
    { fn: 'poll-invoices', title: 'poll', loadConfig: loadPollConfig },
    (config, { s3, log }) => {
      const services = { orgIds: config.orgIds, log, s3 };
      built.push(services);
      return services;
    },
  );
  return { start, lines, built, pathStyles };
}

describe('createHandlerStart', () => {
  it('reads the secret and builds the services once per cold start, the S3 client with the path style set', async () => {
    const secrets = new FakeSecrets({
      'app-secret': JSON.stringify({ ATLAS_CLIENT_SECRET: CLIENT_SECRET, S3_FORCE_PATH_STYLE: 'true' }),
    });
    const { start, built, pathStyles } = startWith(secrets);

    const [first, second] = await Promise.all([start('req-1'), start('req-2')]);
    const third = await start('req-3');

    expect(secrets.reads).toEqual(['app-secret']);
    expect(built).toHaveLength(1);
    expect(first).toBe(second);
    expect(third).toBe(first);
    expect(first.orgIds).toEqual([ORG]);
    expect(pathStyles).toEqual([true]);
    expect(first.s3.config.forcePathStyle).toBe(true);
  });

  it('gives the services a logger that names the function and redacts the secret', async () => {
    const { start, lines } = startWith(
      new FakeSecrets({ 'app-secret': JSON.stringify({ ATLAS_CLIENT_SECRET: CLIENT_SECRET }) }),
    );

    const { log } = await start();
    log.info('hello', { echoed: `key ${CLIENT_SECRET}` });

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'hello',
        fn: 'poll-invoices',
        echoed: 'key [redacted]',
      }),
    ]);
  });

  it('logs a failed start once per invocation with its request id, rethrows it, and tries again next time', async () => {
    const secrets = new FakeSecrets({ 'app-secret': '{"ATLAS_CLIENTSECRET": "typo"}' });
    const { start, lines, built } = startWith(secrets);

    await expect(start('req-1')).rejects.toThrow(ConfigError);
    secrets.values.set('app-secret', JSON.stringify({ ATLAS_CLIENT_SECRET: CLIENT_SECRET }));
    const services = await start('req-2');

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'poll could not start: configuration failed',
        fn: 'poll-invoices',
        requestId: 'req-1',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('typo');
    expect(secrets.reads).toEqual(['app-secret', 'app-secret']);
    expect(built).toEqual([services]);
  });
});
