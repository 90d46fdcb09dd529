import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIG_NAMES } from '../lib/config';
import { quickStartCommands, simpleCommands } from './local/readme-quick-start';

/**
 * `npm run check:readme`: follows the README's quick start literally, as a new user would, in a fresh clone of the
 * repository's HEAD (uncommitted changes are not part of it):
 *   line 1 (`npm ci && npm start`) must, within its time limit, archive a CSV under `.local/s3` and print a
 *   rendered Slack message; it is then stopped with SIGINT, sent to the npm start process that handles Ctrl-C,
 *   and the whole line must exit 0 with nothing left running;
 *   line 2 (`npm ci && npm test`) must exit 0.
 * The commands run unchanged through `sh -c`, with no setting of the configuration contract in their environment
 * (nothing configured, as on a new machine) and, when a command is exactly `npm ci`, `npm_config_prefer_offline`
 * so the local npm cache serves it. Prints what it did with timings; exits 1 on any failure (keeping the clone and
 * the commands' log for a look), 2 on a bad command line.
 */

const USAGE = `Usage: tsx infra/check-readme.ts [--repo <path>] [--start-timeout <s>] [--test-timeout <s>] [--keep]

  --repo <path>          repository to clone (default: the one holding the current directory)
  --start-timeout <s>    limit for line 1 to show a working local run (default 300)
  --test-timeout <s>     limit for line 2 (default 1200)
  --keep                 keep the temporary clone even when everything passed`;

const STOP_GRACE_MS = 30_000;
const TAIL_LINES = 40;
const POLL_MS = 500;
const SLACK_MESSAGE = /^┌ Slack /m;

const print = (text: string) => process.stdout.write(`${text}\n`);

interface Options {
  readonly repo: string;
  readonly startTimeoutMs: number;
  readonly testTimeoutMs: number;
  readonly keep: boolean;
}

