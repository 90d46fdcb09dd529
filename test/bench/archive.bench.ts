/**
 * Archiving benchmark: an invoice CSV of 10 MB, 100 MB and 500 MB from the Atlas sandbox to the S3 stand-in, through
 * the real archive path (`createCsvArchive`: the Atlas client's CSV stream → the inspector → lib-storage's Upload),
 * against a plain streaming copy of the same bytes between the same two servers (an undici GET piped into an Upload
 * with the same client, part size and queue size, nothing inspected), interleaved round by round. Also measured: the
 * archive path when the bytes are already archived (`identical`: nothing is written), the naive approach a user might
 * write (buffer the whole CSV, inspect it, one PutObject), and the inspector alone in memory against a PassThrough
 * that only hashes (no network: the CPU cost the archive path adds).
 *
 * Every measured case runs in a fresh child process, which samples its RSS and heap every 5 ms, so peaks never mix;
 * it first archives a small CSV by the same path (timed apart: compiling and the SDK's first commands), then the
 * measured one. The sandbox and the S3 stand-in run in two further processes, pinned with taskset to other cores than
 * the measured client when the machine has two or more. Every child runs this file bundled by esbuild, as the Lambda's
 * code is. Prints figures and ratios; asserts nothing on time or memory (it fails only if the archived bytes are
 * wrong).
 *
 *   npx tsx test/bench/archive.bench.ts [--quick] [--rounds=N] [--cases=archive,plain] [--sizes=10,100]
 *   ARCHIVE_BENCH_PIN=0 ...                          no core pinning
 *   ARCHIVE_BENCH_CASE_NODE_ARGS="--cpu-prof" ...    node flags for the measured children
 */
import { type ChildProcess, type StdioOptions, spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type BenchOptions,
  type BenchSection,
  formatRatioSpread,
  formatSeconds,
  runStandalone,
} from './lib/report';
import { bundleSelf, flagValue, isEntryPoint, progress, serveRole, stopChild } from './lib/self-process';
import { median, type Spread, spreadOfRounds } from './lib/stats';

const SELF = fileURLToPath(import.meta.url);
const ROLE_FLAG = '--archive-bench-role';
const MB = 1024 * 1024;
const ORG_ID = '65f0c0ffee00de00000000be';
const BUCKET = 'bench-archive';
const SIZES_MB = [10, 100, 500] as const;
/** The CSV each measured process archives first (see `measureCase`). */
const WARMUP_MB = 10;
const SAMPLE_EVERY_MS = 5;
const CSV_ACCEPT = 'application/vnd.atlas.2023-01-01+csv';

/** The paths measured over HTTP, in the order of the first round (later rounds rotate it). */
const CASES = ['archive', 'plain', 'identical', 'naive'] as const;
type CaseKind = (typeof CASES)[number];

const CASE_LABELS: Record<CaseKind, string> = {
  archive: 'archive path (inspect + Upload)',
  plain: 'plain copy (GET → Upload)',
  identical: 'archive path, bytes already archived',
  naive: 'naive (buffer, inspect, PutObject)',
};

interface InvoiceRef {
  readonly id: string;
  readonly statusName: string;
  readonly updated: string;
  readonly startDate: string;
}

interface ExpectedCsv {
  readonly sizeMb: number;
  /** The invoice metadata as the sandbox lists it (what the poll hands to `archiveCsv`). */
  readonly invoice: InvoiceRef & Record<string, unknown>;
  readonly bytes: number;
  readonly sha256: string;
}

interface AtlasReady {
  readonly type: 'atlas-ready';
  readonly url: string;
  readonly credentials: { readonly clientId: string; readonly clientSecret: string };
  readonly csvs: readonly ExpectedCsv[];
  readonly warmup: ExpectedCsv;
  /** Regenerates the 100 MB CSV's bytes in memory (`generateCsvChunks`), for the in-memory comparison. */
  readonly spec: unknown;
}

