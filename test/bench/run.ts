/**
 * `npm run bench`: every benchmark section, one after the other in this one run, printed as it finishes and written
 * to test/bench/RESULTS.md (date, machine, the command, then one table per section with its notes).
 *
 *   npm run bench                 full run (long: many fresh processes per figure)
 *   npm run bench -- --quick      smoke run, a couple of minutes
 *   npm run bench -- --only=cold-start,slash-command-latency
 *
 * Each `test/bench/<name>.bench.ts` listed in SECTIONS exports `run(options): Promise<BenchSection>` (see
 * lib/report.ts). A section that fails is reported as failed in the output and the file, the others still run, and
 * the command exits non-zero; a listed file that does not exist is skipped with a message. With `--only`, the sections
 * not run keep what the previous RESULTS.md says (and the file says so). Benchmarks are not tests: nothing here
 * asserts on time.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { removeBenchBundles } from './lib/bundles';
import { describeMachine } from './lib/machine';
import {
  type BenchModule,
  type BenchOptions,
  type BenchSection,
  printSection,
  reportMarkdown,
} from './lib/report';

/** In running order. The module path is relative to this directory, without extension. */
export const SECTIONS = [
  { name: 'cold-start', module: './cold-start.bench' },
  { name: 'slash-command-latency', module: './slash-command-latency.bench' },
  { name: 'slack-post', module: './slack-post.bench' },
  { name: 'archive', module: './archive.bench' },
  { name: 'poll-cost', module: './poll-cost.bench' },
  { name: 'chart', module: './chart.bench' },
  { name: 'backtest', module: './backtest.bench' },
] as const;

export const RESULTS_FILE = path.join(__dirname, 'RESULTS.md');

/**
 * `fresh` (a report of some sections) with the previous report's other `## ` sections kept, in their order, the fresh
 * ones replacing those of the same title (new ones last), and a line saying which figures are older.
 */
function keepOtherSections(previous: string, fresh: string): string {
  const split = (text: string) => {
    const [head = '', ...blocks] = text.split(/^(?=## )/m);
    return { head, blocks: blocks.map((block) => ({ title: block.slice(0, block.indexOf('\n')), block })) };
  };
  const before = split(previous);
  const now = split(fresh);
  const replaced = new Set<string>();
  const blocks = before.blocks.map(({ title, block }) => {
    const update = now.blocks.find((b) => b.title === title);
    if (update === undefined) return block;
    replaced.add(title);
    return update.block;
  });
  blocks.push(...now.blocks.filter((b) => !replaced.has(b.title)).map((b) => b.block));
  const kept = before.blocks.length - replaced.size;
  const note =
    kept === 0
      ? ''
      : `${kept} section(s) below were not run by this command and keep the figures of an earlier run.\n\n`;
  return `${now.head}${note}${blocks.map((b) => `${b.trimEnd()}\n\n`).join('')}`.trimEnd().concat('\n');
}

function isBenchModule(value: unknown): value is BenchModule {
  return typeof (value as { run?: unknown } | null)?.run === 'function';
}

function failedSection(name: string, error: unknown): BenchSection {
  const message = error instanceof Error ? error.message : String(error);
  return {
    title: `${name} (failed)`,
    header: ['section', 'outcome'],
    rows: [[name, 'failed']],
    notes: [`This section did not finish: ${message.split('\n')[0]?.slice(0, 300) ?? 'unknown error'}`],
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const options: BenchOptions = { quick: args.includes('--quick') };
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const machine = describeMachine();
  const started = new Date();
  console.log(`${command}\nmachine: ${machine}\n`);

  const sections: BenchSection[] = [];
  let failures = 0;
  for (const { name, module } of SECTIONS) {
    if (only !== undefined && !only.includes(name)) continue;
    if (!existsSync(path.join(__dirname, `${module}.ts`))) {
      console.log(`--- ${name}: ${module}.ts is not in this checkout, skipped ---`);
      continue;
    }
    const sectionStarted = Date.now();
    console.log(`--- ${name} ---`);
    let section: BenchSection;
    try {
      const loaded: unknown = await import(module);
      if (!isBenchModule(loaded)) throw new Error(`${module} does not export run(options)`);
      section = await loaded.run(options);
    } catch (error) {
      failures += 1;
      console.error(`${name} failed:`, error);
      section = failedSection(name, error);
    }
    sections.push({
      ...section,
      notes: [...section.notes, `Section time: ${((Date.now() - sectionStarted) / 1000).toFixed(0)} s.`],
    });
    printSection(section);
  }
  await removeBenchBundles();

  let markdown = reportMarkdown({ date: started.toISOString(), machine, command }, sections);
  if (only !== undefined && existsSync(RESULTS_FILE)) {
    markdown = keepOtherSections(await readFile(RESULTS_FILE, 'utf8'), markdown);
  }
  await writeFile(RESULTS_FILE, markdown);
  console.log(
    `\nwrote ${path.relative(process.cwd(), RESULTS_FILE)} in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`,
  );
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
