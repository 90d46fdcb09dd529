import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import {
  type BuiltBundle,
  buildFunctions,
  type FunctionName,
  functionBuildOptions,
  functionPlugins,
  ROOT,
} from '../../../infra/build';

/**
 * Every bundle the benchmarks measure, built once per process into a temporary directory (never into dist/):
 * - ours: `buildFunctions()` exactly as `npm run build` and `serverless package` build them;
 * - naive: the slash command without stubs and without the slim undici/lazy split (`stubUnreachable: false,
 *   slim: false`), i.e. a plain esbuild bundle of the same handler with full Bolt;
 * - references from test/bench/fixtures, built with the functions' own esbuild options (the SDK's ES module builds,
 *   its credentials from the environment only): each function's floor (only the SDK clients it cannot do without) and
 *   the secret-read, S3 read-plus-presign floor of an answer;
 * - each floor plus one part of its function, built with that function's plugins: the poller's Atlas client (undici),
 *   the slash command's Slack edge (Bolt), so the cold-start gap can be split into its parts;
 * - the same floors with the SDK's default credential chain, to show what the environment-only credentials are worth;
 * - the same floors and the stock Bolt bundle built the plain way (esbuild's default CommonJS builds of the SDK, the
 *   default credential chain), to show what the build options themselves are worth.
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
  /** Each floor plus one part of its function: the poller's Atlas client, the slash command's Slack edge. */
  readonly floorsWithPart: Readonly<Record<BenchedFunction, RefBundle>>;
  readonly chainFloors: Readonly<Record<BenchedFunction, RefBundle>>;
  readonly plainFloors: Readonly<Record<BenchedFunction, RefBundle>>;
  readonly stockBolt: RefBundle;
  readonly s3ReadPresign: RefBundle;
  /** The poller's Slack posts through either transport, built like the poller (fixtures/slack-post.ts). */
  readonly slackPost: RefBundle;
}

const FIXTURES = path.join(ROOT, 'test', 'bench', 'fixtures');

type ReferenceBuild = 'refs' | 'chain' | 'plain';

/**
 * `refs`: the functions' options; `chain`: the same with the default credential chain; `plain`: esbuild defaults.
 * `of`: build with that function's plugins too (stubs, slim undici), for references holding parts of the function.
 */
async function buildReference(
  entry: string,
  outDir: string,
  kind: ReferenceBuild = 'refs',
  of?: FunctionName,
): Promise<RefBundle> {
  const file = path.join(outDir, kind, `${path.basename(entry, '.ts')}.js`);
  const options = functionBuildOptions({
    minify: true,
    sourcemap: false,
    preferEsm: kind !== 'plain',
    envCredentials: kind === 'refs',
  });
  await build({
    ...options,
    plugins: [
      ...options.plugins,
      ...(of === undefined ? [] : functionPlugins(of, { stubUnreachable: true, slim: true })),
    ],
    entryPoints: [path.join(FIXTURES, entry)],
    outfile: file,
  });
  return { file, bytes: (await stat(file)).size };
}

async function buildAll(): Promise<BenchBundles> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'atlas-invoice-bench-'));
  const [
    ours,
    naive,
    floorPoll,
    floorCommand,
    floorPollAtlas,
    floorCommandEdge,
    chainPoll,
    chainCommand,
    plainPoll,
    plainCommand,
    stockBolt,
    s3ReadPresign,
    slackPost,
  ] = await Promise.all([
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
    buildReference('floor-poll-atlas.ts', dir, 'refs', 'poll-invoices'),
    buildReference('floor-command-edge.ts', dir, 'refs', 'slack-command'),
    buildReference('floor-poll-invoices.ts', dir, 'chain'),
    buildReference('floor-slack-command.ts', dir, 'chain'),
    buildReference('floor-poll-invoices.ts', dir, 'plain'),
    buildReference('floor-slack-command.ts', dir, 'plain'),
    buildReference('stock-bolt.ts', dir, 'plain'),
    buildReference('s3-read-presign.ts', dir),
    buildReference('slack-post.ts', dir, 'refs', 'poll-invoices'),
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
    floorsWithPart: { 'poll-invoices': floorPollAtlas, 'slack-command': floorCommandEdge },
    chainFloors: { 'poll-invoices': chainPoll, 'slack-command': chainCommand },
    plainFloors: { 'poll-invoices': plainPoll, 'slack-command': plainCommand },
    stockBolt,
    s3ReadPresign,
    slackPost,
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
