/**
 * Latency of `/invoice <archived id>` through the built slash-command bundle (signature check, Bolt, one index GET,
 * a presign), warm and cold, against its floor on the same S3 stand-in: one GetObject of the same index object (read
 * and parsed) plus one presign, on an SDK client built once like the function's.
 *
 *   npx tsx test/bench/slash-command-latency.bench.ts [--quick]      (or all sections: npm run bench)
 *
 * - Warm: one child process loads our bundle, the naive build (plain esbuild, full Bolt) and the floor, then times
 *   sequential requests interleaved ours, naive, floor, ours, ... (after discarded warm-up rounds); each request is
 *   a direct handler call with a freshly signed API Gateway event, as Lambda makes it.
 * - Cold: a fresh process per sample, interleaved the same way; the figure is the time from the process's start to
 *   the answer being ready (Node's start, loading the bundle, the first request with its new S3 connection).
 * Budgets: warm median at most 1.5x the floor's; cold well inside Slack's 3,000 ms. Nothing is asserted.
 */
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { createIndexStore } from '../../lib/archive/index-store';
import { indexKey } from '../../lib/archive/keys';
import { INVOICE_1, indexEntry, ORG_A } from '../command/fixtures';
import { type BenchBundles, benchBundles, removeBenchBundles } from './lib/bundles';
import { childEnv, runCold, runWarm, type SampleWork } from './lib/child';
import { signedCommandEvent } from './lib/events';
import { type BenchOptions, type BenchSection, formatMs, ratio, runStandalone } from './lib/report';
import { interleave, summarise } from './lib/stats';

export const WARM_BUDGET = 1.5;
export const SLACK_TIMEOUT_MS = 3_000;

const BUCKET = 'bench-archive';
const PREFIX = 'atlas-invoices/';
const SECRET = 'bench-signing-secret-0123456789abcdef';
const TEAM = 'T0BENCH';

type Variant = 'ours' | 'naive' | 'floor';
const VARIANTS: readonly Variant[] = ['ours', 'naive', 'floor'];
const LABELS: Record<Variant, string> = {
  ours: 'slack-command (our build)',
  naive: 'slack-command, plain esbuild bundle (full Bolt)',
  floor: 'floor: S3 GetObject + presign',
};

function commandEnv(s3: S3StandIn): Record<string, string> {
  return childEnv({
    ...s3.env(),
    ATLAS_ORG_IDS: ORG_A,
    ATLAS_CLIENT_ID: 'mdb_sa_id_bench',
    ATLAS_CLIENT_SECRET: 'mdb_sa_sk_bench',
    ARCHIVE_BUCKET: BUCKET,
    ARCHIVE_PREFIX: PREFIX,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_ALLOWED_TEAM_IDS: TEAM,
    LOG_LEVEL: 'warn',
  });
}

function work(
  variant: Variant,
  bundles: BenchBundles,
  events: readonly unknown[],
): SampleWork & { bundle: string } {
  const entry = indexEntry();
  if (variant === 'floor') {
    return {
      bundle: bundles.s3ReadPresign.file,
      kind: 'call',
      exportName: 'readAndPresign',
      args: [BUCKET, indexKey(PREFIX, INVOICE_1), entry.csv.key],
      expectText: 'X-Amz-Signature',
    };
  }
  const bundle = variant === 'ours' ? bundles.ours['slack-command'].file : bundles.naiveSlackCommand.file;
  return { bundle, kind: 'invoke', events, expectStatus: 200, expectText: 'X-Amz-Signature' };
}

const signedEvents = (count: number) =>
  Array.from({ length: count }, () => signedCommandEvent(INVOICE_1, SECRET, TEAM));

