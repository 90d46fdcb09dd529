import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SPLIT_MODULES } from '../../infra/build';
import { EXAMPLE_PARAMS } from '../../infra/serverless/package';
import { CREDENTIAL_NAMES, DEPLOY_PARAMETERS } from '../../lib/config';
import {
  deployedTemplate,
  type JsonObject,
  packageTemplate,
  ROOT as root,
  runPackage,
  type Template,
  validateAgainstRegistry,
} from './cloudformation';

/**
 * Packages the real stack with osls (offline, placeholder credentials) through `npm run package`, then reads the
 * generated CloudFormation template as CloudFormation would deploy it with those parameters (conditions evaluated,
 * see cloudformation.ts): what is deployed is what is checked. Four deployments: the default (no VPC, the weekly
 * digest), a new VPC with a fixed outbound address (staticEgress=true), an existing VPC, and the digest turned off.
 */
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const SECURITY_GROUP = 'sg-0123456789abcdef0';

let outDir: string;
let work: string;
let packageOutput: string;
let template: Template;
let egress: Template;
let ownVpc: Template;
let digestOff: Template;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'serverless-template-'));
  outDir = path.join(work, 'default');
  const run = runPackage(['--package', outDir]);
  if (run.status !== 0) throw new Error(`npm run package failed:\n${run.output}`);
  packageOutput = run.output;
  template = deployedTemplate(
    JSON.parse(readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')),
  );
  egress = deployedTemplate(
    packageTemplate(path.join(work, 'egress'), [...EXAMPLE_PARAMS, 'staticEgress=true']),
  );
  ownVpc = deployedTemplate(
    packageTemplate(path.join(work, 'own-vpc'), [
      ...EXAMPLE_PARAMS,
      `vpcSubnetIds=${SUBNETS.join(',')}`,
      `vpcSecurityGroupIds=${SECURITY_GROUP}`,
    ]),
  );
  digestOff = deployedTemplate(
    packageTemplate(path.join(work, 'digest-off'), [...EXAMPLE_PARAMS, 'digestSchedule=off']),
  );
}, 400_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

type Json = JsonObject;

function resource(name: string, of: Template = template) {
  const found = of.Resources[name];
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
}