interface S3Ready {
  readonly type: 's3-ready';
  readonly s3: {
    readonly endpoint: string;
    readonly region: string;
    readonly forcePathStyle: true;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
}

interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface CaseInput {
  readonly type: 'case';
  readonly kind: CaseKind;
  readonly atlasUrl: string;
  readonly credentials: AtlasReady['credentials'];
  readonly s3: S3Ready['s3'];
  readonly csv: ExpectedCsv;
  /** Run first, by the same path, and timed apart (see `measureCase`). */
  readonly warmup: ExpectedCsv;
}

interface CaseResult {
  readonly type: 'case-result';
  readonly kind: CaseKind;
  readonly ms: number;
  /** The process's CPU time (user + system, all its threads) while the case ran. */
  readonly cpuMs: number;
  /** The same path on the small warm-up CSV, first thing in the fresh process. */
  readonly warmupMs: number;
  readonly baseline: MemorySample;
  readonly peak: MemorySample;
  readonly samples: number;
  /** Whether the stored object (or, for `identical`, the outcome) is exactly what the sandbox served. */
  readonly correct: boolean;
  readonly detail: string;
  /** The Upload settings of the archive path (lib/archive/csv-archive.ts defaults), used by every Upload case. */
  readonly partSize: number;
  readonly queueSize: number;
}

interface InMemoryInput {
  readonly type: 'in-memory';
  readonly spec: unknown;
  readonly rounds: number;
}

/** What each layer of the inspection costs in memory, CPU time (ms), best of the rounds. */
interface InMemoryParts {
  /** A PassThrough that hashes: the sha256 alone. */
  readonly sha256: number;
  /** The CSV parser alone, every row read and none used. */
  readonly parser: number;
  /** The inspector on the same CSV without its Billing Period row: hash, parse and summary, no usage series. */
  readonly summary: number;
  /** The inspector as the archive runs it: hash, parse, summary and the daily usage series. */
  readonly inspector: number;
}

interface InMemoryResult {
  readonly type: 'in-memory-result';
  readonly bytes: number;
  readonly cpuMs: InMemoryParts;
  readonly correct: boolean;
}

export interface ArchiveBenchOptions extends BenchOptions {
  /** Rounds of every case; default 1 quick, 7 full. */
  readonly rounds?: number;
  /** A subset of the cases (`plain` is needed for the ratios); default all. */
  readonly cases?: readonly CaseKind[];
  /** A subset of 10, 100 and 500; default all. */
  readonly sizesMb?: readonly number[];
}

export async function run(options: ArchiveBenchOptions): Promise<BenchSection> {
  const rounds = options.rounds ?? (options.quick ? 1 : 7);
  const kinds = options.cases ?? CASES;
  const bundle = await bundleSelf(SELF, 'archive-bench');
  const pinning = corePinning();
  const start = (role: string) => spawnFrom(bundle.file, role, pinning);
  const atlas = start('atlas');
  const s3 = start('s3');
  try {
    const [atlasReady, s3Ready] = await Promise.all([
      nextMessage<AtlasReady>(atlas, 'atlas-ready'),
      nextMessage<S3Ready>(s3, 's3-ready'),
    ]);
    const csvs = atlasReady.csvs.filter((csv) => options.sizesMb?.includes(csv.sizeMb) ?? true);
    const results = new Map<string, CaseResult[]>();
    for (let round = 0; round < rounds; round++) {
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length] as CaseKind);
      for (const csv of csvs) {
        for (const kind of order) {
          const input: CaseInput = {
            type: 'case',
            kind,
            atlasUrl: atlasReady.url,
            credentials: atlasReady.credentials,
            s3: s3Ready.s3,
            csv,
            warmup: atlasReady.warmup,
          };
          const result = await runChild<CaseResult>(start('case'), input, 'case-result');
          const key = `${csv.sizeMb}:${kind}`;
          results.set(key, [...(results.get(key) ?? []), result]);
          progress(
            `archive bench: round ${round + 1}/${rounds}, ${csv.sizeMb} MB, ${kind}: ${formatSeconds(result.ms)}`,
          );
        }
      }
    }
    const inMemory = await runChild<InMemoryResult>(
      start('case'),
      { type: 'in-memory', spec: atlasReady.spec, rounds: options.quick ? 2 : 5 },
      'in-memory-result',
    );
    return section(csvs, kinds, results, inMemory, rounds, pinning);
  } finally {
    await Promise.all([stopChild(atlas), stopChild(s3)]);
    await bundle.remove();
  }
}

// Parent side

/**
 * Which cores the stand-ins and the measured client run on: the client alone on the last core, the stand-ins on the
 * others (with `taskset`, when there are at least two cores and it works), as in production where Atlas and S3 run
 * on other machines: the client's own CPU then decides its speed, not the stand-ins' share of the same cores.
 * Undefined: no pinning, every process anywhere. `ARCHIVE_BENCH_PIN=0` turns pinning off.
 */
interface CorePinning {
  readonly servers: string;
  readonly client: string;
}

function corePinning(): CorePinning | undefined {
  if (process.env.ARCHIVE_BENCH_PIN === '0') return undefined;
  const cores = availableParallelism();
  if (cores < 2) return undefined;
  const probe = spawnSync('taskset', ['-c', '0', process.execPath, '-e', ''], { stdio: 'ignore' });
  if (probe.status !== 0) return undefined;
  return { servers: cores === 2 ? '0' : `0-${cores - 2}`, client: String(cores - 1) };
}

