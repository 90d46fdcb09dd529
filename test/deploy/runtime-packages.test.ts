import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { lockedEntry, matchesIntegrity, untar } from '../../infra/runtime-packages';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('matchesIntegrity', () => {
  const bytes = Buffer.from('the tarball');
  const sha512 = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

  it('accepts bytes whose sha512 is in the integrity string, and nothing else', () => {
    expect(matchesIntegrity(bytes, sha512)).toBe(true);
    expect(matchesIntegrity(bytes, `sha1-abc ${sha512}`)).toBe(true);
    expect(matchesIntegrity(Buffer.from('the tarbal!'), sha512)).toBe(false);
    expect(matchesIntegrity(bytes, 'sha1-abc')).toBe(false);
  });
});

describe('lockedEntry', () => {
  it('reads the version and integrity package-lock.json records for a build this machine does not install', async () => {
    const entry = await lockedEntry('@resvg/resvg-js-linux-arm64-gnu');

    expect(entry.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(entry.integrity).toMatch(/^sha512-[A-Za-z0-9+/]+=*$/);
  });

  it('refuses a package the lock does not know', async () => {
    await expect(lockedEntry('no-such-package-here')).rejects.toThrow(/records no version and integrity/);
  });
});

describe('untar', () => {
  it('returns the regular files of an npm-style tarball by their path inside package/', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'untar-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'package', 'ttf'), { recursive: true });
    const binary = Buffer.from(Array.from({ length: 1500 }, (_, i) => i % 256));
    await writeFile(path.join(dir, 'package', 'package.json'), '{"name":"x"}');
    await writeFile(path.join(dir, 'package', 'ttf', 'a-very-long-file-name.bin'), binary);
    execFileSync('tar', ['-czf', path.join(dir, 'x.tgz'), '-C', dir, 'package']);

    const files = untar(gunzipSync(await readFile(path.join(dir, 'x.tgz'))));

    expect([...files.keys()].sort()).toEqual(['package.json', 'ttf/a-very-long-file-name.bin']);
    expect(files.get('ttf/a-very-long-file-name.bin')?.equals(binary)).toBe(true);
    expect(files.get('package.json')?.toString()).toBe('{"name":"x"}');
  });
});