export async function run(options: BenchOptions): Promise<BenchSection> {
  const warmRounds = options.quick ? 100 : 500;
  const warmup = options.quick ? 20 : 50;
  const coldRounds = options.quick ? 6 : 25;
  const bundles = await benchBundles();
  const s3 = await startS3StandIn({ buckets: [BUCKET] });
  try {
    const seed = new S3Client(s3.clientConfig());
    await createIndexStore({ s3: seed, bucket: BUCKET, prefix: PREFIX }).writeIndex(indexEntry());
    seed.destroy();
    const env = commandEnv(s3);

    console.log(`slash-command latency: warm ${warmRounds} rounds x ${VARIANTS.length} in one process`);
    s3.resetRequests();
    const warm = await runWarm(
      {
        kind: 'warm',
        rounds: warmRounds,
        warmup,
        variants: Object.fromEntries(
          VARIANTS.map((v) => [v, work(v, bundles, v === 'floor' ? [] : signedEvents(warmRounds + warmup))]),
        ),
      },
      path.join(bundles.dir, 'latency-warm.json'),
      env,
    );
    const gets = s3.counts().GetObject ?? 0;
    const answers = (warmRounds + warmup) * VARIANTS.length;

    console.log(
      `slash-command latency: cold ${coldRounds} rounds x ${VARIANTS.length}, a process per sample`,
    );
    const cold = await interleave(VARIANTS, { rounds: coldRounds, warmup: 1 }, async (variant) => {
      const spec = work(variant, bundles, signedEvents(1));
      const result = await runCold(spec, path.join(bundles.dir, `latency-cold-${variant}.json`), env);
      return result.doneMs;
    });
    return section(warm.samples as Record<Variant, number[]>, cold, {
      gets,
      answers,
      warmRounds,
      coldRounds,
    });
  } finally {
    await s3.close();
  }
}

function section(
  warm: Record<Variant, number[]>,
  cold: Record<Variant, number[]>,
  info: { gets: number; answers: number; warmRounds: number; coldRounds: number },
): BenchSection {
  const w = (v: Variant) => summarise(warm[v]);
  const c = (v: Variant) => summarise(cold[v]);
  const notes: string[] = [
    `Warm: medians of ${info.warmRounds} interleaved sequential requests per variant in one process (direct ` +
      'handler calls with signed events, S3 stand-in on 127.0.0.1). Cold: medians of ' +
      `${info.coldRounds} interleaved fresh processes, from process start to the answer being ready.`,
    `S3 GetObject requests during the warm run: ${info.gets} for ${info.answers} answers ` +
      `(${(info.gets / info.answers).toFixed(2)} per answer; our answer is one index GET plus a presign, like the floor).`,
  ];
  const rows = VARIANTS.map((v) => {
    const warmRatio = w(v).median / w('floor').median;
    const coldMs = c(v).median;
    let budget = '';
    if (v === 'ours') {
      const warmOk = warmRatio <= WARM_BUDGET;
      const coldOk = coldMs < SLACK_TIMEOUT_MS / 3;
      budget = `warm ${warmOk ? 'met' : 'MISSED'} <= ${WARM_BUDGET}x; cold ${coldOk ? 'met' : 'MISSED'} (${(
        (coldMs / SLACK_TIMEOUT_MS) * 100
      ).toFixed(0)}% of Slack's 3 s)`;
      if (!warmOk) {
        notes.push(
          `Warm median ${warmRatio.toFixed(2)}x the floor misses the ${WARM_BUDGET}x budget by ` +
            `${formatMs(w(v).median - WARM_BUDGET * w('floor').median)}.`,
        );
      }
      if (!coldOk) notes.push(`Cold answer ${formatMs(coldMs)} is not well inside Slack's 3,000 ms.`);
    }
    return [
      LABELS[v],
      formatMs(w(v).median),
      formatMs(w(v).p95),
      v === 'floor' ? '-' : ratio(w(v).median, w('floor').median),
      formatMs(coldMs),
      formatMs(c(v).p95),
      v === 'floor' ? '-' : ratio(coldMs, c('floor').median),
      budget,
    ];
  });
  notes.push(
    '"Well inside" is read as under a third of the 3,000 ms Slack waits, leaving room for API Gateway, Lambda\'s ' +
      'own init and a slower S3 than a local stand-in.',
  );
  return {
    title: 'Slash-command latency: /invoice <archived id>',
    header: ['variant', 'warm median', 'warm p95', 'x floor', 'cold median', 'cold p95', 'x floor', 'budget'],
    rows,
    notes,
  };
}

if (require.main === module) {
  runStandalone(run({ quick: process.argv.includes('--quick') }), { cleanup: removeBenchBundles });
}
