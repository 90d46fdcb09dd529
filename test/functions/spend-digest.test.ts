import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDigestHandler,
  type DigestHandlerDeps,
  handler as lambdaHandler,
} from '../../functions/spend-digest';
import { createLambdaContext } from '../../infra/local/lambda-context';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { type SlackStandIn, startSlackStandIn } from '../../infra/local/slack';
import { validateBlocks } from '../../infra/local/slack/block-kit';
import { spendChartKey } from '../../lib/archive/keys';
import { createSpendStore } from '../../lib/archive/spend-store';
import { createStateStore } from '../../lib/archive/state-store';
import { DigestFailedError } from '../../lib/digest/run-digest';
import { ConfigError } from '../../lib/errors';
import type { SpendRecord } from '../../lib/spend/spend-record';
import { orgState, stateEntry } from '../command/fixtures';
import { seriesOf } from '../spend/support';
import { scheduledEvent } from '../support/lambda';

// The real handler against the S3 stand-in (the records and charts as the poller stores them) and the Slack stand-in
// (Web API, file uploads, webhooks). November 2026 seen on the 20th at 10:00 UTC: 18 complete days, 12 to forecast.
// ORG_1 spends $100.00 a day (October: $90.00 a day), ORG_2 $50.00, ORG_3 $20.00.
const NOW = Date.parse('2026-11-20T10:00:00Z');
const BUCKET = 'atlas-archive';
const PREFIX = 'atlas-invoices/';
const ORG_1 = '65f0c0ffee00de00000000a1';
const ORG_2 = '65f0c0ffee00de00000000b2';
const ORG_3 = '65f0c0ffee00de00000000c3';
const BILLING = 'C0BILLING';
const FINANCE = 'C0FINANCE';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);

const EVENT = scheduledEvent('evt-digest', 'digest', '2026-11-20T09:00:00Z');

let s3: S3StandIn;
let slack: SlackStandIn;
let logs: string[] = [];

function november(orgId: string, dailyCents: number): SpendRecord {
  return { orgId, final: false, series: seriesOf('2026-11-01', Array(18).fill(dailyCents), { days: 30 }) };
}

const pending = stateEntry({
  statusName: 'PENDING',
  startDate: '2026-11-01T00:00:00Z',
  endDate: '2026-12-01T00:00:00Z',
  archived: undefined,
});

beforeAll(async () => {
  [s3, slack] = await Promise.all([
    startS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] }),
    startSlackStandIn(),
  ]);
  const client = new S3Client(s3.clientConfig());
  const spend = createSpendStore({ s3: client, bucket: BUCKET, prefix: PREFIX });
  const states = createStateStore({ s3: client, bucket: BUCKET, prefix: PREFIX });
  await spend.writeSpend(november(ORG_1, 10_000), '2026-11', undefined);
  await spend.writeSpend(
    {
      orgId: ORG_1,
      final: true,
      series: seriesOf('2026-10-01', Array(31).fill(9_000), { days: 31, lastUsageDay: 31 }),
    },
    '2026-10',
    undefined,
  );
  await spend.writeSpend(november(ORG_2, 5_000), '2026-11', undefined);
  await spend.writeSpend(november(ORG_3, 2_000), '2026-11', undefined);
  await states.writeState(orgState(ORG_1, { ['1'.repeat(24)]: pending }, 'Acme & <Sons>'), undefined);
  await states.writeState(orgState(ORG_2, { ['2'.repeat(24)]: pending }, '<!channel> Beta'), undefined);
  for (const orgId of [ORG_1, ORG_3]) {
    await s3.putObject(BUCKET, spendChartKey(PREFIX, orgId, '2026-11'), PNG, { contentType: 'image/png' });
  }
  client.destroy();
});

afterAll(async () => {
  await Promise.all([s3?.close(), slack?.close()]);
});

beforeEach(() => {
  slack.reset();
  logs = [];
});

function deps(env: Record<string, string | undefined> = {}): DigestHandlerDeps {
  return {
    env: {
      ATLAS_ORG_IDS: `${ORG_1},${ORG_2},${ORG_3}`,
      ARCHIVE_BUCKET: BUCKET,
      ARCHIVE_PREFIX: PREFIX,
      S3_FORCE_PATH_STYLE: 'true',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL: BILLING,
      SLACK_CHANNEL_ROUTES: `${ORG_3}=${FINANCE}`,
      SPEND_BUDGETS: `${ORG_1}=2500`,
      ...env,
    },
    s3: ({ forcePathStyle }) => new S3Client({ ...s3.clientConfig(), forcePathStyle }),
    writeLog: (line) => logs.push(line),
    now: () => NOW,
  };
}