function ofType(type: string, of: Template = template) {
  return Object.entries(of.Resources).filter(([, r]) => r.Type === type);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

function statementsOf(roleName: string, of: Template = template): Statement[] {
  const policies = resource(roleName, of).Properties.Policies as unknown as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** The EventBridge rules whose target is `functionName`. */
function rulesTargeting(functionName: string, of: Template = template) {
  return ofType('AWS::Events::Rule', of)
    .map(([, rule]) => rule)
    .filter((rule) =>
      (rule.Properties.Targets as Json[]).some(
        (t) => JSON.stringify((t as Json).Arn) === JSON.stringify({ 'Fn::GetAtt': [functionName, 'Arn'] }),
      ),
    );
}

const actionsOf = (statements: Statement[]) =>
  new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

describe('the packaged CloudFormation template', () => {
  it('runs both functions on a current Node.js runtime with sensible limits', () => {
    const poll = resource('PollInvoicesLambdaFunction').Properties;
    const command = resource('SlackCommandLambdaFunction').Properties;

    for (const fn of [poll, command]) {
      expect(Number(/^nodejs(\d+)\.x$/.exec(String(fn.Runtime))?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.Runtime).toBe('nodejs24.x');
      expect(fn.Architectures).toEqual(['arm64']);
    }
    expect(poll.Handler).toBe('dist/poll-invoices/index.handler');
    expect(command.Handler).toBe('dist/slack-command/index.handler');
    expect(command.Timeout).toBeLessThanOrEqual(10);
    expect(poll.Timeout).toBeGreaterThan(60);
    expect(poll.Timeout).toBeLessThan(900);
  });

  it('schedules the poll every 15 minutes and routes Slack to the command function', () => {
    const rule = rulesTargeting('PollInvoicesLambdaFunction');
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);

    expect(rule.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(15 minutes)']);
    expect(routes).toEqual(['POST /slack/events']);
  });

  it('runs the spend digest as its own function, weekly on Monday 09:00 UTC by default, never retried', () => {
    const digest = resource('SpendDigestLambdaFunction').Properties;
    const permission = resource('SpendDigestSchedulePermission').Properties;
    const retries = ofType('AWS::Lambda::EventInvokeConfig').find(
      ([, c]) => JSON.stringify(c.Properties.FunctionName) === '{"Ref":"SpendDigestLambdaFunction"}',
    );

    expect(digest.Handler).toBe('dist/spend-digest/index.handler');
    expect(digest.Runtime).toBe('nodejs24.x');
    expect(digest.Architectures).toEqual(['arm64']);
    expect(digest.Timeout).toBeLessThanOrEqual(300);
    expect(rulesTargeting('SpendDigestLambdaFunction').map((r) => r.Properties.ScheduleExpression)).toEqual([
      'cron(0 9 ? * MON *)',
    ]);
    expect(permission).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': ['SpendDigestLambdaFunction', 'Arn'] },
      SourceArn: { 'Fn::GetAtt': ['SpendDigestSchedule', 'Arn'] },
    });
    expect(retries?.[1].Properties.MaximumRetryAttempts).toBe(0);
  });

  it('gives the digest the notifications routing and the budgets, and the slash command the budgets', () => {
    const digest = (resource('SpendDigestLambdaFunction').Properties.Environment as { Variables: Json })
      .Variables;
    const command = (resource('SlackCommandLambdaFunction').Properties.Environment as { Variables: Json })
      .Variables;

    expect(digest).toMatchObject({
      ATLAS_ORG_IDS: '5f1a2b3c4d5e6f708192a3b4,6a1b2c3d4e5f60718293a4b5',
      SLACK_CHANNEL: 'C0123ABCD',
      SLACK_CHANNEL_ROUTES: '',
      SPEND_BUDGETS: '',
    });
    expect(command).toMatchObject({ SPEND_BUDGETS: '' });
  });

  it('keeps the archive bucket private, encrypted, versioned and TLS-only', () => {
    const bucket = resource('ArchiveBucket').Properties;
    const policy = resource('ArchiveBucketPolicy').Properties.PolicyDocument as unknown as {
      Statement: Statement[];
    };

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
    expect(denyPlainHttp).toMatchObject({
      Sid: 'DenyInsecureTransport',
      Principal: '*',
      Action: 's3:*',
      Resource: [
        { 'Fn::GetAtt': ['ArchiveBucket', 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ArchiveBucket', 'Arn'] }, '/*']] },
      ],
    });
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
    for (const readOnly of ['SlackCommandRole', 'SpendDigestRole']) {
      expect([...actionsOf(statementsOf(readOnly))].sort()).toEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
        'secretsmanager:GetSecretValue',
      ]);
    }
    const functions = ofType('AWS::Lambda::Function').map(([, f]) => JSON.stringify(f.Properties.Role));
    expect(functions.sort()).toEqual([
      '{"Fn::GetAtt":["PollInvoicesRole","Arn"]}',
      '{"Fn::GetAtt":["SlackCommandRole","Arn"]}',
      '{"Fn::GetAtt":["SpendDigestRole","Arn"]}',
    ]);
  });

  it('scopes every IAM statement to this bucket prefix, this secret or the function own logs', () => {
    for (const role of ['PollInvoicesRole', 'SlackCommandRole', 'SpendDigestRole']) {
      for (const statement of statementsOf(role)) {
        const actions = [...actionsOf([statement])];
        const target = JSON.stringify(statement.Resource);
        expect(actions.some((a) => a.includes('*'))).toBe(false);
        expect(target).not.toBe('"*"');
        if (actions.some((a) => a.startsWith('logs:'))) {
          expect(target).toMatch(
            /log-group:\/aws\/lambda\/atlas-invoice-notifier-ci-(pollInvoices|slackCommand|spendDigest):\*/,
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
    expect(Object.keys(shape)).toEqual([...CREDENTIAL_NAMES]);
    expect(Object.values(shape).every((v) => v === '' || JSON.stringify(v) === '{}')).toBe(true);
  });

  it('prints the stage, region and every parameter it packaged with', () => {
    expect(packageOutput).toContain('Stage ci, region us-east-1, parameters:');
    for (const param of EXAMPLE_PARAMS) expect(packageOutput).toContain(`  ${param}\n`);
    for (const name of DEPLOY_PARAMETERS) expect(packageOutput).toMatch(new RegExp(`^  ${name}=`, 'm'));
  });

  it('gives the poller the spend-watch settings, with their defaults', () => {
    const variables = (resource('PollInvoicesLambdaFunction').Properties.Environment as { Variables: Json })
      .Variables;

    expect(variables).toMatchObject({
      SPEND_BUDGETS: '',
      SPEND_ALERT_PERCENTS: '50,80,100',
      SPEND_SPIKE_PERCENT: '50',
      SPEND_SPIKE_MIN_USD: '100',
      DIGEST_SCHEDULE: 'cron(0 9 ? * MON *)',
    });
  });

  it('alarms on failed polls and keeps logs for a bounded time', () => {
    const alarm = resource('PollFailuresAlarm').Properties;
    const logGroups = ofType('AWS::Logs::LogGroup').map(([, g]) => g.Properties.RetentionInDays);

    expect(alarm.MetricName).toBe('Errors');
    expect(alarm.Dimensions).toEqual([
      { Name: 'FunctionName', Value: 'atlas-invoice-notifier-ci-pollInvoices' },
    ]);
    expect(alarm.AlarmActions).toEqual([{ Ref: 'PollFailuresTopic' }]);
    expect(logGroups).toEqual([30, 30, 30]);
  });

  it('alarms on a failed digest through the same topic', () => {
    const alarm = resource('DigestFailuresAlarm').Properties;

    expect(alarm.MetricName).toBe('Errors');
    expect(alarm.Dimensions).toEqual([
      { Name: 'FunctionName', Value: 'atlas-invoice-notifier-ci-spendDigest' },
    ]);
    expect(alarm.AlarmActions).toEqual([{ Ref: 'PollFailuresTopic' }]);
  });

  it('ships each function as its own bundle and nothing else', () => {
    for (const name of ['pollInvoices', 'slackCommand', 'spendDigest']) {
      expect(existsSync(path.join(outDir, `${name}.zip`))).toBe(true);
    }
    const digestZip = spawnSync('unzip', ['-Z1', path.join(outDir, 'spendDigest.zip')], { encoding: 'utf8' });
    if (digestZip.status === 0) {
      expect(digestZip.stdout.trim().split('\n').sort()).toEqual([
        'dist/spend-digest/index.js',
        'dist/spend-digest/index.js.map',
      ]);
    }
    const list = spawnSync('unzip', ['-Z1', path.join(outDir, 'slackCommand.zip')], { encoding: 'utf8' });
    if (list.status === 0) {
      const { lazy, shared } = SPLIT_MODULES['slack-command'];
      const files = ['index.js', ...[...lazy, ...shared].map((m) => m.file)];
      expect(list.stdout.trim().split('\n').sort()).toEqual(
        files.flatMap((file) => [`dist/slack-command/${file}`, `dist/slack-command/${file}.map`]).sort(),
      );
    }
  });
});

const EC2_NETWORK_INTERFACE_ACTIONS = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];
const FUNCTIONS = ['PollInvoicesLambdaFunction', 'SlackCommandLambdaFunction'];
const ROLES = ['PollInvoicesRole', 'SlackCommandRole'];

/** The statements of a role that allow anything on every resource. */
const wildcardStatements = (role: string, of: Template) =>
  statementsOf(role, of).filter((s) => JSON.stringify(s.Resource) === '"*"');

describe('with digestSchedule=off', () => {
  it('keeps the digest function but never invokes it: no rule, no permission, no alarm', () => {
    expect(digestOff.Resources).toHaveProperty('SpendDigestLambdaFunction');
    expect(rulesTargeting('SpendDigestLambdaFunction', digestOff)).toEqual([]);
    expect(digestOff.Resources).not.toHaveProperty('SpendDigestSchedule');
    expect(digestOff.Resources).not.toHaveProperty('SpendDigestSchedulePermission');
    expect(digestOff.Resources).not.toHaveProperty('DigestFailuresAlarm');
    expect(rulesTargeting('PollInvoicesLambdaFunction', digestOff)).toHaveLength(1);
  });
});

describe('without a VPC (the default)', () => {
  it('runs the functions outside any VPC, with no network resource and no EC2 permission', () => {
    for (const fn of FUNCTIONS) expect(resource(fn).Properties).not.toHaveProperty('VpcConfig');
    expect(Object.values(template.Resources).filter((r) => r.Type.startsWith('AWS::EC2::'))).toEqual([]);
    for (const role of ROLES) {
      expect([...actionsOf(statementsOf(role))].filter((a) => a.startsWith('ec2:'))).toEqual([]);
    }
    expect(template.Outputs).not.toHaveProperty('EgressIp');
  });
});

describe('with staticEgress=true', () => {
  const byType = (type: string) => ofType(type, egress);
  const only = (type: string) => {
    const found = byType(type);
    expect(found, type).toHaveLength(1);
    return found[0] as [string, (typeof found)[number][1]];
  };

  it('creates a VPC with two private subnets in two zones, one public subnet, an internet and a NAT gateway', () => {
    const [vpcName] = only('AWS::EC2::VPC');
    const [igwName] = only('AWS::EC2::InternetGateway');
    const [, nat] = only('AWS::EC2::NatGateway');
    const [eipName, eip] = only('AWS::EC2::EIP');
    const subnets = byType('AWS::EC2::Subnet');

    expect(subnets).toHaveLength(3);
    for (const [, subnet] of subnets) expect(subnet.Properties.VpcId).toEqual({ Ref: vpcName });
    const [publicName] = subnets.find(([name]) => name === 'EgressPublicSubnet') ?? [];
    const privateZones = subnets
      .filter(([name]) => name !== publicName)
      .map(([, subnet]) => JSON.stringify(subnet.Properties.AvailabilityZone));
    expect(new Set(privateZones).size).toBe(2);
    expect(eip.Properties.Domain).toBe('vpc');
    expect(nat.Properties).toMatchObject({
      AllocationId: { 'Fn::GetAtt': [eipName, 'AllocationId'] },
      SubnetId: { Ref: publicName },
    });
    const routes = byType('AWS::EC2::Route').map(([, r]) => r.Properties);
    expect(routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: { Ref: igwName } }),
        expect.objectContaining({
          DestinationCidrBlock: '0.0.0.0/0',
          NatGatewayId: { Ref: 'EgressNatGateway' },
        }),
      ]),
    );
  });

  it('routes the private subnets through the NAT gateway and reaches S3 through a gateway endpoint', () => {
    const [, endpoint] = only('AWS::EC2::VPCEndpoint');
    const [privateRoute] = byType('AWS::EC2::Route').filter(([, r]) => 'NatGatewayId' in r.Properties);
    const privateTable = privateRoute?.[1].Properties.RouteTableId;
    const associations = byType('AWS::EC2::SubnetRouteTableAssociation')
      .filter(([, a]) => JSON.stringify(a.Properties.RouteTableId) === JSON.stringify(privateTable))
      .map(([, a]) => a.Properties.SubnetId);

    expect(associations).toEqual([{ Ref: 'EgressPrivateSubnetA' }, { Ref: 'EgressPrivateSubnetB' }]);
    expect(endpoint.Properties.VpcEndpointType).toBe('Gateway');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own Fn::Sub placeholder
    expect(endpoint.Properties.ServiceName).toEqual({ 'Fn::Sub': 'com.amazonaws.${AWS::Region}.s3' });
    expect(endpoint.Properties.RouteTableIds).toEqual([privateTable]);
    expect(JSON.stringify(endpoint.Properties.PolicyDocument)).toContain('ArchiveBucket');
  });

  it('runs both functions in the private subnets behind an outbound-HTTPS-only security group', () => {
    const [, group] = only('AWS::EC2::SecurityGroup');

    for (const fn of FUNCTIONS) {
      expect(resource(fn, egress).Properties.VpcConfig).toEqual({
        SubnetIds: [{ Ref: 'EgressPrivateSubnetA' }, { Ref: 'EgressPrivateSubnetB' }],
        SecurityGroupIds: [{ Ref: 'EgressSecurityGroup' }],
      });
    }
    expect(group.Properties).not.toHaveProperty('SecurityGroupIngress');
    expect(group.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' }),
    ]);
  });

  it('outputs the Elastic IP as EgressIp', () => {
    expect(egress.Outputs?.EgressIp?.Value).toEqual({ Ref: 'EgressIpAddress' });
    expect(resource('EgressIpAddress', egress).Type).toBe('AWS::EC2::EIP');
  });

  it('adds exactly the network-interface actions a VPC function needs to each role', () => {
    for (const role of ROLES) {
      const wildcard = wildcardStatements(role, egress);
      expect(wildcard).toHaveLength(1);
      expect([...actionsOf(wildcard)].sort()).toEqual(EC2_NETWORK_INTERFACE_ACTIONS);
      expect(statementsOf(role, egress).length).toBe(statementsOf(role).length + 1);
    }
  });

  it('leaves the digest, which calls no Atlas, outside the VPC and without EC2 actions', () => {
    for (const variant of [egress, ownVpc]) {
      expect(resource('SpendDigestLambdaFunction', variant).Properties).not.toHaveProperty('VpcConfig');
      expect(wildcardStatements('SpendDigestRole', variant)).toEqual([]);
    }
  });
});

