import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPollHandler, type PollHandler } from '../../functions/poll-invoices';
import { DEMO_SERVICE_ACCOUNT, type OrgSeed } from '../../infra/local/atlas-sandbox';
import { billingMonth, spendChartKey, stateKey } from '../../lib/archive/keys';
import { withS3Timeouts } from '../../lib/archive/s3-client';
import type { Env } from '../../lib/config';
import { inspectCsv } from '../../lib/invoices/csv-summary';
import type { OrgState } from '../../lib/invoices/types';
import { budgetKey, forecastKey, spikeKey } from '../../lib/spend/alerts';
import { decodeSpendRecord, spendRecordKey } from '../../lib/spend/spend-record';
import { sumCents } from '../../lib/spend/usage-series';
import { invokePoll, QUICK } from '../deploy/poll-handler';
import { gate } from '../support/gate';
import { BUCKET, type StandIns, startStandIns } from './stand-ins';

/**
 * The spend watch through the real poll handler, against the Atlas sandbox (organisations with daily line items: the
 * sandbox's spend pattern, see `dailyUsageItems`), the S3 stand-in and the Slack stand-in. Both clocks are the test's:
 * the sandbox's (what usage Atlas has posted) and the poller's (what day it is), so every figure is the same whatever
 * day the tests run.
 */
let standIns: StandIns;
let sandboxNow = Date.parse('2026-03-11T10:00:00Z');
let pollNow = sandboxNow;
let deployments = 0;

beforeAll(async () => {
  standIns = await startStandIns({ clock: () => sandboxNow });
});
afterAll(async () => {
  await standIns.close();
});

const at = (day: string) => Date.parse(`${day}T10:00:00Z`);
const PROJECTS = ['Production', 'Staging', 'Analytics'];
const logged = (logs: string[]) => logs.map((line) => JSON.parse(line) as Record<string, unknown>);

interface Deployment {
  readonly orgId: string;
  readonly prefix: string;
  readonly channel: string;
  readonly logs: string[];
  readonly env: Env;
  readonly handler: PollHandler;
  invoke(): Promise<Awaited<ReturnType<PollHandler>>>;
  /** Another cold start of the same deployment (same settings, same bucket prefix), e.g. a racing invocation. */
  another(s3?: (options: { readonly forcePathStyle: boolean }) => S3Client): PollHandler;
  state(): Promise<OrgState>;
  texts(): string[];
}

/**
 * One organisation watched by a fresh deployment; `env` adds or overrides settings (SPEND_BUDGETS, a webhook), given
 * the organisation as the sandbox created it.
 */
async function deploy(
  seed: OrgSeed & { id: string },
  env: (orgId: string) => Env | Promise<Env> = () => ({}),
): Promise<Deployment> {
  const { sandbox, s3, slack } = standIns;
  deployments += 1;
  const orgId = sandbox.createOrg(seed).id;
  const extra = await env(orgId);
  const prefix = `spend-${deployments}/`;
  const channel = `C0SPEND${String(deployments).padStart(3, '0')}`;
  const logs: string[] = [];
  const fullEnv: Env = {
    ATLAS_ORG_IDS: orgId,
    ATLAS_BASE_URL: sandbox.url,
    ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
    ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
    ARCHIVE_BUCKET: BUCKET,
    ARCHIVE_PREFIX: prefix,
    S3_FORCE_PATH_STYLE: 'true',
    SLACK_BOT_TOKEN: slack.token,
    SLACK_CHANNEL: channel,
    SLACK_API_URL: slack.apiUrl,
    LOG_LEVEL: 'info',
    ...extra,
  };
  const build = (s3Client?: (options: { readonly forcePathStyle: boolean }) => S3Client) =>
    createPollHandler(
      {
        env: fullEnv,
        s3:
          s3Client ??
          (({ forcePathStyle }) => new S3Client(withS3Timeouts({ ...s3.clientConfig(), forcePathStyle }))),
        writeLog: (line) => logs.push(line),
        now: () => new Date(pollNow),
      },
      QUICK,
    );
  const handler = build();
  return {
    orgId,
    prefix,
    channel,
    logs,
    env: fullEnv,
    handler,
    invoke: () => invokePoll(handler),
    another: build,
    state: async () =>
      JSON.parse((await s3.getObjectBytes(BUCKET, stateKey(prefix, orgId))).toString()) as OrgState,
    texts: () => slack.messagesIn(channel).map((m) => m.text ?? ''),
  };
}