const FAST = {
  slackRetry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  fileProcessingDelaysMs: [5, 10],
};

function invoke(d: DigestHandlerDeps = deps(), options = FAST) {
  return createDigestHandler(d, options)(
    EVENT,
    createLambdaContext({ functionName: 'spendDigest', timeoutMs: 60_000 }),
  );
}

/** Every mrkdwn and plain text of a message. */
function textOf(message: { text?: string | undefined; blocks?: readonly unknown[] | undefined }): string {
  return `${message.text ?? ''}\n${JSON.stringify(message.blocks ?? [])}`;
}

function images(message: { blocks?: readonly unknown[] | undefined }) {
  return (message.blocks ?? []).filter((b) => (b as { type: string }).type === 'image') as Array<{
    slack_file?: { id: string };
    image_url?: string;
    alt_text: string;
  }>;
}

describe('the spend digest with a bot token', () => {
  it('posts one digest per channel with each organisation routed there and their total', async () => {
    const report = await invoke();

    expect(report.ok).toBe(true);
    expect(slack.messages.map((m) => [m.kind, m.channel])).toEqual([
      ['chat.postMessage', BILLING],
      ['chat.postMessage', FINANCE],
    ]);
    const [billing] = slack.messagesIn(BILLING);
    const [finance] = slack.messagesIn(FINANCE);
    const billingText = textOf(billing ?? {});
    expect(billingText).toContain('Atlas spend, November 2026');
    expect(billingText).toContain(
      '*All 2 organisations in this channel:* *$2,700.00* month-to-date → forecast *$4,500.00*.',
    );
    expect(billingText).toContain(
      '*All 3 watched organisations:* *$3,060.00* month-to-date → forecast *$5,100.00*.',
    );
    expect(billingText).toContain(
      'Forecast: $1,800.00 month-to-date (Nov 1–18) + 12 days × $100.00/day = *$3,000.00*',
    );
    expect(billingText).toContain('Last month $2,790.00 (forecast 7.5% higher)');
    expect(billingText).toContain('Budget $2,500.00 (forecast 120.0%, over by $500.00)');
    expect(billingText).toContain(
      'Forecast: $900.00 month-to-date (Nov 1–18) + 12 days × $50.00/day = *$1,500.00*',
    );
    expect(billingText).not.toContain(ORG_3);
    const financeText = textOf(finance ?? {});
    expect(financeText).toContain(
      'Forecast: $360.00 month-to-date (Nov 1–18) + 12 days × $20.00/day = *$600.00*',
    );
    expect(financeText).not.toContain('All 2 organisations');
    expect(financeText).toContain(
      '*All 3 watched organisations:* *$3,060.00* month-to-date → forecast *$5,100.00*.',
    );
    expect(financeText).not.toContain(ORG_1);
    for (const message of slack.messages) expect(validateBlocks(message.blocks ?? [])).toEqual([]);
  });

  it('escapes every name from outside', async () => {
    await invoke();
    const [billing] = slack.messagesIn(BILLING);

    expect(billing?.text).toContain('&lt;!channel&gt; Beta');
    expect(JSON.stringify(billing?.blocks)).toContain('*&lt;!channel&gt; Beta*');
    expect(billing?.text).not.toContain('<!channel>');
  });

  it('uploads the stored charts and shows each by its file id, with the figures in its alt text', async () => {
    await invoke();
    const [billing] = slack.messagesIn(BILLING);
    const [finance] = slack.messagesIn(FINANCE);
    const [billingImage] = images(billing ?? {});
    const [financeImage] = images(finance ?? {});

    expect(images(billing ?? {})).toHaveLength(1);
    expect(slack.files.size).toBe(2);
    const file = slack.files.get(billingImage?.slack_file?.id ?? '');
    expect(file?.bytes).toEqual(PNG);
    expect(file?.filename).toBe(`atlas-spend-2026-11-${ORG_1}.png`);
    expect(billingImage?.alt_text).toBe(
      'Daily spend of Acme & <Sons>, November 2026; $1,800.00 month-to-date (Nov 1–18); forecast $3,000.00 (likely $2,880.00 to $3,000.00); last month $2,790.00; budget $2,500.00.',
    );
    expect(slack.files.get(financeImage?.slack_file?.id ?? '')?.bytes).toEqual(PNG);
  });

  it('posts every organisation to the one channel when nothing is routed, with the total across all', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const report = await invoke(deps({ SLACK_CHANNEL_ROUTES: undefined }));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);

    // 3 organisations × 6 S3 reads in flight on one deadline: no false listener-leak warning in the logs.
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    expect(report.channels.map((c) => [c.channel, c.orgIds.length, c.charts])).toEqual([[BILLING, 3, 2]]);
    expect(slack.messages).toHaveLength(1);
    expect(textOf(slack.messages[0] ?? {})).toContain(
      '*All 3 organisations:* *$3,060.00* month-to-date → forecast *$5,100.00*.',
    );
    expect(textOf(slack.messages[0] ?? {})).not.toContain('watched organisations');
  });

  it('posts without the pictures when Slack has not processed the uploads in time', async () => {
    const slow = await startSlackStandIn({ fileProcessingMs: 3_600_000 });
    try {
      const report = await invoke(
        deps({ SLACK_API_URL: slow.apiUrl, SLACK_BOT_TOKEN: slow.token, SLACK_CHANNEL_ROUTES: undefined }),
      );

      expect(report.ok).toBe(true);
      expect(slow.messages).toHaveLength(1);
      expect(images(slow.messages[0] ?? {})).toEqual([]);
      expect(textOf(slow.messages[0] ?? {})).toContain('*$3,060.00* month-to-date');
      expect(logs.join('\n')).toContain('posting the digest without them');
    } finally {
      await slow.close();
    }
  });
});