class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`check-readme: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'readme-check-'));
  const clone = join(work, 'repo');
  const logPath = join(work, 'commands.log');
  const log = createWriteStream(logPath);
  let ok = false;
  try {
    await check(options, clone, log);
    ok = true;
    print(`✔ The README quick start works (total ${seconds(Date.now() - started)})`);
  } catch (error) {
    const message = error instanceof CheckFailed ? error.message : `unexpected: ${String(error)}`;
    print(`✖ ${message}`);
  } finally {
    await new Promise((done) => log.end(done));
    if (ok && !options.keep) await rm(work, { recursive: true, force: true });
    else print(`  clone: ${clone}\n  log:   ${logPath}`);
  }
  return ok ? 0 : 1;
}

async function check(options: Options, clone: string, log: WriteStream): Promise<void> {
  const head = git(options.repo, ['rev-parse', '--short', 'HEAD']);
  const dirty = git(options.repo, ['--no-optional-locks', 'status', '--porcelain']);
  let at = Date.now();
  git(options.repo, ['clone', '--quiet', options.repo, clone]);
  print(`✔ Cloned ${options.repo} at ${head} into ${clone} (${seconds(Date.now() - at)})`);
  if (dirty !== '')
    print('  note: the working tree has changes; uncommitted and untracked files are not part of the check');

  const readme = await readFile(join(clone, 'README.md'), 'utf8').catch(() => {
    throw new CheckFailed('the clone has no README.md');
  });
  let lines: string[];
  try {
    lines = quickStartCommands(readme);
  } catch (error) {
    throw new CheckFailed((error as Error).message);
  }
  if (lines.length !== 2) {
    throw new CheckFailed(
      `the Quick start block has ${lines.length} command lines; expected 2:\n  ${lines.join('\n  ')}`,
    );
  }
  const [startLine, testLine] = lines as [string, string];
  print(`  README "Quick start":\n    1  ${startLine}\n    2  ${testLine}`);

  at = Date.now();
  print(`… Line 1: ${startLine}   (up to ${seconds(options.startTimeoutMs)} for a working local run)`);
  const start = run(startLine, clone, log);
  const evidence = await waitForEvidence(start, clone, options.startTimeoutMs);
  print(`  ✔ archived CSV ${relative(clone, evidence.csv)} (after ${seconds(evidence.csvAt - at)})`);
  print(`  ✔ rendered Slack message in the output (after ${seconds(evidence.messageAt - at)})`);
  const stopAt = Date.now();
  const target = await stopTarget(clone);
  signal(target ?? -(start.child.pid as number), 'SIGINT');
  const stopped = await exitWithin(start, STOP_GRACE_MS);
  const whom = target === undefined ? 'its process group' : `the npm start process (pid ${target})`;
  if (stopped === undefined) {
    signal(-(start.child.pid as number), 'SIGKILL');
    throw new CheckFailed(
      `line 1 did not stop within ${seconds(STOP_GRACE_MS)} of SIGINT to ${whom}${tail(start)}`,
    );
  }
  if (stopped.code !== 0) {
    throw new CheckFailed(
      `line 1 exited with ${describeExit(stopped)} after SIGINT to ${whom}${tail(start)}`,
    );
  }
  if (await groupOutlives(start.child.pid as number, 5_000)) {
    signal(-(start.child.pid as number), 'SIGKILL');
    throw new CheckFailed('line 1 exited but left processes running in its process group');
  }
  print(
    `  ✔ SIGINT to ${whom}: exited 0 (${seconds(Date.now() - stopAt)}; line 1 took ${seconds(Date.now() - at)})`,
  );

  at = Date.now();
  print(`… Line 2: ${testLine}   (up to ${seconds(options.testTimeoutMs)})`);
  const test = run(testLine, clone, log);
  const finished = await exitWithin(test, options.testTimeoutMs);
  if (finished === undefined) {
    signal(-(test.child.pid as number), 'SIGKILL');
    throw new CheckFailed(`line 2 did not finish within ${seconds(options.testTimeoutMs)}${tail(test)}`);
  }
  if (finished.code !== 0) throw new CheckFailed(`line 2 exited with ${describeExit(finished)}${tail(test)}`);
  print(`  ✔ exited 0 (${seconds(Date.now() - at)})`);
}

interface Running {
  readonly child: ChildProcess;
  readonly exit: Promise<Exit>;
  output(): string;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One README line through `sh -c`, unchanged, in its own process group; output to the log and kept for checks. */
function run(line: string, cwd: string, log: WriteStream): Running {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...CONFIG_NAMES, 'APP_SECRET_ID', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'])
    delete env[name];
  if (simpleCommands(line).includes('npm ci')) env.npm_config_prefer_offline = 'true';
  log.write(`\n$ ${line}\n`);
  const child = spawn('sh', ['-c', line], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    log.write(chunk);
    output += chunk.toString('utf8');
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exit = new Promise<Exit>((done) => child.on('close', (code, sig) => done({ code, signal: sig })));
  return { child, exit, output: () => output };
}

async function waitForEvidence(running: Running, clone: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let exited: Exit | undefined;
  void running.exit.then((e) => {
    exited = e;
  });
  let csv: string | undefined;
  let csvAt = 0;
  let messageAt = 0;
  while (Date.now() < deadline) {
    if (csv === undefined) {
      csv = await findCsv(join(clone, '.local', 's3'));
      if (csv !== undefined) csvAt = Date.now();
    }
    if (messageAt === 0 && SLACK_MESSAGE.test(stripAnsi(running.output()))) messageAt = Date.now();
    if (csv !== undefined && messageAt !== 0) return { csv, csvAt, messageAt };
    if (exited !== undefined) {
      throw new CheckFailed(
        `line 1 exited with ${describeExit(exited)} before showing a working run${tail(running)}`,
      );
    }
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
  signal(-(running.child.pid as number), 'SIGINT');
  if ((await exitWithin(running, 10_000)) === undefined) signal(-(running.child.pid as number), 'SIGKILL');
  const missing = [
    csv === undefined ? 'no CSV under .local/s3' : '',
    messageAt === 0 ? 'no rendered Slack message' : '',
  ]
    .filter((m) => m !== '')
    .join(' and ');
  throw new CheckFailed(`line 1 showed ${missing} within ${seconds(timeoutMs)}${tail(running)}`);
}

async function findCsv(dir: string): Promise<string | undefined> {
  if (!existsSync(dir)) return undefined;
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const file = entries.find((e) => e.isFile() && e.name.endsWith('.csv'));
    return file === undefined ? undefined : join(file.parentPath, file.name);
  } catch {
    return undefined;
  }
}

/** The pid of the npm start process that handles Ctrl-C, from the run file it writes while serving. */
async function stopTarget(clone: string): Promise<number | undefined> {
  try {
    const run = JSON.parse(await readFile(join(clone, '.local', 'run.json'), 'utf8')) as { pid?: unknown };
    return typeof run.pid === 'number' && Number.isSafeInteger(run.pid) && run.pid > 1 ? run.pid : undefined;
  } catch {
    return undefined;
  }
}

async function exitWithin(running: Running, ms: number): Promise<Exit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms);
  });
  try {
    return await Promise.race([running.exit, late]);
  } finally {
    clearTimeout(timer);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Whether any process of the group is still there after `ms` (exiting ones get that long to be reaped). */
async function groupOutlives(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return false;
    }
    if (Date.now() >= deadline) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
}

function git(cwd: string, args: readonly string[]): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    throw new CheckFailed(
      `git ${args[0]} failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`,
    );
  }
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      repo: { type: 'string' },
      'start-timeout': { type: 'string' },
      'test-timeout': { type: 'string' },
      keep: { type: 'boolean' },
    },
    strict: true,
  });
  const secondsOf = (raw: string | undefined, flag: string, fallback: number) => {
    if (raw === undefined) return fallback * 1000;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${flag} must be a whole number of seconds`);
    return Number(raw) * 1000;
  };
  const repo =
    values.repo ?? execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  return {
    repo: resolve(repo),
    startTimeoutMs: secondsOf(values['start-timeout'], '--start-timeout', 300),
    testTimeoutMs: secondsOf(values['test-timeout'], '--test-timeout', 1200),
    keep: values.keep === true,
  };
}

function tail(running: Running): string {
  const lines = stripAnsi(running.output()).trimEnd().split('\n').slice(-TAIL_LINES);
  return `\n  last ${lines.length} lines of its output:\n${lines.map((l) => `  | ${l}`).join('\n')}`;
}

function describeExit(exit: Exit): string {
  return exit.signal === null ? `status ${exit.code}` : `signal ${exit.signal}`;
}

function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    print(`✖ check-readme failed: ${String(error)}`);
    process.exitCode = 1;
  },
);