/** The pending invoice of an organisation, and its month's cents per usage day as the sandbox serves them now. */
async function pendingDays(orgId: string): Promise<{ id: string; month: string; days: number[] }> {
  const { sandbox } = standIns;
  const pending = sandbox.listInvoices(orgId).find((i) => i.statusName === 'PENDING');
  if (pending === undefined) throw new Error('no PENDING invoice');
  const { usage } = await inspectCsv(sandbox.csvStream(orgId, pending.id), {
    period: { start: pending.startDate, end: pending.endDate },
  });
  if (usage === undefined) throw new Error('no usage series');
  return { id: pending.id, month: billingMonth(pending.startDate), days: [...usage.dailyCents] };
}

/** SPEND_BUDGETS's dollars for integer cents. */
const usd = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

const count = (texts: string[], start: string) => texts.filter((t) => t.startsWith(start)).length;

/**
 * An organisation whose month-to-date crosses 50% of its budget on March 11: the sandbox has posted usage through
 * March 11; the poll of March 10 counts days 1-9 as complete, the poll of March 11 days 1-10. The budget is twice the
 * first ten days, so 50% is reached exactly on the second poll (and the month-end forecast is above it from the first).
 */
async function budgetDeployment(id: string) {
  sandboxNow = at('2026-03-11');
  pollNow = at('2026-03-10');
  let firstTen = 0;
  const d = await deploy(
    { id, name: 'Budget & <Co>', lineItems: 'daily', projects: PROJECTS, invoices: 4 },
    async (orgId) => {
      firstTen = sumCents((await pendingDays(orgId)).days, 0, 10);
      return { SPEND_BUDGETS: `${orgId}=${usd(2 * firstTen)}` };
    },
  );
  const pending = await pendingDays(d.orgId);
  expect(sumCents(pending.days, 0, 9) * 100).toBeLessThan(50 * 2 * firstTen);
  return { d, pending };
}

/** The next day: the poller's clock moves on and Atlas posts one more day on the pending invoice. */
function nextDay(orgId: string, pendingId: string, day: string): void {
  pollNow = at(day);
  standIns.sandbox.touch(orgId, pendingId);
}

describe('a budget crossed once', () => {
  it('alerts once across several polls: the forecast on the first, 50% when reached, nothing after', async () => {
    const { d, pending } = await budgetDeployment('5f00000000000000000a1e02');
    const budget50 = budgetKey(d.orgId, 50, pending.month);
    const forecast = forecastKey(d.orgId, pending.month);

    const first = await d.invoke();
    nextDay(d.orgId, pending.id, '2026-03-11');
    const second = await d.invoke();
    nextDay(d.orgId, pending.id, '2026-03-12');
    const third = await d.invoke();
    const quiet = await d.invoke();

    expect([first, second, third, quiet].map((r) => r.totals.spendAlerts)).toEqual([1, 1, 0, 0]);
    const texts = d.texts();
    expect(texts[0]).toMatch(/^Now watching /);
    expect(count(texts, 'Forecast over budget for Budget &amp; &lt;Co&gt;')).toBe(1);
    expect(count(texts, 'Budget 50% reached for Budget &amp; &lt;Co&gt;')).toBe(1);
    expect(texts).toHaveLength(3);
    expect((await d.state()).spend?.fired).toEqual([budget50, forecast].sort());
    expect(quiet.totals).toMatchObject({ changed: 0, archived: 0, identical: 0, spendRecords: 0 });
  });

  it('alerts once across two racing polls when only the later one saw the crossing', async () => {
    const { d, pending } = await budgetDeployment('5f00000000000000000a1e04');
    const { sandbox, s3 } = standIns;
    await d.invoke();
    const paid = sandbox.listInvoices(d.orgId).find((i) => i.statusName === 'PAID');
    if (paid === undefined) throw new Error('no PAID invoice');
    sandbox.setStatus(d.orgId, paid.id, 'FORGIVEN');
    pollNow = at('2026-03-11');
    // Both read the state before either saves: A lists, then Atlas posts March 11, then B reads and lists.
    const stateKeyOf = stateKey(d.prefix, d.orgId);
    const aHasListed = gate();
    const bHasRead = gate();
    const gated = (role: 'A' | 'B') => (options: { readonly forcePathStyle: boolean }) => {
      const client = new S3Client(withS3Timeouts({ ...s3.clientConfig(), ...options }));
      let stateRead = false;
      let gateDone = false;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const key = (args.input as { Key?: string }).Key;
          const isStateRead = context.commandName === 'GetObjectCommand' && key === stateKeyOf;
          if (role === 'B' && isStateRead && !gateDone) {
            gateDone = true;
            await aHasListed.passed;
            sandbox.touch(d.orgId, pending.id);
            const out = await next(args);
            bHasRead.open();
            return out;
          }
          if (role === 'A' && isStateRead) stateRead = true;
          else if (role === 'A' && stateRead && !gateDone) {
            gateDone = true;
            aHasListed.open();
            await bHasRead.passed;
          }
          return next(args);
        },
        { step: 'initialize', name: `race-gate-${role}` },
      );
      return client;
    };
    const a = d.another(gated('A'));
    const b = d.another(gated('B'));
    s3.resetRequests();

    const [ra, rb] = await Promise.all([invokePoll(a), invokePoll(b)]);

    const statePuts = s3.requests.filter((r) => r.operation === 'PutObject' && r.key === stateKeyOf);
    expect(statePuts.map((r) => r.status).sort()).toEqual([200, 200, 412]);
    expect([ra.ok, rb.ok]).toEqual([true, true]);
    expect([ra.totals.spendAlerts, rb.totals.spendAlerts]).toEqual([0, 1]);
    nextDay(d.orgId, pending.id, '2026-03-12');
    const after = await d.invoke();

    expect(after.totals.spendAlerts).toBe(0);
    expect(count(d.texts(), 'Budget 50% reached for')).toBe(1);
    expect((await d.state()).spend?.fired).toContain(budgetKey(d.orgId, 50, pending.month));
    // The status change both saw may be told twice (the documented repeat of racing polls), never lost.
    expect(d.texts().filter((t) => t.includes('is now FORGIVEN')).length).toBeGreaterThanOrEqual(1);
  });
});

