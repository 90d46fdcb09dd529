import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  buildCommandDeps,
  createSlackCommandHandler,
  DEFAULT_ATLAS_DEADLINE_MS,
  handler as lambdaHandler,
  type SlackCommandEvent,
  type SlackCommandHandler,
  type SlackCommandHandlerDeps,
} from '../../functions/slack-command';
import { type AtlasSandbox, DEMO_SERVICE_ACCOUNT, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from '../../infra/local/secrets-manager';
import { type SlackStandIn, startSlackStandIn } from '../../infra/local/slack';
import { createIndexStore } from '../../lib/archive/index-store';
import { csvFileName, csvKey, spendChartKey } from '../../lib/archive/keys';
import { createSpendStore } from '../../lib/archive/spend-store';
import { createStateStore } from '../../lib/archive/state-store';
import { refusalReply } from '../../lib/command/replies';
import { loadCommandConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { inspectCsv } from '../../lib/invoices/csv-summary';
import type { Invoice } from '../../lib/invoices/invoice';
import { formatUsd, toAmounts } from '../../lib/invoices/money';
import type { InvoiceIndexEntry, InvoiceStateEntry } from '../../lib/invoices/types';
import { silentLogger } from '../../lib/log';
import { seenFields } from '../../lib/poll/merge-state';
import { createSecretsManagerReader } from '../../lib/secrets';
import { addMonths, civilDate, daysInMonth, monthOf, parseIsoDay } from '../../lib/spend/calendar';
import { SLACK_VECTOR } from '../command/fixtures';
import {
  blockActionsBody,
  commandBody,
  httpApiEvent,
  lambdaContext,
  restApiEvent,
  slackHeaders,
} from '../command/slack-events';
import { seriesOfLines } from '../spend/support';
import { FakeAtlas, FakeSecrets } from '../support/fakes';

// The real handler against real servers on 127.0.0.1: the Atlas sandbox, the S3 stand-in (which verifies SigV4,
// presigned links and their expiry) and the Slack stand-in (response_url sink). The secret comes from an in-memory
// SecretReader; one test reads it through the real Secrets Manager client from its stand-in, to prove that wiring.
const SIGNING_SECRET = 'integration-signing-secret-0123456789';
const SECRET_ID = 'atlas-invoice-notifier/app';
const BUCKET = 'atlas-archive';
const PREFIX = 'atlas-invoices/';
const TEAM = 'T0ACME';
const CHANNEL = 'C0BILLING';
const USER = 'U0ADA';
const ORG_1 = '65f0c0ffee00de00000000a1';
const ORG_2 = '65f0c0ffee00de00000000b2';
const ORG_1_NAME = 'Acme & <Sons> "EU"';
const UNKNOWN_ID = 'deadbeefdeadbeefdeadbeef';

let atlas: AtlasSandbox;
let s3: S3StandIn;
let slack: SlackStandIn;
let s3ClockOffsetMs = 0;
const logs: string[] = [];
let handler: SlackCommandHandler;
let testStartedAt = 0;

let org1: { pending: Invoice; closed: Invoice; paid: Invoice };
let org2Invoice: Invoice;
let closedCsv: string;

const SECRET_JSON = () =>
  JSON.stringify({
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
    ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
  });

const secretReader = new FakeSecrets({ [SECRET_ID]: SECRET_JSON() });
/** The secret ids read through `secretReader`, in order. */
const secretReads = secretReader.reads;

function deps(overrides: Partial<SlackCommandHandlerDeps> = {}): SlackCommandHandlerDeps {
  return {
    env: {
      ATLAS_ORG_IDS: `${ORG_1},${ORG_2}`,
      ATLAS_BASE_URL: atlas.url,
      APP_SECRET_ID: SECRET_ID,
      ARCHIVE_BUCKET: BUCKET,
      ARCHIVE_PREFIX: PREFIX,
      S3_FORCE_PATH_STYLE: 'true',
      SLACK_ALLOWED_TEAM_IDS: TEAM,
      SLACK_ALLOWED_CHANNEL_IDS: `${CHANNEL},C0OTHERALLOWED`,
      SLACK_ALLOWED_USER_IDS: USER,
      SLACK_API_URL: slack.apiUrl,
    },
    secrets: secretReader,
    s3: ({ forcePathStyle }) => new S3Client({ ...s3.clientConfig(), forcePathStyle }),
    writeLog: (line) => logs.push(line),
    pollIntervalMinutes: 15,
    // Generous for loaded CI machines; the slow-Atlas test sets its own short deadline.
    atlasDeadlineMs: 8_000,
    replyBudgetMs: 10_000,
    ...overrides,
  };
}

function signedCommand(
  text: string,
  who: { team?: string; channel?: string; user?: string; at?: number } = {},
) {
  const body = commandBody({
    text,
    teamId: who.team ?? TEAM,
    channelId: who.channel ?? CHANNEL,
    userId: who.user ?? USER,
    responseUrl: slack.responseUrl(undefined, 'commands'),
  });
  return httpApiEvent(body, slackHeaders(body, { secret: SIGNING_SECRET, at: who.at ?? Date.now() }));
}

interface Reply {
  response_type: string;
  text: string;
  blocks?: Array<Record<string, unknown>>;
}

async function ask(text: string, who?: Parameters<typeof signedCommand>[1], h = handler): Promise<Reply> {
  const result = await h(signedCommand(text, who), lambdaContext());
  expect(result.statusCode).toBe(200);
  return JSON.parse(result.body) as Reply;
}

function allText(reply: Reply): string {
  return `${reply.text}\n${JSON.stringify(reply.blocks ?? [])}`;
}

/**
 * Operation names of the S3 requests made since this test started. The stand-in logs a request when its response
 * closes, which can be just after the client has read it: a HEAD sent afterwards, once logged, shows the earlier
 * ones are too.
 */
async function s3OperationsThisTest(): Promise<string[]> {
  const marker = Date.now();
  await new S3Client(s3.clientConfig()).send(new HeadBucketCommand({ Bucket: BUCKET }));
  await vi.waitFor(() => {
    expect(s3.requests.some((r) => r.operation === 'HeadBucket' && r.time >= marker)).toBe(true);
  });
  return s3.requests
    .filter((r) => r.time >= testStartedAt && r.operation !== 'HeadBucket')
    .map((r) => r.operation);
}

/** `Dec` of a `YYYY-MM` month. */
function monthShort(month: string): string {
  return new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', timeZone: 'UTC' });
}

function buttonUrl(blocks: readonly unknown[] | undefined): string {
  for (const block of (blocks ?? []) as Array<{ type: string; elements?: Array<{ url?: string }> }>) {
    const url = block.type === 'actions' ? block.elements?.find((e) => e.url)?.url : undefined;
    if (url !== undefined) return url;
  }
  throw new Error('no download button in the reply');
}

async function archive(orgId: string, invoice: Invoice, orgName: string): Promise<string> {
  const csv = atlas.csvText(orgId, invoice.id);
  const key = csvKey(PREFIX, orgId, invoice.startDate, invoice.id);
  await s3.putObject(BUCKET, key, csv, { contentType: 'text/csv; charset=utf-8' });
  const inspection = await inspectCsv(
    (async function* () {
      yield Buffer.from(csv, 'utf8');
    })(),
  );
  const entry: InvoiceIndexEntry = {
    version: 1,
    invoiceId: invoice.id,
    orgId,
    orgName,
    statusName: invoice.statusName,
    startDate: invoice.startDate,
    endDate: invoice.endDate,
    updated: invoice.updated,
    amounts: toAmounts(invoice),
    summary: inspection.summary,
    csv: { key, sha256: inspection.sha256, bytes: inspection.bytes },
    archivedAt: new Date().toISOString(),
  };
  const s3Client = new S3Client(s3.clientConfig());
  await createIndexStore({ s3: s3Client, bucket: BUCKET, prefix: PREFIX }).writeIndex(entry);
  return csv;
}

/** The state entry the poller records for `invoice` once it has announced it (and archived it, when `archived`). */
function stateEntryOf(invoice: Invoice, archived: boolean): InvoiceStateEntry {
  return {
    ...seenFields(invoice, undefined),
    ...(archived
      ? {
          archived: {
            statusName: invoice.statusName,
            updated: invoice.updated,
            sha256: 'a'.repeat(64),
            key: csvKey(PREFIX, ORG_1, invoice.startDate, invoice.id),
          },
        }
      : {}),
    notifiedStatus: invoice.statusName,
  };
}

beforeAll(async () => {
  [atlas, s3, slack] = await Promise.all([
    startAtlasSandbox({
      orgs: [
        {
          id: ORG_1,
          name: ORG_1_NAME,
          invoices: [{ statusName: 'PENDING' }, { statusName: 'CLOSED' }, { statusName: 'PAID' }],
          projects: ['Production, "EU"', '<!channel> staging & QA'],
        },
        { id: ORG_2, name: 'Beta', invoices: [{ statusName: 'CLOSED' }] },
      ],
      serviceAccounts: [DEMO_SERVICE_ACCOUNT],
      rateLimit: false,
    }),
    startS3StandIn({
      buckets: [{ name: BUCKET, versioning: true }],
      clock: () => Date.now() + s3ClockOffsetMs,
    }),
    startSlackStandIn(),
  ]);
  const [pending, closed, paid] = atlas.listInvoices(ORG_1).map((m) => atlas.getInvoice(ORG_1, m.id));
  if (pending === undefined || closed === undefined || paid === undefined)
    throw new Error('sandbox seed changed');
  org1 = { pending, closed, paid };
  const [second] = atlas.listInvoices(ORG_2);
  if (second === undefined) throw new Error('sandbox seed changed');
  org2Invoice = atlas.getInvoice(ORG_2, second.id);
  closedCsv = await archive(ORG_1, closed, ORG_1_NAME);
  await archive(ORG_1, paid, ORG_1_NAME);
  await createStateStore({ s3: new S3Client(s3.clientConfig()), bucket: BUCKET, prefix: PREFIX }).writeState(
    {
      version: 1,
      orgId: ORG_1,
      orgName: ORG_1_NAME,
      watchingSince: '2024-01-01T00:00:00.000Z',
      lastPollAt: new Date(Date.now() - 5 * 60_000).toISOString(),
      invoices: {
        [pending.id]: stateEntryOf(pending, false),
        [closed.id]: stateEntryOf(closed, true),
        [paid.id]: stateEntryOf(paid, true),
      },
    },
    undefined,
  );
  handler = createSlackCommandHandler(deps());
});

afterAll(async () => {
  await Promise.all([atlas?.close(), s3?.close(), slack?.close()]);
});

beforeEach(() => {
  s3ClockOffsetMs = 0;
  atlas.clearFaults();
  atlas.resetRequests();
  s3.resetRequests();
  testStartedAt = Date.now();
  slack.reset();
});

describe('the signature check, with Slack’s official test vector', () => {
  const ts = Number(SLACK_VECTOR.timestamp) * 1000;
  let clock = ts + 10_000;
  let vectorHandler: SlackCommandHandler;

  // Credentials straight from the environment (no APP_SECRET_ID), the vector's secret, and a clock near its 2018
  // timestamp: our check takes the handler's clock, where Bolt's own would read Date.now().
  const vectorDeps = (env: Record<string, string | undefined> = {}) =>
    deps({
      env: {
        ...deps().env,
        APP_SECRET_ID: undefined,
        SLACK_SIGNING_SECRET: SLACK_VECTOR.signingSecret,
        ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
        ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
        ...env,
      },
      secrets: undefined,
      now: () => clock,
    });

  beforeAll(() => {
    vectorHandler = createSlackCommandHandler(vectorDeps());
  });

  const vectorHeaders = (overrides: Record<string, string> = {}) => ({
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': SLACK_VECTOR.timestamp,
    'x-slack-signature': SLACK_VECTOR.signature,
    ...overrides,
  });

  it.each([
    ['an HTTP API event', (h: Record<string, string>) => httpApiEvent(SLACK_VECTOR.body, h)],
    ['a base64 HTTP API event', (h: Record<string, string>) => httpApiEvent(SLACK_VECTOR.body, h, true)],
    ['a REST API event', (h: Record<string, string>) => restApiEvent(SLACK_VECTOR.body, h)],
    ['a base64 REST API event', (h: Record<string, string>) => restApiEvent(SLACK_VECTOR.body, h, true)],
  ])('passes the vector in %s (its workspace is not allowed: the polite refusal)', async (_case, make) => {
    clock = ts + 10_000;
    const result = await vectorHandler(make(vectorHeaders()) as SlackCommandEvent, lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual(refusalReply());
  });

  it('refuses a wrong signature with 401', async () => {
    clock = ts + 10_000;
    const wrong = vectorHeaders({ 'x-slack-signature': SLACK_VECTOR.signature.replace('a2114', 'a2115') });
    expect(await vectorHandler(httpApiEvent(SLACK_VECTOR.body, wrong), lambdaContext())).toEqual({
      statusCode: 401,
      body: '',
    });
  });

  it('refuses the vector more than five minutes after its timestamp with 401', async () => {
    clock = ts + 5 * 60_000 + 1_000;
    expect(
      (await vectorHandler(httpApiEvent(SLACK_VECTOR.body, vectorHeaders()), lambdaContext())).statusCode,
    ).toBe(401);
  });

  it('refuses a request without the signature headers with 401', async () => {
    clock = ts + 10_000;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await vectorHandler(httpApiEvent(SLACK_VECTOR.body, headers), lambdaContext())).statusCode).toBe(
      401,
    );
    const { 'x-slack-request-timestamp': _dropped, ...noTimestamp } = vectorHeaders();
    expect(
      (await vectorHandler(restApiEvent(SLACK_VECTOR.body, noTimestamp), lambdaContext())).statusCode,
    ).toBe(401);
  });

  it('answers help to the vector once its workspace is allowed', async () => {
    clock = ts + 10_000;
    const allowed = createSlackCommandHandler(
      vectorDeps({
        SLACK_ALLOWED_TEAM_IDS: 'T1DC2JH3J',
        SLACK_ALLOWED_CHANNEL_IDS: undefined,
        SLACK_ALLOWED_USER_IDS: undefined,
      }),
    );
    const result = await allowed(httpApiEvent(SLACK_VECTOR.body, vectorHeaders()), lambdaContext());
    const reply = JSON.parse(result.body) as Reply;
    expect(reply.response_type).toBe('ephemeral');
    expect(allText(reply)).toContain('`/webhook-collect &lt;invoice id&gt;`');
  });
});

describe('/invoice <id> for an archived invoice', () => {
  it('answers from one S3 read and a presigned link, without Atlas or the Slack API', async () => {
    const { closed } = org1;
    const reply = await ask(closed.id);
    const text = allText(reply);
    const amounts = toAmounts(closed);
    expect(reply.response_type).toBe('ephemeral');
    const owed = formatUsd(amounts.amountBilledCents - amounts.amountPaidCents);
    expect(text).toContain(
      `*${owed} owed* · Acme &amp; &lt;Sons&gt; \\"EU\\" · *CLOSED* (final, not charged yet)`,
    );
    expect(text).toContain(`invoice \`${closed.id}\` of organisation \`${ORG_1}\``);
    expect(reply.text).toContain(`CLOSED, ${owed} owed.`);
    expect(text).toContain(`Owed ${owed}`);
    expect(text).toContain('*Top projects*');
    expect(text).toContain('&lt;!channel&gt; staging &amp; QA');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('link expires in 15 minutes, at <!date^');
    expect(await s3OperationsThisTest()).toEqual(['GetObject']);
    expect(atlas.requests).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);
  });

  it('gives a link that downloads the archived bytes as a named CSV from the verifying stand-in', async () => {
    const { closed } = org1;
    const url = buttonUrl((await ask(closed.id)).blocks);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(closedCsv);
    expect(response.headers.get('content-type')).toBe('text/csv');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="${csvFileName(closed.startDate, closed.id)}"`,
    );
  });

  it('refuses a tampered link with 403', async () => {
    const url = new URL(buttonUrl((await ask(org1.closed.id)).blocks));
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    url.searchParams.set('X-Amz-Signature', `${signature.startsWith('0') ? '1' : '0'}${signature.slice(1)}`);
    expect((await fetch(url)).status).toBe(403);
    const otherKey = new URL(buttonUrl((await ask(org1.closed.id)).blocks));
    otherKey.pathname = otherKey.pathname.replace(org1.closed.id, org1.paid.id);
    expect((await fetch(otherKey)).status).toBe(403);
  });

  it('refuses the link with 403 once it has expired', async () => {
    const url = buttonUrl((await ask(org1.closed.id)).blocks);
    s3ClockOffsetMs = 901_000;
    const response = await fetch(url);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('expired');
  });

  it('answers a REST API event with a base64 body and a charset in its content type the same way', async () => {
    const body = commandBody({
      text: `${org1.paid.id} public`,
      teamId: TEAM,
      channelId: CHANNEL,
      userId: USER,
      responseUrl: slack.responseUrl(undefined, 'commands'),
    });
    const headers = slackHeaders(body, {
      secret: SIGNING_SECRET,
      at: Date.now(),
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
    });
    const result = await handler(restApiEvent(body, headers, true), lambdaContext());
    expect(result.statusCode).toBe(200);
    const reply = JSON.parse(result.body) as Reply;
    expect(reply.response_type).toBe('in_channel');
    expect(allText(reply)).toContain(' · *PAID*');
    expect(allText(reply)).not.toContain('(paid)');
  });
});

describe('/invoice <id> for an invoice that is not archived', () => {
  it('answers from Atlas, asking each organisation, and says the next poll archives it', async () => {
    const reply = await ask(org2Invoice.id);
    const text = allText(reply);
    expect(text).toContain('*CLOSED* (final, not charged yet)');
    expect(text).toContain('The CSV is not archived yet: the next poll will archive it');
    expect(text).toContain('*Top SKUs*');
    expect(reply.blocks?.some((b) => b.type === 'actions')).toBe(false);
    const invoiceCalls = atlas.requests.filter((r) => r.path.endsWith(`/invoices/${org2Invoice.id}`));
    expect(invoiceCalls.map((r) => r.path).sort()).toEqual([
      `/api/atlas/v2/orgs/${ORG_1}/invoices/${org2Invoice.id}`,
      `/api/atlas/v2/orgs/${ORG_2}/invoices/${org2Invoice.id}`,
    ]);
  });

  it('says an id no watched organisation has is unknown', async () => {
    const reply = await ask(UNKNOWN_ID);
    expect(reply.text).toBe(
      `Invoice \`${UNKNOWN_ID}\` is unknown for the 2 watched organisations: neither the archive nor Atlas has it. Check the id; \`/invoice list\` shows recent ones.`,
    );
  });

  it('answers in time with "not yet archived" when Atlas is slower than the deadline', async () => {
    const slowHandler = createSlackCommandHandler(deps({ atlasDeadlineMs: 300 }));
    atlas.injectFault({
      match: { path: `/invoices/${org2Invoice.id}` },
      delayMs: 10_000,
      times: Number.POSITIVE_INFINITY,
    });
    const reply = await ask(org2Invoice.id, undefined, slowHandler);
    expect(reply.text).toContain(
      `Invoice \`${org2Invoice.id}\` is not archived yet, and Atlas did not answer in time`,
    );
    expect(reply.text).toContain('the next poll will archive it (expected <!date^');
  });
});

