import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import {
  type BuiltBundle,
  buildFunctions,
  type FunctionName,
  functionBuildOptions,
  ROOT,
} from '../../../infra/build';

/**
 * Every bundle the benchmarks measure, built once per process into a temporary directory (never into dist/):
 * - ours: `buildFunctions()` exactly as `npm run build` and `serverless package` build them;
 * - naive: the slash command without stubs and without the slim undici/lazy split (`stubUnreachable: false,
 *   slim: false`), i.e. a plain esbuild bundle of the same handler with full Bolt;
 * - references from test/bench/fixtures, built with the functions' own esbuild options: each function's floor (only
 *   the SDK clients it cannot do without) and the S3 read-plus-presign floor of an answer;
 * - the same floors and the stock Bolt bundle built the plain way (esbuild's default CommonJS builds of the SDK), to
 *   show what the build options themselves are worth.
 */
export interface RefBundle {
  readonly file: string;
  readonly bytes: number;
}

/** The functions the benchmarks measure (the weekly digest has no latency budget). */
type BenchedFunction = Extract<FunctionName, 'poll-invoices' | 'slack-command'>;

export interface BenchBundles {
  readonly dir: string;
  readonly ours: Readonly<Record<BenchedFunction, BuiltBundle>>;
  readonly naiveSlackCommand: BuiltBundle;
  readonly floors: Readonly<Record<BenchedFunction, RefBundle>>;
  readonly plainFloors: Readonly<Record<BenchedFunction, RefBundle>>;
  readonly stockBolt: RefBundle;
  readonly s3ReadPresign: RefBundle;
}

const FIXTURES = path.join(ROOT, 'test', 'bench', 'fixtures');

async function buildReference(entry: string, outDir: string, preferEsm = true): Promise<RefBundle> {
  const file = path.join(outDir, preferEsm ? 'refs' : 'plain', `${path.basename(entry, '.ts')}.js`);
  await build({
    ...functionBuildOptions({ minify: true, sourcemap: false, preferEsm }),
    entryPoints: [path.join(FIXTURES, entry)],
    outfile: file,
  });
  return { file, bytes: (await stat(file)).size };
}

async function buildAll(): Promise<BenchBundles> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'atlas-invoice-bench-'));
  const [ours, naive, floorPoll, floorCommand, plainPoll, plainCommand, stockBolt, s3ReadPresign] =
    await Promise.all([
      buildFunctions({ outDir: path.join(dir, 'ours'), sourcemap: false }),
      buildFunctions({
        outDir: path.join(dir, 'naive'),
        only: ['slack-command'],
        sourcemap: false,
        stubUnreachable: false,
        slim: false,
      }),
      buildReference('floor-poll-invoices.ts', dir),
      buildReference('floor-slack-command.ts', dir),
      buildReference('floor-poll-invoices.ts', dir, false),
      buildReference('floor-slack-command.ts', dir, false),
      buildReference('stock-bolt.ts', dir, false),
      buildReference('s3-read-presign.ts', dir),
    ]);
  const byName = (bundles: BuiltBundle[], name: FunctionName) => {
    const found = bundles.find((b) => b.name === name);
    if (found === undefined) throw new Error(`no ${name} bundle was built`);
    return found;
  };
  return {
    dir,
    ours: { 'poll-invoices': byName(ours, 'poll-invoices'), 'slack-command': byName(ours, 'slack-command') },
    naiveSlackCommand: byName(naive, 'slack-command'),
    floors: { 'poll-invoices': floorPoll, 'slack-command': floorCommand },
    plainFloors: { 'poll-invoices': plainPoll, 'slack-command': plainCommand },
    stockBolt,
    s3ReadPresign,
  };
}

let pending: Promise<BenchBundles> | undefined;

/** Built on first call; later calls in the same process share the same files until `removeBenchBundles`. */
export function benchBundles(): Promise<BenchBundles> {
  pending ??= buildAll();
  return pending;
}

export async function removeBenchBundles(): Promise<void> {
  const current = pending;
  pending = undefined;
  if (current === undefined) return;
  const { dir } = await current;
  await rm(dir, { recursive: true, force: true });
}

/** Bytes read at cold start (entry and eagerly required files) and in all, source maps excluded. */
export function bundleBytes(bundle: BuiltBundle | RefBundle): { atStart: number; total: number } {
  if (!('files' in bundle)) return { atStart: bundle.bytes, total: bundle.bytes };
  const atStart = bundle.files.filter((f) => f.loadedAtStart).reduce((sum, f) => sum + f.bytes, 0);
  const total = bundle.files.reduce((sum, f) => sum + f.bytes, 0);
  return { atStart, total };
}
