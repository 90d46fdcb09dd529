/**
 * Poll cost: one scheduled poll of 1, 50 and 500 organisations with 60 invoices each, with nothing changed and with
 * 5% of the invoices changed (3 per organisation), counted from the stand-ins' request logs: Atlas requests (by kind),
 * S3 requests (by operation), Slack calls, and the wall time. Compared in the same run with the naive poll a user
 * might write: list, then GET every invoice to see whether it changed.
 *
 * The poll is `runPoll` wired as functions/poll-invoices.ts wires it (the Atlas client, the CSV archive, the state and
 * index stores, the Slack notifier), running in a child process (this file bundled with esbuild, as the Lambda's code
 * is) so its time is its own; the Atlas sandbox, the S3 stand-in and the Slack stand-in run in this process. Each
 * organisation starts in the steady state a first poll leaves (its state written with the poll's own merge and state
 * store), and the child polls once unmeasured (token, connections) before the measured rounds. Prints figures and
 * ratios; asserts nothing on time.
 *
 *   npx tsx test/bench/poll-cost.bench.ts [--quick] [--rounds=N] [--orgs=1,50]
 *   POLL_COST_BENCH_NODE_ARGS="--cpu-prof" ...    node flags for the poller
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type BenchSection, formatSeconds, runStandalone } from './lib/report';
import { bundleSelf, flagValue, isEntryPoint, progress, serveRole, stopChild } from './lib/self-process';
import { median } from './lib/stats';

const SELF = fileURLToPath(import.meta.url);
const ROLE_FLAG = '--poll-cost-bench-role';
const ORG_COUNTS = [1, 50, 500] as const;
const INVOICES_PER_ORG = 60;
/** 5% of 60: one new invoice and two status changes per organisation per round. */
const CHANGES_PER_ORG = 3;
const BUCKET = 'bench-poll';
const CHANNEL = 'C0BENCHPOLL';
/** Atlas: one token bucket per organisation shared by the invoice endpoints (atlas-api.md). */
const ATLAS_BUCKET = 500;
const ATLAS_REFILL_PER_MINUTE = 100;
const ATLAS_PAGE_SIZE = 500;

export interface PollCostBenchOptions extends BenchOptions {
  /** Measured rounds per organisation count; default 1 quick, 3 full. */
  readonly rounds?: number;
  /** A subset of 1, 50 and 500; default all. */
  readonly orgCounts?: readonly number[];
}

const SCENARIOS = ['steady', 'naive', 'changed'] as const;
type Scenario = (typeof SCENARIOS)[number];
const SCENARIO_LABELS: Record<Scenario, string> = {
  steady: 'poll, nothing changed',
  naive: 'naive (list + GET each), nothing changed',
  changed: 'poll, 5% changed',
};

interface PollerInit {
  readonly type: 'init';
  readonly atlasUrl: string;
  readonly credentials: { readonly clientId: string; readonly clientSecret: string };
  readonly s3: unknown;
  readonly slack: { readonly apiUrl: string; readonly token: string };
  readonly prefix: string;
  readonly orgIds: readonly string[];
  /** Written by the poller with the state store before anything else (not counted). */
  readonly states: readonly unknown[];
}

interface PollerReply {
  readonly type: 'result';
  readonly ms: number;
  readonly cpuMs: number;
  readonly ok: boolean;
  readonly concurrency: number;
  /** For the poll: its report's totals; for the naive poll: invoices fetched. */
  readonly detail: Readonly<Record<string, number>>;
}

interface Counts {
  readonly atlas: {
    token: number;
    list: number;
    invoice: number;
    csv: number;
    other: number;
    throttled: number;
  };
  readonly s3: Readonly<Record<string, number>>;
  readonly slack: number;
}

interface Measurement {
  readonly scenario: Scenario;
  readonly orgs: number;
  readonly reply: PollerReply;
  readonly counts: Counts;
  /** Changes made before this poll (0 unless `changed`). */
  readonly changes: number;
}

