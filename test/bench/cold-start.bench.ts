/**
 * Cold start of each built function as a whole process, against the references measured in the same run.
 *
 *   npx tsx test/bench/cold-start.bench.ts [--quick]      (or all sections: npm run bench)
 *
 * Every sample is a fresh `node` process (test/bench/lib/child-runner.cjs) that `require()`s a bundle and does the
 * function's per-cold-start work, timed from spawn to exit, with the process's own CPU time (all threads) to the end
 * of the work; samples are interleaved (A, B, C, A, B, C, ...), the medians compared, and each ratio given with the
 * range of its medians over consecutive batches of rounds:
 * - `node -e ""`: Node's own start and exit;
 * - each function's floor: a bundle that only constructs the SDK clients it cannot do without (S3 + Secrets Manager,
 *   plus the presigner for the slash command), built with the same esbuild options (credentials from the environment
 *   only, as the functions), and for reading the same floor with the SDK's default credential chain and with esbuild's
 *   defaults;
 * - poll-invoices: load + `handler.prepare()` (configuration read, every client built; no network), and, for
 *   context, a whole first poll of an empty organisation against the local stand-ins;
 * - slack-command: load + one signed `/invoice help` request through the handler (signature, Bolt, the reply);
 * - the same request through the naive build of our handler (full Bolt, full undici, one file) and through stock
 *   Bolt (`App` + `AwsLambdaReceiver` from the package index, S3, presigner).
 * Budgets: each function at most 1.15x its floor; bundles under 1 MB (poller) and 900 kB (slash command) read at
 * start. Nothing is asserted: a missed budget is reported with its gap.
 */
import path from 'node:path';
import { DEMO_SERVICE_ACCOUNT, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import { LOCAL_AWS_CREDENTIALS, startS3StandIn } from '../../infra/local/s3';
import { startSlackStandIn } from '../../infra/local/slack';
import {
  type BenchBundles,
  benchBundles,
  bundleBytes,
  type RefBundle,
  removeBenchBundles,
} from './lib/bundles';
import { childEnv, runBareNode, runCold, type SampleWork } from './lib/child';
import { SCHEDULED_EVENT, signedCommandEvent } from './lib/events';
import {
  type BenchOptions,
  type BenchSection,
  formatKb,
  formatMs,
  formatRatioSpread,
  ratio,
  runStandalone,
} from './lib/report';
import { interleave, median, ratioSpread, type Spread, summarise } from './lib/stats';

export const COLD_START_BUDGET = 1.15;
/** Consecutive batches of rounds whose medians give each ratio's range. */
const BATCHES = 5;
export const SIZE_BUDGET_BYTES = { 'poll-invoices': 1_000_000, 'slack-command': 900_000 } as const;

const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const TEAM = 'T0BENCH';
const ORG_ID = '65f0c0ffee00de00000000be';
const BUCKET = 'bench-archive';

/** What every child sees: a region and a key pair (never used for a real call), no profile, no proxy. */
const AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
  LOG_LEVEL: 'warn',
};

const POLL_ENV = {
  ...AWS_ENV,
  ATLAS_ORG_IDS: ORG_ID,
  ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
  ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
  ARCHIVE_BUCKET: BUCKET,
  SLACK_BOT_TOKEN: 'xoxb-bench-not-a-token',
  SLACK_CHANNEL: 'C0BENCH',
};

const COMMAND_ENV = {
  ...AWS_ENV,
  ATLAS_ORG_IDS: ORG_ID,
  ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
  ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
  ARCHIVE_BUCKET: BUCKET,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_ALLOWED_TEAM_IDS: TEAM,
};

type VariantId =
  | 'bare'
  | 'floor-poll'
  | 'floor-poll-atlas'
  | 'chain-floor-poll'
  | 'plain-floor-poll'
  | 'poll'
  | 'poll-first-run'
  | 'floor-command'
  | 'floor-command-edge'
  | 'chain-floor-command'
  | 'plain-floor-command'
  | 'command'
  | 'command-naive'
  | 'stock-bolt';

interface Variant {
  readonly label: string;
  readonly work: string;
  readonly bytes?: { atStart: number; total: number };
  /** Fresh spec (and environment) per sample; undefined for bare node. */
  readonly sample?: (round: number) => { bundle: string; work: SampleWork; env: Record<string, string> };
}

interface StandInEnv {
  env(round: number): Record<string, string>;
  close(): Promise<void>;
}