describe('delivery of an alert', () => {
  it('re-posts an alert at most once when the run that posted it could not save', async () => {
    const { d, pending } = await budgetDeployment('5f00000000000000000a1e07');
    await d.invoke();
    nextDay(d.orgId, pending.id, '2026-03-11');
    standIns.s3.failNext({
      operation: 'PutObject',
      keyPrefix: stateKey(d.prefix, d.orgId),
      status: 500,
      times: 20,
    });

    const crashed = await invokePoll(d.handler).catch((error: unknown) => error);
    standIns.s3.clearFaults();
    const recovery = await d.invoke();
    const after = await d.invoke();

    expect(crashed).toMatchObject({ name: 'PollFailedError' });
    expect(recovery.totals).toMatchObject({ spendAlerts: 1, errors: 0 });
    expect(after.totals).toMatchObject({ changed: 0, spendAlerts: 0 });
    expect(count(d.texts(), 'Budget 50% reached for')).toBe(2);
  });

  it('re-sends an alert whose post failed in the next poll, though the invoice did not change again', async () => {
    const { d, pending } = await budgetDeployment('5f00000000000000000a1e0c');
    const { slack } = standIns;
    await d.invoke();
    nextDay(d.orgId, pending.id, '2026-03-11');
    slack.failNext({ method: 'chat.postMessage', error: 'channel_not_found' });

    const failed = await invokePoll(d.handler).catch((error: unknown) => error);
    const missing = count(d.texts(), 'Budget 50% reached for');
    const retried = await d.invoke();
    const after = await d.invoke();

    expect(failed).toMatchObject({ name: 'PollFailedError' });
    expect(missing).toBe(0);
    expect(retried.totals).toMatchObject({ changed: 1, identical: 1, spendAlerts: 1, errors: 0 });
    expect(after.totals).toMatchObject({ changed: 0, spendAlerts: 0 });
    expect(count(d.texts(), 'Budget 50% reached for')).toBe(1);
    expect((await d.state()).spend?.fired).toContain(budgetKey(d.orgId, 50, pending.month));
  });
});

