import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { BOLT_BUNDLE_STUBS } from '../lib/slack/edge/bolt';
import { CHART_FONT } from '../lib/spend/chart/font';
import {
  type NativeBuild,
  type RuntimeFile,
  type RuntimePackage,
  type RuntimeTarget,
  writeRuntimePackages,
} from './runtime-packages';

/**
 * The one build of this project: each Lambda handler bundled on its own (minified, tree-shaken, CommonJS, with an
 * external source map) into `dist/<name>/index.js`, and the command-line tool into `dist/atlas-invoices.cjs`.
 * `serverless package` / `deploy` run it through `infra/serverless/build-plugin.cjs`; benchmarks call it directly.
 */
export const ROOT = path.resolve(__dirname, '..');

export const FUNCTIONS = {
  'poll-invoices': 'functions/poll-invoices.ts',
  'slack-command': 'functions/slack-command.ts',
  'spend-digest': 'functions/spend-digest.ts',
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

/** Lambda's nodejs24.x runtime (serverless.yml); the bundle must not use anything newer. */
export const LAMBDA_TARGET = 'node24';

/**
 * Modules a function can never reach at run time but that its dependencies import eagerly, replaced by a stub that
 * throws if it is ever used. Entries are package names or files inside a package (without extension). Each one is
 * justified here and its effect measured by `npm run bench` (test/bench/RESULTS.md); test/deploy/bundles.test.ts runs
 * the stubbed bundles against the local stand-ins.
 *
 * Both functions (undici, used by the Atlas client and the webhook notifier):
 * - `undici/lib/web/fetch/body`: required by the HTTP/1 and HTTP/2 clients only to serialise a FormData request body;
 *   every body this project sends is a string (the token request, webhook JSON). It pulls in most of fetch (~45 KB).
 * - `undici/lib/llhttp/llhttp-wasm`: the non-SIMD build of the HTTP parser, a fallback used only when WebAssembly SIMD
 *   is missing (ppc64 before Node 24.12) or UNDICI_NO_WASM_SIMD=1 is set. Lambda runs x86_64 or arm64, where Node 22's
 *   V8 always compiles the SIMD build (72 KB).
 * - `undici/lib/dispatcher/client-h2`: HTTP/2, used only when a connection negotiated `h2` through ALPN, which undici
 *   offers only with `allowH2: true`; the Atlas client's Agent and the global dispatcher never set it (10 KB).
 *
 * slack-command: the Bolt modules a Lambda behind AwsLambdaReceiver never runs (BOLT_BUNDLE_STUBS, kept with the rest
 * of what this project knows about Bolt's insides in lib/slack/edge/bolt.ts).
 *
 * spend-digest: undici as for the others (the webhook notifier and the chart upload use `request`).
 */
const UNDICI_UNREACHABLE = [
  'undici/lib/web/fetch/body',
  'undici/lib/llhttp/llhttp-wasm',
  'undici/lib/dispatcher/client-h2',
] as const;
export const UNREACHABLE_MODULES: Readonly<Record<FunctionName, readonly string[]>> = {
  'poll-invoices': [...UNDICI_UNREACHABLE],
  'slack-command': [...BOLT_BUNDLE_STUBS, ...UNDICI_UNREACHABLE],
  'spend-digest': [...UNDICI_UNREACHABLE],
};

/**
 * Modules written to files of their own next to `index.js` (inside `dist/<name>/`, so packaging is unchanged).
 * `lazy`: imported by the function only with a dynamic `import()`, which the CommonJS bundle turns into `require()`
 * of the file on first use; the build fails if anything imports one eagerly. `shared`: source modules that the entry
 * and its lazy files must share rather than each inline (e.g. lib/errors.ts, so that an error thrown in a lazy file is
 * `instanceof` the class the entry checks); loaded at start.
 *
 * - poll-invoices: `@slack/web-api` (about 65 kB with its dependencies, and after the SDK the costliest module to
 *   initialise) is needed only to post through the bot token, which most polls never do. The spend chart's renderer
 *   (d3, the chart code and the `require` of resvg's native addon, see RUNTIME_PACKAGES) only when a chart is drawn.
 * - slack-command: the Atlas client and undici (about 190 kB), needed only for an id that is not archived yet (the
 *   handler imports it with `import()`). lib/errors.ts is shared so that the AtlasApiError the client throws is the
 *   class the use case checks with `instanceof`.
 * - spend-digest: nothing. Every run posts, so `@slack/web-api` is needed at once; it draws no chart (it uploads the
 *   PNGs the poller stored), so no renderer.
 */
export const SPLIT_MODULES: Readonly<
  Record<FunctionName, { readonly lazy: readonly SplitModule[]; readonly shared: readonly SplitModule[] }>
> = {
  'poll-invoices': {
    lazy: [
      { source: '@slack/web-api', file: 'slack-web-api.js' },
      { source: 'lib/spend/chart/rasterise.ts', file: 'spend-chart.js' },
    ],
    shared: [],
  },
  'slack-command': {
    lazy: [{ source: 'lib/atlas/client.ts', file: 'atlas-client.js' }],
    shared: [{ source: 'lib/errors.ts', file: 'errors.js' }],
  },
  'spend-digest': { lazy: [], shared: [] },
};

/**
 * What a function loads at run time from `dist/<name>/node_modules/` instead of its bundle (infra/runtime-packages.ts
 * writes them there): packages kept `external` because esbuild cannot bundle them, their platform builds, and data
 * files read by path.
 *
 * poll-invoices, for the spend chart: `@resvg/resvg-js` (its JS picks the native build for the platform at load time;
 * a bundle cannot hold a `.node` file), its build for Lambda (linux arm64, glibc; the machine's own build with
 * `runtime: 'host'`), and the DejaVu Sans files resvg draws text with (Lambda has no system fonts), with their licence.
 */
export const RUNTIME_PACKAGES: Readonly<
  Record<
    FunctionName,
    {
      readonly external: readonly string[];
      readonly packages: readonly RuntimePackage[];
      readonly nativeBuilds: readonly NativeBuild[];
    }
  >
> = {
  'poll-invoices': {
    external: ['@resvg/resvg-js'],
    packages: [
      { name: '@resvg/resvg-js', files: ['index.js', 'js-binding.js', 'LICENSE'] },
      { name: CHART_FONT.package, files: [...CHART_FONT.files, CHART_FONT.licence] },
    ],
    nativeBuilds: [{ of: '@resvg/resvg-js', lambda: '@resvg/resvg-js-linux-arm64-gnu' }],
  },
  'slack-command': { external: [], packages: [], nativeBuilds: [] },
  'spend-digest': { external: [], packages: [], nativeBuilds: [] },
};

export interface SplitModule {
  /** A package name, or a path from the repository root. */
  readonly source: string;
  /** File name inside `dist/<function>/`. */
  readonly file: string;
}

/**
 * What our code imports from undici (`Agent`, `request`, the `Dispatcher` type), deep-imported so that the bundle
 * leaves out the rest of the package index (fetch, WebSocket, EventSource, caches, mocks, proxies, interceptors:
 * about 300 KB minified that the index also executes at load). `request` is the index's own wrapper around the
 * global dispatcher, for the webhook notifier; only `request` is attached to Dispatcher.prototype because it is
 * the one method our code calls. Importing any other name from 'undici' in lib/ or functions/ fails the build.
 */
const UNDICI_SLIM = `
import Agent from 'undici/lib/dispatcher/agent.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import apiRequest from 'undici/lib/api/api-request.js';
import { getGlobalDispatcher } from 'undici/lib/global.js';
import util from 'undici/lib/core/util.js';
import { InvalidArgumentError } from 'undici/lib/core/errors.js';

Dispatcher.prototype.request = apiRequest;

export { Agent, Dispatcher };

// undici/index.js makeDispatcher(api.request), without the callback form.
export function request(url, opts) {
  if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) {
    throw new InvalidArgumentError('invalid url');
  }
  if (opts != null && typeof opts !== 'object') throw new InvalidArgumentError('invalid opts');
  if (opts && opts.path != null) {
    if (typeof opts.path !== 'string') throw new InvalidArgumentError('invalid opts.path');
    const path = opts.path.startsWith('/') ? opts.path : '/' + opts.path;
    url = new URL(util.parseOrigin(url).origin + path);
  } else {
    if (!opts) opts = typeof url === 'object' ? url : {};
    url = util.parseURL(url);
  }
  const { agent, dispatcher = getGlobalDispatcher() } = opts;
  if (agent) throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  return apiRequest.call(dispatcher, {
    ...opts,
    origin: url.origin,
    path: url.search ? url.pathname + url.search : url.pathname,
    method: opts.method || (opts.body ? 'PUT' : 'GET'),
  });
}
`;

export interface BundleFile {
  readonly file: string;
  readonly bytes: number;
  /** False for lazy files, which are read only when first needed. */
  readonly loadedAtStart: boolean;
}

export interface BuiltBundle {
  readonly name: string;
  /** The entry, `dist/<name>/index.js`. */
  readonly file: string;
  /** Size of the entry file. */
  readonly bytes: number;
  readonly metafile: Metafile;
  /** Every JavaScript file of the function, entry first (source maps not included). */
  readonly files: readonly BundleFile[];
  /** What was written under `dist/<name>/node_modules/` (RUNTIME_PACKAGES). */
  readonly runtimeFiles: readonly RuntimeFile[];
}

export interface BuildFunctionsOptions {
  readonly outDir?: string;
  readonly only?: readonly FunctionName[];
  readonly minify?: boolean;
  readonly sourcemap?: boolean;
  /** Stub the unreachable modules listed above (default true). */
  readonly stubUnreachable?: boolean;
  /**
   * Deep-import only the undici parts used, write the lazy modules to their own files, prefer dependencies' ES
   * module builds and take the SDK's credentials from the environment only (default true). False is a plain esbuild
   * bundle: undici's package index, everything in index.js, dependencies' CommonJS builds, the SDK's default
   * credential chain.
   */
  readonly slim?: boolean;
  /**
   * Whose native builds to ship (RUNTIME_PACKAGES): `lambda` (default) the Lambda platform's, fetched from the
   * registry at the locked version and verified; `host` this machine's installed ones, to run a built bundle here.
   */
  readonly runtime?: RuntimeTarget;
}

export async function buildFunctions(options: BuildFunctionsOptions = {}): Promise<BuiltBundle[]> {
  const outDir = options.outDir ?? path.join(ROOT, 'dist');
  const names = options.only ?? (Object.keys(FUNCTIONS) as FunctionName[]);
  const slim = options.slim !== false;
  return Promise.all(
    names.map(async (name) => {
      const dir = path.join(outDir, name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const { lazy, shared } = slim ? SPLIT_MODULES[name] : { lazy: [], shared: [] };
      const bundle = async (entry: string, file: string, separate: readonly SplitModule[]) => {
        const plugins = [
          ...functionPlugins(name, { stubUnreachable: options.stubUnreachable !== false, slim }),
          ...(separate.length > 0 ? [separateFiles(separate)] : []),
        ];
        const outfile = path.join(dir, file);
        const base = functionBuildOptions({ ...options, preferEsm: slim, envCredentials: slim });
        const result = await build({
          ...base,
          entryPoints: [isPackage(entry) ? entry : path.join(ROOT, entry)],
          outfile,
          plugins: [...base.plugins, ...plugins],
          external: [...RUNTIME_PACKAGES[name].external],
        });
        assertLoadedLazily(result.metafile, lazy, entry);
        return { file: outfile, bytes: (await stat(outfile)).size, metafile: result.metafile };
      };
      const runtime = RUNTIME_PACKAGES[name];
      const [runtimeFiles, main, ...rest] = await Promise.all([
        writeRuntimePackages(dir, runtime.packages, runtime.nativeBuilds, options.runtime ?? 'lambda'),
        bundle(FUNCTIONS[name], 'index.js', [...lazy, ...shared]),
        ...lazy.map((m) => bundle(m.source, m.file, [...lazy.filter((other) => other !== m), ...shared])),
        ...shared.map((m) => bundle(m.source, m.file, [])),
      ]);
      if (main === undefined) throw new Error('unreachable: no entry built');
      const files: BundleFile[] = [
        { file: main.file, bytes: main.bytes, loadedAtStart: true },
        ...rest.map((built, i) => ({
          file: built.file,
          bytes: built.bytes,
          loadedAtStart: i >= lazy.length,
        })),
      ];
      return { name, file: main.file, bytes: main.bytes, metafile: main.metafile, files, runtimeFiles };
    }),
  );
}

/**
 * The plugins that shape what a function's bundle holds (besides `functionBuildOptions`' own): the unreachable
 * modules stubbed and, when slim, our undici imports deep-imported. Benchmarks build their references of a function's
 * parts with them too.
 */
export function functionPlugins(
  name: FunctionName,
  options: { readonly stubUnreachable: boolean; readonly slim: boolean },
): Plugin[] {
  const stubs = options.stubUnreachable ? UNREACHABLE_MODULES[name] : [];
  return [...(stubs.length > 0 ? [stubModules(stubs)] : []), ...(options.slim ? [slimUndici()] : [])];
}

const isPackage = (specifier: string) => !specifier.startsWith('.') && !/\.[cm]?[jt]s$/.test(specifier);

/** A lazy file required at the top of a bundle would be loaded at start after all: refuse such a build. */
function assertLoadedLazily(metafile: Metafile, lazy: readonly SplitModule[], entry: string): void {
  const files = new Set(lazy.map((m) => `./${m.file}`));
  for (const [input, info] of Object.entries(metafile.inputs)) {
    for (const imported of info.imports) {
      if (imported.external && files.has(imported.path) && imported.kind !== 'dynamic-import') {
        throw new Error(
          `${input} (in the build of ${entry}) imports ${imported.path} eagerly; import() it instead`,
        );
      }
    }
  }
}

export async function buildCli(outDir: string = path.join(ROOT, 'dist')): Promise<BuiltBundle> {
  const file = path.join(outDir, 'atlas-invoices.cjs');
  const result = await build({
    ...commonOptions({ minify: true, sourcemap: false }),
    entryPoints: [path.join(ROOT, 'lib/cli/bin.ts')],
    outfile: file,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  });
  // Runs as `./dist/atlas-invoices.cjs` and as the package's `bin`.
  await chmod(file, 0o755);
  const bytes = (await stat(file)).size;
  return {
    name: 'atlas-invoices',
    file,
    bytes,
    metafile: result.metafile,
    files: [{ file, bytes, loadedAtStart: true }],
    runtimeFiles: [],
  };
}

/**
 * The esbuild options of a Lambda function bundle (benchmarks build their reference bundles with them too, so that a
 * function and its floor differ only in what they contain).
 */
export function functionBuildOptions(options: {
  minify?: boolean;
  sourcemap?: boolean;
  /** Default true; false bundles dependencies' CommonJS builds, as esbuild does by default. */
  preferEsm?: boolean;
  /** Default true: the SDK's credentials from the environment only (see LAMBDA_CREDENTIALS_MODULE). */
  envCredentials?: boolean;
}): BuildOptions & { metafile: true; plugins: Plugin[] } {
  return {
    ...commonOptions(options),
    plugins: options.envCredentials === false ? [] : [lambdaCredentials()],
    // import() becomes require(): lazily loaded files (ours, and node:http in the SDK's credential providers) are
    // CommonJS, and require() reaches them without starting the ESM loader.
    supported: { 'dynamic-import': false },
    // A package's ES module build when it has one: the AWS SDK's dist-es lets esbuild drop every command, schema and
    // serde path the function never uses (an S3 + Secrets Manager client bundle shrinks from ~640 kB to ~430 kB), as
    // AWS recommends for bundled Lambdas. esbuild's default for platform node is the CommonJS build ('main' first).
    mainFields: options.preferEsm === false ? ['main', 'module'] : ['module', 'main'],
  };
}

function commonOptions(options: {
  minify?: boolean;
  sourcemap?: boolean;
}): BuildOptions & { metafile: true } {
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LAMBDA_TARGET,
    minify: options.minify ?? true,
    treeShaking: true,
    sourcemap: options.sourcemap === false ? false : 'external',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: ROOT,
  };
}

/** Resolve each listed module to a stub whose every use throws, so a wrong entry fails loudly, not silently. */
function stubModules(modules: readonly string[]): Plugin {
  const packageOf = (specifier: string) =>
    specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');
  const isFile = (m: string) => m !== packageOf(m);
  const packages = new Set(modules.filter((m) => !isFile(m)));
  const files = modules.filter(isFile).map((m) => `/node_modules/${m}`);
  const stubbedFile = (target: string) => {
    const normalised = target.replace(/\\/g, '/').replace(/\.js$/, '');
    return files.some((file) => normalised.endsWith(file)) ? normalised : undefined;
  };
  return {
    name: 'stub-unreachable',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = !args.path.startsWith('.') && !path.isAbsolute(args.path);
        if (bare && packages.has(packageOf(args.path)))
          return { path: args.path, namespace: 'stub-unreachable' };
        const target = bare
          ? `/node_modules/${args.path}`
          : args.importer !== ''
            ? path.join(path.dirname(args.importer), args.path)
            : undefined;
        const stubbed = target === undefined ? undefined : stubbedFile(target);
        if (stubbed !== undefined) return { path: stubbed, namespace: 'stub-unreachable' };
        return undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'stub-unreachable' }, (args) => ({
        contents: `const fail = () => { throw new Error(${JSON.stringify(`${path.basename(args.path)} is not bundled in this function`)}); };
module.exports = new Proxy(function () {}, { get: (_t, key) => (key === '__esModule' ? false : key === 'default' ? fail : undefined), apply: fail, construct: fail });`,
        loader: 'js',
      }));
    },
  };
}

