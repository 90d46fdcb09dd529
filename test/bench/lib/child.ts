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

/** A warm container of one bundle (see `startWarm`): every sample is one `work`, event `index` of `work.events`. */
export interface WarmSpec {
  readonly bundle: string;
  readonly work: SampleWork;
}

export interface ColdResult {
  /** Spawn to exit, measured by the parent (ms). */
  readonly wallMs: number;
  /** From the child's process start to the end of `require(bundle)` (ms). */
  readonly loadedMs: number;
  /** From the child's process start to the end of the work (ms). */
  readonly doneMs: number;
  /** The child's CPU time (user + system, all threads) from its start to the end of the work (ms). */
  readonly cpuMs: number;
  /** With `returnResult`: what the handler or export returned, as JSON. */
  readonly result?: unknown;
}

/** One warm request, as the container that served it measured it. */
export interface WarmSample {
  /** From the handler call to its answer (ms). */
  readonly ms: number;
  /** The container's CPU time (user + system, all threads) over that request (ms). */
  readonly cpuMs: number;
}

/** A running warm container: one Node process that loaded one bundle and serves requests one at a time. */
export interface WarmContainer {
  sample(index: number): Promise<WarmSample>;
  close(): Promise<void>;
}

/**
 * The environment of every child: only what is given (plus PATH), so NODE_OPTIONS, AWS profiles or proxies of the
 * calling shell never change what is measured. The AWS SDK's warning about this machine's Node version is turned off:
 * Lambda runs the functions on Node 24, where the SDK prints none (printing it costs every client bundle alike).
 */
export function childEnv(vars: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
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

/** `node -e ""`: Node's own start and exit, the reference every cold start is compared with (wall time only). */
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
  const marks = parseResult<{ loadedMs: number; doneMs: number; cpuMs: number; result?: unknown }>(
    exit.stdout,
  );
  return { wallMs: exit.wallMs, ...marks };
}

/**
 * A warm container of `spec.bundle` in a process of its own, as Lambda keeps one per concurrent request: its own heap,
 * garbage collector and JIT state, so variants measured side by side never share them. Resolves once the bundle is
 * loaded; the caller sends samples one at a time (interleaving several containers) and closes it.
 */
export async function startWarm(
  spec: WarmSpec,
  specFile: string,
  env: Record<string, string>,
): Promise<WarmContainer> {
  await writeFile(specFile, JSON.stringify({ kind: 'serve', ...spec }));
  const child = spawn(process.execPath, [CHILD_RUNNER, specFile], {
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const err: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failure = () =>
    new Error(`warm container ${spec.bundle} ended: ${Buffer.concat(err).toString('utf8').slice(0, 2000)}`);
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { type?: string }) => {
        if (message?.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      };
      const onExit = () => {
        child.off('message', onMessage);
        // Let stderr drain first so the error says why.
        setImmediate(() => reject(failure()));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  await next('ready');
  return {
    async sample(index) {
      const answer = next<WarmSample & { type: string }>('sample');
      child.send({ type: 'sample', index });
      const { ms, cpuMs } = await answer;
      return { ms, cpuMs };
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null && child.connected)
        child.send({ type: 'close' });
      await exited;
    },
  };
}
