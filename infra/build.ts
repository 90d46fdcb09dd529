import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

/**
 * The one build of this project: each Lambda handler bundled on its own (minified, tree-shaken, CommonJS, with an
 * external source map) into `dist/<name>/index.js`, and the command-line tool into `dist/atlas-invoices.cjs`.
 * `serverless package` / `deploy` run it through `infra/serverless/build-plugin.cjs`; benchmarks call it directly.
 */
export const ROOT = path.resolve(__dirname, '..');

export const FUNCTIONS = {
  'poll-invoices': 'functions/poll-invoices.ts',
  'slack-command': 'functions/slack-command.ts',
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

/** Lambda's nodejs22.x runtime; the bundle must not use anything newer. */
export const LAMBDA_TARGET = 'node22';

/**
 * Modules a function can never reach at run time but that its dependencies import eagerly, replaced by a stub that
 * throws if it is ever used. Entries are package names or files inside a package (without extension). Each one is
 * justified here and its effect measured by `npm run bench`.
 *
 * slack-command: Bolt's `App` always imports its HTTP and Socket Mode receivers (express, body parsing with
 * iconv-lite, the OAuth package with jsonwebtoken, socket-mode with undici) although a Lambda only ever uses the
 * AwsLambdaReceiver it is given; stubbing them cuts the bundle from about 2.2 MB to under 0.8 MB.
 */
export const UNREACHABLE_MODULES: Readonly<Record<FunctionName, readonly string[]>> = {
  'poll-invoices': [],
  'slack-command': [
    '@slack/bolt/dist/receivers/HTTPReceiver',
    '@slack/bolt/dist/receivers/SocketModeReceiver',
    '@slack/bolt/dist/receivers/ExpressReceiver',
    '@slack/oauth',
    '@slack/socket-mode',
    'express',
    'raw-body',
  ],
};

export interface BuiltBundle {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

export interface BuildFunctionsOptions {
  readonly outDir?: string;
  readonly only?: readonly FunctionName[];
  readonly minify?: boolean;
  readonly sourcemap?: boolean;
  /** Stub the unreachable modules listed above (default true). */
  readonly stubUnreachable?: boolean;
}

export async function buildFunctions(options: BuildFunctionsOptions = {}): Promise<BuiltBundle[]> {
  const outDir = options.outDir ?? path.join(ROOT, 'dist');
  const names = options.only ?? (Object.keys(FUNCTIONS) as FunctionName[]);
  return Promise.all(
    names.map(async (name) => {
      const dir = path.join(outDir, name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, 'index.js');
      const stubs = options.stubUnreachable === false ? [] : UNREACHABLE_MODULES[name];
      const result = await build({
        ...commonOptions(options),
        entryPoints: [path.join(ROOT, FUNCTIONS[name])],
        outfile: file,
        plugins: stubs.length > 0 ? [stubModules(stubs)] : [],
      });
      return { name, file, bytes: (await stat(file)).size, metafile: result.metafile };
    }),
  );
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
  return { name: 'atlas-invoices', file, bytes: (await stat(file)).size, metafile: result.metafile };
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
  const packages = new Set(modules.filter((m) => !m.includes('/dist/')));
  const files = modules.filter((m) => m.includes('/dist/')).map((m) => `/node_modules/${m}`);
  const packageOf = (specifier: string) =>
    specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');
  return {
    name: 'stub-unreachable',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = !args.path.startsWith('.') && !path.isAbsolute(args.path);
        if (bare && packages.has(packageOf(args.path)))
          return { path: args.path, namespace: 'stub-unreachable' };
        if (!bare && args.importer !== '') {
          const target = path
            .join(path.dirname(args.importer), args.path)
            .replace(/\\/g, '/')
            .replace(/\.js$/, '');
          if (files.some((file) => target.endsWith(file)))
            return { path: target, namespace: 'stub-unreachable' };
        }
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

async function main(): Promise<void> {
  const started = Date.now();
  const functionsOnly = process.argv.includes('--functions');
  const bundles = [...(await buildFunctions()), ...(functionsOnly ? [] : [await buildCli()])];
  for (const bundle of bundles) {
    console.log(
      `${path.relative(ROOT, bundle.file).padEnd(32)} ${(bundle.bytes / 1024).toFixed(0).padStart(6)} KiB`,
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
