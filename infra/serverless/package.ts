import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * `npm run package`: packages the stack with osls fully offline, as CI and the template test do. No AWS account is
 * touched: the credentials are placeholders that nothing verifies, and `package` makes no AWS call. The build plugin
 * checks the parameters first and prints the stage, region and parameters used.
 * Extra arguments pass through to `osls package` (e.g. `-- --stage prod --param="atlasOrgIds=..."`); without any
 * `--param`, EXAMPLE_PARAMS are used.
 */
const root = path.resolve(__dirname, '..', '..');
export const EXAMPLE_PARAMS = [
  'atlasOrgIds=5f1a2b3c4d5e6f708192a3b4,6a1b2c3d4e5f60718293a4b5',
  'slackAllowedTeamIds=T0123ABCD',
  'slackChannel=C0123ABCD',
  'alarmEmail=billing-alerts@example.com',
];

function main(): number {
  const args = process.argv.slice(2);
  const params = args.some((a) => a.startsWith('--param')) ? [] : EXAMPLE_PARAMS.map((p) => `--param=${p}`);
  const stage = args.includes('--stage') ? [] : ['--stage', 'ci'];
  const result = spawnSync(
    process.execPath,
    [require.resolve('osls/bin/serverless.js', { paths: [root] }), 'package', ...stage, ...params, ...args],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'PACKAGE_ONLY',
        AWS_SECRET_ACCESS_KEY: 'PACKAGE_ONLY',
        AWS_SESSION_TOKEN: '',
        AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
      },
    },
  );
  return result.status ?? 1;
}

if (typeof require !== 'undefined' && require.main === module) process.exitCode = main();
