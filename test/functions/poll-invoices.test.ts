import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPollHandler, type PollHandler, type PollTestOptions } from '../../functions/poll-invoices';
import { DEMO_SERVICE_ACCOUNT, type OrgSeed } from '../../infra/local/atlas-sandbox';
import { createLambdaContext } from '../../infra/local/lambda-context';
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from '../../infra/local/secrets-manager';
import { csvKey, indexKey, quarantineKey, stateKey } from '../../lib/archive/keys';
import { withS3Timeouts } from '../../lib/archive/s3-client';
import type { Env } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { formatUsd, toAmounts } from '../../lib/invoices/money';
import { PollFailedError, type PollReport } from '../../lib/poll/report';
import { createSecretsManagerReader } from '../../lib/secrets';
import { type StallingProxy, startStallingProxy } from '../poll/stalling-proxy';
import { BUCKET, FAST_RETRY, type StandIns, sandboxCsv, startStandIns } from '../poll/stand-ins';
import { mrkdwnTexts } from '../slack/block-kit-checks';
import { FakeSecrets, sha256 } from '../support/fakes';
import { scheduledEvent } from '../support/lambda';

/**
 * The real handler, built by `createPollHandler` exactly as the module's `handler` is, against the Atlas sandbox, the
 * S3 stand-in (conditional writes enforced) and the Slack stand-in. Atlas and Slack credentials exist only in the
 * secret named by APP_SECRET_ID, read through an in-memory SecretReader; the Secrets Manager stand-in serves the two
 * tests that need its wire protocol (an unknown secret's error, and the exported handler built from the environment).
 */
const HOSTILE_NAME = '<!channel> Ünïcode & Söhne > "Prod"';
const HOSTILE_PROJECTS = [
  '<!here> payments & <@U123>',
  `${'Very long project name '.repeat(20)}end`,
  '東京 — Ω',
];
const LOGS: string[] = [];
/**
 * The sandbox's clock and the handler's: organisations with daily line items accrue usage up to this day, so the
 * spend watch sees the same month whatever day the tests run (no budget is set here, and no spike falls in the days
 * it checks on this date).
 */
const CLOCK_MS = Date.parse('2026-03-18T10:00:00Z');

let standIns: StandIns;
let secrets: SecretsManagerStandIn;
let secretsClient: SecretsManagerClient;
let deploymentCounter = 0;

/** The secrets of every deployment, by id, as Secrets Manager would hold them; records each read. */
const memorySecrets = new FakeSecrets();

/** Handler options for tests: fast retries, a small safety margin and reserve. */
const TEST_OPTIONS: PollTestOptions = {
  atlasRetry: FAST_RETRY,
  slackRetry: FAST_RETRY,
  safetyMarginMs: 1_000,
  reserveMs: 1_000,
};

beforeAll(async () => {
  [standIns, secrets] = await Promise.all([
    startStandIns({ clock: () => CLOCK_MS }),
    startSecretsManagerStandIn(),
  ]);
  secretsClient = new SecretsManagerClient(secrets.clientConfig());
});
afterAll(async () => {
  secretsClient.destroy();
  await Promise.all([standIns.close(), secrets.close()]);
  // Nothing secret ever reached a log line, whichever test wrote it.
  const all = LOGS.join('\n');
  for (const secret of [DEMO_SERVICE_ACCOUNT.clientSecret, standIns.slack.token])
    expect(all).not.toContain(secret);
});

