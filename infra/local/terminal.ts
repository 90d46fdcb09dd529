import type { DigestReport } from '../../lib/digest/run-digest';
import type { PollReport } from '../../lib/poll/report';
import type { DemoStep } from './atlas-sandbox';

/**
 * What `npm start` prints, as pure functions of what happened. Text from outside (organisation names, error
 * messages, log lines) goes through `sanitize` first, so nothing received can drive the terminal. No function here
 * is given a credential; `maskSecret` is for showing that one is set.
 */

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function createPaint(color: boolean): Paint {
  if (!color) {
    const plain = (s: string) => s;
    return { bold: plain, dim: plain, green: plain, red: plain, yellow: plain, cyan: plain };
  }
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    green: sgr(32, 39),
    red: sgr(31, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes terminal control characters and bidi overrides; keeps newlines and tabs. */
export function sanitize(text: string): string {
  return text.replace(CONTROL, '');
}

/** Shows that a credential is set without showing it: its first few characters (a token's kind) and an ellipsis. */
export function maskSecret(value: string): string {
  const kind = /^(xox[a-z]-|https:\/\/hooks\.slack\.com\/)/.exec(value)?.[1];
  return `${kind ?? ''}…(${value.length} characters)`;
}

/** `12:00:01` local time. */
export function clock(epochMs: number): string {
  const d = new Date(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * The one line per poll, saying what changed and what was done: `poll 3 ✔ 14 seen · 1 status change (CLOSED→PAID) ·
 * 1 re-archived · 2 CSVs written · 1 spend record written · 1 message · 1 spend alert · 0 errors (0.4 s)`.
 * Parts that would be zero are left out, except invoices seen, messages and errors.
 */
export function formatPollLine(
  args: {
    readonly n: number;
    readonly at: number;
    readonly durationMs: number;
    readonly report?: PollReport;
  },
  paint: Paint,
): string {
  const { report } = args;
  const time = paint.dim(`[${clock(args.at)}]`);
  const seconds = `(${(args.durationMs / 1000).toFixed(1)} s)`;
  if (report === undefined)
    return `${time} poll ${args.n} ${paint.red('✖ failed before polling')} ${seconds}`;
  const t = report.totals;
  const mark = report.ok ? paint.green('✔') : paint.red('✖');
  const parts = [`${t.invoicesSeen} seen`];
  if (t.newInvoices > 0) parts.push(`${t.newInvoices} new`);
  if (t.statusChanges > 0) parts.push(`${count(t.statusChanges, 'status change')} (${transitions(report)})`);
  if (t.updatedOnly > 0) parts.push(`${t.updatedOnly} re-archived`);
  if (t.archived > 0) parts.push(`${count(t.archived, 'CSV')} written`);
  if (t.spendRecords > 0) parts.push(`${count(t.spendRecords, 'spend record')} written`);
  parts.push(count(t.notified, 'message'));
  if (t.spendAlerts > 0) parts.push(paint.yellow(count(t.spendAlerts, 'spend alert')));
  if (t.deferred > 0) parts.push(paint.yellow(`${t.deferred} deferred`));
  if (t.invalidInvoices > 0) parts.push(paint.yellow(`${t.invalidInvoices} invalid skipped`));
  if (t.stateResets > 0) parts.push(paint.yellow(`${count(t.stateResets, 'state')} reset`));
  parts.push(t.errors === 0 ? '0 errors' : paint.red(count(t.errors, 'error')));
  return `${time} poll ${args.n} ${mark} ${parts.join(' · ')} ${paint.dim(seconds)}`;
}

/** `CLOSED→PAID ×2, PENDING→CLOSED`: each move once, with how often it happened when more than once. */
function transitions(report: PollReport): string {
  const moves = new Map<string, number>();
  for (const move of report.orgs.flatMap((org) => org.statusChanges)) {
    const key = sanitize(`${move.from}→${move.to}`);
    moves.set(key, (moves.get(key) ?? 0) + 1);
  }
  return [...moves.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([move, times]) => (times > 1 ? `${move} ×${times}` : move))
    .join(', ');
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * The line after a digest run, per channel: `✔ digest posted to C0LOCAL00: 1 organisation, 1 chart`, or why it was
 * not (the error's name and message, already free of credentials), or the handler's own failure.
 */
export function formatDigestLine(
  outcome: { readonly report?: DigestReport; readonly error?: unknown },
  paint: Paint,
): string {
  if (outcome.report === undefined) {
    const error = outcome.error;
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return `    ${paint.red('✖')} the digest could not run: ${sanitize(why)}`;
  }
  if (outcome.report.channels.length === 0) return `    ${paint.yellow('⚠')} no channel to post a digest to`;
  return outcome.report.channels
    .map((c) => {
      const where = sanitize(c.channel);
      const notes = [
        count(c.orgIds.length, 'organisation'),
        count(c.charts, 'chart'),
        ...(c.missing.length > 0 ? [`${c.missing.length} without spend yet`] : []),
        ...(c.unreadable.length > 0 ? [paint.red(`${c.unreadable.length} unreadable`)] : []),
      ].join(', ');
      if (c.posted) return `    ${paint.green('✔')} digest posted to ${where}: ${notes}`;
      const why = [c.error?.name, c.error?.message].filter((p) => typeof p === 'string').join(': ');
      return `    ${paint.red('✖')} digest not posted to ${where}${why === '' ? '' : `: ${sanitize(why)}`}`;
    })
    .join('\n');
}

/** One line per failure in a poll report: organisation, step, invoice and the error's own (safe) message. */
export function formatFailures(report: PollReport, paint: Paint): string[] {
  return report.orgs.flatMap((org) =>
    org.errors.map((failure) => {
      const where = [org.orgId, failure.step, failure.invoiceId].filter((p) => p !== undefined).join(' ');
      return `    ${paint.red('✖')} ${where}: ${sanitize(`${failure.error}: ${failure.message}`)}`;
    }),
  );
}

/** `[12:00:21] demo day 2026-11-22: 854895d0… accrued a day (PENDING); 632b8237… CLOSED → PAID`. */
export function formatDemoStep(step: DemoStep, at: number, paint: Paint): string {
  const changes = step.changes.map((change) => {
    const id = `${change.invoiceId.slice(0, 8)}…`;
    if (change.kind === 'accrued') return `${id} accrued a day (${change.to})`;
    if (change.kind === 'created') return `${id} new invoice (${change.to})`;
    return `${id} ${change.from ?? '?'} → ${change.to}`;
  });
  const what = changes.length === 0 ? 'nothing changed' : changes.join('; ');
  return `${paint.dim(`[${clock(at)}]`)} ${paint.cyan(`demo day ${step.date}:`)} ${what}`;
}

/** A rendered message inside a left rule, under a title line. */
export function boxed(title: string, body: string, paint: Paint): string {
  const lines = body.split('\n').map((line) => `${paint.dim('│')} ${line}`);
  return [`${paint.dim('┌')} ${title}`, ...lines, paint.dim('└')].join('\n');
}

/**
 * A handler's JSON log line for the terminal, or undefined to leave it out. Without `verbose` only errors are
 * shown (one line: message and the error's own message); with it, every line as it was written.
 */
export function formatLogLine(line: string, verbose: boolean, paint: Paint): string | undefined {
  if (verbose) return paint.dim(sanitize(line));
  let record: { level?: unknown; message?: unknown; error?: { message?: unknown } };
  try {
    record = JSON.parse(line) as typeof record;
  } catch {
    return undefined;
  }
  if (record.level !== 'error' || typeof record.message !== 'string') return undefined;
  const detail = typeof record.error?.message === 'string' ? `: ${record.error.message}` : '';
  return `    ${paint.yellow('⚠')} ${sanitize(`${record.message}${detail}`)}`;
}