/**
 * `import ... from 'undici'` in our own sources (and the benchmarks' references built like them) resolves to
 * UNDICI_SLIM; dependencies keep the package index.
 */
function slimUndici(): Plugin {
  const ours = ['lib', 'functions', 'test/bench/fixtures'].map((dir) => path.join(ROOT, dir) + path.sep);
  return {
    name: 'slim-undici',
    setup(b) {
      b.onResolve({ filter: /^undici$/ }, (args) =>
        ours.some((dir) => args.importer.startsWith(dir))
          ? { path: 'undici', namespace: 'slim-undici' }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'slim-undici' }, () => ({
        contents: UNDICI_SLIM,
        loader: 'js',
        resolveDir: ROOT,
      }));
    },
  };
}

/**
 * The AWS SDK's default credential provider (`@aws-sdk/credential-provider-node`, imported by every client's runtime
 * configuration) resolved to the environment provider alone. Lambda hands a function its role's credentials in
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, which is where the default chain looks first
 * and finds them; the rest of the chain (SSO, shared ini files with role assumption and the STS and SSO clients they
 * carry, credential processes, web identity, container and instance metadata: about 110 kB minified) is never reached
 * in Lambda but is bundled and compiled at every cold start. The source keeps the default chain: `npm start` runs it
 * unbundled and still reads profiles and SSO. A Lambda bundle without credentials in its environment fails its first
 * AWS call with the SDK's own CredentialsProviderError ("Unable to find environment variable credentials").
 */