function lambdaContext(remainingMs = 120_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'atlas-invoice-notifier-test-pollInvoices',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:pollInvoices',
    memoryLimitInMB: '1024',
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    logGroupName: '/aws/lambda/pollInvoices',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const EVENT = scheduledEvent('evt-1', 'poll', '2024-07-02T12:00:00Z');

interface Deployment {
  readonly orgIds: string[];
  readonly prefix: string;
  readonly channels: string[];
  readonly logs: string[];
  readonly secretId: string;
  handler: PollHandler;
  invoke(): Promise<PollReport>;
}

/**
 * A fresh set of organisations, a fresh archive prefix and a fresh handler (a cold start). `wireSecrets` reads the
 * secret from the Secrets Manager stand-in through the production reader instead of the in-memory one.
 */
function deploy(
  orgs: OrgSeed[],
  init: {
    env?: Env;
    secret?: Record<string, string>;
    routeFirst?: boolean;
    wireSecrets?: boolean;
    /** Where the handler's S3 client sends its requests (default the S3 stand-in itself). */
    s3Endpoint?: string;
    now?: () => Date;
  } = {},
): Deployment {
  const { sandbox, s3, slack } = standIns;
  deploymentCounter += 1;
  const n = deploymentCounter;
  const orgIds = orgs.map((seed) => sandbox.createOrg(seed).id);
  const prefix = `deploy-${n}/`;
  const secretId = `atlas-invoice-notifier/test-${n}`;
  const secret = JSON.stringify({
    ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
    ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
    SLACK_BOT_TOKEN: slack.token,
    ...init.secret,
  });
  if (init.wireSecrets) secrets.setSecret(secretId, secret);
  else memorySecrets.values.set(secretId, secret);
  const routed = `C0ROUTE${String(n).padStart(3, '0')}`;
  const fallback = `C0DEFLT${String(n).padStart(3, '0')}`;
  const env: Env = {
    APP_SECRET_ID: secretId,
    ATLAS_ORG_IDS: orgIds.join(','),
    ATLAS_BASE_URL: sandbox.url,
    ARCHIVE_BUCKET: BUCKET,
    ARCHIVE_PREFIX: prefix,
    S3_FORCE_PATH_STYLE: 'true',
    SLACK_CHANNEL: fallback,
    SLACK_CHANNEL_ROUTES: init.routeFirst === false ? undefined : `${orgIds[0]}=${routed}`,
    SLACK_API_URL: slack.apiUrl,
    LOG_LEVEL: 'info',
    ...init.env,
  };
  const logs: string[] = [];
  const deployment: Deployment = {
    orgIds,
    prefix,
    channels: orgIds.map((_, i) => (i === 0 && init.routeFirst !== false ? routed : fallback)),
    logs,
    secretId,
    handler: createPollHandler(
      {
        env,
        secrets: init.wireSecrets ? createSecretsManagerReader(secretsClient) : memorySecrets,
        // As the module's handler builds it (withS3Timeouts), pointed at the stand-in.
        s3: ({ forcePathStyle }) =>
          new S3Client(
            withS3Timeouts({ ...s3.clientConfig(), endpoint: init.s3Endpoint ?? s3.url, forcePathStyle }),
          ),
        writeLog: (line) => {
          logs.push(line);
          LOGS.push(line);
        },
        now: init.now ?? (() => new Date(CLOCK_MS)),
      },
      TEST_OPTIONS,
    ),
    invoke: () => deployment.handler(EVENT, lambdaContext()),
  };
  return deployment;
}

function history(name: string, projects?: string[]): OrgSeed {
  return {
    name,
    ...(projects !== undefined ? { projects, lineItems: 'daily' as const } : {}),
    invoices: [
      { statusName: 'PENDING' },
      { statusName: 'CLOSED' },
      { statusName: 'FAILED' },
      { statusName: 'PAID', creditCents: 5_000 },
      { statusName: 'PAID', startingBalanceCents: 1_250 },
      { statusName: 'FORGIVEN' },
    ],
  };
}

const logged = (logs: string[]) => logs.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('first run and an unchanged second run', () => {
  let d: Deployment;
  beforeAll(() => {
    d = deploy([history(HOSTILE_NAME, HOSTILE_PROJECTS), history('Beta Org')]);
  });

  it('archives every CSV byte for byte, writes the index and sends one "now watching" message per organisation', async () => {
    const { sandbox, s3, slack } = standIns;

    const report = await d.invoke();

    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({
      organisations: 2,
      invoicesSeen: 12,
      archived: 12,
      notified: 2,
      errors: 0,
    });
    for (const orgId of d.orgIds) {
      for (const invoice of sandbox.listInvoices(orgId)) {
        const key = csvKey(d.prefix, orgId, invoice.startDate, invoice.id);
        const stored = await s3.getObjectBytes(BUCKET, key);
        expect(stored.equals(await sandboxCsv(sandbox, orgId, invoice.id))).toBe(true);
        const index = JSON.parse(
          (await s3.getObjectBytes(BUCKET, indexKey(d.prefix, invoice.id))).toString(),
        );
        expect(index).toMatchObject({
          invoiceId: invoice.id,
          orgId,
          statusName: invoice.statusName,
          csv: { key },
        });
      }
    }
    const [routed, fallback] = d.channels.map((channel) => slack.messagesIn(channel ?? ''));
    expect(routed?.map((m) => m.text)).toEqual([
      expect.stringMatching(/^Now watching .* 6 invoices, .* 1 with a FAILED payment\.$/),
    ]);
    expect(fallback?.map((m) => m.text)).toEqual([
      expect.stringContaining('Now watching the Atlas invoices of Beta Org'),
    ]);
    // The hostile name arrives escaped: Slack's stand-in accepted the blocks, and no mention survives in mrkdwn
    // (the only tokens left are the message's own: the suspension dates and the link to the Atlas billing page).
    expect(routed?.[0]?.text).toContain('&lt;!channel&gt; Ünïcode &amp; Söhne &gt; "Prod"');
    const ownTokens =
      /<!date\^\d+\^\{date_short_pretty\}\|[^<>|]+>|<https:\/\/cloud\.mongodb\.com\/[^<>|\s]+\|[^<>|]+>/g;
    expect(
      mrkdwnTexts({ text: '', blocks: routed?.[0]?.blocks }).filter((text) =>
        /[<>]/.test(text.replace(ownTokens, '')),
      ),
    ).toEqual([]);
  });

  it('downloads no CSV, writes nothing to S3 and posts nothing to Slack when nothing changed', async () => {
    const { sandbox, s3, slack } = standIns;
    sandbox.resetRequests();
    s3.resetRequests();
    slack.reset();

    const report = await d.invoke();

    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({ changed: 0, archived: 0, notified: 0 });
    expect(sandbox.requests.filter((r) => r.path.endsWith('/csv'))).toEqual([]);
    expect(s3.requests.map((r) => [r.operation, r.key]).sort()).toEqual(
      d.orgIds.map((orgId) => ['GetObject', stateKey(d.prefix, orgId)]).sort(),
    );
    expect(slack.requests).toEqual([]);
  });

  it('read the credentials from the secret once for the cold start', () => {
    const reads = memorySecrets.reads.filter((secretId) => secretId === d.secretId);
    expect(reads).toHaveLength(1);
  });
});

describe('status transitions', () => {
  let d: Deployment;
  const invoiceOf = (status: string) => {
    const invoice = standIns.sandbox.listInvoices(d.orgIds[0] ?? '').find((i) => i.statusName === status);
    if (invoice === undefined) throw new Error(`no ${status} invoice`);
    return invoice;
  };
  const newMessages = async () => {
    const { slack } = standIns;
    const before = slack.messages.length;
    const report = await d.invoke();
    expect(report.ok).toBe(true);
    return slack.messages.slice(before);
  };

  beforeAll(async () => {
    d = deploy([history(HOSTILE_NAME, HOSTILE_PROJECTS)]);
    await d.invoke();
  });

  it('posts exactly one message, in the routed channel, with the amounts, when an invoice is paid', async () => {
    const closed = invoiceOf('CLOSED');
    const paid = standIns.sandbox.setStatus(d.orgIds[0] ?? '', closed.id, 'PAID');

    const messages = await newMessages();

    const amounts = toAmounts(
      standIns.sandbox.listInvoices(d.orgIds[0] ?? '').find((i) => i.id === paid.id) ?? paid,
    );
    expect(messages.map((m) => [m.channel, m.text])).toEqual([
      [
        d.channels[0],
        expect.stringContaining(`is now PAID (was CLOSED): ${formatUsd(amounts.amountPaidCents)} paid.`),
      ],
    ]);
    const blocks = JSON.stringify(messages[0]?.blocks);
    expect(blocks).toContain(`Paid ${formatUsd(amounts.amountPaidCents)} in full`);
    expect(blocks).toContain('Top projects');
    expect(blocks).toContain('&lt;!here&gt; payments &amp; &lt;@U123&gt;');
    expect(blocks).toContain(`"value":"${d.orgIds[0]}:${closed.id}"`);
  });

  it('marks a failed payment as urgent', async () => {
    const pending = invoiceOf('PENDING');
    standIns.sandbox.setStatus(d.orgIds[0] ?? '', pending.id, 'FAILED');

    const messages = await newMessages();

    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toMatch(
      /^Payment failed: the Atlas invoice of .* is now FAILED \(was PENDING\)/,
    );
    expect(messages[0]?.blocks?.[0]).toMatchObject({
      type: 'header',
      text: { text: expect.stringMatching(/^:rotating_light: Payment failed/) },
    });
    expect(JSON.stringify(messages[0]?.blocks)).toMatch(/30 days.*suspended.*60 days.*locked/);
  });

  it('announces a new invoice, and archives an updated-only pending invoice without a message', async () => {
    const { sandbox, s3 } = standIns;
    const orgId = d.orgIds[0] ?? '';
    const added = sandbox.addInvoice(orgId);
    expect((await newMessages()).map((m) => m.text)).toEqual([expect.stringContaining('so far this cycle.')]);
    const key = csvKey(d.prefix, orgId, added.startDate, added.id);
    const touched = sandbox.touch(orgId, added.id);

    const messages = await newMessages();

    expect(messages).toEqual([]);
    expect(s3.listVersions(BUCKET, key)).toHaveLength(2);
    expect((await s3.getObjectBytes(BUCKET, key)).equals(await sandboxCsv(sandbox, orgId, added.id))).toBe(
      true,
    );
    expect(touched.statusName).toBe('PENDING');
    // The object's metadata holds facts about its bytes only: their hash, not the invoice's changing dates.
    expect(s3.headObject(BUCKET, key)?.metadata).toEqual({
      'invoice-id': added.id,
      'org-id': orgId,
      sha256: sha256(await sandboxCsv(sandbox, orgId, added.id)),
    });
  });
});

describe('faults', () => {
  let d: Deployment;
  const orgId = () => d.orgIds[0] ?? '';
  const closeOne = () => {
    const invoice = standIns.sandbox.listInvoices(orgId()).find((i) => i.statusName === 'PAID');
    if (invoice === undefined) throw new Error('no PAID invoice left');
    return standIns.sandbox.setStatus(orgId(), invoice.id, 'FORGIVEN');
  };
  const messagesFor = (invoiceId: string) =>
    standIns.slack
      .messagesIn(d.channels[0] ?? '')
      .filter((m) => JSON.stringify(m.blocks).includes(invoiceId));

  beforeAll(async () => {
    d = deploy([
      {
        name: 'Fault Org',
        invoices: [
          { statusName: 'PENDING' },
          { statusName: 'PAID' },
          { statusName: 'PAID' },
          { statusName: 'PAID' },
          { statusName: 'PAID' },
        ],
      },
    ]);
    await d.invoke();
  });

  it('recovers from Atlas 429 and 5xx by retrying', async () => {
    const { sandbox } = standIns;
    const changed = closeOne();
    sandbox.resetRequests();
    sandbox.injectFault({
      match: { path: '/invoices', method: 'GET' },
      status: 429,
      errorCode: 'RATE_LIMITED',
      retryAfterSeconds: 0,
    });
    sandbox.injectFault({ match: { path: '/csv' }, status: 503 });

    const report = await d.invoke();

    expect(report.ok).toBe(true);
    expect(sandbox.requests.map((r) => r.status)).toEqual(expect.arrayContaining([429, 503]));
    expect(messagesFor(changed.id)).toHaveLength(1);
  });

  it('fails the run on an S3 write failure, and the next run archives and notifies exactly once', async () => {
    const { s3, sandbox } = standIns;
    const changed = sandbox.addInvoice(orgId());
    s3.failNext({ operation: 'PutObject', keyPrefix: `${d.prefix}${orgId()}/`, status: 500, times: 10 });

    await expect(d.invoke()).rejects.toThrow(PollFailedError);
    expect(messagesFor(changed.id)).toEqual([]);
    s3.clearFaults();
    const report = await d.invoke();

    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({ archived: 1, notified: 1 });
    expect(messagesFor(changed.id)).toHaveLength(1);
    const failure = logged(d.logs).find((line) => line.message === 'poll failed');
    expect(failure).toMatchObject({
      level: 'error',
      failures: [
        expect.objectContaining({
          orgId: orgId(),
          step: 'archive',
          invoiceId: changed.id,
          error: 'ArchiveError',
        }),
      ],
    });
  });

  it('recovers from Slack 429 (honouring Retry-After) and 503', async () => {
    const { slack } = standIns;
    const changed = closeOne();
    slack.failNext({ method: 'chat.postMessage', status: 429, retryAfterSeconds: 1 });
    slack.failNext({ method: 'chat.postMessage', status: 503 });

    const report = await d.invoke();

    expect(report.ok).toBe(true);
    expect(messagesFor(changed.id)).toHaveLength(1);
    expect(slack.requests.slice(-3).map((r) => r.status)).toEqual([429, 503, 200]);
  });

  it('does not post again in the run after a 500, which may have been posted, and posts it in the next run', async () => {
    const { slack } = standIns;
    const changed = closeOne();
    slack.failNext({ method: 'chat.postMessage', status: 500 });
    const before = slack.requests.length;

    await expect(d.invoke()).rejects.toThrow(PollFailedError);
    expect(slack.requests.slice(before).map((r) => [r.status, r.error])).toEqual([[500, 'fatal_error']]);
    const report = await d.invoke();

    expect(report.totals).toMatchObject({ notified: 1, errors: 0 });
    expect(messagesFor(changed.id)).toHaveLength(1);
  });

  it('reports channel_not_found without retrying or leaking the token, and delivers on the next run', async () => {
    const { slack, s3 } = standIns;
    const changed = closeOne();
    slack.failNext({ method: 'chat.postMessage', error: 'channel_not_found' });
    const before = slack.requests.length;

    const failed = d.invoke();

    await expect(failed).rejects.toThrow(PollFailedError);
    await expect(failed).rejects.toThrow(`${orgId()} (1 error: notify)`);
    expect(slack.requests.slice(before).map((r) => r.error)).toEqual(['channel_not_found']);
    const failure = logged(d.logs)
      .filter((line) => line.message === 'poll failed')
      .at(-1);
    expect(JSON.stringify(failure)).toContain(
      `Slack refused the message to channel ${d.channels[0]} permanently: channel_not_found`,
    );
    s3.resetRequests();
    const report = await d.invoke();

    expect(report.totals).toMatchObject({ archived: 0, identical: 0, notified: 1 });
    expect(messagesFor(changed.id)).toHaveLength(1);
    expect(s3.requests.filter((r) => r.operation === 'PutObject').map((r) => r.key)).toEqual([
      stateKey(d.prefix, orgId()),
    ]);
  });
});

describe('configuration', () => {
  it('fails clearly, and once in the log, when the secret does not exist', async () => {
    const d = deploy([history('Config Org')], {
      env: { APP_SECRET_ID: 'no/such/secret' },
      wireSecrets: true,
    });

    const attempt = d.invoke();

    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(
      'APP_SECRET_ID: could not read the secret (ResourceNotFoundException)',
    );
    expect(logged(d.logs).filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it.each([
    ['a missing ATLAS_ORG_IDS', { env: { ATLAS_ORG_IDS: '' } }, 'ATLAS_ORG_IDS: is required'],
    [
      'a malformed route',
      { env: { SLACK_CHANNEL_ROUTES: 'nonsense' } },
      'SLACK_CHANNEL_ROUTES: entry 1 must look like',
    ],
    [
      'an unknown key in the secret',
      { secret: { ATLAS_CLIENTSECRET: 'typo' } },
      'the secret holds ATLAS_CLIENTSECRET',
    ],
    [
      'a bad bot token in the secret',
      { secret: { SLACK_BOT_TOKEN: 'not-a-token' } },
      'SLACK_BOT_TOKEN: must be a bot token',
    ],
    [
      'a malformed budget',
      { env: { SPEND_BUDGETS: 'production=5000' } },
      'SPEND_BUDGETS: entry 1 must look like <orgId>=<USD> or <orgId>/<projectId>=<USD>',
    ],
  ])('fails naming the setting for %s', async (_case, init, message) => {
    const d = deploy([history('Config Org')], init);
    const { sandbox, s3, slack } = standIns;
    const before = [sandbox.requests.length, s3.requests.length, slack.requests.length];

    await expect(d.invoke()).rejects.toThrow(message);
    // Refused before any work: no call reached Atlas, S3 or Slack.
    expect([sandbox.requests.length, s3.requests.length, slack.requests.length]).toEqual(before);
    expect(logged(d.logs).map((l) => [l.level, l.message])).toEqual([
      ['error', 'poll could not start: configuration failed'],
    ]);
  });

  it('tries the configuration again on the next invocation after a failure', async () => {
    const d = deploy([history('Retry Org')], { secret: { ATLAS_CLIENTSECRET: 'typo' } });
    await expect(d.invoke()).rejects.toThrow(ConfigError);
    memorySecrets.values.set(
      d.secretId,
      JSON.stringify({
        ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
        ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
        SLACK_BOT_TOKEN: standIns.slack.token,
      }),
    );

    const report = await d.invoke();

    expect(report.ok).toBe(true);
  });
});

describe('incoming webhook delivery', () => {
  it('posts through the webhook named in the secret, and stops at a 404 channel_not_found', async () => {
    const { slack } = standIns;
    const hook = slack.webhookUrl('C0HOOK001');
    const d = deploy([history('Hook Org')], {
      env: { SLACK_CHANNEL_ROUTES: '', SLACK_CHANNEL: '' },
      secret: { SLACK_WEBHOOK_URL: hook, SLACK_BOT_TOKEN: '' },
      routeFirst: false,
    });

    await d.invoke();
    const closed = standIns.sandbox.listInvoices(d.orgIds[0] ?? '').find((i) => i.statusName === 'CLOSED');
    standIns.sandbox.setStatus(d.orgIds[0] ?? '', closed?.id ?? '', 'PAID');
    slack.failNext({ method: 'webhook', error: 'channel_not_found' });
    const failed = d.invoke();

    await expect(failed).rejects.toThrow(PollFailedError);
    expect(slack.messagesIn('C0HOOK001').map((m) => [m.kind, m.text?.slice(0, 13)])).toEqual([
      ['webhook', 'Now watching '],
    ]);
    expect(d.logs.join('\n')).not.toContain(new URL(hook).pathname);
  });
});

describe('the exported handler', () => {
  it('builds its clients from the environment alone, as on Lambda', async () => {
    const { sandbox, s3, slack } = standIns;
    const orgId = sandbox.createOrg({ name: 'Env Org', invoices: 2 }).id;
    secrets.setSecret(
      'atlas-invoice-notifier/env',
      JSON.stringify({
        ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
        ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
        SLACK_BOT_TOKEN: slack.token,
      }),
    );
    const env: Record<string, string> = {
      ...s3.env(),
      ...secrets.env(),
      APP_SECRET_ID: 'atlas-invoice-notifier/env',
      ATLAS_ORG_IDS: orgId,
      ATLAS_BASE_URL: sandbox.url,
      ARCHIVE_BUCKET: BUCKET,
      ARCHIVE_PREFIX: 'env-only/',
      SLACK_CHANNEL: 'C0ENVONLY',
      SLACK_API_URL: slack.apiUrl,
      LOG_LEVEL: 'error',
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    vi.resetModules();
    try {
      const { handler } = await import('../../functions/poll-invoices');

      const report = await handler(EVENT, lambdaContext());

      expect(report.ok).toBe(true);
      expect(slack.messagesIn('C0ENVONLY')).toHaveLength(1);
      expect(s3.listKeys(BUCKET, `env-only/${orgId}/`)).toHaveLength(2);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('a poll never outlives its Lambda', () => {
  let proxy: StallingProxy;
  beforeAll(async () => {
    proxy = await startStallingProxy(standIns.s3.url);
  });
  afterAll(async () => {
    await proxy.close();
  });

  /** A Lambda context whose remaining time falls with the clock: 6 s, of which the handler keeps back 1 s. */
  const shortLambda = () => createLambdaContext({ functionName: 'pollInvoices', timeoutMs: 6_000 });
  const messagesAbout = (d: Deployment, invoiceId: string) =>
    standIns.slack
      .messagesIn(d.channels[0] ?? '')
      .filter((m) => JSON.stringify(m.blocks).includes(invoiceId));
  const failureOf = async (attempt: Promise<PollReport>) => {
    const error = await attempt.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(PollFailedError);
    return (error as PollFailedError).report;
  };

  it('stops itself before the timeout when the state save is never answered; the next run repeats its message once', async () => {
    const { sandbox } = standIns;
    const d = deploy([history('Stalled Save Org')], { s3Endpoint: proxy.url });
    await d.invoke();
    const orgId = d.orgIds[0] ?? '';
    const closed = sandbox.listInvoices(orgId).find((i) => i.statusName === 'CLOSED');
    if (closed === undefined) throw new Error('no CLOSED invoice');
    sandbox.setStatus(orgId, closed.id, 'PAID');
    proxy.stall({ method: 'PUT', path: new RegExp(`^/${BUCKET}/${d.prefix}state/${orgId}\\.json$`) });
    const context = shortLambda();

    const report = await failureOf(d.handler(EVENT, context));

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(report.orgs[0]?.errors).toEqual([
      { step: 'save', error: 'DeadlineError', message: 'deadline passed during save' },
    ]);
    expect(messagesAbout(d, closed.id)).toHaveLength(1);
    const next = await d.invoke();
    const after = await d.invoke();

    expect(next.totals).toMatchObject({ statusChanges: 1, notified: 1, errors: 0 });
    expect(after.totals).toMatchObject({ changed: 0, notified: 0 });
    // The one repeat allowed: posted by the run whose save was cut off, then by the run that recorded it.
    expect(messagesAbout(d, closed.id)).toHaveLength(2);
  });

  it('aborts a CSV upload that is never answered before the timeout, leaving no multipart upload; the next run archives and announces once', async () => {
    const { sandbox, s3 } = standIns;
    const d = deploy([history('Stalled Upload Org')], { s3Endpoint: proxy.url });
    await d.invoke();
    const orgId = d.orgIds[0] ?? '';
    const added = sandbox.addInvoice(orgId);
    sandbox.setCsvSize(orgId, added.id, 2 * 5 * 1024 * 1024 + 777);
    const key = csvKey(d.prefix, orgId, added.startDate, added.id);
    proxy.stall({
      method: 'PUT',
      path: new RegExp(`^/${BUCKET}/${key}$`),
      query: { name: 'partNumber', value: '2' },
    });
    const context = shortLambda();

    const report = await failureOf(d.handler(EVENT, context));
    const abortedBeforeReturn = s3.requests.filter(
      (r) => r.operation === 'AbortMultipartUpload' && r.key === key && r.status === 204,
    );

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(report.orgs[0]?.errors).toEqual([
      expect.objectContaining({ step: 'archive', invoiceId: added.id, error: 'DeadlineError' }),
    ]);
    expect(abortedBeforeReturn).toHaveLength(1);
    expect(s3.openUploads(BUCKET, d.prefix)).toEqual([]);
    expect(s3.listKeys(BUCKET, key)).toEqual([]);
    expect(messagesAbout(d, added.id)).toEqual([]);

    const next = await d.invoke();

    expect(next.totals).toMatchObject({ newInvoices: 1, archived: 1, notified: 1, errors: 0 });
    expect((await s3.getObjectBytes(BUCKET, key)).equals(await sandboxCsv(sandbox, orgId, added.id))).toBe(
      true,
    );
    expect(messagesAbout(d, added.id)).toHaveLength(1);
  });
});

describe('a state object that cannot be read', () => {
  it.each([
    ['truncated by hand', () => '{"version":1,"orgId":'],
    ['from a future version', (orgId: string) => JSON.stringify({ version: 2, orgId, invoices: {} })],
  ])(
    'is moved aside and the organisation re-baselined with one notice when it is %s',
    async (_case, body) => {
      const { sandbox, s3, slack } = standIns;
      const at = new Date('2024-07-02T12:00:00Z');
      const d = deploy([history('Reset Org')], { now: () => at });
      await d.invoke();
      const orgId = d.orgIds[0] ?? '';
      const key = stateKey(d.prefix, orgId);
      const corrupt = body(orgId);
      await s3.putObject(BUCKET, key, corrupt);
      const pending = sandbox.listInvoices(orgId).find((i) => i.statusName === 'PENDING');
      if (pending === undefined) throw new Error('no PENDING invoice');
      sandbox.setStatus(orgId, pending.id, 'CLOSED');
      const before = slack.messages.length;

      const report = await d.invoke();

      const movedTo = quarantineKey(d.prefix, orgId, at);
      expect(report.ok).toBe(true);
      expect(report.orgs[0]).toMatchObject({ stateReset: movedTo, saved: true });
      expect((await s3.getObjectBytes(BUCKET, movedTo)).toString()).toBe(corrupt);
      const state = JSON.parse((await s3.getObjectBytes(BUCKET, key)).toString());
      expect(state.invoices[pending.id]).toMatchObject({ statusName: 'CLOSED', notifiedStatus: 'CLOSED' });
      expect(Object.keys(state.invoices).sort()).toEqual(
        sandbox
          .listInvoices(orgId)
          .map((i) => i.id)
          .sort(),
      );
      const messages = slack.messages.slice(before);
      expect(messages.map((m) => m.text)).toEqual([
        expect.stringMatching(
          /^The saved invoice state of Reset Org could not be read and was reset: 6 invoices/,
        ),
      ]);
      expect(logged(d.logs)).toContainEqual(expect.objectContaining({ level: 'error', movedTo, orgId }));

      const next = await d.invoke();

      expect(next.totals).toMatchObject({ changed: 0, notified: 0, stateResets: 0 });
    },
  );
});