describe('with vpcSubnetIds and vpcSecurityGroupIds', () => {
  it('runs both functions in the given subnets and security groups', () => {
    for (const fn of FUNCTIONS) {
      expect(resource(fn, ownVpc).Properties.VpcConfig).toEqual({
        SubnetIds: SUBNETS,
        SecurityGroupIds: [SECURITY_GROUP],
      });
    }
    for (const role of ROLES) {
      expect([...actionsOf(wildcardStatements(role, ownVpc))].sort()).toEqual(EC2_NETWORK_INTERFACE_ACTIONS);
    }
  });

  it('creates no network of its own: no VPC, NAT gateway, Elastic IP or EgressIp', () => {
    expect(Object.values(ownVpc.Resources).filter((r) => r.Type.startsWith('AWS::EC2::'))).toEqual([]);
    expect(ownVpc.Outputs).not.toHaveProperty('EgressIp');
  });
});

describe('every resource of every variant', () => {
  it('validates against the CloudFormation registry schema of its type', async () => {
    const templates = [template, egress, ownVpc, digestOff];

    const problems = await validateAgainstRegistry(templates);

    expect(problems).toEqual([]);
    expect(
      new Set(templates.flatMap((t) => Object.values(t.Resources).map((r) => r.Type))).size,
    ).toBeGreaterThan(20);
  }, 60_000);
});

describe('the Slack app manifest', () => {
  const manifest = parse(readFileSync(path.join(root, 'infra/slack-app-manifest.yml'), 'utf8'));
  const route = parse(
    readFileSync(path.join(root, 'serverless.yml'), 'utf8').replace(
      /!(If|Ref|Equals|Not|Or|Condition|Join|GetAtt)\b/g,
      '',
    ),
  );

  it('declares /invoice and the interactivity URL on the deployed route, with no scope beyond what is used', () => {
    // chat:write posts, commands receives /invoice, files:write uploads the spend charts.
    const path = route.functions.slackCommand.events[0].httpApi.path;

    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/invoice']);
    expect(manifest.features.slash_commands[0].url).toMatch(new RegExp(`${path}$`));
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true });
    expect(manifest.settings.interactivity.request_url).toMatch(new RegExp(`${path}$`));
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(['chat:write', 'commands', 'files:write']);
    expect(manifest.features.slash_commands[0].usage_hint).toContain('spend [org id]');
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});
