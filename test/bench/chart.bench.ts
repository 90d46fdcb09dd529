/**
 * The spend chart: what drawing one costs, and what carrying the renderer costs the poller's cold start.
 *
 *   npx tsx test/bench/chart.bench.ts [--quick]      (or all sections: npm run bench)
 *
 * - Render: each sample is a fresh `node` process that requires the built renderer (dist/poll-invoices/spend-chart.js,
 *   built with this machine's native resvg) and draws the demo chart (31 days, forecast, budget, a spike) twice. It
 *   reports the time to load the renderer, the first (cold) and second (warm) render, and the process's peak
 *   resident memory (maxRSS), against a process that only starts Node.
 * - Cold start: the built poller, load + `handler.prepare()`, fresh process per sample, interleaved: as built (the
 *   renderer in files of its own, never required at start); the same directory without those files (the poller
 *   before the chart); and an entry that requires the renderer eagerly before the handler (what a static import
 *   would cost).
 * Also writes the chart it draws to test/bench/results/spend-chart.png, to look at (docs/spend-chart.png is the demo
 * organisation's chart as the poller draws it in `npm start`). Nothing is asserted.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildFunctions, ROOT } from '../../infra/build';
import { drawSpendChartPng } from '../../lib/spend/chart/rasterise';
import { DEMO_INPUT } from '../spend/chart/fixtures';
import { childEnv, runCold } from './lib/child';
import { type BenchOptions, type BenchSection, formatKb, formatMs, runStandalone } from './lib/report';
import { interleave, summarise } from './lib/stats';

export const DEMO_PNG = path.join(ROOT, 'test', 'bench', 'results', 'spend-chart.png');

const POLL_ENV = childEnv({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIABENCHCHART000000',
  AWS_SECRET_ACCESS_KEY: 'bench-chart-secret-not-used-anywhere-000',
  ATLAS_ORG_IDS: '65f0c0ffee00de00000000be',
  ATLAS_CLIENT_ID: 'mdb_sa_id_bench',
  ATLAS_CLIENT_SECRET: 'mdb_sa_sk_bench',
  ARCHIVE_BUCKET: 'bench-archive',
  SLACK_BOT_TOKEN: 'xoxb-bench-not-a-token',
  SLACK_CHANNEL: 'C0BENCH',
  LOG_LEVEL: 'warn',
});

interface RenderSample {
  readonly loadMs: number;
  readonly firstMs: number;
  readonly secondMs: number;
  readonly pngBytes: number;
  /** Peak resident set, kilobytes. */
  readonly maxRssKb: number;
}

/** Plain JavaScript run by `node -e`: nothing but the built renderer is loaded and measured. */
const RENDER_SCRIPT = `
const { readFileSync } = require('node:fs');
const [file, inputFile] = process.argv.slice(1);
const input = JSON.parse(readFileSync(inputFile, 'utf8'));
const t0 = performance.now();
const { drawSpendChartPng } = require(file);
const t1 = performance.now();
drawSpendChartPng(input).then(async (png) => {
  const t2 = performance.now();
  await drawSpendChartPng(input);
  const t3 = performance.now();
  process.stdout.write(JSON.stringify({ loadMs: t1 - t0, firstMs: t2 - t1, secondMs: t3 - t2,
    pngBytes: png.length, maxRssKb: process.resourceUsage().maxRSS }));
});
`;

const BARE_SCRIPT = `process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));`;

async function node<T>(args: readonly string[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        reject(new Error(`render child failed: ${Buffer.concat(err).toString().slice(0, 1000)}`));
      else resolve(JSON.parse(Buffer.concat(out).toString()) as T);
    });
  });
}

const median = (values: readonly number[]) => summarise(values).median;
const range = (values: readonly number[], format: (n: number) => string) => {
  const s = summarise(values);
  return `${format(s.min)}–${format(s.max)}`;
};
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