export async function run(options: PollCostBenchOptions): Promise<BenchSection> {
  const rounds = options.rounds ?? (options.quick ? 1 : 3);
  const orgCounts = options.orgCounts ?? ORG_COUNTS;
  const { DEMO_SERVICE_ACCOUNT, startAtlasSandbox } = await import('../../infra/local/atlas-sandbox');
  const { startS3StandIn } = await import('../../infra/local/s3');
  const { startSlackStandIn } = await import('../../infra/local/slack');
  const { csvKey } = await import('../../lib/archive/keys');
  const { mergeCompleted } = await import('../../lib/poll/merge-state');

  const [sandbox, s3, slack] = await Promise.all([
    startAtlasSandbox({ rateLimit: false }),
    startS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] }),
    startSlackStandIn(),
  ]);
  // The chart renderer's native addon is a runtime package on Lambda too (infra/build.ts RUNTIME_PACKAGES).
  const bundle = await bundleSelf(SELF, 'poll-cost-bench', { external: ['@resvg/resvg-js'] });
  const measurements: Measurement[] = [];
  try {
    const orgs = Array.from({ length: Math.max(...orgCounts) }, (_, i) =>
      sandbox.createOrg({ name: `Bench Org ${i + 1}`, invoices: INVOICES_PER_ORG, lineItems: 'monthly' }),
    );
    const counts = (): Counts => {
      const atlas = { token: 0, list: 0, invoice: 0, csv: 0, other: 0, throttled: 0 };
      for (const request of sandbox.requests) {
        if (request.status === 429) atlas.throttled += 1;
        if (request.flavour === 'oauth') atlas.token += 1;
        else if (request.path.endsWith('/csv')) atlas.csv += 1;
        else if (request.path.endsWith('/invoices')) atlas.list += 1;
        else if (request.invoiceId !== undefined) atlas.invoice += 1;
        else atlas.other += 1;
      }
      return {
        atlas,
        s3: s3.counts() as Record<string, number>,
        slack: slack.requests.filter((r) => r.method === 'chat.postMessage').length,
      };
    };
    const resetCounts = () => {
      sandbox.resetRequests();
      s3.resetRequests();
      slack.reset();
    };

    for (const orgCount of orgCounts) {
      const prefix = `orgs-${orgCount}/`;
      const orgIds = orgs.slice(0, orgCount).map((org) => org.id);
      // The steady state a first poll leaves: every CSV archived with its month's spend record, the channel told, as
      // of the sandbox now.
      const now = new Date().toISOString();
      const states = orgs.slice(0, orgCount).map((org) => {
        const work = sandbox.listInvoices(org.id).map((invoice) => ({
          invoice,
          notifiedStatus: invoice.statusName,
          archived: {
            statusName: invoice.statusName,
            updated: invoice.updated,
            sha256: createHash('sha256').update(sandbox.csvText(org.id, invoice.id)).digest('hex'),
            key: csvKey(prefix, org.id, invoice.startDate, invoice.id),
            spend: true as const,
          },
        }));
        return mergeCompleted(undefined, work, { orgId: org.id, orgName: org.name, now, watchingSince: now });
      });

      const poller = spawnFrom(bundle.file);
      try {
        const init: PollerInit = {
          type: 'init',
          atlasUrl: sandbox.url,
          credentials: DEMO_SERVICE_ACCOUNT,
          s3: s3.clientConfig(),
          slack: { apiUrl: slack.apiUrl, token: slack.token },
          prefix,
          orgIds,
          states,
        };
        await ask(poller, init);
        const warm = await ask(poller, { type: 'poll' });
        if (!warm.ok) throw new Error(`the warm-up poll of ${orgCount} organisations failed`);
        for (let round = 0; round < rounds; round++) {
          const order: Scenario[] = round % 2 === 0 ? ['steady', 'naive'] : ['naive', 'steady'];
          for (const scenario of order) {
            resetCounts();
            const reply = await ask(poller, { type: scenario === 'naive' ? 'naive' : 'poll' });
            measurements.push({ scenario, orgs: orgCount, reply, counts: counts(), changes: 0 });
          }
          // 5%: per organisation one new invoice (a new CSV to write) and two status changes (same CSV bytes).
          for (const orgId of orgIds) {
            const paid = sandbox.listInvoices(orgId).filter((invoice) => invoice.statusName === 'PAID');
            for (const invoice of paid.slice(0, CHANGES_PER_ORG - 1)) {
              sandbox.setStatus(orgId, invoice.id, 'FORGIVEN');
            }
            sandbox.addInvoice(orgId);
          }
          resetCounts();
          const reply = await ask(poller, { type: 'poll' });
          measurements.push({
            scenario: 'changed',
            orgs: orgCount,
            reply,
            counts: counts(),
            changes: orgCount * CHANGES_PER_ORG,
          });
          progress(
            `poll-cost bench: ${orgCount} organisations, round ${round + 1}/${rounds}: ` +
              `${(reply.ms / 1000).toFixed(2)} s for ${orgCount * CHANGES_PER_ORG} changes`,
          );
        }
      } finally {
        await stopChild(poller);
      }
    }
  } finally {
    await Promise.all([sandbox.close(), s3.close(), slack.close(), bundle.remove()]);
  }
  return section(measurements, orgCounts, rounds);
}

