import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  createDemoSandboxOptions,
  DEMO_ORG_ID,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../infra/local/atlas-sandbox';
import { main } from '../../lib/cli/main';
import type { SpendReport } from '../../lib/cli/spend';
import type { Env } from '../../lib/config';
import { inspectCsv } from '../../lib/invoices/csv-summary';
import { formatUsd } from '../../lib/invoices/money';
import { backtestForecasts, calibrateForecastRange } from '../../lib/spend/backtest';
import { forecastArithmetic } from '../../lib/spend/messages';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import { describeSpend, type SpendOverview } from '../../lib/spend/spend-overview';
import { FAST_RETRY } from '../atlas/support';
import { HISTORY_NOW, HISTORY_ORG_ID, historyOrg } from '../spend/sandbox-history';

let sandbox: AtlasSandbox;
let dir: string;

beforeEach(async () => {
  sandbox = await startAtlasSandbox(createDemoSandboxOptions());
  dir = await mkdtemp(join(tmpdir(), 'atlas-cli-'));
});

afterEach(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

function sink() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(
  argv: string[],
  options: { env?: Env; signal?: AbortSignal; tty?: boolean; now?: () => number } = {},
): Promise<{ code: number; stdout: Buffer; out: string; err: string }> {
  const stdout = sink();
  const stderr = sink();
  const env = options.env ?? {
    ATLAS_BASE_URL: sandbox.url,
    ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
    ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
  };
  const code = await main(argv, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env,
    stderrIsTTY: options.tty ?? false,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    client: { retry: FAST_RETRY },
  });
  return { code, stdout: stdout.bytes(), out: stdout.text(), err: stderr.text() };
}

/** `invoices <command> --orgId <the demo organisation> --invoiceId <id>`, then `extra`. */
function invoiceArgs(command: string, id: string, ...extra: string[]): string[] {
  return ['invoices', command, '--orgId', DEMO_ORG_ID, '--invoiceId', id, ...extra];
}

/** The id of the demo organisation's invoice at `index` as the sandbox lists them ('' when there is none). */
function demoInvoiceId(index: number): string {
  return sandbox.listInvoices(DEMO_ORG_ID)[index]?.id ?? '';
}

const apiRequests = () => sandbox.requests.filter((r) => r.path !== '/api/oauth/token');

describe('invoices list', () => {
  it('prints every invoice as JSON', async () => {
    const result = await run(['invoices', 'list', '--orgId', DEMO_ORG_ID]);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual(sandbox.listInvoices(DEMO_ORG_ID));
    expect(result.err).toBe('');
    expect(apiRequests()[0]?.query).toMatchObject({ itemsPerPage: ['500'], viewLinkedInvoices: ['false'] });
  });

  it('prints a table with the statuses and amounts', async () => {
    const result = await run(['invoices', 'list', '--orgId', DEMO_ORG_ID, '--output', 'table']);
    const lines = result.out.trimEnd().split('\n');

    expect(result.code).toBe(0);
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PERIOD\s+BILLED\s+PAID\s+OWED\s+UPDATED$/);
    expect(lines).toHaveLength(15);
    expect(lines[1]).toContain('PENDING');
    expect(lines.some((line) => /FAILED .*\$[\d,]+\.\d\d/.test(line))).toBe(true);
  });

  it('passes repeated --status flags, dates and --linked to Atlas', async () => {
    const result = await run([
      'invoices',
      'list',
      '--orgId',
      DEMO_ORG_ID,
      '--status',
      'FAILED',
      '--status',
      'paid',
      '--fromDate',
      '2020-01-01',
      '--linked',
      '--pretty',
    ]);

    expect(result.code).toBe(0);
    expect(result.out).toContain('\n  {\n');
    expect(apiRequests()[0]?.query).toMatchObject({
      statusNames: ['FAILED', 'PAID'],
      fromDate: ['2020-01-01'],
      viewLinkedInvoices: ['true'],
      pretty: ['true'],
    });
  });
});