describe('a spike', () => {
  let d: Deployment;
  let pending: { id: string; month: string };
  beforeAll(async () => {
    // In this organisation's March the sandbox's one-day spike falls on Wednesday the 25th, in project Analytics.
    sandboxNow = at('2026-03-25');
    pollNow = sandboxNow;
    d = await deploy({
      id: '5f00000000000000000a1e03',
      name: 'Spike Org',
      lineItems: 'daily',
      projects: PROJECTS,
      invoices: 5,
    });
    pending = await pendingDays(d.orgId);
  });

  it('writes the spend record of every archived month on the first run, and no alert before the spike', async () => {
    const { sandbox, s3 } = standIns;

    const first = await d.invoke();

    const listed = sandbox.listInvoices(d.orgId);
    expect(first.totals).toMatchObject({ archived: 5, spendRecords: 5, spendAlerts: 0 });
    for (const invoice of listed) {
      const key = spendRecordKey(d.prefix, d.orgId, billingMonth(invoice.startDate));
      const record = decodeSpendRecord((await s3.getObjectBytes(BUCKET, key)).toString());
      expect(record).toMatchObject({
        orgId: d.orgId,
        invoiceId: invoice.id,
        updated: invoice.updated,
        final: invoice.statusName !== 'PENDING',
      });
    }
    expect(d.texts()).toEqual([expect.stringMatching(/^Now watching /)]);
  });

  it('names the project whose cluster spiked, with the chart uploaded and shown in the message', async () => {
    const { s3, slack } = standIns;
    sandboxNow = at('2026-03-26');
    nextDay(d.orgId, pending.id, '2026-03-26');

    const report = await d.invoke();

    expect(report.totals).toMatchObject({ spendAlerts: 1, spendRecords: 1 });
    const [alert] = slack.messagesIn(d.channel).slice(1);
    expect(alert?.text).toMatch(
      /^Spend spike for Spike Org on Mar 25: \$948\.93, \+\$678\.07 above a typical weekday\./,
    );
    expect(alert?.text).toContain("Check project Analytics's cluster Cluster2.");
    const image = alert?.blocks?.find((b) => (b as { type?: string }).type === 'image') as
      | { slack_file?: { id?: string }; alt_text?: string }
      | undefined;
    const fileId = image?.slack_file?.id ?? '';
    const chart = await s3.getObjectBytes(BUCKET, spendChartKey(d.prefix, d.orgId, pending.month));
    expect(chart.subarray(1, 4).toString()).toBe('PNG');
    expect(slack.files.get(fileId)?.bytes?.equals(chart)).toBe(true);
    expect(image?.alt_text).toMatch(/^Daily spend of Spike Org, March 2026; \$[\d,.]+ month-to-date/);
    expect((await d.state()).spend?.fired).toEqual([spikeKey(d.orgId, '2026-03-25')]);
  });

  it('does not alert the same spike again on the next day', async () => {
    sandboxNow = at('2026-03-27');
    nextDay(d.orgId, pending.id, '2026-03-27');

    const report = await d.invoke();

    expect(report.totals).toMatchObject({ spendRecords: 1, spendAlerts: 0 });
    expect(d.texts().filter((t) => t.startsWith('Spend spike'))).toHaveLength(1);
  });
});

describe('through an incoming webhook', () => {
  it('posts the alert without a picture and says so once in the log', async () => {
    const { slack } = standIns;
    // This organisation's spike is on Tuesday March 10, in project Staging.
    sandboxNow = at('2026-03-11');
    pollNow = sandboxNow;
    const hook = slack.webhookUrl('C0SPENDHOOK');
    const d = await deploy(
      {
        id: '5f00000000000000000a1e12',
        name: 'Hook Org',
        lineItems: 'daily',
        projects: PROJECTS,
        invoices: 3,
      },
      () => ({ SLACK_BOT_TOKEN: '', SLACK_CHANNEL: '', SLACK_WEBHOOK_URL: hook }),
    );

    const report = await d.invoke();

    const messages = slack.messagesIn('C0SPENDHOOK');
    expect(report.totals).toMatchObject({ notified: 1, spendAlerts: 1 });
    expect(messages.map((m) => m.text?.slice(0, 27))).toEqual([
      'Now watching the Atlas invo',
      'Spend spike for Hook Org on',
    ]);
    expect(JSON.stringify(messages[1]?.blocks)).not.toContain('"image"');
    expect(messages[1]?.text).toContain('Check project Staging');
    expect(
      logged(d.logs).filter((l) => String(l.message).startsWith('spend charts are not shown')),
    ).toHaveLength(1);
    expect(standIns.s3.headObject(BUCKET, spendChartKey(d.prefix, d.orgId, '2026-03'))?.contentType).toBe(
      'image/png',
    );
  });
});

describe('not enough data', () => {
  it('posts nothing on the second day of a new organisation’s first month, and logs why', async () => {
    sandboxNow = at('2026-03-02');
    pollNow = sandboxNow;
    const d = await deploy(
      {
        id: '5f00000000000000000a1e19',
        name: 'New Org',
        lineItems: 'daily',
        projects: PROJECTS,
        invoices: 1,
      },
      (orgId) => ({ SPEND_BUDGETS: `${orgId}=100000` }),
    );

    const report = await d.invoke();

    expect(report.totals).toMatchObject({ spendRecords: 1, spendAlerts: 0 });
    expect(d.texts()).toEqual([expect.stringMatching(/^Now watching /)]);
    expect(logged(d.logs)).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: 'spend watch: not enough data for a forecast yet',
        reason: 'too-few-days',
        detail: expect.stringContaining('A forecast needs 3 complete usage days; 1 so far'),
        alerts: [],
      }),
    );
  });
});
