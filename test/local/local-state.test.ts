import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCsvMirror } from '../../infra/local/csv-mirror';
import { loadDemoProgress, monthOf, saveDemoProgress } from '../../infra/local/demo-progress';
import { createLambdaContext } from '../../infra/local/lambda-context';
import {
  DataDirInUseError,
  LOCK_FILE,
  lockDataDir,
  readRunFile,
  removeRunFile,
  writeRunFile,
} from '../../infra/local/run-file';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';

// The small pieces of local state behind `npm start`: the demo story's progress, the readable CSV copies, the run
// file `--sign` reads, and the Lambda context.
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-state-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('demo progress', () => {
  it('resumes the saved story for the same seed and month, and starts over otherwise', async () => {
    const file = join(dir, 'demo.json');
    await saveDemoProgress(file, { seed: 1, month: '2026-11', steps: 7 });

    expect(await loadDemoProgress(file, 1, '2026-11')).toEqual({ seed: 1, month: '2026-11', steps: 7 });
    expect((await loadDemoProgress(file, 2, '2026-11')).steps).toBe(0);
    expect((await loadDemoProgress(file, 1, '2026-12')).steps).toBe(0);
    expect((await loadDemoProgress(join(dir, 'missing.json'), 1, '2026-11')).steps).toBe(0);
  });

  it('starts over when the saved file is not usable', async () => {
    const file = join(dir, 'demo.json');
    await writeFile(file, '{"seed":1,"month":"2026-11","steps":-3}');

    expect((await loadDemoProgress(file, 1, '2026-11')).steps).toBe(0);
  });

  it('names months in UTC', () => {
    expect(monthOf(Date.UTC(2026, 0, 31, 23, 59))).toBe('2026-01');
  });
});

describe('run file', () => {
  it('is readable only by its owner and only while its process lives', async () => {
    const file = join(dir, 'run.json');
    const run = {
      pid: process.pid,
      url: 'http://127.0.0.1:3000/slack/events',
      teamId: 'T0LOCAL00',
      channelId: 'C0LOCAL00',
      userId: 'U0LOCALUSER',
      responseUrl: 'http://127.0.0.1:4000/commands/x',
      signingSecret: 'local-secret',
    };
    await writeRunFile(file, run);

    expect((await stat(file)).mode & 0o077).toBe(0);
    expect(await readRunFile(file)).toEqual(run);
    expect(await readRunFile(file, () => false)).toBeUndefined();
    await removeRunFile(file);
    expect(await readRunFile(file)).toBeUndefined();
  });
});

describe('createLambdaContext', () => {
  it('counts the remaining time down from the timeout, never below zero', () => {
    let now = 1_000;
    const context = createLambdaContext({ functionName: 'pollInvoices', timeoutMs: 300_000, now: () => now });

    expect(context.getRemainingTimeInMillis()).toBe(300_000);
    now += 120_000;
    expect(context.getRemainingTimeInMillis()).toBe(180_000);
    now += 999_999;
    expect(context.getRemainingTimeInMillis()).toBe(0);
    expect(context.functionName).toBe('pollInvoices');
    expect(() => context.succeed('x')).toThrow(/promise/);
  });
});

describe('createCsvMirror', () => {
  let s3: S3StandIn;
  beforeAll(async () => {
    s3 = await startS3StandIn({ buckets: ['archive'] });
  });
  afterAll(async () => {
    await s3.close();
  });

  it('copies each archived CSV to the path of its key, again only when it changed', async () => {
    await s3.putObject('archive', 'p/org/2026-10/a.csv', 'one\n');
    await s3.putObject('archive', 'p/index/a.json', '{}');
    await s3.putObject('archive', 'other/b.csv', 'elsewhere\n');
    const root = join(dir, 'copies');
    const mirror = createCsvMirror({ source: s3, bucket: 'archive', prefix: 'p/', root });

    const first = await mirror.sync();
    const unchanged = await mirror.sync();
    await s3.putObject('archive', 'p/org/2026-10/a.csv', 'two\n');
    const changed = await mirror.sync();

    const copy = join(root, 'p', 'org', '2026-10', 'a.csv');
    expect(first).toEqual([copy]);
    expect(unchanged).toEqual([]);
    expect(changed).toEqual([copy]);
    expect(await readFile(copy, 'utf8')).toBe('two\n');
    expect(mirror.files()).toEqual([copy]);
  });

  it('copies the keys ending in its suffix, and at once the key holding bytes that arrived another way', async () => {
    const png = Buffer.from('\x89PNG chart bytes');
    await s3.putObject('archive', 'p/spend/org/2026-12.png', png);
    await s3.putObject('archive', 'p/spend/org/2026-12.json', '{}');
    const root = join(dir, 'charts');
    const mirror = createCsvMirror({
      source: s3,
      bucket: 'archive',
      prefix: 'p/spend/',
      root,
      suffix: '.png',
    });
    const etag = `"${createHash('md5').update(png).digest('hex')}"`;
    const copy = join(root, 'p', 'spend', 'org', '2026-12.png');

    const matched = mirror.copyMatching(etag, png);
    const synced = await mirror.sync();

    expect(matched).toEqual({ key: 'p/spend/org/2026-12.png', path: copy });
    expect(await readFile(copy)).toEqual(png);
    expect(synced).toEqual([]);
    expect(mirror.files()).toEqual([copy]);
    expect(mirror.copyMatching('"0123456789abcdef0123456789abcdef"', png)).toBeUndefined();
  });

  it('never writes outside its root', () => {
    const mirror = createCsvMirror({ source: s3, bucket: 'archive', prefix: '', root: join(dir, 'copies') });

    expect(mirror.pathOf('../../escape.csv')).toBeUndefined();
    expect(mirror.pathOf('a/../../escape.csv')).toBeUndefined();
    expect(mirror.pathOf('a/b.csv')).toBe(join(dir, 'copies', 'a', 'b.csv'));
  });
});

describe('the data directory lock', () => {
  it('lets one process hold a data directory and names it to the next', async () => {
    const release = await lockDataDir(dir, () => true, 4242);

    const second = lockDataDir(dir, () => true, 5151);

    await expect(second).rejects.toThrow(DataDirInUseError);
    await expect(second).rejects.toThrow(
      `Another npm start (process 4242) is using ${dir}: stop it first, or give this one its own folder with --data-dir <dir>.`,
    );
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe('4242\n');
    await release();
    const next = await lockDataDir(dir, () => true, 5151);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe('5151\n');
    await next();
  });

  it('takes over a lock whose process is gone', async () => {
    await writeFile(join(dir, LOCK_FILE), '4242\n');

    const release = await lockDataDir(dir, (pid) => pid !== 4242, 5151);

    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe('5151\n');
    await release();
    await expect(stat(join(dir, LOCK_FILE))).rejects.toThrow(/ENOENT/);
  });
});