describe('invoices get and pending', () => {
  it('prints one invoice with line items as JSON', async () => {
    const id = demoInvoiceId(3);

    const result = await run(invoiceArgs('get', id));

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual(sandbox.getInvoice(DEMO_ORG_ID, id));
  });

  it('prints the pending invoice as a table, through the Cloud Manager flavour', async () => {
    const result = await run([
      'invoices',
      'pending',
      '--orgId',
      DEMO_ORG_ID,
      '-o',
      'table',
      '--flavour',
      'cloud-manager',
    ]);

    expect(result.code).toBe(0);
    expect(result.out.trimEnd().split('\n')).toHaveLength(2);
    expect(apiRequests()[0]?.path).toBe(`/api/public/v1.0/orgs/${DEMO_ORG_ID}/invoices/pending`);
  });
});

describe('invoices csv', () => {
  it('writes the same bytes to stdout and to --outputFile', async () => {
    const id = demoInvoiceId(2);
    const target = join(dir, 'invoice.csv');

    const toStdout = await run(invoiceArgs('csv', id));
    const toFile = await run(invoiceArgs('csv', id, '--outputFile', target));

    expect(toStdout.code).toBe(0);
    expect(toFile.code).toBe(0);
    expect(toFile.out).toBe('');
    const written = await readFile(target);
    expect(written.equals(toStdout.stdout)).toBe(true);
    expect(written.toString('utf8')).toBe(sandbox.csvText(DEMO_ORG_ID, id));
    expect(await readdir(dir)).toEqual(['invoice.csv']);
  });

  it("accepts the Atlas CLI's command name, -o csv and --version", async () => {
    const id = demoInvoiceId(1);

    const result = await run([
      'invoices',
      'downloadInvoiceCsv',
      '--version',
      '2023-01-01',
      '--orgId',
      DEMO_ORG_ID,
      '--invoiceId',
      id,
      '-o',
      'csv',
    ]);

    expect(result.code).toBe(0);
    expect(result.out).toBe(sandbox.csvText(DEMO_ORG_ID, id));
    expect(apiRequests()[0]?.accept).toBe('application/vnd.atlas.2023-01-01+csv');
  });

  it('shows progress on stderr only, never in the data', async () => {
    const id = demoInvoiceId(1);
    sandbox.setCsvSize(DEMO_ORG_ID, id, 3_000_000);

    const result = await run(invoiceArgs('csv', id, '--progress'));

    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(3_000_000);
    expect(result.out).not.toContain('downloaded');
    expect(result.err).toMatch(/downloaded 3\.0 MB of 3\.0 MB \(100%\) at .+\/s\n$/);
  });

  it('leaves no partial file when the download breaks, and keeps an existing file', async () => {
    const id = demoInvoiceId(1);
    sandbox.setCsvSize(DEMO_ORG_ID, id, 4_000_000);
    sandbox.injectFault({ match: { path: /\/csv$/ }, abortAfterBytes: 1_000_000 });
    const target = join(dir, 'invoice.csv');
    await writeFile(target, 'previous contents');

    const result = await run(invoiceArgs('csv', id, '--outputFile', target));

    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^error: the download broke off/);
    expect(await readFile(target, 'utf8')).toBe('previous contents');
    expect(await readdir(dir)).toEqual(['invoice.csv']);
  });

  it('exits 4 when the output file cannot be written', async () => {
    const id = demoInvoiceId(1);

    const result = await run(invoiceArgs('csv', id, '--outputFile', join(dir, 'missing', 'x.csv')));

    expect(result.code).toBe(4);
    expect(result.err).toContain('could not write');
  });
});