/** Atlas sandbox with one organisation without invoices, S3 and Slack stand-ins; a fresh archive prefix per sample. */
async function startEmptyOrgStandIns(): Promise<StandInEnv> {
  const [sandbox, s3, slack] = await Promise.all([
    startAtlasSandbox({ rateLimit: false, orgs: [{ id: ORG_ID, name: 'Bench Org', invoices: 0 }] }),
    startS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] }),
    startSlackStandIn(),
  ]);
  return {
    env: (round) => ({
      ...POLL_ENV,
      ...s3.env(),
      ATLAS_BASE_URL: sandbox.url,
      ARCHIVE_PREFIX: `cold-${round + 10}/`,
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_TOKEN: slack.token,
    }),
    close: async () => {
      await Promise.all([sandbox.close(), s3.close(), slack.close()]);
    },
  };
}

function variants(bundles: BenchBundles, standIns: StandInEnv): Record<VariantId, Variant> {
  const poll = bundles.ours['poll-invoices'];
  const command = bundles.ours['slack-command'];
  const help = (bundle: string, expectText: string) => () => ({
    bundle,
    work: {
      kind: 'invoke',
      event: signedCommandEvent('help', SIGNING_SECRET, TEAM),
      expectStatus: 200,
      expectText,
    } as SampleWork,
    env: childEnv(COMMAND_ENV),
  });
  /** A reference bundle that only loads (its module scope builds its clients). */
  const loadOnly = (label: string, bundle: RefBundle): Variant => ({
    label,
    work: 'load',
    bytes: bundleBytes(bundle),
    sample: () => ({ bundle: bundle.file, work: { kind: 'load' }, env: childEnv(AWS_ENV) }),
  });
  return {
    bare: { label: 'node -e ""', work: 'start and exit' },
    'floor-poll': loadOnly('floor: S3 + Secrets Manager', bundles.floors['poll-invoices']),
    'floor-poll-atlas': loadOnly(
      'floor + the Atlas client (undici)',
      bundles.floorsWithPart['poll-invoices'],
    ),
    'chain-floor-poll': loadOnly(
      "floor with the SDK's default credential chain",
      bundles.chainFloors['poll-invoices'],
    ),
    'plain-floor-poll': loadOnly(
      'floor, esbuild defaults (SDK CommonJS builds, default chain)',
      bundles.plainFloors['poll-invoices'],
    ),
    poll: {
      label: 'poll-invoices',
      work: 'load + prepare()',
      bytes: bundleBytes(poll),
      sample: () => ({ bundle: poll.file, work: { kind: 'prepare' }, env: childEnv(POLL_ENV) }),
    },
    'poll-first-run': {
      label: 'poll-invoices',
      work: 'load + first poll of an empty org (stand-ins)',
      bytes: bundleBytes(poll),
      sample: (round) => ({
        bundle: poll.file,
        work: { kind: 'invoke', event: SCHEDULED_EVENT, timeoutMs: 60_000, expectOk: true },
        env: childEnv(standIns.env(round)),
      }),
    },
    'floor-command': loadOnly('floor: S3 + Secrets Manager + presigner', bundles.floors['slack-command']),
    'floor-command-edge': {
      label: 'floor + the Slack edge (Bolt), one fixed reply',
      work: 'load + signed /invoice help',
      bytes: bundleBytes(bundles.floorsWithPart['slack-command']),
      sample: help(bundles.floorsWithPart['slack-command'].file, 'latest [org id]'),
    },
    'chain-floor-command': loadOnly(
      "floor with the SDK's default credential chain",
      bundles.chainFloors['slack-command'],
    ),
    'plain-floor-command': loadOnly(
      'floor, esbuild defaults (SDK CommonJS builds, default chain)',
      bundles.plainFloors['slack-command'],
    ),
    command: {
      label: 'slack-command',
      work: 'load + signed /invoice help',
      bytes: bundleBytes(command),
      sample: help(command.file, '/invoice help'),
    },
    'command-naive': {
      label: 'slack-command, plain esbuild bundle (no stubs, full Bolt and undici)',
      work: 'load + signed /invoice help',
      bytes: bundleBytes(bundles.naiveSlackCommand),
      sample: help(bundles.naiveSlackCommand.file, '/invoice help'),
    },
    'stock-bolt': {
      label: 'stock Bolt: App + AwsLambdaReceiver + S3 + presigner (plain esbuild)',
      work: 'load + signed command',
      bytes: bundleBytes(bundles.stockBolt),
      sample: help(bundles.stockBolt.file, 'latest [org id]'),
    },
  };
}