export async function run(options: BenchOptions): Promise<BenchSection> {
  const renderRounds = options.quick ? 4 : 12;
  const coldRounds = options.quick ? 6 : 30;
  const dir = path.join(os.tmpdir(), `chart-bench-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  try {
    const [hostBuilt] = await buildFunctions({
      outDir: path.join(dir, 'host'),
      only: ['poll-invoices'],
      sourcemap: false,
      runtime: 'host',
    });
    const [lambdaBuilt] = await buildFunctions({
      outDir: path.join(dir, 'lambda'),
      only: ['poll-invoices'],
      sourcemap: false,
    });
    if (hostBuilt === undefined || lambdaBuilt === undefined) throw new Error('the poller was not built');
    const hostDir = path.dirname(hostBuilt.file);
    const renderer = path.join(hostDir, 'spend-chart.js');
    const inputFile = path.join(dir, 'input.json');
    await writeFile(inputFile, JSON.stringify(DEMO_INPUT));

    // The demo picture, drawn by the same code from the sources.
    await mkdir(path.dirname(DEMO_PNG), { recursive: true });
    await writeFile(DEMO_PNG, await drawSpendChartPng(DEMO_INPUT));

    console.log(
      `chart render: ${renderRounds} processes, each loading the renderer and drawing the demo twice`,
    );
    const renders: RenderSample[] = [];
    const bare: number[] = [];
    for (let round = 0; round < renderRounds; round += 1) {
      renders.push(await node<RenderSample>(['-e', RENDER_SCRIPT, renderer, inputFile]));
      bare.push((await node<{ maxRssKb: number }>(['-e', BARE_SCRIPT])).maxRssKb);
    }

    // Cold start variants: as built; without the renderer's files; with the renderer required eagerly.
    const without = path.join(dir, 'without');
    await cp(hostDir, without, {
      recursive: true,
      filter: (source) => !['spend-chart.js', 'node_modules'].includes(path.basename(source)),
    });
    const eager = path.join(hostDir, 'eager-renderer.js');
    await writeFile(eager, "require('./spend-chart.js');\nmodule.exports = require('./index.js');\n");
    const bundles = {
      'as built': hostBuilt.file,
      'without the renderer files': path.join(without, 'index.js'),
      'renderer required at start': eager,
    } as const;
    type Variant = keyof typeof bundles;
    console.log(`poller cold start: 3 variants x ${coldRounds} interleaved rounds (+1 warm-up round)`);
    const cold = await interleave(
      Object.keys(bundles) as Variant[],
      { rounds: coldRounds, warmup: 1 },
      async (v) => {
        const result = await runCold(
          { bundle: bundles[v], kind: 'prepare' },
          path.join(dir, 'cold.json'),
          POLL_ENV,
        );
        return result.wallMs;
      },
    );

    const lambdaRuntimeBytes = lambdaBuilt.runtimeFiles.reduce((sum, f) => sum + f.bytes, 0);
    const rendererBytes = (await stat(renderer)).size;
    const row = (label: string, values: readonly number[], format: (n: number) => string) => [
      label,
      format(median(values)),
      range(values, format),
    ];
    const rows: string[][] = [
      row(
        'load the renderer (require spend-chart.js)',
        renders.map((r) => r.loadMs),
        formatMs,
      ),
      row(
        'first chart (font loading included)',
        renders.map((r) => r.firstMs),
        formatMs,
      ),
      row(
        'next chart, same process',
        renders.map((r) => r.secondMs),
        formatMs,
      ),
      row(
        'peak memory, process that drew two charts',
        renders.map((r) => r.maxRssKb),
        mb,
      ),
      row('peak memory, bare node', bare, mb),
      ...(Object.keys(bundles) as Variant[]).map((v) =>
        row(`poller cold start (load + prepare), ${v}`, cold[v], formatMs),
      ),
    ];
    const pngBytes = renders[0]?.pngBytes ?? 0;
    return {
      title: 'Spend chart: render cost and the poller cold start',
      header: ['measure', 'median', 'range'],
      rows,
      notes: [
        `Render: ${renderRounds} fresh processes on this machine's resvg build (Lambda runs the arm64 one); the demo chart is a ${formatKb(pngBytes)} PNG, 720 px wide.`,
        `Cold start: ${coldRounds} interleaved rounds per variant, spawn to exit, as test/bench/cold-start.bench.ts measures the poller.`,
        `The renderer's file is ${formatKb(rendererBytes)}; the Lambda build adds ${formatKb(lambdaRuntimeBytes)} under dist/poll-invoices/node_modules/ (resvg's arm64 addon, its JS, two DejaVu Sans files and licences), read only when a chart is drawn.`,
        `Demo chart written to ${path.relative(ROOT, DEMO_PNG)}.`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const started = performance.now();
  runStandalone(run({ quick: process.argv.includes('--quick') }), {
    cleanup: async () => {
      console.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    },
  });
}