describe('usage errors', () => {
  it.each([
    [['invoices', 'list', '--orgId', DEMO_ORG_ID, '--bogus'], 'unknown flag --bogus'],
    [['invoices', 'list'], 'missing required flag --orgId'],
    [['invoices', 'list', '--orgId'], 'flag --orgId needs a value'],
    [['invoices', 'csv', '--orgId', DEMO_ORG_ID], 'missing required flag --invoiceId'],
    [['invoices', 'list', '--orgId', DEMO_ORG_ID, '--outputFile', 'x'], 'flag --outputFile does not apply'],
    [
      ['invoices', 'list', '--orgId', DEMO_ORG_ID, '-o', 'yaml'],
      '--output for "invoices list" must be json or table',
    ],
    [['invoices', 'list', '--orgId', DEMO_ORG_ID, '--status', 'LOST'], '--status must be one of'],
    [['invoices', 'list', '--orgId', DEMO_ORG_ID, '--flavour', 'v3'], '--flavour must be one of'],
    [
      ['invoices', 'list', '--orgId', DEMO_ORG_ID, '--version', 'latest'],
      '--version must be an API version date',
    ],
    [['invoices', 'delete', '--orgId', DEMO_ORG_ID], 'unknown subcommand'],
    [['clusters', 'list'], 'unknown command "clusters"'],
  ])('refuses %j with exit code 2 and a usage hint', async (argv, message) => {
    const result = await run(argv);

    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toMatch(/Run "atlas-invoices.* --help" for usage\.\n$/);
    expect(result.out).toBe('');
    expect(sandbox.requests).toHaveLength(0);
  });

  it('refuses a malformed id before any request', async () => {
    const result = await run(invoiceArgs('get', 'not-an-id'));

    expect(result.code).toBe(2);
    expect(result.err).toContain('invoiceId must be 24 lower-case hexadecimal characters');
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe('usage errors come before the configuration', () => {
  it.each([
    [
      ['invoices', 'list', '--orgId', 'nothex'],
      '--orgId must be 24 lower-case hexadecimal characters (got "nothex")',
    ],
    [invoiceArgs('csv', 'ABC'), '--invoiceId must be 24 lower-case hexadecimal characters (got "ABC")'],
    [
      ['invoices', 'list', '--orgId', DEMO_ORG_ID, '--fromDate', '2024-02-30'],
      '--fromDate must be a date like 2024-06-01 (got "2024-02-30")',
    ],
    [
      ['invoices', 'list', '--orgId', DEMO_ORG_ID, '--toDate', '2024-6-1'],
      '--toDate must be a date like 2024-06-01',
    ],
  ])('exits 2 for %j with no credentials configured', async (argv, message) => {
    const result = await run(argv, { env: {} });

    expect(result.code).toBe(2);
    expect(result.err).toContain(`error: ${message}`);
    expect(result.err).not.toContain('configuration');
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe('per-organisation credentials', () => {
  it("uses the organisation's own entry of ATLAS_ORG_CREDENTIALS", async () => {
    const credentials = JSON.stringify({
      [DEMO_ORG_ID]: {
        clientId: DEMO_SERVICE_ACCOUNT.clientId,
        clientSecret: DEMO_SERVICE_ACCOUNT.clientSecret,
      },
    });

    const result = await run(['invoices', 'list', '--orgId', DEMO_ORG_ID], {
      env: { ATLAS_BASE_URL: sandbox.url, ATLAS_ORG_CREDENTIALS: credentials },
    });

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual(sandbox.listInvoices(DEMO_ORG_ID));
    expect(result.err).toBe('');
  });

  it('exits 3 naming the organisation that has no credential', async () => {
    const other = '0123456789abcdef01234567';
    const credentials = JSON.stringify({
      [other]: { clientId: DEMO_SERVICE_ACCOUNT.clientId, clientSecret: DEMO_SERVICE_ACCOUNT.clientSecret },
    });

    const result = await run(['invoices', 'list', '--orgId', DEMO_ORG_ID], {
      env: { ATLAS_BASE_URL: sandbox.url, ATLAS_ORG_CREDENTIALS: credentials },
    });

    expect(result.code).toBe(3);
    expect(result.err).toContain(
      `configuration: ATLAS_ORG_CREDENTIALS: has no entry for organisation ${DEMO_ORG_ID}`,
    );
    expect(result.err).not.toContain(DEMO_SERVICE_ACCOUNT.clientSecret);
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe('credentials and Atlas errors', () => {
  it('exits 3 for refused credentials, explaining on stderr without the secret', async () => {
    const secret = 'mdb_sa_sk_this-is-wrong-1234';

    const result = await run(['invoices', 'list', '--orgId', DEMO_ORG_ID], {
      env: {
        ATLAS_BASE_URL: sandbox.url,
        ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
        ATLAS_CLIENT_SECRET: secret,
      },
    });

    expect(result.code).toBe(3);
    expect(result.err).toContain('Atlas rejected the credentials (HTTP 401');
    expect(result.err).toContain('ATLAS_CLIENT_SECRET');
    expect(result.err).not.toContain(secret);
    expect(result.out).toBe('');
  });

  it('exits 3 naming the variable when no credentials are configured', async () => {
    const result = await run(['invoices', 'list', '--orgId', DEMO_ORG_ID], {
      env: { ATLAS_BASE_URL: sandbox.url },
    });

    expect(result.code).toBe(3);
    expect(result.err).toContain('configuration: ATLAS_CLIENT_ID');
  });

  it('exits 1 for an Atlas error such as an unknown invoice', async () => {
    const result = await run(invoiceArgs('get', 'dddddddddddddddddddddddd'));

    expect(result.code).toBe(1);
    expect(result.err).toContain('no invoice dddddddddddddddddddddddd');
  });

  it('exits 130 when interrupted', async () => {
    sandbox.injectFault({ match: { path: /\/invoices$/ }, hang: true });
    const controller = new AbortController();

    const running = run(['invoices', 'list', '--orgId', DEMO_ORG_ID], { signal: controller.signal });
    while (apiRequests().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const result = await running;

    expect(result.code).toBe(130);
    expect(result.err).toBe('error: interrupted\n');
  });
});

describe('invoices spend', () => {
  // A sandbox organisation with a line item per usage day, seen on 2026-11-20: its pending November invoice and the
  // five months before, of which the four latest are read (the poller's records hold as many): October for the
  // forecast's window and the comparison, all four (final) for the backtest that calibrates the range.
  let history: AtlasSandbox;
  let expected: SpendOverview;

  const env = () => ({
    ATLAS_BASE_URL: history.url,
    ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
    ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
  });
  const spend = (extra: string[] = [], more: Env = {}) =>
    run(['invoices', 'spend', '--orgId', HISTORY_ORG_ID, ...extra], {
      env: { ...env(), ...more },
      now: () => HISTORY_NOW,
    });

  beforeEach(async () => {
    history = await startAtlasSandbox({
      clock: () => HISTORY_NOW,
      orgs: [historyOrg(6)],
      serviceAccounts: [DEMO_SERVICE_ACCOUNT],
    });
    // What the poller would record, read straight from the sandbox, newest first: November (pending), then
    // October back to July.
    const [november, ...before] = history.listInvoices(HISTORY_ORG_ID);
    if (november?.statusName !== 'PENDING' || before.length !== 5) throw new Error('sandbox seed changed');
    const series = async (invoice: typeof november) => {
      const { usage } = await inspectCsv(history.csvStream(HISTORY_ORG_ID, invoice.id), {
        period: { start: invoice.startDate, end: invoice.endDate },
      });
      if (usage === undefined) throw new Error('no usage series');
      return usage;
    };
    const months = await Promise.all(before.slice(0, 4).map(series));
    expected = describeSpend({
      orgId: HISTORY_ORG_ID,
      orgName: 'Spend History <Org> & "Co"',
      series: await series(november),
      previous: months[0],
      asOf: '2026-11-20',
      calibration: calibrateForecastRange(backtestForecasts([...months].reverse()).samples),
      settings: { ...DEFAULT_SPEND_SETTINGS, budgets: [{ orgId: HISTORY_ORG_ID, cents: 500_000 }] },
    });
    history.resetRequests();
  });

  afterEach(async () => {
    await history.close();
  });

  it('prints month-to-date, the forecast arithmetic and range, last month and the budget, as Slack shows them', async () => {
    const result = await spend([], { SPEND_BUDGETS: `${HISTORY_ORG_ID}=5000` });
    const f = expected.forecast;
    if (f.kind !== 'forecast') throw new Error('expected a forecast on Nov 20');

    expect(result.code).toBe(0);
    expect(result.err).toBe('');
    expect(result.out).toContain('Spend: Spend History <Org> & "Co", November 2026');
    expect(result.out).toContain(`Month-end forecast: ${forecastArithmetic(f).replaceAll('*', '')}`);
    expect(result.out).toContain(
      `Likely ${formatUsd(f.lowCents)}–${formatUsd(f.highCents)}: 10th–90th percentile of how this forecast did at this point of the month over 4 archived months`,
    );
    expect(result.out).toContain(`Last month ${formatUsd(f.previousTotalCents ?? 0)}`);
    expect(result.out).toContain('Budget $5,000.00 (forecast ');
    expect(result.out).toContain('Top projects this month: ');
    expect(f.completeDays).toBe(19);
    expect(f.previousTotalCents).toBeGreaterThan(0);
  });

  it('reads the pending invoice, lists the four months before and streams their CSVs: seven Atlas requests', async () => {
    await spend();

    const paths = history.requests.filter((r) => r.path !== '/api/oauth/token').map((r) => r.path);
    const invoices = `/api/atlas/v2/orgs/${HISTORY_ORG_ID}/invoices`;
    const csvs = history
      .listInvoices(HISTORY_ORG_ID)
      .slice(0, 5)
      .map((invoice) => `${invoices}/${invoice.id}/csv`);
    expect(paths.sort()).toEqual([invoices, `${invoices}/pending`, ...csvs].sort());
  });

  it('prints the same figures as JSON with --output json', async () => {
    const result = await spend(['--output', 'json'], { SPEND_BUDGETS: `${HISTORY_ORG_ID}=5000` });
    const report = JSON.parse(result.out) as SpendReport;
    const [november, october] = history.listInvoices(HISTORY_ORG_ID);

    expect(result.code).toBe(0);
    expect(report.invoiceId).toBe(november?.id);
    expect(report.previousInvoiceId).toBe(october?.id);
    expect(report.overview).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('says so when the organisation has no pending invoice', async () => {
    const paidOnly = history.createOrg({ name: 'Paid', invoices: [{ statusName: 'PAID' }] });
    const result = await run(['invoices', 'spend', '--orgId', paidOnly.id], {
      env: env(),
      now: () => HISTORY_NOW,
    });

    expect(result.code).toBe(0);
    expect(result.out).toBe(
      `Organisation ${paidOnly.id} has no pending invoice: no spend to show for the current month.\n`,
    );
  });

  it('exits 3 naming SPEND_BUDGETS when it is malformed, before asking Atlas', async () => {
    const result = await spend([], { SPEND_BUDGETS: 'lots' });

    expect(result.code).toBe(3);
    expect(result.err).toContain('configuration: SPEND_BUDGETS: entry 1 must look like');
    expect(history.requests.filter((r) => r.path !== '/api/oauth/token')).toHaveLength(0);
  });

  it.each([
    [['invoices', 'spend'], 'missing required flag --orgId'],
    [['invoices', 'spend', '--orgId', 'acme'], '--orgId must be 24 lower-case hexadecimal characters'],
    [['invoices', 'spend', '--orgId', DEMO_ORG_ID, '-o', 'table'], 'must be text or json'],
    [['invoices', 'spend', '--orgId', DEMO_ORG_ID, '--invoiceId', DEMO_ORG_ID], 'does not apply'],
  ])('refuses %j with exit code 2 before reading credentials', async (argv, message) => {
    const result = await run(argv, { env: {} });

    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).not.toContain('configuration');
  });

  it('has help', async () => {
    const result = await run(['invoices', 'spend', '--help'], { env: {} });

    expect(result.code).toBe(0);
    expect(result.out).toContain('Usage: atlas-invoices invoices spend --orgId <id> [--output text|json]');
    expect(result.out).toContain('SPEND_BUDGETS');
  });
});

describe('help', () => {
  it('documents the commands, the environment and the exit codes', async () => {
    const result = await run(['--help'], { env: {} });

    expect(result.code).toBe(0);
    expect(result.out).toContain('Usage: atlas-invoices invoices <command> [flags]');
    expect(result.out).toContain('ATLAS_CLIENT_ID');
    expect(result.out).toMatch(/Exit codes:\n {2}0 {4}success/);
    expect(result.out).toContain('130  interrupted');
  });

  it('has help per command', async () => {
    const result = await run(['invoices', 'csv', '-h'], { env: {} });

    expect(result.code).toBe(0);
    expect(result.out).toContain('--outputFile <file>');
    expect(result.out).toContain('never leaves a partial file');
  });
});
