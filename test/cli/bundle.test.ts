import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../infra/build';

/** The command line as `npm run build` ships it (`dist/atlas-invoices.cjs`, the package's `bin`), run directly. */
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atlas-cli-bundle-'));
  file = (await buildCli(dir)).file;
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the file itself (its shebang picks node), with no Atlas setting in the environment. */
function runBundle(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ATLAS_')));
  return spawnSync(file, args, { encoding: 'utf8', env, timeout: 30_000 });
}

describe('dist/atlas-invoices.cjs', () => {
  it('is an executable script for node', async () => {
    expect((await stat(file)).mode & 0o777).toBe(0o755);
    expect((await readFile(file, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('runs on its own: help on stdout, usage errors exit 2 before any credential is needed', () => {
    const help = runBundle(['--help']);
    const usage = runBundle(['invoices', 'list', '--orgId', 'nothex']);
    const config = runBundle(['invoices', 'list', '--orgId', '5f1a2b3c4d5e6f708192a3b4']);

    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: atlas-invoices invoices <command> [flags]');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--orgId must be 24 lower-case hexadecimal characters');
    expect(usage.stdout).toBe('');
    expect(config.status).toBe(3);
    expect(config.stderr).toContain('configuration: ATLAS_CLIENT_ID');
  });
});