describe('subcommands', () => {
  it('answers help', async () => {
    const reply = await ask('help');
    for (const usage of ['&lt;invoice id&gt;', 'latest [org id]', 'pending', 'list [n]']) {
      expect(allText(reply)).toContain(`/invoice ${usage}`);
    }
  });

  it('answers latest for one organisation with the newest invoice', async () => {
    const reply = await ask(`latest ${ORG_1}`);
    expect(reply.text).toContain('Latest Atlas invoice');
    expect(allText(reply)).toContain(org1.pending.id);
    expect(allText(reply)).toContain('*PENDING*');
    expect(allText(reply)).toContain('_not archived yet_');
  });

  it('answers latest across organisations, noting the one not polled yet', async () => {
    const reply = await ask('latest');
    expect(allText(reply)).toContain(org1.pending.id);
    expect(allText(reply)).toContain('1 organisation not polled yet.');
    expect(await s3OperationsThisTest()).toEqual(['GetObject', 'GetObject']);
  });

  it('answers pending with the current cycle and what awaits payment', async () => {
    const reply = await ask('pending');
    const blocks = JSON.stringify(reply.blocks);
    expect(blocks).toContain('*Current cycle*');
    expect(blocks).toContain(org1.pending.id);
    expect(blocks).toContain(org1.closed.id);
    expect(blocks).not.toContain(org1.paid.id);
  });

  it('answers list n with the n newest invoices', async () => {
    const reply = await ask('list 2');
    const text = allText(reply);
    expect(reply.text).toContain('Latest 2 Atlas invoices');
    expect(text).toContain(org1.pending.id);
    expect(text).toContain(org1.closed.id);
    expect(text).not.toContain(org1.paid.id);
  });

  it.each([
    ['a short id', '65f0c0ffee', '`65f0c0ffee` is not an invoice id. An invoice id is 24 characters'],
    ['an unknown word', 'frobnicate', "I don't know `frobnicate`. Try `/invoice help`"],
    ['extra words', 'list 5 please', '`/invoice list [n]` takes no more words (got `please`)'],
    ['a count out of range', 'list 99', '`99` is not a number from 1 to 20'],
    ['a very long text', 'x'.repeat(500), 'That is too long for `/invoice` (500 characters'],
    ['non-ASCII text', 'factüre', '`factüre` contains characters other than plain letters and digits'],
    ['a mention as organisation id', 'latest <!channel>', '`&lt;!channel&gt;` is not an organisation id'],
  ])('answers %s usefully', async (_case, text, expected) => {
    const reply = await ask(text);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(expected);
    expect(reply.text.length).toBeLessThan(400);
  });
});

