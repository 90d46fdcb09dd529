/**
 * Latency of the slash-command handler answering `/invoice <archived id>` (signature check, Bolt, one index GET, a
 * presign), cold and warm, against one plain S3 GetObject of the same index object on the same S3 stand-in.
 *
 *   npx tsx test/bench/slash-command-latency.bench.ts [requests=200]
 *
 * In-process: "cold" is the first import of functions/slack-command.ts (Bolt, the AWS SDK; under tsx this includes
 * transpiling) plus the first request (configuration, the Bolt app, the first S3 connection). Prints medians and p95,
 * and the ratios to GetObject. Nothing is asserted: the numbers are for reading.
 */
import { performance } from 'node:perf_hooks';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3StandIn } from '../../infra/local/s3';
import { createIndexStore } from '../../lib/archive/index-store';
import { indexKey } from '../../lib/archive/keys';
import { INVOICE_1, indexEntry, ORG_A } from '../command/fixtures';
import { commandBody, httpApiEvent, lambdaContext, slackHeaders } from '../command/slack-events';

const SECRET = 'bench-signing-secret-0123456789';
const BUCKET = 'atlas-archive';
const PREFIX = 'atlas-invoices/';
const TEAM = 'T0BENCH';

function stats(samples: number[]): { median: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { median: at(0.5), p95: at(0.95) };
}

function ms(value: number): string {
  return `${value.toFixed(2).padStart(8)} ms`;
}

async function main(): Promise<void> {
  const requests = Math.max(10, Number(process.argv[2] ?? 200) || 200);
  const s3 = await startS3StandIn({ buckets: [BUCKET] });
  try {
    const seedClient = new S3Client(s3.clientConfig());
    await createIndexStore({ s3: seedClient, bucket: BUCKET, prefix: PREFIX }).writeIndex(indexEntry());

    const event = () => {
      const body = commandBody({
        text: INVOICE_1,
        teamId: TEAM,
        channelId: 'C0BENCH',
        userId: 'U0BENCH',
        responseUrl: 'https://hooks.slack.com/commands/T0BENCH/1/x',
      });
      return httpApiEvent(body, slackHeaders(body, { secret: SECRET, at: Date.now() }));
    };

    const importStarted = performance.now();
    const { createSlackCommandHandler } = await import('../../functions/slack-command');
    const importMs = performance.now() - importStarted;

    const firstStarted = performance.now();
    const handler = createSlackCommandHandler({
      env: {
        ATLAS_ORG_IDS: ORG_A,
        ATLAS_CLIENT_ID: 'mdb_sa_id_bench',
        ATLAS_CLIENT_SECRET: 'mdb_sa_sk_bench',
        ARCHIVE_BUCKET: BUCKET,
        ARCHIVE_PREFIX: PREFIX,
        S3_FORCE_PATH_STYLE: 'true',
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_ALLOWED_TEAM_IDS: TEAM,
      },
      s3: ({ forcePathStyle }) => new S3Client({ ...s3.clientConfig(), forcePathStyle }),
      writeLog: () => {},
    });
    const first = await handler(event(), lambdaContext());
    const firstMs = performance.now() - firstStarted;
    if (first.statusCode !== 200 || !first.body.includes('X-Amz-Signature')) {
      throw new Error(`unexpected answer: ${first.statusCode} ${first.body.slice(0, 200)}`);
    }

    const warm: number[] = [];
    for (let i = 0; i < requests; i++) {
      const e = event();
      const started = performance.now();
      await handler(e, lambdaContext());
      warm.push(performance.now() - started);
    }

    const get = new GetObjectCommand({ Bucket: BUCKET, Key: indexKey(PREFIX, INVOICE_1) });
    const baselineClient = new S3Client(s3.clientConfig());
    await (await baselineClient.send(get)).Body?.transformToString();
    const gets: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const out = await baselineClient.send(get);
      await out.Body?.transformToString();
      gets.push(performance.now() - started);
    }

    const w = stats(warm);
    const g = stats(gets);
    console.log(`slash-command latency, ${requests} requests each (org ${ORG_A}, S3 stand-in on 127.0.0.1)`);
    console.log(`  import functions/slack-command  ${ms(importMs)}`);
    console.log(`  first request (cold start)      ${ms(firstMs)}`);
    console.log(`  cold total                      ${ms(importMs + firstMs)}`);
    console.log(`  warm request   median ${ms(w.median)}   p95 ${ms(w.p95)}`);
    console.log(`  S3 GetObject   median ${ms(g.median)}   p95 ${ms(g.p95)}`);
    console.log(`  ratio warm / GetObject (median)  ${(w.median / g.median).toFixed(2)}x`);
    console.log(`  ratio first request / GetObject  ${(firstMs / g.median).toFixed(1)}x`);
    console.log(`  ratio cold total / GetObject     ${((importMs + firstMs) / g.median).toFixed(1)}x`);
  } finally {
    await s3.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
