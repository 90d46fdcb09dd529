import { join, relative } from 'node:path';
import { ConfigError, ValidationError } from '../../lib/errors';
import { type DigestOutcome, type LocalRun, type PollOutcome, startLocalRun } from './local-run';
import { DataDirInUseError, readRunFile } from './run-file';
import { SIGNATURE_LIFETIME_SECONDS, signedSlashCommand, toCurl } from './signed-request';
import { shouldUseColor } from './slack';
import { parseStartArgs, START_USAGE, type StartArgs } from './start-args';
import {
  clock,
  createPaint,
  formatDemoStep,
  formatDigestLine,
  formatFailures,
  formatPollLine,
  type Paint,
  sanitize,
} from './terminal';

/**
 * `npm start`: the whole job on this machine (see local-run.ts and the README's quick start). Exit status: 0 after
 * a clean stop (Ctrl-C, SIGTERM) or a successful `--once`; 1 when `--once` polled and failed, the configuration is
 * invalid or something could not start; 2 for a bad command line. A second Ctrl-C exits at once with 130.
 */

/** Reprint the signed curl after a poll once the last one printed is this old (signatures live 5 minutes). */
const REPRINT_CURL_AFTER_MS = 4 * 60_000;
/** How long a stop waits for a poll in progress before closing the stand-ins under it. */
const STOP_GRACE_MS = 15_000;
const MAX_LISTED_FILES = 5;

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

