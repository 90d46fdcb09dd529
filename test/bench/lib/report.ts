/**
 * The shape every benchmark module hands back to test/bench/run.ts, and how sections are printed and written.
 *
 * Contract for a bench module (`test/bench/*.bench.ts`): export `run(options: BenchOptions): Promise<BenchSection>`.
 * It prints progress as it likes, asserts nothing about time, and returns its table: `header` names the columns,
 * each row has one cell per column (already formatted: numbers with units, ratios as `1.07x`), and `notes` say what
 * was measured, against what, and any budget that was missed with the gap. `machine` is set only when the section ran
 * somewhere other than the machine in the report's header (e.g. a child process with other limits).
 */
export interface BenchOptions {
  /** A smoke run: fewer samples and smaller inputs, done in a couple of minutes. */
  readonly quick: boolean;
}

export interface BenchSection {
  readonly title: string;
  readonly machine?: string;
  readonly header: string[];
  readonly rows: string[][];
  readonly notes: string[];
}

export type BenchModule = { run(options: BenchOptions): Promise<BenchSection> };

/** `1.07x`; `n/a` when the reference is missing or zero. */
export function ratio(value: number, reference: number, digits = 2): string {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference <= 0) return 'n/a';
  return `${(value / reference).toFixed(digits)}x`;
}

/** A ratio with its range over batches or rounds: `1.12x (1.08–1.17x)`; `n/a` when not finite. */
export function formatRatioSpread(spread: { median: number; low: number; high: number }, digits = 2): string {
  const { median, low, high } = spread;
  if (![median, low, high].every(Number.isFinite)) return 'n/a';
  return `${median.toFixed(digits)}x (${low.toFixed(digits)}–${high.toFixed(digits)}x)`;
}

/** Milliseconds with their range: `12.3 ms (11.9–12.8)`. */
export function formatMsSpread(spread: { median: number; low: number; high: number }): string {
  const bare = (ms: number) => formatMs(ms).replace(/ ms$/, '');
  return `${formatMs(spread.median)} (${bare(spread.low)}–${bare(spread.high)})`;
}

/** Milliseconds with one decimal below 100 ms, none above. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return `${ms < 100 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
}

/** Seconds with two decimals below 10 s, one above. */
export function formatSeconds(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}

/** Decimal kilobytes (1 kB = 1,000 bytes), as the size budgets are stated. */
export function formatKb(bytes: number): string {
  return `${(bytes / 1000).toFixed(0)} kB`;
}

/** A plain-text table for the terminal: columns padded, numbers right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((row) => /^[\d.,~<>-]/.test(row[i] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function printSection(section: BenchSection): void {
  console.log(`\n== ${section.title} ==`);
  if (section.machine !== undefined) console.log(`machine: ${section.machine}`);
  console.log(formatTable(section.header, section.rows));
  for (const note of section.notes) console.log(`- ${note}`);
}

/** A cell for a markdown table: pipes escaped, line breaks flattened. */
function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function sectionMarkdown(section: BenchSection): string {
  const out = [`## ${section.title}`, ''];
  if (section.machine !== undefined) out.push(`Machine: ${section.machine}`, '');
  const numeric = section.header.map(
    (_, i) => section.rows.length > 0 && section.rows.every((row) => /^[\d.,~<>-]/.test(row[i] ?? '')),
  );
  out.push(`| ${section.header.map(mdCell).join(' | ')} |`);
  out.push(`|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`);
  for (const row of section.rows)
    out.push(`| ${section.header.map((_, i) => mdCell(row[i] ?? '')).join(' | ')} |`);
  if (section.notes.length > 0) {
    out.push('');
    for (const note of section.notes) out.push(`- ${note}`);
  }
  return out.join('\n');
}

/**
 * How the figures are taken, the same for every run: each variant runs the way Lambda runs it, and every ratio comes
 * with the range a rerun on the same machine reproduces (publish a range only after two runs agree on it).
 */
export const METHOD = [
  'Cold start: a fresh Node process per sample, as a Lambda cold start, variants interleaved round by round; wall ' +
    "time from spawn to exit and the process's CPU time (all threads); each function against its floor (the SDK " +
    'clients it cannot do without, built with the same options); ratios with the lowest and highest of 5 batches of ' +
    'rounds.',
  '/invoice latency: warm, one process per variant (a Lambda container each: its own heap, GC and JIT), requests ' +
    'interleaved across the processes, a fresh set of processes per round and the range over rounds; cold, a fresh ' +
    'process per sample, to the answer, reading the app secret from Secrets Manager as deployed (APP_SECRET_ID set).',
  'Archiving: every case in a fresh process pinned alone to a core, the stand-ins on the other; the archive path ' +
    'against a plain streaming copy in CPU time (what a Lambda below one vCPU pays) and wall time, a ratio per round ' +
    "and the range over rounds; the inspection's layers measured in memory to say where the extra CPU goes.",
  'A range is what a rerun on the same quiet machine is expected to reproduce; a machine shared with other work ' +
    'widens it, so figures are published from a quiet machine, two runs agreeing.',
] as const;

export interface ReportHeader {
  /** ISO date-time of the run. */
  readonly date: string;
  readonly machine: string;
  readonly command: string;
}

export function reportMarkdown(header: ReportHeader, sections: readonly BenchSection[]): string {
  return [
    '# Benchmark results',
    '',
    `Generated by \`${header.command}\` on ${header.date}. Do not edit by hand: run it again.`,
    '',
    `Machine: ${header.machine}`,
    '',
    'Figures are medians of interleaved runs measured side by side in this one run; ratios compare them with the ' +
      'reference named in each table. Nothing here is asserted by the test suite.',
    '',
    ...METHOD.map((line) => `- ${line}`),
    '',
    ...sections.flatMap((section) => [sectionMarkdown(section), '']),
  ].join('\n');
}

/**
 * A bench file run on its own: prints its section; sets exit code 1 (error on stderr) when it threw or when `failed`
 * says the section reports a wrong result; `cleanup` runs last either way.
 */
export function runStandalone(
  section: Promise<BenchSection>,
  options: { failed?(section: BenchSection): boolean; cleanup?(): Promise<void> } = {},
): void {
  section
    .then((result) => {
      printSection(result);
      if (options.failed?.(result)) process.exitCode = 1;
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => options.cleanup?.());
}