describe('/invoice spend', () => {
  // The month of the sandbox's pending invoice as the poller would have stored it on its 20th at 10:00 UTC: 18
  // complete days of $70.00 (Production) + $30.00 (a project with a hostile name) for ORG_1, $50.00 a day for ORG_2.
  const PROJECT_1 = '0123456789abcdef01234567';
  const PROJECT_2 = '89abcdef0123456789abcdef';
  const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
  let month: string;
  let days: number;
  let at: number;
  /** The handler's clock: the signature window, which days are complete and the links' signing time. */
  let clock: number;
  let spendHandler: SlackCommandHandler;

  const line = (project: string, projectId: string, cluster: string, sku: string, cents: number) => ({
    project,
    projectId,
    cluster,
    sku,
    daily: Array<number>(18).fill(cents),
  });

  beforeAll(async () => {
    const first = parseIsoDay(org1.pending.startDate) as number;
    const { year, month: m } = civilDate(first);
    month = monthOf(first);
    days = daysInMonth(year, m);
    at = Date.parse(`${month}-20T10:00:00Z`);
    const store = createSpendStore({ s3: new S3Client(s3.clientConfig()), bucket: BUCKET, prefix: PREFIX });
    await store.writeSpend(
      {
        orgId: ORG_1,
        final: false,
        series: seriesOfLines(`${month}-01`, days, [
          line('Production, "EU"', PROJECT_1, 'Cluster0', 'ATLAS_AWS_INSTANCE_M30', 7_000),
          line('<!channel> staging & QA', PROJECT_2, 'qa<@U1>', 'ATLAS_DATA_TRANSFER', 3_000),
        ]),
      },
      month,
      undefined,
    );
    await store.writeSpend(
      {
        orgId: ORG_2,
        final: false,
        series: seriesOfLines(`${month}-01`, days, [
          line('Beta', PROJECT_1, 'Cluster0', 'ATLAS_AWS_INSTANCE_M10', 5_000),
        ]),
      },
      month,
      undefined,
    );
    await s3.putObject(BUCKET, spendChartKey(PREFIX, ORG_1, month), PNG, { contentType: 'image/png' });
    spendHandler = createSlackCommandHandler(deps({ now: () => clock }));
  });

  const askSpend = (text: string, when = at, who: Parameters<typeof signedCommand>[1] = {}) => {
    clock = when;
    return ask(text, { ...who, at: when }, spendHandler);
  };

  function imageUrls(reply: Reply): string[] {
    return (reply.blocks ?? []).flatMap((b) => (b.type === 'image' ? [String(b.image_url)] : []));
  }

  it('answers one organisation from the stored record: month-to-date, forecast arithmetic, top projects', async () => {
    const remaining = days - 18;
    const forecast = formatUsd(180_000 + remaining * 10_000);
    const reply = await askSpend(`spend ${ORG_1}`);
    const text = allText(reply);

    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe(`Acme &amp; &lt;Sons&gt; "EU": $1,800.00 month-to-date, forecast ${forecast}.`);
    expect(text).toContain(
      `$1,800.00 month-to-date (${monthShort(month)} 1–18) + ${remaining} days × $100.00/day = *${forecast}*`,
    );
    expect(text).toContain(
      'Top projects this month: Production, \\"EU\\" $1,260.00 · &lt;!channel&gt; staging &amp; QA $540.00',
    );
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<@U1>');
  });

  it('reads only the state, the spend records and the chart, at once: no Atlas, no Slack API', async () => {
    await askSpend(`spend ${ORG_1}`);

    // The state, this month's record and the four before it (the forecast's history), and the chart's HEAD.
    expect((await s3OperationsThisTest()).sort()).toEqual([
      ...Array<string>(6).fill('GetObject'),
      'HeadObject',
    ]);
    expect(atlas.requests).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);
  });

  it('shows the stored chart through a presigned GET of its key that serves the PNG', async () => {
    const reply = await askSpend(`spend ${ORG_1}`);
    const [url] = imageUrls(reply);
    const image = (reply.blocks ?? []).find((b) => b.type === 'image');

    expect(imageUrls(reply)).toHaveLength(1);
    expect(new URL(url ?? '').pathname).toBe(`/${BUCKET}/${spendChartKey(PREFIX, ORG_1, month)}`);
    expect(new URL(url ?? '').searchParams.get('X-Amz-Expires')).toBe('900');
    expect(String(image?.alt_text)).toContain('$1,800.00 month-to-date');
    s3ClockOffsetMs = at - Date.now() + 60_000;
    const response = await fetch(url ?? '');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(PNG);
  });

  it('answers every watched organisation with a total across them, a chart only where one is stored', async () => {
    const reply = await askSpend('spend');
    const forecast = formatUsd(270_000 + (days - 18) * 15_000);

    expect(allText(reply)).toContain(
      `*All 2 organisations:* *$2,700.00* month-to-date → forecast *${forecast}*.`,
    );
    expect(allText(reply)).toContain(`Forecast: $900.00 month-to-date (${monthShort(month)} 1–18)`);
    expect(imageUrls(reply)).toHaveLength(1);
  });

  it('says there is not enough data yet for a month the poller has not recorded', async () => {
    const nextMonth = Date.parse(`${addMonths(month, 1)}-20T10:00:00Z`);
    const reply = await askSpend(`spend ${ORG_2}`, nextMonth);

    expect(reply.text).toBe(
      `Not enough data yet for \`${ORG_2}\`: the poller records spend from the pending invoice; next poll at its next run. Ask \`/invoice spend\` again after it.`,
    );
  });

  it('says the stored spend cannot be read when the record is corrupt', async () => {
    const corrupt = addMonths(month, -3);
    await s3.putObject(BUCKET, `${PREFIX}spend/${ORG_2}/${corrupt}.json`, '{"v":1,"org":"not an id"}', {
      contentType: 'application/json',
    });
    const reply = await askSpend(`spend ${ORG_2}`, Date.parse(`${corrupt}-20T10:00:00Z`));

    expect(reply.text).toContain(`The stored spend of \`${ORG_2}\` could not be read right now.`);
    expect(reply.text).not.toContain('not an id');
  });

  it('answers an unwatched organisation and refuses outsiders like every other subcommand', async () => {
    expect((await askSpend(`spend ${UNKNOWN_ID}`)).text).toBe(
      `Organisation \`${UNKNOWN_ID}\` is not one of the watched organisations.`,
    );
    expect(await askSpend('spend', at, { team: 'T0EVIL' })).toEqual(refusalReply());
    expect(await askSpend('spend', at, { user: 'U0MALLORY' })).toEqual(refusalReply());
  });

  it('is listed by help', async () => {
    expect(allText(await ask('help'))).toContain('`/invoice spend [org id]`: month-to-date spend');
  });
});