describe('the spend digest through an incoming webhook', () => {
  it('posts one digest for every organisation, without charts (a webhook cannot upload)', async () => {
    const url = slack.webhookUrl('C0HOOK');
    const report = await invoke(
      deps({
        SLACK_BOT_TOKEN: undefined,
        SLACK_CHANNEL: undefined,
        SLACK_CHANNEL_ROUTES: undefined,
        SLACK_WEBHOOK_URL: url,
      }),
    );

    expect(report.ok).toBe(true);
    expect(slack.messages.map((m) => [m.kind, m.channel])).toEqual([['webhook', 'C0HOOK']]);
    expect(textOf(slack.messages[0] ?? {})).toContain('*All 3 organisations:* *$3,060.00* month-to-date');
    expect(images(slack.messages[0] ?? {})).toEqual([]);
    expect(slack.files.size).toBe(0);
  });
});

describe('failures', () => {
  it('posts to the other channels, then logs once and fails when a channel refuses the digest', async () => {
    slack.setChannel(FINANCE, 'deleted');
    try {
      await expect(invoke()).rejects.toThrow(DigestFailedError);
    } finally {
      slack.setChannel(FINANCE, {});
    }

    expect(slack.messagesIn(BILLING)).toHaveLength(1);
    const errors = logs.filter((line) => line.includes('"level":"error"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('spend digest failed');
    expect(errors[0]).toContain('channel_not_found');
    expect(logs.join('\n')).not.toContain(slack.token);
  });

  it('notes an organisation whose record cannot be read, still posts, and fails so the alarm fires', async () => {
    const prefix = 'corrupt/';
    const client = new S3Client(s3.clientConfig());
    await createSpendStore({ s3: client, bucket: BUCKET, prefix }).writeSpend(
      november(ORG_1, 10_000),
      '2026-11',
      undefined,
    );
    client.destroy();
    await s3.putObject(BUCKET, `${prefix}spend/${ORG_2}/2026-11.json`, '{"v":1,"org":"<!channel>"}');

    const run = invoke(deps({ ARCHIVE_PREFIX: prefix, SLACK_CHANNEL_ROUTES: undefined }));

    await expect(run).rejects.toThrow('1 organisations unreadable');
    const text = textOf(slack.messages[0] ?? {});
    expect(text).toContain('Forecast: $1,800.00 month-to-date');
    expect(text).toContain(
      `The stored spend of \`${ORG_2}\` could not be read, so this digest leaves it out.`,
    );
    expect(text).toContain(`No spend data yet for \`${ORG_3}\``);
    expect(text).not.toContain('<!channel>');
  });

  it('fails a start with a missing setting by naming it, without posting', async () => {
    const broken = deps({ SLACK_CHANNEL: undefined });

    await expect(invoke(broken)).rejects.toThrow(ConfigError);
    await expect(invoke(broken)).rejects.toThrow('SLACK_CHANNEL');
    expect(slack.messages).toHaveLength(0);
    expect(logs.filter((line) => line.includes('could not start'))).toHaveLength(2);
  });

  it('needs no Atlas credential: the digest never calls Atlas', async () => {
    const report = await invoke(deps({ ATLAS_CLIENT_ID: undefined, ATLAS_CLIENT_SECRET: undefined }));

    expect(report.ok).toBe(true);
  });

  it('exports the two-argument async handler Lambda runtimes require', () => {
    expect(lambdaHandler.length).toBe(2);
  });
});
