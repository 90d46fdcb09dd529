import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPackage } from './cloudformation';

/**
 * `npm run package` (osls, offline) with bad deployment parameters: the build plugin stops before anything is built,
 * packaged or sent to CloudFormation, with one line per bad parameter. `serverless deploy` runs the same hook.
 */
const work = mkdtempSync(path.join(tmpdir(), 'deploy-parameters-'));
let runs = 0;

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function packageWith(params: readonly string[]) {
  runs += 1;
  const dir = path.join(work, `run-${runs}`);
  const run = runPackage(['--package', dir, ...params.map((p) => `--param=${p}`)]);
  return { ...run, packaged: existsSync(dir) };
}

/** The lines that name one of `names` as `<name>: ...`. */
function linesAbout(output: string, names: readonly string[]): string[] {
  return output.split('\n').filter((line) => names.some((name) => line.startsWith(`${name}: `)));
}

describe('npm run package with bad parameters', () => {
  it('exits non-zero with one line per bad parameter and packages nothing', () => {
    const run = packageWith([
      'atlasOrgIds=nothex',
      'slackChannel=#billing',
      'presignTtlSeconds=99999999',
      'slackAllowedTeamIds=T0123ABCD',
    ]);

    expect(run.status).not.toBe(0);
    expect(
      linesAbout(run.output, ['atlasOrgIds', 'slackChannel', 'presignTtlSeconds', 'slackAllowedTeamIds']),
    ).toEqual([
      'atlasOrgIds: entry 1 is not a 24-character lower-case hexadecimal id',
      'slackChannel: must be a channel id such as C0123ABCD, not a name (channel details → About, at the bottom)',
      'presignTtlSeconds: must be a whole number from 60 to 604800',
    ]);
    expect(run.output).toContain('Deployment parameters refused (nothing was packaged or deployed)');
    expect(run.output).not.toContain('Service packaged');
    expect(run.packaged).toBe(false);
  });

  it('refuses a missing required parameter (the default empty atlasOrgIds)', () => {
    const run = packageWith(['slackAllowedTeamIds=T0123ABCD']);

    expect(run.status).not.toBe(0);
    expect(linesAbout(run.output, ['atlasOrgIds', 'slackAllowedTeamIds'])).toEqual([
      'atlasOrgIds: is required: comma-separated Atlas organisation ids',
    ]);
    expect(run.packaged).toBe(false);
  });

  it('refuses a misspelt parameter, VPC settings that do not go together and malformed spend settings', () => {
    const run = packageWith([
      'atlasOrgIds=5f1a2b3c4d5e6f708192a3b4',
      'slackAllowedTeamIds=T0123ABCD',
      'slackChanel=C0123ABCD',
      'staticEgress=true',
      'vpcSubnetIds=subnet-0123456789abcdef0',
      'spendBudgets=5f1a2b3c4d5e6f708192a3b4=lots',
      'digestSchedule=mondays',
    ]);
    const names = ['slackChanel', 'staticEgress', 'vpcSubnetIds', 'spendBudgets', 'digestSchedule'];

    const lines = linesAbout(run.output, names);

    expect(run.status).not.toBe(0);
    expect(lines.map((line) => line.slice(0, line.indexOf(':'))).sort()).toEqual([...names].sort());
    expect(lines).toContain('slackChanel: is not a parameter of this stack');
    expect(run.packaged).toBe(false);
  });
});
