import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * How far the demo story has gone, kept beside the S3 stand-in's data so a restarted `npm start` carries on where
 * the archive left off. The sandbox is deterministic for a seed and a start month, so replaying the same number of
 * `advanceDemo()` steps rebuilds the same invoices and statuses; a different seed or month starts the story over.
 */
export interface DemoProgress {
  readonly seed: number;
  /** `YYYY-MM` of the run that started the story (the sandbox dates the demo invoices from it). */
  readonly month: string;
  readonly steps: number;
}

/** The saved progress when it belongs to this seed and month; otherwise a story starting at step 0. */
export async function loadDemoProgress(file: string, seed: number, month: string): Promise<DemoProgress> {
  const fresh: DemoProgress = { seed, month, steps: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return fresh;
  }
  if (typeof parsed !== 'object' || parsed === null) return fresh;
  const saved = parsed as Partial<Record<keyof DemoProgress, unknown>>;
  const steps = saved.steps;
  if (saved.seed !== seed || saved.month !== month || typeof steps !== 'number') return fresh;
  if (!Number.isSafeInteger(steps) || steps < 0) return fresh;
  return { seed, month, steps };
}

/** Written to a temporary file and renamed, so an interrupted write leaves the previous progress. */
export async function saveDemoProgress(file: string, progress: DemoProgress): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(progress)}\n`);
  await rename(temp, file);
}

/** `YYYY-MM` (UTC) of an epoch-milliseconds time. */
export function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}