const LAMBDA_CREDENTIALS_MODULE = `
import { fromEnv } from '@aws-sdk/credential-provider-env';

// @aws-sdk/credential-provider-node's defaultProvider(init), reduced to its first link.
export const defaultProvider = (init = {}) => fromEnv(init);
`;

function lambdaCredentials(): Plugin {
  return {
    name: 'lambda-credentials',
    setup(b) {
      b.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        // credential-provider-env is resolved from the default provider's own files, as its dependency.
        const real = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: { inner: true },
        });
        if (real.errors.length > 0) return { errors: real.errors };
        return {
          path: args.path,
          namespace: 'lambda-credentials',
          pluginData: { resolveDir: path.dirname(real.path) },
        };
      });
      b.onLoad({ filter: /.*/, namespace: 'lambda-credentials' }, (args) => ({
        contents: LAMBDA_CREDENTIALS_MODULE,
        loader: 'js',
        resolveDir: (args.pluginData as { resolveDir: string }).resolveDir,
      }));
    },
  };
}

/** Imports of the given modules (by package name, or by source path) become `require('./<file>')` of their own file. */
function separateFiles(modules: readonly SplitModule[]): Plugin {
  const byPackage = new Map(modules.filter((m) => isPackage(m.source)).map((m) => [m.source, `./${m.file}`]));
  const byPath = new Map(
    modules.filter((m) => !isPackage(m.source)).map((m) => [path.join(ROOT, m.source), `./${m.file}`]),
  );
  return {
    name: 'separate-files',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const packageFile = byPackage.get(args.path);
        if (packageFile !== undefined) return { path: packageFile, external: true };
        if (!args.path.startsWith('.') || args.importer === '') return undefined;
        const target = path.join(path.dirname(args.importer), args.path);
        const file = byPath.get(target) ?? byPath.get(`${target}.ts`);
        return file === undefined ? undefined : { path: file, external: true };
      });
    },
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const functionsOnly = process.argv.includes('--functions');
  const bundles = [...(await buildFunctions()), ...(functionsOnly ? [] : [await buildCli()])];
  for (const { file, bytes, loadedAtStart } of bundles.flatMap((bundle) => bundle.files)) {
    const lazy = loadedAtStart ? '' : '  (loaded on first use)';
    console.log(
      `${path.relative(ROOT, file).padEnd(36)} ${(bytes / 1024).toFixed(0).padStart(6)} KiB${lazy}`,
    );
  }
  for (const bundle of bundles) {
    if (bundle.runtimeFiles.length === 0) continue;
    const bytes = bundle.runtimeFiles.reduce((sum, f) => sum + f.bytes, 0);
    const where = path.relative(ROOT, path.join(path.dirname(bundle.file), 'node_modules'));
    console.log(
      `${`${where}/`.padEnd(36)} ${(bytes / 1024).toFixed(0).padStart(6)} KiB  (${bundle.runtimeFiles.length} files)`,
    );
  }
  console.log(`built in ${Date.now() - started} ms`);
}

if (typeof require !== 'undefined' && require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
