import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  createDemoSandboxOptions,
  DEMO_ORG_ID,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../infra/local/atlas-sandbox';
import { LOCAL_ARCHIVE_BUCKET } from '../../infra/local/local-env';
import { startS3StandIn } from '../../infra/local/s3';
import { cleanEnv, startProcess } from './start-process';

// `npm start -- --once` as a user runs it: a separate process on the built-in stand-ins, its data in a temp dir.
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'npm-start-once-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function csvFilesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.csv')).map((e) => join(e.parentPath, e.name));
}

function totals(output: string): { seen: number; archived: number; notified: number } {
  const line = /poll 1 ✔ (\d+) seen · (.*) · 0 errors/.exec(output);
  if (!line) throw new Error(`no poll summary in:\n${output}`);
  const part = (pattern: RegExp) => Number(pattern.exec(line[2] ?? '')?.[1] ?? 0);
  return { seen: Number(line[1]), archived: part(/(\d+) CSVs? written/), notified: part(/(\d+) messages?/) };
}

describe('npm start -- --once', () => {
  it('archives every demo CSV to disk, prints the Slack message rendered and exits 0', async () => {
    const run = startProcess(['--once', '--data-dir', dataDir]);

    const { code } = await run.exited;

    const output = run.stdout();
    expect(code, run.stderr()).toBe(0);
    expect(output).toMatch(/Atlas\s+sandbox/);
    expect(output).toMatch(/S3\s+stand-in/);
    expect(output).toMatch(/Slack\s+stand-in/);
    expect(output).toContain('┌ Slack C0LOCAL00 (chat.postMessage)');
    expect(output).toContain('│ Now watching Atlas invoices: Ünïcode & <Co> "Demo"');
    expect(output).not.toContain('"blocks"');
    const { seen, archived, notified } = totals(output);
    expect(archived).toBe(seen);
    expect(notified).toBe(1);

    const csvRoot = join(dataDir, 's3', LOCAL_ARCHIVE_BUCKET);
    const files = await csvFilesUnder(csvRoot);
    expect(files).toHaveLength(archived);
    expect(output).toContain(`Archived CSVs: ${join(csvRoot, 'atlas-invoices')} (${archived} files)`);
    // Each file is the archived object itself: same bytes as the stand-in holds under the same key.
    const store = await startS3StandIn({ dir: join(dataDir, 's3', '.store') });
    try {
      for (const file of files) {
        const key = relative(csvRoot, file).split(sep).join('/');
        expect(key).toMatch(new RegExp(`^atlas-invoices/${DEMO_ORG_ID}/\\d{4}-\\d{2}/[0-9a-f]{24}\\.csv$`));
        const bytes = await readFile(file);
        expect(bytes.equals(await store.getObjectBytes(LOCAL_ARCHIVE_BUCKET, key))).toBe(true);
        expect(bytes.toString('utf8').split('\n')[0]).toMatch(/^"?Invoice Number"?,/);
      }
    } finally {
      await store.close();
    }
  });

  it('keeps the archive between runs: a second run finds nothing new to archive or announce', async () => {
    const run = startProcess(['--once', '--data-dir', dataDir]);

    const { code } = await run.exited;

    expect(code, run.stderr()).toBe(0);
    const { seen, archived, notified } = totals(run.stdout());
    expect(seen).toBeGreaterThan(0);
    expect(archived).toBe(0);
    expect(notified).toBe(0);
    expect(run.stdout()).not.toContain('┌ Slack');
  });

  it('runs the spend digest once after the poll with --digest and prints its message', async () => {
    const digestDir = await mkdtemp(join(tmpdir(), 'npm-start-digest-'));
    try {
      const run = startProcess(['--once', '--digest', '--data-dir', digestDir]);

      const { code } = await run.exited;

      const output = run.stdout();
      expect(code, run.stderr()).toBe(0);
      expect(output).toMatch(/Budget\s+stand-in SPEND_BUDGETS=65f0c0ffee00de0000000001=\d+00 /);
      const digest = output.slice(output.indexOf('spend digest, as its weekly schedule runs it:'));
      expect(digest.match(/┌ Slack C0LOCAL00 \(chat\.postMessage\)/g)).toHaveLength(1);
      expect(digest).toMatch(/│ Atlas spend, [A-Z][a-z]+ \d{4}\n/);
      expect(digest).toMatch(/ {2}chart .*spend\/65f0c0ffee00de0000000001\/\d{4}-\d{2}\.png\n/);
      expect(digest).toContain('✔ digest posted to C0LOCAL00: 1 organisation, 1 chart');
    } finally {
      await rm(digestDir, { recursive: true, force: true });
    }
  });

  it('refuses an invalid setting with a message naming the variable and exit status 1', async () => {
    const run = startProcess(['--once', '--data-dir', dataDir], cleanEnv({ ATLAS_ORG_IDS: 'bad' }));

    const { code } = await run.exited;

    expect(code).toBe(1);
    expect(run.stderr()).toContain('ATLAS_ORG_IDS');
    expect(run.stderr()).not.toMatch(/\n\s+at /);
  });

  it('refuses an unknown option with the usage and exit status 2', async () => {
    const run = startProcess(['--onse']);

    const { code } = await run.exited;

    expect(code).toBe(2);
    expect(run.stderr()).toContain('--onse');
    expect(run.stderr()).toContain('Usage: npm start');
  });

  describe('against an Atlas that refuses the credentials', () => {
    let atlas: AtlasSandbox;
    beforeAll(async () => {
      atlas = await startAtlasSandbox(createDemoSandboxOptions());
    });
    afterAll(async () => {
      await atlas.close();
    });

    it('says the poll failed, for which organisation, and exits 1', async () => {
      const env = cleanEnv({
        ATLAS_ORG_IDS: DEMO_ORG_ID,
        ATLAS_BASE_URL: atlas.url,
        ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
        ATLAS_CLIENT_SECRET: 'mdb_sa_sk_wrong-secret-for-this-test',
      });
      const failDir = await mkdtemp(join(tmpdir(), 'npm-start-fail-'));
      try {
        const run = startProcess(['--once', '--data-dir', failDir], env);

        const { code } = await run.exited;

        expect(code).toBe(1);
        expect(run.stdout()).toMatch(/Atlas\s+real/);
        expect(run.stdout()).toMatch(/poll 1 ✖ .*1 error/);
        expect(run.stdout()).toContain(`✖ ${DEMO_ORG_ID}`);
        expect(run.stdout() + run.stderr()).not.toContain('wrong-secret-for-this-test');
      } finally {
        await rm(failDir, { recursive: true, force: true });
      }
    });
  });

  it('has no endpoint to sign for when no npm start is running', async () => {
    const run = startProcess(['--sign', 'latest', '--data-dir', dataDir]);

    const { code } = await run.exited;

    expect(code).toBe(1);
    expect(run.stderr()).toContain('No running npm start found');
  });
});
