import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// check-readme against a small throwaway repository whose quick start runs a fake `npm start` (a node script that
// archives a CSV under .local/s3, prints a rendered Slack message, writes its run file and stops on SIGINT), so the
// clone / wait / SIGINT / exit logic is exercised without npm.
const FAKE_START = `
const fs = require('node:fs');
fs.mkdirSync('.local/s3/bucket/prefix', { recursive: true });
fs.writeFileSync('.local/s3/bucket/prefix/invoice.csv', 'Invoice Number,1\\n');
fs.writeFileSync('.local/run.json', JSON.stringify({ pid: process.pid }));
console.log('┌ Slack C0LOCAL00 (chat.postMessage)\\n│ Now watching\\n└');
const exitCode = Number(process.env.FAKE_EXIT_ON_SIGINT ?? 0);
process.on('SIGINT', () => { console.log('Stopped.'); process.exit(exitCode); });
setInterval(() => {}, 1000);
`;

const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function fakeRepo(startLine: string, testLine: string): Promise<string> {
  const repo = await mkdtemp(join(tmpdir(), 'readme-fake-repo-'));
  dirs.push(repo);
  await writeFile(join(repo, 'fake-start.js'), FAKE_START);
  await writeFile(
    join(repo, 'README.md'),
    `# Fake\n\n## Quick start\n\n\`\`\`sh\n${startLine}   # start it\n${testLine}   # test it\n\`\`\`\n`,
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=check@example.test', '-c', 'user.name=check', 'commit', '-qm', 'fake');
  return repo;
}

function checkReadme(
  repo: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'infra/check-readme.ts',
        '--repo',
        repo,
        '--start-timeout',
        '20',
        '--test-timeout',
        '20',
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

function cloneDir(output: string): string | undefined {
  return /clone: (\S+)/.exec(output)?.[1];
}

describe('check-readme', () => {
  it('follows both quick-start lines in a clone and passes when the run works and stops cleanly', async () => {
    const repo = await fakeRepo('node fake-start.js', 'test -f README.md');

    const { code, output } = await checkReadme(repo);

    expect(code, output).toBe(0);
    expect(output).toContain('1  node fake-start.js');
    expect(output).toContain('2  test -f README.md');
    expect(output).toContain('✔ archived CSV .local/s3/bucket/prefix/invoice.csv');
    expect(output).toContain('✔ rendered Slack message in the output');
    expect(output).toMatch(/✔ SIGINT to the npm start process \(pid \d+\): exited 0/);
    expect(output).toContain('✔ The README quick start works');
  });

  it('fails when the run does not exit cleanly after SIGINT', async () => {
    const repo = await fakeRepo('node fake-start.js', 'true');

    const { code, output } = await checkReadme(repo, { FAKE_EXIT_ON_SIGINT: '3' });
    const clone = cloneDir(output);
    if (clone) dirs.push(join(clone, '..'));

    expect(code).toBe(1);
    expect(output).toContain('✖ line 1 exited with status 3 after SIGINT');
    expect(output).toContain('| Stopped.');
  });

  it('fails when the test line fails', async () => {
    const repo = await fakeRepo('node fake-start.js', 'exit 4');

    const { code, output } = await checkReadme(repo);
    const clone = cloneDir(output);
    if (clone) dirs.push(join(clone, '..'));

    expect(code).toBe(1);
    expect(output).toContain('✖ line 2 exited with status 4');
  });

  it('fails when the start line never shows a working run', async () => {
    const repo = await fakeRepo('echo starting && exit 0', 'true');

    const { code, output } = await checkReadme(repo);
    const clone = cloneDir(output);
    if (clone) dirs.push(join(clone, '..'));

    expect(code).toBe(1);
    expect(output).toContain('✖ line 1 exited with status 0 before showing a working run');
  });
});