async function main(argv: readonly string[]): Promise<number> {
  let args: StartArgs;
  try {
    args = parseStartArgs(argv);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    err(`npm start: ${error.message}\n\n${START_USAGE}`);
    return 2;
  }
  if (args.help) {
    out(START_USAGE);
    return 0;
  }
  const color = shouldUseColor(process.stdout);
  const paint = createPaint(color);
  if (args.sign !== undefined) return printSigned(args, paint);

  let run: LocalRun;
  try {
    run = await startLocalRun({
      env: process.env,
      dataDir: args.dataDir,
      fresh: args.fresh,
      ...(args.once ? {} : { port: args.port }),
      intervalSeconds: args.intervalSeconds,
      print: out,
      color,
      verbose: args.verbose,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      err(`${paint.red('✖')} Configuration: ${sanitize(error.message)}`);
      err('  Unset it to use the local stand-in, or fix its value.');
    } else if (error instanceof DataDirInUseError) {
      err(`${paint.red('✖')} ${sanitize(error.message)}`);
    } else {
      err(`${paint.red('✖')} The local run could not start: ${sanitize(describe(error))}`);
    }
    return 1;
  }
  out(run.describe());
  if (!run.requestedPortUsed)
    out(`  ${paint.yellow('note')} port ${args.port} is busy; the endpoint uses a free port.`);
  return args.once ? once(run, args, paint) : loop(run, args, paint);
}

async function once(run: LocalRun, args: StartArgs, paint: Paint): Promise<number> {
  out('');
  const outcome = await run.poll();
  printOutcome(outcome, 1, paint);
  printCsvLocation(run, outcome, paint, true);
  const digested = args.digest ? await digest(run, paint) : undefined;
  await run.close();
  return outcome.ok && digested?.ok !== false ? 0 : 1;
}

/** Runs the spend digest once and says how it went; its message is printed as Slack receives it. */
async function digest(run: LocalRun, paint: Paint): Promise<DigestOutcome> {
  out(`\n${paint.dim(`[${clock(Date.now())}]`)} spend digest, as its weekly schedule runs it:`);
  const outcome = await run.digest();
  out(formatDigestLine(outcome, paint));
  return outcome;
}

async function loop(run: LocalRun, args: StartArgs, paint: Paint): Promise<number> {
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    out(`\n${paint.dim('Stopping…')}`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const demo = run.plan.atlas === 'sandbox' ? ' (the demo moves one day before each poll)' : '';
  out(`Polling every ${args.intervalSeconds} s${demo}. Ctrl-C to stop.\n`);

  let lastCurlAt = Number.NEGATIVE_INFINITY;
  let polls = 0;
  let current: Promise<unknown> = Promise.resolve();
  const work = async () => {
    if (polls > 0) {
      const step = await run.advanceDemo();
      if (step) out(formatDemoStep(step, Date.now(), paint));
    }
    polls += 1;
    const outcome = await run.poll();
    printOutcome(outcome, polls, paint);
    printCsvLocation(run, outcome, paint, polls === 1);
    if (args.digest && polls === 1) await digest(run, paint);
    if (run.endpointUrl && Date.now() - lastCurlAt >= REPRINT_CURL_AFTER_MS) {
      out(await curlHint(run, paint));
      lastCurlAt = Date.now();
    }
  };
  // One listener for the whole run: one per poll would pass Node's limit of 10 and warn of a leak.
  const stopped = aborted(stop.signal);
  while (!stop.signal.aborted) {
    current = work().catch((error: unknown) => err(`${paint.red('✖')} ${sanitize(describe(error))}`));
    await Promise.race([current, stopped]);
    if (stop.signal.aborted) break;
    await wait(args.intervalSeconds * 1000, stop.signal);
  }
  const grace = new AbortController();
  await Promise.race([current, wait(STOP_GRACE_MS, grace.signal)]);
  grace.abort();
  await run.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  out('Stopped.');
  return 0;
}

function printOutcome(outcome: PollOutcome, n: number, paint: Paint): void {
  const line = formatPollLine(
    {
      n,
      at: outcome.startedAt,
      durationMs: outcome.durationMs,
      ...(outcome.report ? { report: outcome.report } : {}),
    },
    paint,
  );
  out(line);
  if (outcome.report) for (const failure of formatFailures(outcome.report, paint)) out(failure);
  if (outcome.error !== undefined) out(`    ${paint.red('✖')} ${sanitize(describe(outcome.error))}`);
}

function printCsvLocation(run: LocalRun, outcome: PollOutcome, paint: Paint, first: boolean): void {
  if (run.csvDir === undefined) return;
  const files = outcome.archivedFiles;
  if (first) {
    const all = run.csvFiles().length;
    out(
      `    Archived CSVs: ${paint.bold(shown(run.csvDir))} (${all === 0 ? 'none yet' : `${all} file${all === 1 ? '' : 's'}`})`,
    );
  }
  for (const chart of outcome.chartFiles)
    out(`    ${paint.green('+')} ${shown(chart)} ${paint.dim('(spend chart)')}`);
  if (files.length === 0 || (first && files.length > MAX_LISTED_FILES)) return;
  for (const file of files.slice(0, MAX_LISTED_FILES)) out(`    ${paint.green('+')} ${shown(file)}`);
  if (files.length > MAX_LISTED_FILES) out(`    … and ${files.length - MAX_LISTED_FILES} more`);
}

async function curlHint(run: LocalRun, paint: Paint): Promise<string> {
  const text = await run.suggestCommandText();
  const request = run.signedCommand(text);
  return [
    '',
    `Try ${paint.bold(`/invoice ${text}`)} as Slack would send it (signed now, valid for ${SIGNATURE_LIFETIME_SECONDS / 60} minutes; the reply is printed here too):`,
    toCurl(request, '  '),
    `A fresh one any time: ${paint.bold(`npm start -- --sign "${text}"`)}   (also "spend", "latest", "pending", "list", "help")`,
    '',
  ].join('\n');
}

async function printSigned(args: StartArgs, paint: Paint): Promise<number> {
  const runFile = await readRunFile(join(args.dataDir, 'run.json'));
  if (runFile === undefined) {
    err(
      `${paint.red('✖')} No running npm start found (looked for ${join(args.dataDir, 'run.json')}). Start one with: npm start`,
    );
    return 1;
  }
  const signingSecret = runFile.signingSecret ?? process.env.SLACK_SIGNING_SECRET?.trim();
  if (!signingSecret) {
    err(
      `${paint.red('✖')} The running npm start uses SLACK_SIGNING_SECRET from its environment: export it here too.`,
    );
    return 1;
  }
  const request = signedSlashCommand({
    url: runFile.url,
    signingSecret,
    text: args.sign ?? 'help',
    teamId: runFile.teamId,
    channelId: runFile.channelId,
    userId: runFile.userId,
    responseUrl: runFile.responseUrl,
    at: Date.now(),
  });
  out(toCurl(request));
  return 0;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The AWS SDK warns on Node 20 that future releases need Node 22; the README already states the supported Node, so
 * that one warning is dropped and every other warning is printed as Node would.
 */
function quietSdkNodeWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.message.includes('NodeVersionSupportWarning')) return;
    err(`(node:${process.pid}) ${warning.name}: ${warning.message}`);
  });
}

quietSdkNodeWarning();
// Output piped into a reader that stopped (`npm start | head`): stop too, as command-line tools do on SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything was closed; should a library still hold a handle open, it must not keep the process alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (error: unknown) => {
    err(`npm start failed: ${sanitize(describe(error))}`);
    process.exitCode = 1;
  },
);