/** `ARCHIVE_BENCH_CASE_NODE_ARGS` adds node flags to the measured children (e.g. `--cpu-prof`). */
function spawnFrom(file: string, role: string, pinning: CorePinning | undefined): ChildProcess {
  const extra =
    role === 'case' ? (process.env.ARCHIVE_BENCH_CASE_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
  const options = {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as StdioOptions,
  };
  const nodeArgs = ['--expose-gc', ...extra, file, ROLE_FLAG, role];
  if (pinning === undefined) return spawn(process.execPath, nodeArgs, options);
  // taskset execs node in place: the IPC channel and the pid are node's own.
  const cpus = role === 'case' ? pinning.client : pinning.servers;
  return spawn('taskset', ['-c', cpus, process.execPath, ...nodeArgs], options);
}

/** The child's next message of `type`; rejects if it exits first. */
function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if ((message as { type?: string }).type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`archive bench: a ${type} child exited early (code ${code})`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function runChild<T>(
  child: ChildProcess,
  input: CaseInput | InMemoryInput,
  replyType: string,
): Promise<T> {
  try {
    const reply = nextMessage<T>(child, replyType);
    child.send(input);
    return await reply;
  } finally {
    await stopChild(child);
  }
}

function section(
  csvs: readonly ExpectedCsv[],
  kinds: readonly CaseKind[],
  results: ReadonlyMap<string, CaseResult[]>,
  inMemory: InMemoryResult,
  rounds: number,
  pinning: CorePinning | undefined,
): BenchSection {
  const of = (sizeMb: number, kind: CaseKind) => results.get(`${sizeMb}:${kind}`) ?? [];
  const rows: string[][] = [];
  const ratios = new Map<number, number>();
  const cpuRatios = new Map<number, Spread>();
  const wallRatios = new Map<number, Spread>();
  const archivePeaks: { bytes: number; peak: number; highest: number }[] = [];
  const cpuPerMb = new Map<CaseKind, number[]>();
  const wrong: string[] = [];
  const upload: { partSize?: number; queueSize?: number } = {};
  for (const csv of csvs) {
    const plain = of(csv.sizeMb, 'plain');
    // Each round's cases ran back to back: a ratio is taken within each round, then the median and range of the rounds.
    const spreadOf = (kind: CaseKind, pick: (r: CaseResult) => number): Spread =>
      spreadOfRounds(
        of(csv.sizeMb, kind).map((r, i) => pick(r) / (plain[i] === undefined ? Number.NaN : pick(plain[i]))),
      );
    const ratioOf = (kind: CaseKind) => spreadOf(kind, (r) => r.ms).median;
    if (plain.length > 0 && kinds.includes('archive')) {
      ratios.set(csv.sizeMb, ratioOf('archive'));
      cpuRatios.set(
        csv.sizeMb,
        spreadOf('archive', (r) => r.cpuMs),
      );
      wallRatios.set(
        csv.sizeMb,
        spreadOf('archive', (r) => r.ms),
      );
    }
    for (const kind of kinds) {
      const runs = of(csv.sizeMb, kind);
      const first = runs[0];
      if (first === undefined) continue;
      upload.partSize = first.partSize;
      upload.queueSize = first.queueSize;
      for (const r of runs) if (!r.correct) wrong.push(`${csv.sizeMb} MB ${kind}: ${r.detail}`);
      const ms = median(runs.map((r) => r.ms));
      const cpuMs = median(runs.map((r) => r.cpuMs));
      // A run's peak is the most the sampling saw; over rounds, the median (the highest is in the notes).
      const peakRss = median(runs.map((r) => r.peak.rss));
      if (kind === 'archive') {
        archivePeaks.push({
          bytes: csv.bytes,
          peak: peakRss,
          highest: Math.max(...runs.map((r) => r.peak.rss)),
        });
      }
      if (csv.sizeMb >= 100) cpuPerMb.set(kind, [...(cpuPerMb.get(kind) ?? []), cpuMs / (csv.bytes / MB)]);
      rows.push([
        `${csv.sizeMb} MB`,
        CASE_LABELS[kind],
        formatSeconds(ms),
        (csv.bytes / MB / (ms / 1000)).toFixed(0),
        plain.length === 0 ? 'n/a' : formatRatioSpread(spreadOf(kind, (r) => r.ms)),
        formatSeconds(cpuMs),
        plain.length === 0 ? 'n/a' : formatRatioSpread(spreadOf(kind, (r) => r.cpuMs)),
        (csv.bytes / MB / (cpuMs / 1000)).toFixed(0),
        megabytes(peakRss),
        `+${megabytes(median(runs.map((r) => r.peak.rss - r.baseline.rss)))}`,
        megabytes(median(runs.map((r) => r.peak.heapUsed))),
      ]);
    }
  }
  const inMemoryMb = inMemory.bytes / MB;
  const inMemoryRow = (label: string, cpuMs: number) => [
    `${inMemoryMb.toFixed(0)} MB`,
    label,
    formatSeconds(cpuMs),
    (inMemoryMb / (cpuMs / 1000)).toFixed(0),
    '-',
    formatSeconds(cpuMs),
    '-',
    (inMemoryMb / (cpuMs / 1000)).toFixed(0),
    '',
    '',
    '',
  ];
  rows.push(
    inMemoryRow('in memory: sha256 alone (PassThrough)', inMemory.cpuMs.sha256),
    inMemoryRow('in memory: CSV parser alone', inMemory.cpuMs.parser),
    inMemoryRow('in memory: inspector without the usage series', inMemory.cpuMs.summary),
    inMemoryRow('in memory: inspector (sha256, parser, summary, usage series)', inMemory.cpuMs.inspector),
  );
  if (!inMemory.correct) wrong.push('in memory: the inspector and the plain hash disagree');

  const notes: string[] = [];
  if (wrong.length > 0) notes.push(`WRONG RESULTS: ${wrong.join('; ')}`);
  if (ratios.size > 0) {
    const worst = Math.max(...ratios.values());
    notes.push(
      `Budget: the archive path at most 1.3x the plain copy's time: ${[...ratios]
        .map(([size, ratio]) => `${size} MB ${ratio.toFixed(2)}x`)
        .join(', ')} → ${worst <= 1.3 ? 'met' : `NOT met (worst ${worst.toFixed(2)}x)`}.`,
    );
    const over = [...ratios].filter(([, ratio]) => ratio > 1.3).map(([size]) => size);
    if (over.length > 0) {
      const gaps = over.map((size) => {
        const at = (kind: CaseKind, pick: (r: CaseResult) => number) => median(of(size, kind).map(pick));
        return (
          `${size} MB: ${(at('archive', (r) => r.ms) - at('plain', (r) => r.ms)).toFixed(0)} ms more wall time, ` +
          `${(at('archive', (r) => r.cpuMs) - at('plain', (r) => r.cpuMs)).toFixed(0)} ms more client CPU`
        );
      });
      notes.push(
        `Gap: ${gaps.join('; ')}. The extra is the inspection itself (see where the CPU goes below). Not done: ` +
          'parsing in a worker thread, which would not help a Lambda below 1,769 MB (less than one vCPU) nor this ' +
          'client pinned to one core, and would complicate the bundle.',
      );
    }
  }
  if (archivePeaks.length > 0) {
    const peaks = archivePeaks.map((p) => p.peak);
    const low = Math.min(...peaks);
    const high = Math.max(...peaks);
    const met = high - low <= 20 * MB && high < 150 * MB;
    // Below three parts the upload never has its whole queue in flight, so small CSVs peak lower by construction.
    const large = archivePeaks.filter((p) => p.bytes > 3 * (upload.partSize ?? 0)).map((p) => p.peak);
    const largeNote =
      large.length > 1 && large.length < archivePeaks.length
        ? ` From three parts up (the whole upload queue in flight) the peaks span ${megabytes(Math.min(...large))} to ` +
          `${megabytes(Math.max(...large))}; the smallest CSV, two parts, peaks lower by construction.`
        : '';
    notes.push(
      `Budget: archive-path peak RSS flat across sizes, within 20 MB and under 150 MB: ${megabytes(low)} to ` +
        `${megabytes(high)}, spread ${((high - low) / MB).toFixed(1)} MB → ${met ? 'met' : 'NOT met'} (highest ` +
        `single run ${megabytes(Math.max(...archivePeaks.map((p) => p.highest)))}).${largeNote}`,
    );
    if (!met) {
      notes.push(
        "Gap (memory): about 100 MB of each peak is the process itself (bundle, SDK, clients); the rest is Upload's " +
          'parts in flight plus garbage awaiting collection, chiefly the 5 MiB buffer lib-storage concatenates for ' +
          'every part and the 64 KiB chunks each socket read allocates. Tried and kept: 5 MiB parts instead of ' +
          '8 MiB (20 to 30 MB lower peaks when it was changed). What remains would need an uploader of our own ' +
          "that reuses its part buffers instead of lib-storage's Upload (which the plain copy uses too, and peaks " +
          'the same).',
      );
    }
  }
  if (cpuRatios.size > 0) {
    const budgeted = [...cpuRatios].filter(([size]) => size >= 100);
    const met = budgeted.every(([, spread]) => spread.high <= 1.3);
    notes.push(
      `Budget: the archive path's client CPU at most 1.3x the plain copy's from 100 MB up (a Lambda below 1,769 MB ` +
        `has less than one vCPU, so its CPU time is its time): ${[...cpuRatios]
          .map(([size, spread]) => `${size} MB ${formatRatioSpread(spread)}`)
          .join(', ')} → ${budgeted.length === 0 ? 'not measured' : met ? 'met' : 'NOT met'}. Wall time ` +
        `against the plain copy, for reading: ${[...wallRatios]
          .map(([size, spread]) => `${size} MB ${formatRatioSpread(spread)}`)
          .join(
            ', ',
          )} (the stand-ins share one core, so the servers set the pace of both and hide the client's CPU).`,
    );
  }
  const cpu = (kind: CaseKind) => median(cpuPerMb.get(kind) ?? []);
  const residueCsv = csvs.find(
    (csv) => csv.sizeMb === 100 && of(100, 'archive').length > 0 && of(100, 'plain').length > 0,
  );
  if (residueCsv !== undefined) {
    const archiveRuns = of(residueCsv.sizeMb, 'archive');
    const plainRuns = of(residueCsv.sizeMb, 'plain');
    const extra = median(archiveRuns.map((r, i) => r.cpuMs - (plainRuns[i]?.cpuMs ?? Number.NaN)));
    const plainCpu = median(plainRuns.map((r) => r.cpuMs));
    const scale = residueCsv.bytes / inMemory.bytes;
    const parts = inMemory.cpuMs;
    const line = (label: string, ms: number) => `${label} ${(ms * scale).toFixed(0)} ms`;
    notes.push(
      `Where the archive path's extra CPU goes at ${residueCsv.sizeMb} MB: ${extra.toFixed(0)} ms over the plain ` +
        "copy (median of the rounds' differences), of which, measured in memory on the same CSV (rows below, best " +
        `of rounds): ${[
          line('the sha256 of every byte', parts.sha256),
          line('parsing every row', parts.parser),
          line(
            'the summary (amounts, projects and SKUs interned and summed)',
            parts.summary - parts.sha256 - parts.parser,
          ),
          line('the daily usage series (per day, project, SKU and cluster)', parts.inspector - parts.summary),
        ].join(
          ', ',
        )}; and ${(extra - parts.inspector * scale).toFixed(0)} ms more for the same work inside the ` +
        'running transfer: two more stream stages and the gate, and above all the inspection itself running slower ' +
        "between socket reads and the SDK's work on each part than over chunks in memory (timed in one process on " +
        'the same chunks it is about a third slower inside the transfer; garbage collection is the same in both ' +
        "paths, and inspecting 2 MB at a time instead of each chunk did not change it). The plain copy's own " +
        `${plainCpu.toFixed(0)} ms (${cpu('plain').toFixed(1)} ms per MB) is the SDK's work on every part, common to ` +
        'both paths: a sha256 of the part for its SigV4 signature, its CRC32, concatenating the part, the sockets. ' +
        `The 1.3x budget leaves the inspection ${(0.3 * plainCpu).toFixed(0)} ms, less than the sha256 and the ` +
        'parse alone.',
    );
  }
  const warmups = kinds
    .map((kind) => {
      const all = csvs.flatMap((csv) => of(csv.sizeMb, kind).map((r) => r.warmupMs));
      return all.length === 0 ? undefined : `${kind} ${(median(all)).toFixed(0)} ms`;
    })
    .filter((text) => text !== undefined);
  if (warmups.length > 0) {
    notes.push(
      `Each measured process first runs its path once on a ${WARMUP_MB} MB CSV, timed apart: the first CSV of a ` +
        `process also pays for compiling what it runs (JIT, the SDK's first commands): ${warmups.join(', ')} ` +
        '(medians). The rows above are what a warm Lambda container pays.',
    );
  }
  const largest = csvs[csvs.length - 1]?.sizeMb;
  const naive = largest === undefined ? [] : of(largest, 'naive');
  if (naive.length > 0 && archivePeaks.length > 0) {
    const naivePeak = median(naive.map((r) => r.peak.rss));
    const archivePeak = Math.max(...archivePeaks.map((p) => p.peak));
    notes.push(
      `Naive margin: buffering the ${largest} MB CSV peaks at ${megabytes(naivePeak)} RSS against ` +
        `${megabytes(archivePeak)} for the archive path: its memory grows with the CSV (a 1,024 MB Lambda runs ` +
        'out near 900 MB), and it parses only once the download is over.',
    );
  }
  notes.push(
    `Times are medians of ${rounds} round(s); "vs plain copy" and "CPU vs plain" are the median over rounds of each ` +
      "case's time (CPU time) over the plain copy's in the same round, with the lowest and highest round in " +
      'brackets: the range a rerun on the same machine is expected to reproduce. "client CPU" is the measured ' +
      "process's user + system time on all its threads. Case order rotates every round. Memory: the median over rounds of each " +
      `run's peak, sampled every ${SAMPLE_EVERY_MS} ms; "over baseline" subtracts the RSS sampled just before the ` +
      'measured CSV (bundle loaded, connections open, token fetched, warm-up CSV done).',
    'Processes: the Atlas sandbox (rate limit off) and the S3 stand-in (disk-backed, SigV4 and checksums verified, ' +
      'no versioning) each in its own process, each measured case in a fresh one, all running this file bundled by ' +
      `esbuild. ${
        pinning === undefined
          ? 'No core pinning (no taskset, one core, or ARCHIVE_BENCH_PIN=0): the client shares the cores with ' +
            'the stand-ins.'
          : `Pinned with taskset: the stand-ins on core(s) ${pinning.servers}, the measured client alone on core ` +
            `${pinning.client}, as in production where Atlas and S3 are other machines (ARCHIVE_BENCH_PIN=0 unpins).`
      }`,
    `Every Upload: part size ${megabytes(upload.partSize ?? Number.NaN)}, queue size ${upload.queueSize} (the ` +
      "archive's defaults) and the SDK's default CRC32 checksums. The identical case hands the archive the " +
      "sandbox's hash as the state's, so the gate stops the upload before its last part and nothing is stored.",
    'In memory: the 100 MB CSV as 64 KiB chunks in one process, no network, CPU time, best of several rounds: a ' +
      'PassThrough that hashes; the parser alone; the inspector on the CSV without its Billing Period row (no usage ' +
      'series); the inspector as the archive runs it. "MB per CPU s" is the rate one core reaches when nothing ' +
      'else limits it.',
  );
  return {
    title: 'Archiving an invoice CSV: Atlas sandbox → S3 stand-in',
    header: [
      'CSV',
      'path',
      'time',
      'MB/s',
      'vs plain copy',
      'client CPU',
      'CPU vs plain',
      'MB per CPU s',
      'peak RSS',
      'over baseline',
      'peak heap',
    ],
    rows,
    notes,
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}

// Child roles

async function serveAtlas(): Promise<void> {
  const { DEMO_SERVICE_ACCOUNT, startAtlasSandbox } = await import('../../infra/local/atlas-sandbox');
  const { createHash } = await import('node:crypto');
  const sandbox = await startAtlasSandbox({
    rateLimit: false,
    // Every measured process takes its own token, as each Lambda cold start would, and none is revoked: more than
    // Atlas's 100 live tokens per service account over a full run.
    maxTokensPerAccount: 10_000,
    orgs: [{ id: ORG_ID, name: 'Bench Org', invoices: SIZES_MB.length + 1 }],
  });
  const invoices = sandbox.listInvoices(ORG_ID);
  const csvs: ExpectedCsv[] = [];
  let spec: unknown;
  for (const [i, sizeMb] of [...SIZES_MB, WARMUP_MB].entries()) {
    const invoice = invoices[i];
    if (invoice === undefined) throw new Error('the sandbox has too few invoices');
    const generated = sandbox.setCsvSize(ORG_ID, invoice.id, sizeMb * MB);
    if (sizeMb === 100) spec = generated;
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of sandbox.csvStream(ORG_ID, invoice.id)) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    csvs.push({
      sizeMb,
      invoice: invoice as unknown as ExpectedCsv['invoice'],
      bytes,
      sha256: hash.digest('hex'),
    });
  }
  const warmup = csvs.pop() as ExpectedCsv;
  const ready: AtlasReady = {
    type: 'atlas-ready',
    url: sandbox.url,
    credentials: DEMO_SERVICE_ACCOUNT,
    csvs,
    warmup,
    spec: spec ?? null,
  };
  process.send?.(ready);
  await closeRequested();
  await sandbox.close();
}

async function serveS3(): Promise<void> {
  const { startS3StandIn } = await import('../../infra/local/s3');
  const s3 = await startS3StandIn({ buckets: [BUCKET] });
  const ready: S3Ready = { type: 's3-ready', s3: s3.clientConfig() };
  process.send?.(ready);
  await closeRequested();
  await s3.close();
}

function closeRequested(): Promise<void> {
  return new Promise((resolve) => {
    process.on('message', (message: { type?: string }) => {
      if (message.type === 'close') resolve();
    });
    process.once('disconnect', () => resolve());
  });
}

async function serveCase(): Promise<void> {
  const input = await new Promise<CaseInput | InMemoryInput>((resolve) =>
    process.once('message', (message) => resolve(message as CaseInput | InMemoryInput)),
  );
  const reply = input.type === 'case' ? await measureCase(input) : await measureInMemory(input);
  process.send?.(reply);
  await closeRequested();
}

function sample(): MemorySample {
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

async function measureCase(input: CaseInput): Promise<CaseResult> {
  const { HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } = await import(
    '@aws-sdk/client-s3'
  );
  const { Upload } = await import('@aws-sdk/lib-storage');
  const { Agent, request } = await import('undici');
  const { createCsvArchive, DEFAULT_PART_SIZE, DEFAULT_QUEUE_SIZE } = await import(
    '../../lib/archive/csv-archive'
  );
  const { csvKey } = await import('../../lib/archive/keys');
  const { createAtlasClient } = await import('../../lib/atlas/client');
  const { createCsvInspector, inspectCsv } = await import('../../lib/invoices/csv-summary');
  type InvoiceMetadata = import('../../lib/invoices/invoice').InvoiceMetadata;

  const { kind } = input;
  const s3 = new S3Client(input.s3);
  const atlas = createAtlasClient({
    baseUrl: input.atlasUrl,
    credentials: { kind: 'service-account', ...input.credentials },
  });
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const prefix = `${kind}/`;
  const archive = createCsvArchive({ s3, bucket: BUCKET, prefix, createInspector: createCsvInspector });

  // The S3 connection, the Atlas token and connection (both clients): set up before anything is timed.
  await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
  await atlas.listInvoices(ORG_ID);
  const { clientId, clientSecret } = input.credentials;
  const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
  const tokenResponse = await request(`${input.atlasUrl}/api/oauth/token`, {
    dispatcher: agent,
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${basic}`,
    },
    body: 'grant_type=client_credentials',
  });
  const token = ((await tokenResponse.body.json()) as { access_token: string }).access_token;

  /** Runs `kind` on `csv`; resolves with the hash the path computed, if it computes one. */
  const cases: Record<CaseKind, (csv: ExpectedCsv) => Promise<string | undefined>> = {
    async archive(csv) {
      const invoice = csv.invoice as unknown as InvoiceMetadata;
      const result = await archive.archiveCsv({
        orgId: ORG_ID,
        invoice,
        previous: undefined,
        openCsv: () => atlas.getInvoiceCsv(ORG_ID, invoice.id),
        topN: 5,
      });
      return result.outcome === 'archived' ? result.csv.sha256 : undefined;
    },
    async identical(csv) {
      const invoice = csv.invoice as unknown as InvoiceMetadata;
      const result = await archive.archiveCsv({
        orgId: ORG_ID,
        invoice,
        previous: {
          statusName: invoice.statusName,
          updated: invoice.updated,
          sha256: csv.sha256,
          key: keyOf(csv),
        },
        openCsv: () => atlas.getInvoiceCsv(ORG_ID, invoice.id),
        topN: 5,
      });
      return result.outcome === 'identical' ? result.csv.sha256 : undefined;
    },
    async plain(csv) {
      const response = await request(
        `${input.atlasUrl}/api/atlas/v2/orgs/${ORG_ID}/invoices/${csv.invoice.id}/csv`,
        {
          dispatcher: agent,
          headers: { accept: CSV_ACCEPT, authorization: `Bearer ${token}` },
        },
      );
      if (response.statusCode !== 200) throw new Error(`CSV download answered ${response.statusCode}`);
      await new Upload({
        client: s3,
        params: {
          Bucket: BUCKET,
          Key: keyOf(csv),
          Body: response.body,
          ContentType: 'text/csv; charset=utf-8',
        },
        partSize: DEFAULT_PART_SIZE,
        queueSize: DEFAULT_QUEUE_SIZE,
        leavePartsOnError: false,
      }).done();
      return undefined;
    },
    async naive(csv) {
      const download = await atlas.getInvoiceCsv(ORG_ID, csv.invoice.id);
      const chunks: Buffer[] = [];
      for await (const chunk of download.body) chunks.push(Buffer.from(chunk));
      const body = Buffer.concat(chunks);
      chunks.length = 0;
      const inspection = await inspectCsv(
        (async function* () {
          yield body;
        })(),
      );
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: keyOf(csv),
          Body: body,
          ContentType: 'text/csv; charset=utf-8',
          Metadata: { sha256: inspection.sha256 },
        }),
      );
      return inspection.sha256;
    },
  };
  const keyOf = (csv: ExpectedCsv) => csvKey(prefix, ORG_ID, csv.invoice.startDate, csv.invoice.id);
  const check = async (csv: ExpectedCsv, sha256: string | undefined): Promise<string | undefined> => {
    if (kind === 'identical') {
      return sha256 === csv.sha256 ? undefined : `not found identical (${sha256 ?? 'archived'})`;
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: keyOf(csv) }));
    if (head.ContentLength !== csv.bytes) return `stored ${head.ContentLength} bytes, not ${csv.bytes}`;
    return sha256 === undefined || sha256 === csv.sha256 ? undefined : 'hash differs';
  };

  // The first CSV of a process pays for compiling the code it runs (JIT, the SDK's first commands): a small one
  // first, timed apart, so the measured run is what a warm Lambda container pays.
  let startedAt = performance.now();
  const warmupProblem = await check(input.warmup, await cases[kind](input.warmup));
  const warmupMs = performance.now() - startedAt;

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = sample();
  const peak = { ...baseline };
  let samples = 0;
  // RSS every tick; the heap figures (dearer to read) every fourth.
  const timer = setInterval(() => {
    samples += 1;
    if (samples % 4 !== 0) {
      peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
      return;
    }
    const now = sample();
    for (const field of Object.keys(peak) as (keyof MemorySample)[]) {
      peak[field] = Math.max(peak[field], now[field]);
    }
  }, SAMPLE_EVERY_MS);
  const cpuBefore = process.cpuUsage();
  startedAt = performance.now();
  let sha256: string | undefined;
  try {
    sha256 = await cases[kind](input.csv);
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  const end = sample();
  for (const field of Object.keys(peak) as (keyof MemorySample)[])
    peak[field] = Math.max(peak[field], end[field]);

  const problem = (await check(input.csv, sha256)) ?? warmupProblem;
  s3.destroy();
  await atlas.close();
  await agent.close();
  return {
    type: 'case-result',
    kind,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    warmupMs,
    baseline,
    peak,
    samples,
    correct: problem === undefined,
    detail: problem ?? 'as served',
    partSize: DEFAULT_PART_SIZE,
    queueSize: DEFAULT_QUEUE_SIZE,
  };
}

async function measureInMemory(input: InMemoryInput): Promise<InMemoryResult> {
  const { createHash } = await import('node:crypto');
  const { Readable, Transform, Writable } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  const { generateCsvChunks } = await import('../../infra/local/atlas-sandbox/csv');
  const { createCsvInspector } = await import('../../lib/invoices/csv-summary');
  const { createCsvParser } = await import('../../lib/invoices/csv-parser');
  type Spec = Parameters<typeof generateCsvChunks>[0];

  // Re-cut into exact 64 KiB chunks, as a socket would deliver them, so every layer sees the same chunking.
  const cut = (bytes: Buffer) => {
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
      chunks.push(bytes.subarray(offset, offset + 64 * 1024));
    return chunks;
  };
  const all = Buffer.concat([...generateCsvChunks(input.spec as Spec)]);
  const chunks = cut(all);
  // Without its Billing Period row the inspector knows no period and builds no usage series.
  const periodAt = all.indexOf('\nBilling Period,') + 1;
  const withoutPeriod = cut(
    Buffer.concat([all.subarray(0, periodAt), all.subarray(all.indexOf('\n', periodAt) + 1)]),
  );
  const sink = () =>
    new Writable({
      write(_chunk, _encoding, callback) {
        callback();
      },
    });
  const layers = {
    async sha256() {
      const hash = createHash('sha256');
      const through = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      await pipeline(Readable.from(chunks), through, sink());
      return hash.digest('hex');
    },
    async parser() {
      let rows = 0;
      const parser = createCsvParser(() => {
        rows++;
      });
      for (const chunk of chunks) parser.write(chunk);
      parser.end();
      return String(rows);
    },
    async summary() {
      const inspector = createCsvInspector();
      await pipeline(Readable.from(withoutPeriod), inspector.stream, sink());
      return (await inspector.result()).sha256;
    },
    async inspector() {
      const inspector = createCsvInspector();
      await pipeline(Readable.from(chunks), inspector.stream, sink());
      const result = await inspector.result();
      return result.usage === undefined ? 'no usage series' : result.sha256;
    },
  } satisfies Record<keyof InMemoryParts, () => Promise<string>>;
  const best: Record<keyof InMemoryParts, number> = {
    sha256: Number.POSITIVE_INFINITY,
    parser: Number.POSITIVE_INFINITY,
    summary: Number.POSITIVE_INFINITY,
    inspector: Number.POSITIVE_INFINITY,
  };
  let correct = true;
  for (let round = 0; round < input.rounds; round++) {
    const answers: Partial<Record<keyof InMemoryParts, string>> = {};
    for (const layer of Object.keys(layers) as (keyof InMemoryParts)[]) {
      const before = process.cpuUsage();
      answers[layer] = await layers[layer]();
      const used = process.cpuUsage(before);
      best[layer] = Math.min(best[layer], (used.user + used.system) / 1000);
    }
    correct &&= answers.sha256 === answers.inspector;
  }
  return { type: 'in-memory-result', bytes: all.length, cpuMs: best, correct };
}

// Entry points

/** `--quick`, and for experiments `--rounds=N`, `--cases=archive,plain`, `--sizes=10,100`. */
function cliOptions(args: readonly string[]): ArchiveBenchOptions {
  const value = (name: string) => flagValue(args, name);
  const rounds = value('rounds');
  const cases = value('cases')?.split(',') as CaseKind[] | undefined;
  const sizes = value('sizes')?.split(',').map(Number);
  for (const kind of cases ?? []) if (!CASES.includes(kind)) throw new Error(`unknown case ${kind}`);
  return {
    quick: args.includes('--quick'),
    ...(rounds !== undefined ? { rounds: Number(rounds) } : {}),
    ...(cases !== undefined ? { cases } : {}),
    ...(sizes !== undefined ? { sizesMb: sizes } : {}),
  };
}

const roleAt = process.argv.indexOf(ROLE_FLAG);
const role = roleAt === -1 ? undefined : process.argv[roleAt + 1];
const roles: Record<string, () => Promise<void>> = { atlas: serveAtlas, s3: serveS3, case: serveCase };
if (role !== undefined) {
  const serve = roles[role];
  if (serve === undefined) throw new Error(`archive bench: unknown role ${role}`);
  serveRole(serve);
} else if (isEntryPoint(SELF)) {
  runStandalone(run(cliOptions(process.argv.slice(2))), {
    failed: (result) => result.notes.some((note) => note.startsWith('WRONG')),
  });
}
