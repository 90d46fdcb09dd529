/**
 * Flat-memory benchmark of the CSV archive: streams a generated CSV (200 MB by default) from the Atlas sandbox through
 * the inspector into the S3 stand-in with lib-storage's multipart Upload, and prints peak RSS and heap sampled during
 * the run against the baseline before it. Then archives the same bytes again, which must end `identical` (the upload
 * is aborted before its final part) at the same flat memory.
 *
 * The sandbox and the S3 stand-in run in a child process, so the numbers are those of the archiving process alone.
 * Not a test: nothing is asserted on time or memory; it exits non-zero only if the archived bytes are wrong.
 *
 *   npx tsx test/bench/archive-memory.bench.ts            # 200 MB
 *   BENCH_CSV_MB=1000 npx tsx --expose-gc test/bench/archive-memory.bench.ts
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DEMO_SERVICE_ACCOUNT, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import { type S3ClientSettings, startS3StandIn } from '../../infra/local/s3';
import {
  type ArchiveCsvResult,
  createCsvArchive,
  DEFAULT_PART_SIZE,
  DEFAULT_QUEUE_SIZE,
} from '../../lib/archive/csv-archive';
import { createAtlasClient } from '../../lib/atlas/client';
import type { InvoiceMetadata } from '../../lib/atlas/types';
import { createCsvInspector } from '../../lib/invoices/csv-summary';

const BUCKET = 'bench-archive';
const PREFIX = 'bench/';
const ORG_ID = '65f0c0ffee00de00000000be';
const MB = 1024 * 1024;

interface Ready {
  readonly type: 'ready';
  readonly sandboxUrl: string;
  readonly s3: S3ClientSettings;
  readonly invoice: InvoiceMetadata;
  readonly bytes: number;
  readonly sha256: string;
}

/** Child: the servers, and the expected hash computed from the same generated stream. */
async function serve(): Promise<void> {
  const bytes = Number(process.env.BENCH_CSV_MB ?? '200') * MB;
  const [sandbox, s3] = await Promise.all([
    startAtlasSandbox({ rateLimit: false, orgs: [{ id: ORG_ID, name: 'Bench Org', invoices: 1 }] }),
    startS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] }),
  ]);
  const [invoice] = sandbox.listInvoices(ORG_ID);
  if (invoice === undefined) throw new Error('sandbox has no invoice');
  sandbox.setCsvSize(ORG_ID, invoice.id, bytes);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of sandbox.csvStream(ORG_ID, invoice.id)) {
    hash.update(chunk);
    size += chunk.length;
  }
  const ready: Ready = {
    type: 'ready',
    sandboxUrl: sandbox.url,
    s3: s3.clientConfig(),
    invoice,
    bytes: size,
    sha256: hash.digest('hex'),
  };
  process.send?.(ready);
  process.on('message', async () => {
    await Promise.all([sandbox.close(), s3.close()]);
    process.exit(0);
  });
}

interface Sample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

function sample(): Sample {
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

/** Run `work` while sampling memory every 10 ms; returns its result, the peak of each figure and the duration. */
async function measured<T>(
  work: () => Promise<T>,
): Promise<{ result: T; peak: Sample; ms: number; samples: number }> {
  const peak = sample();
  let samples = 0;
  const timer = setInterval(() => {
    const now = sample();
    samples += 1;
    for (const key of Object.keys(peak) as (keyof Sample)[]) peak[key] = Math.max(peak[key], now[key]);
  }, 10);
  const started = performance.now();
  try {
    const result = await work();
    return { result, peak, ms: performance.now() - started, samples };
  } finally {
    clearInterval(timer);
  }
}

const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Ready));
    child.once('exit', (code) => reject(new Error(`server process exited early (${code})`)));
  });
  const s3 = new S3Client(ready.s3);
  const atlas = createAtlasClient({
    baseUrl: ready.sandboxUrl,
    credentials: { kind: 'service-account', ...DEMO_SERVICE_ACCOUNT },
  });
  const archive = createCsvArchive({
    s3,
    bucket: BUCKET,
    prefix: PREFIX,
    createInspector: createCsvInspector,
  });
  const { invoice } = ready;
  const run = (previous: ArchiveCsvResult | undefined) =>
    archive.archiveCsv({
      orgId: ORG_ID,
      invoice,
      previous:
        previous === undefined
          ? undefined
          : {
              statusName: invoice.statusName,
              updated: invoice.updated,
              sha256: previous.csv.sha256,
              key: previous.csv.key,
            },
      openCsv: () => atlas.getInvoiceCsv(ORG_ID, invoice.id),
      topN: 5,
    });

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = sample();
  const first = await measured(() => run(undefined));
  gc?.();
  const second = await measured(() => run(first.result));

  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: first.result.csv.key }));
  const correct =
    first.result.outcome === 'archived' &&
    first.result.csv.sha256 === ready.sha256 &&
    first.result.csv.bytes === ready.bytes &&
    head.ContentLength === ready.bytes &&
    second.result.outcome === 'identical';

  const report = {
    csvBytes: ready.bytes,
    partSize: DEFAULT_PART_SIZE,
    queueSize: DEFAULT_QUEUE_SIZE,
    gcExposed: gc !== undefined,
    baseline,
    archive: {
      outcome: first.result.outcome,
      ms: Math.round(first.ms),
      mbPerSecond: Number((ready.bytes / MB / (first.ms / 1000)).toFixed(1)),
      peak: first.peak,
      samples: first.samples,
    },
    identicalAgain: { outcome: second.result.outcome, ms: Math.round(second.ms), peak: second.peak },
    correct,
  };
  console.log(
    `archive-memory: ${mb(ready.bytes)} CSV, part ${mb(DEFAULT_PART_SIZE)} × queue ${DEFAULT_QUEUE_SIZE}`,
  );
  console.log(
    `  baseline          rss ${mb(baseline.rss)}  heap ${mb(baseline.heapUsed)}  arrayBuffers ${mb(baseline.arrayBuffers)}`,
  );
  for (const [label, run] of [
    ['archived', first],
    ['identical again', second],
  ] as const) {
    console.log(
      `  ${label.padEnd(17)} peak rss ${mb(run.peak.rss)} (+${mb(run.peak.rss - baseline.rss)})  ` +
        `heap ${mb(run.peak.heapUsed)}  arrayBuffers ${mb(run.peak.arrayBuffers)}  ` +
        `${(run.ms / 1000).toFixed(1)} s (${(ready.bytes / MB / (run.ms / 1000)).toFixed(0)} MB/s, ${run.samples} samples)`,
    );
  }
  console.log(`  bytes and hash ${correct ? 'match' : 'DO NOT MATCH'} the sandbox's CSV`);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'archive-memory.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);

  s3.destroy();
  await atlas.close();
  child.send('close');
  await new Promise((resolve) => child.once('exit', resolve));
  if (!correct) process.exitCode = 1;
}

if (process.argv[2] === 'serve') {
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