// Parent side

/** `POLL_COST_BENCH_NODE_ARGS` adds node flags to the poller (e.g. `--cpu-prof`). */
function spawnFrom(file: string): ChildProcess {
  return fork(file, [ROLE_FLAG, 'poller'], {
    execArgv: (process.env.POLL_COST_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // The bundle lives in a temporary directory: its external packages (and the chart font) resolve from here.
      NODE_PATH: fileURLToPath(new URL('../../node_modules', import.meta.url)),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends a command and resolves with the poller's reply; rejects if it exits first. */
function ask(child: ChildProcess, message: PollerInit | { type: 'poll' | 'naive' }): Promise<PollerReply> {
  return new Promise<PollerReply>((resolve, reject) => {
    const onMessage = (reply: unknown) => {
      cleanup();
      resolve(reply as PollerReply);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`poll-cost bench: the poller exited early (code ${code})`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}

function section(
  measurements: readonly Measurement[],
  orgCounts: readonly number[],
  rounds: number,
): BenchSection {
  const rows: string[][] = [];
  const verdicts: string[] = [];
  const perOrgMs = new Map<string, number>();
  let throttled = 0;
  let concurrency = 0;
  for (const orgs of orgCounts) {
    for (const scenario of SCENARIOS) {
      const runs = measurements.filter((m) => m.orgs === orgs && m.scenario === scenario);
      const first = runs[0];
      if (first === undefined) continue;
      concurrency = first.reply.concurrency;
      const ms = median(runs.map((m) => m.reply.ms));
      perOrgMs.set(`${orgs}:${scenario}`, ms / orgs);
      // Counts are the same every round (checked below); the first round's are shown.
      const { atlas, s3, slack } = first.counts;
      for (const m of runs) throttled += m.counts.atlas.throttled;
      const atlasTotal = atlas.list + atlas.invoice + atlas.csv + atlas.other + atlas.token;
      const atlasPerOrg = atlasTotal / orgs;
      const changes = first.changes;
      rows.push([
        String(orgs),
        SCENARIO_LABELS[scenario],
        describeAtlas(atlas),
        describeS3(s3),
        String(slack),
        duration(ms),
        `${(ms / orgs).toFixed(1)} ms`,
        duration(median(runs.map((m) => m.reply.cpuMs))),
        formatCount(atlasPerOrg),
        // Atlas refills 100 requests per minute per organisation: the shortest sustainable interval between polls.
        formatSeconds((atlasPerOrg / ATLAS_REFILL_PER_MINUTE) * 60_000),
      ]);
      const label = `${orgs} organisation${orgs === 1 ? '' : 's'}`;
      // Each round adds an invoice per organisation, so only the poll with nothing changed repeats exactly.
      const sameEveryRound = runs.every((m) => JSON.stringify(m.counts) === JSON.stringify(first.counts));
      if (scenario === 'steady' && !sameEveryRound)
        verdicts.push(`${label}, nothing changed: counts differ between rounds`);
      if (!runs.every((m) => m.reply.ok)) verdicts.push(`${label}, ${scenario}: a poll reported errors`);
      if (scenario === 'steady') {
        const listPerOrg = Math.ceil(INVOICES_PER_ORG / ATLAS_PAGE_SIZE);
        const writes = Object.entries(s3)
          .filter(([op]) => op !== 'GetObject' && op !== 'HeadObject')
          .reduce((sum, [, n]) => sum + n, 0);
        const met =
          atlas.list === orgs * listPerOrg &&
          atlas.csv === 0 &&
          atlas.invoice === 0 &&
          (s3.GetObject ?? 0) === orgs &&
          (s3.HeadObject ?? 0) === 0 &&
          writes === 0 &&
          slack === 0;
        verdicts.push(
          `${label}, nothing changed: ${atlas.list} list request(s) (${listPerOrg} per organisation ` +
            `expected), ${s3.GetObject ?? 0} S3 read(s), ${writes} S3 write(s), ${slack} Slack call(s) → ` +
            `${met ? 'met' : 'NOT met'}.`,
        );
      }
      if (scenario === 'changed') {
        const allMet = runs.every(
          (m) =>
            m.counts.atlas.csv === m.changes && m.counts.slack === m.changes && m.counts.atlas.invoice === 0,
        );
        verdicts.push(
          `${label}, 5% changed: ${changes} changes → ${atlas.csv} CSV download(s), ${slack} ` +
            `message(s) in every round → ${allMet ? 'met' : 'NOT met'}.`,
        );
      }
    }
  }
  const perOrg = (scenario: Scenario) =>
    orgCounts
      .map((orgs) => `${orgs}: ${(perOrgMs.get(`${orgs}:${scenario}`) ?? Number.NaN).toFixed(1)} ms`)
      .join(', ');
  const changedRuns = measurements.filter(
    (m) => m.scenario === 'changed' && m.orgs === Math.max(...orgCounts),
  );
  const cpuPerChange = median(changedRuns.map((m) => m.reply.cpuMs / m.changes));
  const largest = orgCounts[orgCounts.length - 1] ?? 0;
  const naivePerOrg = perOrgMs.get(`${largest}:naive`) ?? Number.NaN;
  const steadyPerOrg = perOrgMs.get(`${largest}:steady`) ?? Number.NaN;
  // The naive poll of an organisation with 1,000 invoices: 1 list + 1,000 GETs against a full bucket.
  const naiveWaitSeconds = ((1 + 1000 - ATLAS_BUCKET) / ATLAS_REFILL_PER_MINUTE) * 60;
  const notes = [
    'Budget: with nothing changed, one list request per 500 invoices per organisation, one S3 read and no write ' +
      'per organisation, no Slack call; with changes, exactly one CSV download and one message per change.',
    ...verdicts,
    `Wall time per organisation, nothing changed (${perOrg('steady')}) and 5% changed (${perOrg('changed')}): ` +
      'it does not grow with the number of organisations, so the total grows linearly (at most; the first ' +
      `organisations also pay for compiling), ${concurrency} polled at once (POLL_CONCURRENCY's default). Atlas's ` +
      'rate limit was off in the sandbox for these figures (`rateLimit: false`): they are the code and the ' +
      `stand-ins alone, and ${throttled} request(s) were answered 429. The poller is busy for most of that time: ` +
      `about ${cpuPerChange.toFixed(1)} ms of its CPU per change at ${Math.max(...orgCounts)} organisations, ` +
      'mostly in the AWS SDK and the HTTP clients (POLL_COST_BENCH_NODE_ARGS=--cpu-prof profiles it).',
    `What Atlas's real limit implies (one bucket of ${ATLAS_BUCKET} per organisation refilling ` +
      `${ATLAS_REFILL_PER_MINUTE}/min, organisations independent): a poll never waits while it needs at most ` +
      `${ATLAS_BUCKET} requests per organisation, and the last column is the shortest interval at which polls can ` +
      'repeat without ever waiting. The poll needs 1 request per organisation with nothing changed (more only ' +
      'past 500 invoices: one per page) plus one per changed invoice; the naive poll needs 1 + one per invoice, ' +
      `so an organisation with 1,000 invoices would wait ${naiveWaitSeconds.toFixed(0)} s ` +
      'for tokens on every naive poll and none on this one (2 list pages).',
    `Naive poll at ${largest} organisations: ${formatRatio(naivePerOrg, steadyPerOrg)} the wall time and ` +
      `${INVOICES_PER_ORG + 1}x the Atlas requests of the poll with nothing changed; it does not even fetch the ` +
      'CSVs or save anything (it only reads the state).',
    `Times are medians of ${rounds} round(s) in a warm poller process (one unmeasured poll first: the OAuth token ` +
      'and connections; a cold start adds one token request). Each round changes different invoices; "changed" ' +
      'writes per organisation one new CSV (after a HeadObject: no state hash for a new invoice), three index ' +
      'entries and the state; a status change leaves the CSV bytes as they were (downloaded and hashed, not ' +
      "written again). The new invoice is PENDING, so the spend watch follows it: its month's spend record " +
      "(one PUT), up to 4 GETs of earlier months' records (the forecast's history) and the chart (one PUT); " +
      'no alert is due in these organisations, so nothing more goes to Slack.',
  ];
  return {
    title: 'Poll cost: requests and wall time per scheduled poll',
    header: [
      'orgs',
      'poll',
      'Atlas requests',
      'S3 requests',
      'Slack calls',
      'wall time',
      'per org',
      'poller CPU',
      'Atlas req/org',
      'min interval at 100 req/min',
    ],
    rows,
    notes,
  };
}

function describeAtlas(atlas: Counts['atlas']): string {
  const parts = [
    [atlas.list, 'list'],
    [atlas.invoice, 'GET invoice'],
    [atlas.csv, 'CSV'],
    [atlas.token, 'token'],
    [atlas.other, 'other'],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, what]) => `${formatCount(n)} ${what}`);
  return shown.length === 0 ? '0' : shown.join(' + ');
}

function describeS3(s3: Readonly<Record<string, number>>): string {
  const names: Record<string, string> = { GetObject: 'GET', HeadObject: 'HEAD', PutObject: 'PUT' };
  const shown = Object.entries(s3)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${formatCount(n)} ${names[op] ?? op}`);
  return shown.length === 0 ? '0' : shown.join(' + ');
}

function formatCount(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
}

function formatRatio(value: number, reference: number): string {
  return Number.isFinite(value) && Number.isFinite(reference) && reference > 0
    ? `${(value / reference).toFixed(1)}x`
    : 'n/a';
}

/** Milliseconds below a second, seconds above. */
function duration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(ms < 100 ? 1 : 0)} ms` : formatSeconds(ms);
}

// The poller (child process)

async function servePoller(): Promise<void> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { buildPollDeps } = await import('../../functions/poll-invoices');
  const { createStateStore } = await import('../../lib/archive/state-store');
  const { createAtlasClient } = await import('../../lib/atlas/client');
  const { DEFAULT_POLL_CONCURRENCY } = await import('../../lib/config');
  const { silentLogger } = await import('../../lib/log');
  const { runPoll } = await import('../../lib/poll/run-poll');
  const { createDeadline } = await import('../../lib/retry');
  const { DEFAULT_SPEND_SETTINGS } = await import('../../lib/spend/settings');
  type OrgState = import('../../lib/invoices/types').OrgState;

  const init = await new Promise<PollerInit>((resolve) =>
    process.once('message', (message) => resolve(message as PollerInit)),
  );
  const log = silentLogger;
  const s3 = new S3Client(init.s3 as import('@aws-sdk/client-s3').S3ClientConfig);
  const { prefix } = init;
  const concurrency = DEFAULT_POLL_CONCURRENCY;
  const credentials = { kind: 'service-account' as const, ...init.credentials };
  // Exactly as functions/poll-invoices.ts builds them from its configuration.
  const deps = buildPollDeps(
    {
      orgIds: init.orgIds,
      atlas: { baseUrl: init.atlasUrl, credentials },
      archive: { bucket: BUCKET, prefix, forcePathStyle: true, presignTtlSeconds: 900 },
      slack: {
        kind: 'bot',
        token: init.slack.token,
        defaultChannel: CHANNEL,
        routes: new Map(),
        apiUrl: init.slack.apiUrl,
      },
      concurrency,
      logLevel: 'error',
      spend: DEFAULT_SPEND_SETTINGS,
    },
    { s3, log },
  );
  const stateStore = createStateStore({ s3, bucket: BUCKET, prefix });
  // The naive poll's own client (it needs GET invoice, which the poll never calls).
  const atlas = createAtlasClient({ baseUrl: init.atlasUrl, credentials, log });

  /** The naive poll: read the state, list, then GET every invoice (same concurrency). */
  const naive = async (): Promise<number> => {
    let next = 0;
    let fetched = 0;
    const worker = async () => {
      while (next < init.orgIds.length) {
        const orgId = init.orgIds[next] as string;
        next += 1;
        await stateStore.readState(orgId);
        const listed = await atlas.listInvoices(orgId, { viewLinkedInvoices: false });
        for (const invoice of listed) {
          await atlas.getInvoice(orgId, invoice.id);
          fetched += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, init.orgIds.length) }, worker));
    return fetched;
  };

  const timed = async (work: () => Promise<{ ok: boolean; detail: Record<string, number> }>) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { ok, detail } = await work();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const reply: PollerReply = {
      type: 'result',
      ms,
      cpuMs: (used.user + used.system) / 1000,
      ok,
      concurrency,
      detail,
    };
    process.send?.(reply);
  };

  for (const state of init.states as OrgState[]) await stateStore.writeState(state, undefined);
  // Warm the naive poll's client too (its token and connection), as the warm-up poll warms the poll's.
  await atlas.listInvoices(init.orgIds[0] as string, { viewLinkedInvoices: false });
  process.send?.({
    type: 'result',
    ms: 0,
    cpuMs: 0,
    ok: true,
    concurrency,
    detail: {},
  } satisfies PollerReply);
  await new Promise<void>((resolve, reject) => {
    process.on('message', (message: { type?: string }) => {
      if (message.type === 'close') {
        resolve();
        return;
      }
      const work =
        message.type === 'naive'
          ? async () => ({ ok: true, detail: { fetched: await naive() } })
          : async () => {
              const report = await runPoll({
                ...deps,
                now: () => new Date(),
                deadline: createDeadline(14 * 60_000),
              });
              return { ok: report.ok, detail: { ...report.totals } };
            };
      timed(work).catch(reject);
    });
    process.once('disconnect', () => resolve());
  });
  s3.destroy();
  await atlas.close();
}

// Entry points

/** `--quick`, and for experiments `--rounds=N`, `--orgs=1,50`. */
function cliOptions(args: readonly string[]): PollCostBenchOptions {
  const value = (name: string) => flagValue(args, name);
  const rounds = value('rounds');
  const orgs = value('orgs')?.split(',').map(Number);
  return {
    quick: args.includes('--quick'),
    ...(rounds !== undefined ? { rounds: Number(rounds) } : {}),
    ...(orgs !== undefined ? { orgCounts: orgs } : {}),
  };
}

if (process.argv.includes(ROLE_FLAG)) {
  serveRole(servePoller);
} else if (isEntryPoint(SELF)) {
  runStandalone(run(cliOptions(process.argv.slice(2))));
}
