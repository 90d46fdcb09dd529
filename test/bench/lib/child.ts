import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * Runs benchmark samples in fresh Node processes (see child-runner.cjs for the spec kinds). The wall time is taken
 * here, from just before `spawn` to the child's exit: the whole process as a cold start costs it (Node's own start,
 * reading and compiling the bundle, the work, exiting). The child's own marks say where inside that time went.
 */
export const CHILD_RUNNER = path.join(__dirname, 'child-runner.cjs');

export interface SampleWork {
  readonly kind: 'load' | 'prepare' | 'invoke' | 'call';
  readonly event?: unknown;
  readonly events?: readonly unknown[];
  readonly timeoutMs?: number;
  readonly expectStatus?: number;
  readonly expectText?: string;
  readonly expectOk?: boolean;
  readonly exportName?: string;
  readonly args?: readonly unknown[];
  /** Print the invoke/call result with the marks (for tests). */
  readonly returnResult?: boolean;
}

export type ColdSpec = SampleWork & { readonly bundle: string };

export interface WarmSpec {
  readonly kind: 'warm';
  readonly rounds: number;
  readonly warmup: number;
  readonly variants: Readonly<Record<string, SampleWork & { readonly bundle: string }>>;
}

export interface ColdResult {
  /** Spawn to exit, measured by the parent (ms). */
  readonly wallMs: number;
  /** From the child's process start to the end of `require(bundle)` (ms). */
  readonly loadedMs: number;
  /** From the child's process start to the end of the work (ms). */
  readonly doneMs: number;
  /** With `returnResult`: what the handler or export returned, as JSON. */
  readonly result?: unknown;
}

export interface WarmResult {
  readonly samples: Record<string, number[]>;
}

/**
 * The environment of every child: only what is given (plus PATH), so NODE_OPTIONS, AWS profiles or proxies of the
 * calling shell never change what is measured.
 */
export function childEnv(vars: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) env[name] = value;
  return env;
}

interface Exit {
  readonly wallMs: number;
  readonly stdout: string;
}

async function spawnNode(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Exit> {
  return new Promise<Exit>((resolve, reject) => {
    const started = performance.now();
    let exitedAt = Number.NaN;
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', () => {
      exitedAt = performance.now();
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code !== 0) {
        reject(new Error(`child ${args.join(' ')} ended with ${signal ?? code}: ${stderr.slice(0, 2000)}`));
        return;
      }
      resolve({ wallMs: exitedAt - started, stdout: Buffer.concat(out).toString('utf8') });
    });
  });
}

function parseResult<T>(stdout: string): T {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('BENCH_RESULT '));
  if (line === undefined) throw new Error(`the child printed no result: ${stdout.slice(-500)}`);
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as T;
}

/** `node -e ""`: Node's own start and exit, the reference every cold start is compared with. */
export async function runBareNode(env: Record<string, string>): Promise<number> {
  return (await spawnNode(['-e', ''], env, 30_000)).wallMs;
}

/**
 * One cold sample. `specFile` is written first (outside the measured time) so each sample can carry freshly signed
 * requests.
 */
export async function runCold(
  spec: ColdSpec,
  specFile: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ColdResult> {
  await writeFile(specFile, JSON.stringify(spec));
  const exit = await spawnNode([CHILD_RUNNER, specFile], env, timeoutMs);
  const marks = parseResult<{ loadedMs: number; doneMs: number; result?: unknown }>(exit.stdout);
  return { wallMs: exit.wallMs, ...marks };
}

/** Many warm samples of several bundles, interleaved, in one process. */
export async function runWarm(
  spec: WarmSpec,
  specFile: string,
  env: Record<string, string>,
  timeoutMs = 600_000,
): Promise<WarmResult> {
  await writeFile(specFile, JSON.stringify(spec));
  const exit = await spawnNode([CHILD_RUNNER, specFile], env, timeoutMs);
  return parseResult<WarmResult>(exit.stdout);
}
