import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What `npm start -- --sign "<text>"` needs from the run that serves the endpoint: where it listens, who the local
 * slash commands come from and, only when the signing secret was generated for the run (not one the user exported),
 * that secret. Written with mode 0600 at start, removed at a clean exit.
 */
export interface RunFile {
  readonly pid: number;
  readonly url: string;
  readonly teamId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly responseUrl: string;
  /** Present only for a generated, local-only secret. */
  readonly signingSecret?: string;
}

export async function writeRunFile(path: string, run: RunFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(run, null, 2)}\n`, { mode: 0o600 });
}

export async function removeRunFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The run file of a live run, or undefined when there is none (missing, unreadable, or its process is gone). */
export async function readRunFile(path: string, isAlive: (pid: number) => boolean = processIsAlive) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRunFile(parsed) || !isAlive(parsed.pid)) return undefined;
  return parsed;
}

function isRunFile(value: unknown): value is RunFile {
  if (typeof value !== 'object' || value === null) return false;
  const run = value as Record<string, unknown>;
  const strings = ['url', 'teamId', 'channelId', 'userId', 'responseUrl'].every(
    (k) => typeof run[k] === 'string',
  );
  const secret = run.signingSecret === undefined || typeof run.signingSecret === 'string';
  return strings && secret && Number.isSafeInteger(run.pid);
}

/** Another `npm start` holds the data directory. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
  constructor(
    readonly pid: number,
    readonly dataDir: string,
  ) {
    super(
      `Another npm start (process ${pid}) is using ${dataDir}: stop it first, or give this one its own folder with --data-dir <dir>.`,
    );
  }
}

export const LOCK_FILE = 'npm-start.lock';

/**
 * Takes the data directory for this process: `<dataDir>/npm-start.lock` holds its pid, created exclusively, so two
 * runs never share the stand-ins' files or overwrite each other's run.json. A lock whose process is gone is taken
 * over. Throws DataDirInUseError naming the live holder; resolves with the release.
 */
export async function lockDataDir(
  dataDir: string,
  isAlive: (pid: number) => boolean = processIsAlive,
  pid: number = process.pid,
): Promise<() => Promise<void>> {
  const file = join(dataDir, LOCK_FILE);
  const holder = async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    return /^\d+\n?$/.test(text) ? Number(text) : undefined;
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        if ((await holder()) === pid) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const other = await holder();
      if (other !== undefined && other !== pid && isAlive(other)) throw new DataDirInUseError(other, dataDir);
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir} (${LOCK_FILE} keeps reappearing)`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