export async function run(options: BenchOptions): Promise<BenchSection> {
  const rounds = options.quick ? 6 : 60;
  const bundles = await benchBundles();
  const standIns = await startEmptyOrgStandIns();
  const specDir = bundles.dir;
  try {
    const all = variants(bundles, standIns);
    const ids = Object.keys(all) as VariantId[];
    const marks: Record<string, { loaded: number[]; done: number[]; cpu: number[] }> = {};
    console.log(`cold start: ${ids.length} variants x ${rounds} interleaved rounds (+1 warm-up round)`);
    const samples = await interleave(ids, { rounds, warmup: 1 }, async (id, round) => {
      const variant = all[id];
      if (variant.sample === undefined) return runBareNode(childEnv({}));
      const { bundle, work, env } = variant.sample(round);
      const result = await runCold({ bundle, ...work }, path.join(specDir, `cold-${id}.json`), env);
      if (round >= 0) {
        const kept = marks[id] ?? { loaded: [], done: [], cpu: [] };
        kept.loaded.push(result.loadedMs);
        kept.done.push(result.doneMs);
        kept.cpu.push(result.cpuMs);
        marks[id] = kept;
      }
      return result.wallMs;
    });
    return section(all, samples, marks, rounds);
  } finally {
    await standIns.close();
  }
}

/**
 * Each function's gap split at one reference: the floor plus the part of the function every cold start needs (the
 * poller's Atlas client, the slash command's Slack edge), then what the rest is and what was tried.
 */
const GAP_PARTS: Record<'poll-invoices' | 'slack-command', { part: VariantId; label: string; rest: string }> =
  {
    'poll-invoices': {
      part: 'floor-poll-atlas',
      label:
        "the Atlas client's HTTP stack (undici's Agent and HTTP/1 client, about 170 kB of JavaScript of which 72 kB " +
        'is its HTTP parser as WebAssembly text; every poll calls Atlas)',
      rest:
        'our own modules (configuration, the poll, the archive and inspector, the notifier, the spend watch) compiled ' +
        'and initialised at load, and prepare(): reading the configuration and building the S3 client. Tried and kept: ' +
        "the SDK's credentials from the environment only (about 110 kB less in this bundle and in its floor alike), " +
        "undici deep-imported and stubbed (FormData, non-SIMD parser, HTTP/2), @slack/web-api and the spend chart's " +
        'renderer in files read on first use. Loading undici on the first Atlas call instead would only move the same ' +
        'cost into the same invocation: every poll lists invoices.',
    },
    'slack-command': {
      part: 'floor-command-edge',
      label:
        "Bolt's App and AwsLambdaReceiver with the @slack/web-api client Bolt's App always constructs (about 110 kB), " +
        'handling one signed command',
      rest:
        "our configuration, the use case and the help reply, compiled on the first request. Tried and kept: Bolt's " +
        'HTTP and Socket Mode receivers, OAuth, express and raw-body stubbed; the Atlas client and undici in a file ' +
        "read only for an id not archived yet; the SDK's credentials from the environment only. Going lower means " +
        'leaving Bolt, which the design keeps.',
    },
  };

