import type { ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Plumbing shared by the benchmarks that run their own file in child processes (archive, poll cost): the file bundled
 * as the Lambda's code is, its children stopped, its command line read.
 */
export interface SelfBundle {
  readonly file: string;
  /** Removes the temporary directory holding the bundle. */
  remove(): Promise<void>;
}

/**
 * `self` bundled into one CommonJS file with esbuild (in a fresh temporary directory named after `name`), as the
 * Lambda's code is built: children run it with plain `node`, so what they measure is the bundled code, without tsx's
 * loader and transpiler. `import.meta.url` keeps pointing at `self`. `external` packages stay out of the bundle, as the
 * Lambda's runtime packages do (a native addon cannot be bundled); the child finds them through NODE_PATH.
 */
export async function bundleSelf(
  self: string,
  name: string,
  options: { readonly external?: readonly string[] } = {},
): Promise<SelfBundle> {
  const { build } = await import('esbuild');
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  const file = join(dir, `${name}.cjs`);
  await build({
    entryPoints: [self],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(self).href) },
    external: [...(options.external ?? [])],
    logLevel: 'error',
  });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Asks a child to close (`{ type: 'close' }` over IPC), or kills it when it is disconnected; resolves on exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.connected) child.send({ type: 'close' });
  else child.kill();
  await exited;
}

/** A progress line on stderr (stdout carries the tables). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Whether this process was started with `self` as its script (not imported by test/bench/run.ts or a child). */
export function isEntryPoint(self: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(self);
  } catch {
    return false;
  }
}

/** The value of `--name=value` among `args`; undefined when absent. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  return args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** Runs a child's role to its end, then exits the process: 0 when it resolved, 1 (error on stderr) when it threw. */
export function serveRole(serve: () => Promise<void>): void {
  serve().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
