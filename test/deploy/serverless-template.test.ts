import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CREDENTIAL_NAMES } from '../../lib/config';

/**
 * Packages the real stack with osls (offline, placeholder credentials) through `npm run package`, then reads the
 * generated CloudFormation template: what is deployed is what is checked.
 */
const root = path.resolve(__dirname, '..', '..');
const outDir = path.join(root, '.serverless');

type Json = Record<string, unknown>;
let template: { Resources: Record<string, { Type: string; Properties: Json; Condition?: string }> };

beforeAll(() => {
  const run = spawnSync('npm', ['run', '--silent', 'package'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (run.status !== 0) throw new Error(`npm run package failed:\n${run.stdout}\n${run.stderr}`);
  template = JSON.parse(readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 200_000);

function resource(name: string) {
  const found = template.Resources[name];
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
}

function ofType(type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

function statementsOf(roleName: string): Statement[] {
  const policies = resource(roleName).Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

const actionsOf = (statements: Statement[]) =>
  new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

describe('the packaged CloudFormation template', () => {
  it('runs both functions on a current Node.js runtime with sensible limits', () => {
    const poll = resource('PollInvoicesLambdaFunction').Properties;
    const command = resource('SlackCommandLambdaFunction').Properties;

    for (const fn of [poll, command]) {
      expect(Number(/^nodejs(\d+)\.x$/.exec(String(fn.Runtime))?.[1])).toBeGreaterThanOrEqual(22);
    }
    expect(poll.Handler).toBe('dist/poll-invoices/index.handler');
    expect(command.Handler).toBe('dist/slack-command/index.handler');
    expect(command.Timeout).toBeLessThanOrEqual(10);
    expect(poll.Timeout).toBeGreaterThan(60);
    expect(poll.Timeout).toBeLessThan(900);
  });

  it('schedules the poll every 15 minutes and routes Slack to the command function', () => {
    const [[, rule] = []] = ofType('AWS::Events::Rule');
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);

    expect(rule?.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect(routes).toEqual(['POST /slack/events']);
  });

  it('keeps the archive bucket private, encrypted, versioned and TLS-only', () => {
    const bucket = resource('ArchiveBucket').Properties;
    const policy = resource('ArchiveBucketPolicy').Properties.PolicyDocument as { Statement: Statement[] };

    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(bucket.BucketEncryption)).toContain('AES256');
    const denyPlainHttp = policy.Statement.find(
      (s) =>
        s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
    );
    expect(denyPlainHttp).toBeDefined();
    expect(policy.Statement.every((s) => s.Effect === 'Deny')).toBe(true);
  });

  it('gives each function only the actions it calls', () => {
    expect([...actionsOf(statementsOf('PollInvoicesRole'))].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
    ]);
    expect([...actionsOf(statementsOf('SlackCommandRole'))].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
      'secretsmanager:GetSecretValue',
    ]);
    const functions = ofType('AWS::Lambda::Function').map(([, f]) => JSON.stringify(f.Properties.Role));
    expect(functions.sort()).toEqual([
      '{"Fn::GetAtt":["PollInvoicesRole","Arn"]}',
      '{"Fn::GetAtt":["SlackCommandRole","Arn"]}',
    ]);
  });

  it('scopes every IAM statement to this bucket prefix, this secret or the function own logs', () => {
    for (const role of ['PollInvoicesRole', 'SlackCommandRole']) {
      for (const statement of statementsOf(role)) {
        const actions = [...actionsOf([statement])];
        const target = JSON.stringify(statement.Resource);
        expect(actions.some((a) => a.includes('*'))).toBe(false);
        expect(target).not.toBe('"*"');
        if (actions.some((a) => a.startsWith('logs:'))) {
          expect(target).toMatch(
            /log-group:\/aws\/lambda\/atlas-invoice-notifier-ci-(pollInvoices|slackCommand):\*/,
          );
        } else if (actions.includes('s3:ListBucket')) {
          expect(target).toBe('{"Fn::GetAtt":["ArchiveBucket","Arn"]}');
          expect(statement.Condition).toEqual({ StringLike: { 's3:prefix': 'atlas-invoices/*' } });
        } else if (actions.some((a) => a.startsWith('s3:'))) {
          expect(target).toContain('ArchiveBucket');
          expect(target).toContain('/atlas-invoices/*');
        } else {
          expect(target).toContain('AppSecret');
        }
      }
    }
  });

  it('keeps every secret value out of the functions environment', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
      for (const name of CREDENTIAL_NAMES) expect(variables).not.toHaveProperty(name);
      expect(JSON.stringify(variables)).not.toMatch(/resolve:secretsmanager|resolve:ssm/);
      expect(JSON.stringify(variables.APP_SECRET_ID)).toContain('AppSecret');
    }
    const secret = resource('AppSecret').Properties;
    const shape = JSON.parse(String(secret.SecretString));
    expect(Object.values(shape).every((v) => v === '')).toBe(true);
  });

  it('alarms on failed polls and keeps logs for a bounded time', () => {
    const alarm = resource('PollFailuresAlarm').Properties;
    const logGroups = ofType('AWS::Logs::LogGroup').map(([, g]) => g.Properties.RetentionInDays);

    expect(alarm.MetricName).toBe('Errors');
    expect(alarm.Dimensions).toEqual([
      { Name: 'FunctionName', Value: 'atlas-invoice-notifier-ci-pollInvoices' },
    ]);
    expect(alarm.AlarmActions).toEqual([{ Ref: 'PollFailuresTopic' }]);
    expect(logGroups).toEqual([30, 30]);
  });

  it('ships each function as its own bundle and nothing else', () => {
    for (const name of ['pollInvoices', 'slackCommand']) {
      expect(existsSync(path.join(outDir, `${name}.zip`))).toBe(true);
    }
    const list = spawnSync('unzip', ['-Z1', path.join(outDir, 'slackCommand.zip')], { encoding: 'utf8' });
    if (list.status === 0) {
      expect(list.stdout.trim().split('\n').sort()).toEqual([
        'dist/slack-command/index.js',
        'dist/slack-command/index.js.map',
      ]);
    }
  });
});

describe('the Slack app manifest', () => {
  const manifest = parse(readFileSync(path.join(root, 'infra/slack-app-manifest.yml'), 'utf8'));
  const route = parse(
    readFileSync(path.join(root, 'serverless.yml'), 'utf8').replace(
      /!(If|Ref|Equals|Not|Join|GetAtt)\b/g,
      '',
    ),
  );

  it('declares /invoice and the interactivity URL on the deployed route, with no scope beyond what is used', () => {
    const path = route.functions.slackCommand.events[0].httpApi.path;

    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/invoice']);
    expect(manifest.features.slash_commands[0].url).toMatch(new RegExp(`${path}$`));
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true });
    expect(manifest.settings.interactivity.request_url).toMatch(new RegExp(`${path}$`));
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(['chat:write', 'commands']);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});