describe('authorisation', () => {
  it('refuses another workspace, channel or user with the same text, reading nothing', async () => {
    const replies = await Promise.all([
      ask(org1.closed.id, { team: 'T0EVIL' }),
      ask(org1.closed.id, { channel: 'C0RANDOM' }),
      ask(org1.closed.id, { user: 'U0MALLORY' }),
    ]);
    for (const reply of replies) expect(reply).toEqual(refusalReply());
    expect(await s3OperationsThisTest()).toEqual([]);
  });
});

describe('the "Get download link" button', () => {
  function click(value: string, who: { team?: string } = {}) {
    const responseUrl = slack.responseUrl(undefined, 'actions');
    const body = blockActionsBody({
      actionId: 'invoice_download_link',
      value,
      teamId: who.team ?? TEAM,
      channelId: CHANNEL,
      userId: USER,
      responseUrl,
    });
    return handler(
      httpApiEvent(body, slackHeaders(body, { secret: SIGNING_SECRET, at: Date.now() })),
      lambdaContext(),
    );
  }

  it('posts a fresh link ephemerally on the response_url', async () => {
    const result = await click(`${ORG_1}:${org1.closed.id}`);
    expect(result).toEqual({ statusCode: 200, body: '' });
    const [message] = slack.messages;
    expect(slack.messages).toHaveLength(1);
    expect(message).toMatchObject({
      kind: 'response_url',
      responseType: 'ephemeral',
      replaceOriginal: false,
    });
    expect(message?.text).toContain(`Download link for Atlas invoice ${org1.closed.id}`);
    const response = await fetch(buttonUrl(message?.blocks));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(closedCsv);
  });

  it('refuses a forged value and an unauthorised workspace on the response_url', async () => {
    await click(`${ORG_2}:${org1.closed.id}`);
    await click(`${ORG_1}:${org1.closed.id}`, { team: 'T0EVIL' });
    expect(slack.messages.map((m) => m.text)).toEqual([
      'This button does not point to an invoice of a watched organisation any more.',
      refusalReply().text,
    ]);
  });

  it('still answers 200 and logs the failure once when the response_url refuses the post', async () => {
    const before = logs.length;
    slack.failNext({ method: 'response_url', status: 500 });
    const result = await click(`${ORG_1}:${org1.closed.id}`);
    expect(result).toEqual({ statusCode: 200, body: '' });
    const errors = logs.slice(before).filter((line) => line.includes('"level":"error"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('a Slack listener failed');
  });
});

describe('delivery and start-up', () => {
  it('exports the two-argument async handler Lambda runtimes require (no callback)', () => {
    expect(lambdaHandler.length).toBe(2);
  });

  it('answers a Slack retry with x-slack-no-retry and does not process it again', async () => {
    const event = signedCommand(org1.closed.id);
    event.headers['x-slack-retry-num'] = '1';
    event.headers['x-slack-retry-reason'] = 'http_timeout';
    const result = await handler(event, lambdaContext());
    expect(result).toEqual({ statusCode: 200, headers: { 'x-slack-no-retry': '1' }, body: '' });
    expect(await s3OperationsThisTest()).toEqual([]);
  });

  it('reads the secret once per cold start and makes no other call before the first answer', async () => {
    secretReads.length = 0;
    const cold = createSlackCommandHandler(deps());
    await ask('help', undefined, cold);
    await ask('help', undefined, cold);
    expect(secretReads).toEqual([SECRET_ID]);
    expect(await s3OperationsThisTest()).toEqual([]);
    expect(atlas.requests).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);
  });

  it('reads the secret through the Secrets Manager client over its wire protocol', async () => {
    // The one test that needs the real protocol: the production wiring is createSecretsManagerReader over the SDK.
    const secrets: SecretsManagerStandIn = await startSecretsManagerStandIn({
      secrets: { [SECRET_ID]: SECRET_JSON() },
    });
    const client = new SecretsManagerClient(secrets.clientConfig());
    try {
      const cold = createSlackCommandHandler(deps({ secrets: createSecretsManagerReader(client) }));

      const reply = await ask(org1.closed.id, undefined, cold);

      expect(reply.text).toContain(`Atlas invoice ${org1.closed.id}`);
      expect(secrets.requests.map((r) => r.operation)).toEqual(['GetSecretValue']);
    } finally {
      client.destroy();
      await secrets.close();
    }
  });

  it('builds the S3 client once per cold start, with the path style the secret sets', async () => {
    const built: boolean[] = [];
    const secretWithPathStyle = new FakeSecrets({
      [SECRET_ID]: JSON.stringify({ ...JSON.parse(SECRET_JSON()), S3_FORCE_PATH_STYLE: 'true' }),
    });
    const cold = createSlackCommandHandler(
      deps({
        env: { ...deps().env, S3_FORCE_PATH_STYLE: undefined },
        secrets: secretWithPathStyle,
        s3: ({ forcePathStyle }) => {
          built.push(forcePathStyle);
          return new S3Client({ ...s3.clientConfig(), forcePathStyle });
        },
      }),
    );

    await ask(org1.closed.id, undefined, cold);
    await ask(org1.paid.id, undefined, cold);

    expect(built).toEqual([true]);
  });

  it('fails a start with a missing setting by naming it, without logging a secret', async () => {
    const before = logs.length;
    const broken = createSlackCommandHandler(
      deps({ env: { ...deps().env, SLACK_ALLOWED_TEAM_IDS: undefined } }),
    );
    await expect(broken(signedCommand('help'), lambdaContext())).rejects.toThrow(ConfigError);
    await expect(broken(signedCommand('help'), lambdaContext())).rejects.toThrow('SLACK_ALLOWED_TEAM_IDS');
    const lines = logs.slice(before);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('SLACK_ALLOWED_TEAM_IDS');
  });

  it('never writes a credential into the logs', () => {
    const all = logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [SIGNING_SECRET, DEMO_SERVICE_ACCOUNT.clientSecret, SLACK_VECTOR.signingSecret]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toContain('X-Amz-Signature');
  });
});

describe('buildCommandDeps', () => {
  const env = {
    ATLAS_ORG_IDS: `${ORG_1},${ORG_2}`,
    ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
    ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
    ARCHIVE_BUCKET: BUCKET,
    PRESIGN_TTL_SECONDS: '600',
    POLL_INTERVAL_MINUTES: '30',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_ALLOWED_TEAM_IDS: TEAM,
  };
  const clients = () => ({
    s3: new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret-access-key' },
    }),
    atlas: new FakeAtlas({}),
    log: silentLogger,
    now: () => Date.UTC(2024, 6, 10, 12),
  });

  it('takes organisations, access, the link lifetime and the poll interval from the configuration', async () => {
    const config = loadCommandConfig(env);

    const built = buildCommandDeps(config, clients());
    const link = await built.presigner.presignCsv('atlas-invoices/x.csv', 'x.csv');

    expect(built.orgIds).toEqual([ORG_1, ORG_2]);
    expect(built.access.teamIds).toEqual(new Set([TEAM]));
    expect(built.pollIntervalMinutes).toBe(30);
    expect(built.atlasDeadlineMs).toBe(DEFAULT_ATLAS_DEADLINE_MS);
    expect(link.expiresAt).toBe(Date.UTC(2024, 6, 10, 12) + 600_000);
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('600');
  });

  it('lets the handler tune the pacing over the configuration', () => {
    const built = buildCommandDeps(loadCommandConfig(env), clients(), {
      atlasDeadlineMs: 300,
      pollIntervalMinutes: 1,
      replyBudgetMs: 1_000,
    });

    expect([built.atlasDeadlineMs, built.pollIntervalMinutes, built.replyBudgetMs]).toEqual([300, 1, 1_000]);
  });
});