function section(
  all: Record<VariantId, Variant>,
  samples: Record<VariantId, number[]>,
  marks: Record<string, { loaded: number[]; done: number[]; cpu: number[] }>,
  rounds: number,
): BenchSection {
  const med = (id: VariantId) => summarise(samples[id]).median;
  const bare = med('bare');
  const floorOf = (id: VariantId): VariantId | undefined =>
    id.includes('poll')
      ? 'floor-poll'
      : id.includes('command') || id === 'stock-bolt'
        ? 'floor-command'
        : undefined;
  const budgeted: Partial<Record<VariantId, 'poll-invoices' | 'slack-command'>> = {
    poll: 'poll-invoices',
    command: 'slack-command',
  };
  const gaps: string[] = [];
  const cpuOf = (id: VariantId) => marks[id]?.cpu ?? [];
  const gapParts = (fn: 'poll-invoices' | 'slack-command') => {
    const { part, label, rest } = GAP_PARTS[fn];
    const id: VariantId = fn === 'poll-invoices' ? 'poll' : 'command';
    const floor: VariantId = fn === 'poll-invoices' ? 'floor-poll' : 'floor-command';
    const cpu = (v: VariantId) => median(cpuOf(v));
    return (
      `Of the ${formatMs(med(id) - med(floor))} above the floor (${formatMs(cpu(id) - cpu(floor))} of CPU), ` +
      `${formatMs(med(part) - med(floor))} (${formatMs(cpu(part) - cpu(floor))} of CPU) is ${label}; the other ` +
      `${formatMs(med(id) - med(part))} (${formatMs(cpu(id) - cpu(part))} of CPU) is ${rest}`
    );
  };
  const rows = (Object.keys(all) as VariantId[]).map((id) => {
    const variant = all[id];
    const s = summarise(samples[id]);
    const floor = floorOf(id);
    const mark = (which: 'loaded' | 'done' | 'cpu') => {
      const values = marks[id]?.[which];
      return values === undefined ? '-' : formatMs(median(values));
    };
    const vsFloor: Spread | undefined =
      floor === undefined || id === floor ? undefined : ratioSpread(samples[id], samples[floor], BATCHES);
    const cpuVsFloor: Spread | undefined =
      floor === undefined || id === floor ? undefined : ratioSpread(cpuOf(id), cpuOf(floor), BATCHES);
    const fn = budgeted[id];
    let budget = '';
    if (fn !== undefined && floor !== undefined && vsFloor !== undefined) {
      const atStart = variant.bytes?.atStart ?? 0;
      const sizeOk = atStart < SIZE_BUDGET_BYTES[fn];
      const time =
        vsFloor.high <= COLD_START_BUDGET
          ? 'met'
          : vsFloor.median <= COLD_START_BUDGET
            ? 'met at the median'
            : 'MISSED';
      budget = `time ${time} (<= ${COLD_START_BUDGET}x), size ${sizeOk ? 'met' : 'MISSED'} (< ${formatKb(SIZE_BUDGET_BYTES[fn])})`;
      if (time !== 'met') {
        gaps.push(
          `${fn} ${time === 'MISSED' ? 'MISSED' : 'met only at the median'} its cold-start budget: ` +
            `${formatRatioSpread(vsFloor)} its floor in wall time, ${formatMs(s.median - COLD_START_BUDGET * med(floor))} ` +
            `over ${COLD_START_BUDGET}x at the median (${formatMs(s.median - med(floor))} above the floor); ` +
            `${cpuVsFloor === undefined ? 'n/a' : formatRatioSpread(cpuVsFloor)} in CPU time. ${gapParts(fn)}`,
        );
      }
      if (!sizeOk) gaps.push(`${fn} MISSED its size budget: ${formatKb(atStart)} read at start.`);
    }
    return [
      variant.label,
      variant.work,
      variant.bytes === undefined ? '-' : formatKb(variant.bytes.atStart),
      variant.bytes === undefined || variant.bytes.total === variant.bytes.atStart
        ? '-'
        : formatKb(variant.bytes.total),
      mark('loaded'),
      mark('done'),
      formatMs(s.median),
      formatMs(s.p95),
      mark('cpu'),
      ratio(s.median, bare),
      vsFloor === undefined ? '-' : formatRatioSpread(vsFloor),
      cpuVsFloor === undefined ? '-' : formatRatioSpread(cpuVsFloor),
      budget,
    ];
  });
  const notes = [
    `"median" and "p95": whole process, spawn to exit, over ${rounds} interleaved rounds (a fresh process per ` +
      'sample, one discarded warm-up round). "loaded" and "done": medians inside the child, from its process start ' +
      'to the end of require(bundle) and to the end of the work. "CPU": the child\'s CPU time (user + system, all ' +
      'threads: compilation and GC helpers count) from its start to the end of the work, what a Lambda with less ' +
      'than one vCPU pays in time.',
    `"x floor": the rounds cut into ${BATCHES} consecutive batches, the ratio of the medians in each batch: their ` +
      'median, and in brackets the lowest and highest (what a rerun on the same machine is expected to land in); ' +
      '"CPU x floor" the same for CPU time. A budget is met when the whole range is within it.',
    'Budgets compare the "median" of each function with its floor: the poller with "S3 + Secrets Manager", the ' +
      'slash command (and the plain and stock Bolt bundles, for reading) with "S3 + Secrets Manager + presigner". ' +
      "Both floors are built with the functions' own esbuild options (the SDK's ES module builds, credentials from " +
      'the environment only, as Lambda provides them); the "default credential chain" floors are the same clients ' +
      'with the SDK\'s whole chain (SSO, ini files, processes, web identity, instance metadata), and the "esbuild ' +
      'defaults" floors the same clients bundled from the SDK\'s CommonJS builds with that chain, which is what a ' +
      'plain esbuild build (and stock Bolt) does.',
    'Sizes are decimal kB of JavaScript read at cold start; "total" adds files loaded only on first use ' +
      '(poll-invoices: @slack/web-api, needed only to post through the bot token, and the spend chart renderer, ' +
      'needed only when a chart is drawn; slack-command: the Atlas client with undici, needed only for an id not ' +
      'archived yet). Source maps excluded.',
    'The first-poll row is context, not budgeted: it adds the network round trips of a real first poll (S3 state ' +
      'read, Atlas token and listing, the "now watching" message, the state write) against stand-ins that run in ' +
      'the benchmark process, whose own work after the answer also lands in the spawn-to-exit time ("done" is the ' +
      "child's own view).",
    ...gaps,
  ];
  if (gaps.length === 0) notes.push('All cold-start and size budgets were met in this run.');
  return {
    title: 'Cold start of the built functions',
    header: [
      'bundle',
      'work',
      'read at start',
      'total',
      'loaded',
      'done',
      'median',
      'p95',
      'CPU',
      'x node -e ""',
      'x floor',
      'CPU x floor',
      'budget',
    ],
    rows,
    notes,
  };
}

if (require.main === module) {
  runStandalone(run({ quick: process.argv.includes('--quick') }), { cleanup: removeBenchBundles });
}
