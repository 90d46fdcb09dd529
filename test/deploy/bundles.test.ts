import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltBundle, buildFunctions, RUNTIME_PACKAGES, SPLIT_MODULES } from '../../infra/build';
import { DEMO_SERVICE_ACCOUNT } from '../../infra/local/atlas-sandbox';
import { closeServer, listenLocal, readSmallBody } from '../../infra/local/aws/local-server';
import { headerValue, parseQuery, verifySigV4 } from '../../infra/local/aws/sigv4';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION } from '../../infra/local/s3';
import { createIndexStore } from '../../lib/archive/index-store';
import { csvKey } from '../../lib/archive/keys';
import type { PollReport } from '../../lib/poll/report';
import { CHART_FONT } from '../../lib/spend/chart/font';
import { type ColdSpec, childEnv, runCold } from '../bench/lib/child';
import { SCHEDULED_EVENT, signedCommandEvent } from '../bench/lib/events';
import { indexEntry } from '../command/fixtures';
import { BUCKET, type StandIns, sandboxCsv, startStandIns } from '../poll/stand-ins';
import { DEMO_INPUT } from '../spend/chart/fixtures';
import { readPngSize } from '../spend/chart/svg-query';

/**
 * The bundles exactly as `npm run build` writes them (stubs, slim undici, lazily loaded files), each run in a fresh
 * Node process that `require()`s it as Lambda's runtime does, with configuration from the environment only, against
 * the Atlas sandbox and the S3 and Slack stand-ins on 127.0.0.1. What the source tests prove about the handlers must
 * still hold once bundled.
 */
const SIGNING_SECRET = 'bundle-test-signing-secret-0123456789';
const TEAM = 'T0BUNDLE';
const CHANNEL = 'C0BUNDLE';

let dir: string;
let bundles: Record<string, BuiltBundle>;
let standIns: StandIns;
let sample = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bundle-test-'));
  const [built, started] = await Promise.all([
    buildFunctions({ outDir: path.join(dir, 'dist'), sourcemap: false }),
    startStandIns(),
  ]);
  bundles = Object.fromEntries(built.map((b) => [b.name, b]));
  standIns = started;
}, 60_000);

afterAll(async () => {
  await standIns?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** One cold invocation in a new process; the handler's result comes back as JSON. */
async function invoke<T>(spec: ColdSpec, env: Record<string, string | undefined>): Promise<T> {
  sample += 1;
  const result = await runCold(
    { ...spec, returnResult: true },
    path.join(dir, `spec-${sample}.json`),
    childEnv({ ...standIns.s3.env(), LOG_LEVEL: 'warn', ...env }),
  );
  return result.result as T;
}

/** The function's directory copied without some of its lazily loaded files: proves nothing loads them at start. */
async function copyWithout(name: string, ...files: string[]): Promise<string> {
  const copy = path.join(dir, `${name}-without-${files.join('-')}`);
  await cp(path.dirname(bundles[name]?.file ?? ''), copy, {
    recursive: true,
    filter: (source) => !files.includes(path.basename(source)),
  });
  return path.join(copy, 'index.js');
}

/** Every file under `root`, relative to it, sorted. */
async function listFiles(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** ELF header: 64-bit little-endian shared object for AArch64 (e_machine 183). */
function elfMachine(bytes: Buffer): { elf: boolean; bits: number; machine: number } {
  return {
    elf: bytes.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])),
    bits: bytes[4] === 2 ? 64 : 32,
    machine: bytes.readUInt16LE(18),
  };
}
const EM_AARCH64 = 183;

interface HttpResult {
  statusCode: number;
  body: string;
}

describe('the slack-command bundle', () => {
  let orgId: string;
  let archivedId: string;
  let unarchivedId: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const { sandbox } = standIns;
    orgId = sandbox.createOrg({ name: 'Bundle Org', invoices: 3 }).id;
    const [first, second] = sandbox.listInvoices(orgId);
    if (first === undefined || second === undefined) throw new Error('the sandbox made too few invoices');
    archivedId = first.id;
    unarchivedId = second.id;
    const prefix = 'command/';
    const key = csvKey(prefix, orgId, first.startDate, archivedId);
    const s3 = new S3Client(standIns.s3.clientConfig());
    await standIns.s3.putObject(BUCKET, key, await sandboxCsv(sandbox, orgId, archivedId));
    await createIndexStore({ s3, bucket: BUCKET, prefix }).writeIndex(
      indexEntry({ invoiceId: archivedId, orgId, csv: { key, sha256: 'a'.repeat(64), bytes: 1 } }),
    );
    s3.destroy();
    env = {
      ATLAS_ORG_IDS: orgId,
      ATLAS_BASE_URL: sandbox.url,
      ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
      ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
      ARCHIVE_BUCKET: BUCKET,
      ARCHIVE_PREFIX: prefix,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_ALLOWED_TEAM_IDS: TEAM,
    };
  });

  const command = (text: string) => signedCommandEvent(text, SIGNING_SECRET, TEAM);

  it('is written as index.js plus any split-out files, all inside dist/slack-command/', () => {
    const files = (bundles['slack-command']?.files ?? []).map((f) => path.relative(dir, f.file));
    const { lazy, shared } = SPLIT_MODULES['slack-command'];

    expect(files).toEqual([
      'dist/slack-command/index.js',
      ...lazy.map((m) => `dist/slack-command/${m.file}`),
      ...shared.map((m) => `dist/slack-command/${m.file}`),
    ]);
  });

  it('answers help and an archived invoice without its Atlas client file (loaded only for an id not archived)', async () => {
    const bundle = await copyWithout('slack-command', 'atlas-client.js');

    const help = await invoke<HttpResult>({ bundle, kind: 'invoke', event: command('help') }, env);
    const archived = await invoke<HttpResult>({ bundle, kind: 'invoke', event: command(archivedId) }, env);

    expect(SPLIT_MODULES['slack-command'].lazy.map((m) => m.file)).toEqual(['atlas-client.js']);
    expect(help.statusCode).toBe(200);
    expect(help.body).toContain('/invoice help');
    expect(archived.statusCode).toBe(200);
    expect(archived.body).toContain('X-Amz-Signature');
  });

  it('answers /invoice help', async () => {
    const bundle = bundles['slack-command']?.file ?? '';

    const result = await invoke<HttpResult>({ bundle, kind: 'invoke', event: command('help') }, env);

    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('/invoice help');
  });

  it('answers an archived invoice from the index with a presigned link that downloads its CSV', async () => {
    const bundle = bundles['slack-command']?.file ?? '';

    const result = await invoke<HttpResult>({ bundle, kind: 'invoke', event: command(archivedId) }, env);

    expect(result.statusCode).toBe(200);
    const link = /"(http:\/\/127\.0\.0\.1:\d+\/[^"]+X-Amz-Signature=[^"]+)"/.exec(result.body)?.[1];
    expect(link).toBeDefined();
    const download = await fetch(link ?? '');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(download.status).toBe(200);
    expect(bytes.equals(await sandboxCsv(standIns.sandbox, orgId, archivedId))).toBe(true);
  });

  it('asks Atlas through the lazily loaded client for an invoice not archived yet', async () => {
    const bundle = bundles['slack-command']?.file ?? '';

    const result = await invoke<HttpResult>({ bundle, kind: 'invoke', event: command(unarchivedId) }, env);

    expect(result.statusCode).toBe(200);
    expect(result.body).toContain(`Atlas invoice ${unarchivedId}`);
    expect(result.body).toContain('Not archived yet');
  });

  it('tells an id Atlas does not know apart from an Atlas failure (one AtlasApiError class in the bundle)', async () => {
    const bundle = bundles['slack-command']?.file ?? '';

    const result = await invoke<HttpResult>(
      { bundle, kind: 'invoke', event: command('deadbeefdeadbeefdeadbeef') },
      env,
    );

    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('is unknown for the watched organisation');
    expect(result.body).not.toContain('could not be asked');
  });

  it('refuses a request signed with another secret', async () => {
    const bundle = bundles['slack-command']?.file ?? '';
    const forged = signedCommandEvent('help', 'not-the-signing-secret-0123456789', TEAM);

    const result = await invoke<HttpResult>({ bundle, kind: 'invoke', event: forged }, env);

    expect(result.statusCode).toBe(401);
  });
});

describe('the poll-invoices bundle', () => {
  const pollEnv = (orgId: string, prefix: string, slack: Record<string, string>) => ({
    ATLAS_ORG_IDS: orgId,
    ATLAS_BASE_URL: standIns.sandbox.url,
    ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
    ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
    ARCHIVE_BUCKET: BUCKET,
    ARCHIVE_PREFIX: prefix,
    // The stand-in stores streamed uploads correctly either way; this keeps the checksum path of lib-storage simple.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    ...slack,
  });
  const poll = (bundle: string, env: Record<string, string>) =>
    invoke<PollReport>({ bundle, kind: 'invoke', event: SCHEDULED_EVENT, timeoutMs: 120_000 }, env);

  it('ships the chart renderer for Lambda: the JS of resvg, its linux arm64 binary and the font, under node_modules/', async () => {
    const pollDir = path.dirname(bundles['poll-invoices']?.file ?? '');

    const files = await listFiles(path.join(pollDir, 'node_modules'));

    expect(files).toEqual(
      [
        '@resvg/resvg-js/LICENSE',
        '@resvg/resvg-js/index.js',
        '@resvg/resvg-js/js-binding.js',
        '@resvg/resvg-js/package.json',
        '@resvg/resvg-js-linux-arm64-gnu/package.json',
        '@resvg/resvg-js-linux-arm64-gnu/resvgjs.linux-arm64-gnu.node',
        `${CHART_FONT.package}/${CHART_FONT.licence}`,
        `${CHART_FONT.package}/package.json`,
        ...CHART_FONT.files.map((file) => `${CHART_FONT.package}/${file}`),
      ].sort(),
    );
    const binary = await readFile(
      path.join(pollDir, 'node_modules/@resvg/resvg-js-linux-arm64-gnu/resvgjs.linux-arm64-gnu.node'),
    );
    expect(elfMachine(binary)).toEqual({ elf: true, bits: 64, machine: EM_AARCH64 });
    const font = await readFile(path.join(pollDir, 'node_modules', CHART_FONT.package, CHART_FONT.files[0]));
    expect(font.readUInt32BE(0)).toBe(0x00010000);
    expect(await readFile(path.join(pollDir, 'spend-chart.js'), 'utf8')).toContain(
      'require("@resvg/resvg-js")',
    );
  });

  it('prepares without the spend chart file and without any runtime package (none is loaded at start)', async () => {
    const bundle = await copyWithout('poll-invoices', 'spend-chart.js', 'node_modules');
    const env = pollEnv('65f0c0ffee00de00000000bf', 'prepare-chart/', {
      SLACK_BOT_TOKEN: standIns.slack.token,
      SLACK_CHANNEL: CHANNEL,
    });

    await expect(invoke({ bundle, kind: 'prepare' }, env)).resolves.toBeUndefined();
  });

  it('is written as index.js plus the lazily loaded Slack Web API client, inside dist/poll-invoices/', () => {
    const files = (bundles['poll-invoices']?.files ?? []).map((f) => path.relative(dir, f.file));

    expect(files).toEqual([
      'dist/poll-invoices/index.js',
      ...SPLIT_MODULES['poll-invoices'].lazy.map((m) => `dist/poll-invoices/${m.file}`),
    ]);
  });

  it('loads its configuration and builds its clients without the Slack Web API file', async () => {
    const bundle = await copyWithout('poll-invoices', 'slack-web-api.js');
    const env = pollEnv('65f0c0ffee00de00000000be', 'prepare/', {
      SLACK_BOT_TOKEN: standIns.slack.token,
      SLACK_CHANNEL: CHANNEL,
    });

    await expect(invoke({ bundle, kind: 'prepare' }, env)).resolves.toBeUndefined();
  });

  it('archives a new organisation byte for byte and posts "now watching" through the lazily loaded WebClient', async () => {
    const { sandbox, s3, slack } = standIns;
    const orgId = sandbox.createOrg({ name: 'Bot Org', invoices: 3 }).id;
    const env = pollEnv(orgId, 'bot/', {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL: 'C0BOTPOLL',
    });

    const report = await poll(bundles['poll-invoices']?.file ?? '', env);

    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({
      organisations: 1,
      invoicesSeen: 3,
      archived: 3,
      notified: 1,
      errors: 0,
    });
    for (const invoice of sandbox.listInvoices(orgId)) {
      const stored = await s3.getObjectBytes(BUCKET, csvKey('bot/', orgId, invoice.startDate, invoice.id));
      expect(stored.equals(await sandboxCsv(sandbox, orgId, invoice.id))).toBe(true);
    }
    expect(slack.messagesIn('C0BOTPOLL')).toHaveLength(1);
  });

  it('posts through an incoming webhook with the slim undici request', async () => {
    const { sandbox, slack } = standIns;
    const orgId = sandbox.createOrg({ name: 'Webhook Org', invoices: 2 }).id;
    const env = pollEnv(orgId, 'webhook/', { SLACK_WEBHOOK_URL: slack.webhookUrl('C0HOOKPOLL') });

    const report = await poll(bundles['poll-invoices']?.file ?? '', env);

    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({ archived: 2, notified: 1 });
    expect(slack.messagesIn('C0HOOKPOLL')).toHaveLength(1);
  });
});

describe('the spend chart renderer as bundled', () => {
  it('draws a PNG in a fresh process from the built files alone (the native build of this machine)', async () => {
    const hostDir = path.join(dir, 'host');
    const [built] = await buildFunctions({
      outDir: hostDir,
      only: ['poll-invoices'],
      sourcemap: false,
      runtime: 'host',
    });
    const renderer = path.join(path.dirname(built?.file ?? ''), 'spend-chart.js');

    const png = await invoke<{ type: string; data: number[] }>(
      { bundle: renderer, kind: 'call', exportName: 'drawSpendChartPng', args: [DEMO_INPUT] },
      {},
    );

    expect(readPngSize(Buffer.from(png.data)).width).toBe(720);
  }, 60_000);

  it('is not part of the slash-command function', async () => {
    const commandDir = path.dirname(bundles['slack-command']?.file ?? '');

    const files = await listFiles(commandDir);

    expect(RUNTIME_PACKAGES['slack-command'].packages).toEqual([]);
    expect(
      files.filter((f) => f.endsWith('.node') || f.endsWith('.ttf') || f.includes('node_modules')),
    ).toEqual([]);
    expect(await readFile(bundles['slack-command']?.file ?? '', 'utf8')).not.toContain('resvg');
  });
});

/** Every bundled input of a built function, across its entry and its separately written files. */
function bundledInputs(bundle: BuiltBundle): string[] {
  return Object.keys(bundle.metafile.inputs);
}

/** The SDK's credential providers other than the environment's, and what only they bring in. */
const CHAIN_ONLY =
  /@aws-sdk\/(credential-provider-(node|sso|ini|process|web-identity|http|login)|nested-clients|token-providers)\/|@smithy\/credential-provider-imds\//;

describe('AWS credentials in the Lambda bundles', () => {
  /** A Secrets Manager endpoint that checks each request's SigV4 signature and session token, answering one secret. */
  async function startSigningCheck(secret: Record<string, string>) {
    const seen: {
      ok: boolean;
      accessKeyId: string | undefined;
      token: string | undefined;
      signed: string[];
    }[] = [];
    const server = createServer(async (req, res) => {
      const body = await readSmallBody(req, 64 * 1024);
      const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?');
      const verdict = await verifySigV4(
        {
          method: req.method ?? 'POST',
          path: rawPath,
          query: parseQuery(rawQuery),
          rawHeaders: req.rawHeaders,
          body,
        },
        {
          service: 'secretsmanager',
          region: LOCAL_AWS_REGION,
          credentials: [LOCAL_AWS_CREDENTIALS],
          now: Date.now(),
          uriEscapePath: true,
        },
      );
      const authorization = headerValue(req.rawHeaders, 'authorization') ?? '';
      seen.push({
        ok: verdict.ok,
        accessKeyId: /Credential=([^/]+)\//.exec(authorization)?.[1],
        token: headerValue(req.rawHeaders, 'x-amz-security-token'),
        signed: /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [],
      });
      res.writeHead(verdict.ok ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        verdict.ok
          ? JSON.stringify({
              ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app',
              Name: 'app',
              SecretString: JSON.stringify(secret),
            })
          : JSON.stringify({ __type: 'InvalidSignatureException', message: verdict.message }),
      );
    });
    const { url } = await listenLocal(server);
    return { url, seen, close: () => closeServer(server) };
  }

  /** The credentials as Lambda sets them for the function's role: a key pair and a session token. */
  const lambdaCredentials = {
    AWS_REGION: LOCAL_AWS_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEL7//////////wEaCXVzLWVhc3QtMSJHMEUCIQ-lambda-session-token',
  };

  it('bundles the environment provider and none of the rest of the default chain', () => {
    for (const name of ['poll-invoices', 'slack-command'] as const) {
      const inputs = bundledInputs(bundles[name] as BuiltBundle);

      expect(
        inputs.filter((input) => CHAIN_ONLY.test(input)),
        name,
      ).toEqual([]);
      expect(
        inputs.some((input) => input.includes('@aws-sdk/credential-provider-env/')),
        name,
      ).toBe(true);
    }
  });

  it('signs with the key pair and session token Lambda puts in the environment (both functions)', async () => {
    const secret = { SLACK_SIGNING_SECRET: SIGNING_SECRET, ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId };
    const check = await startSigningCheck(secret);
    try {
      const env = {
        ...lambdaCredentials,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: check.url,
        APP_SECRET_ID: 'app',
        ATLAS_ORG_IDS: '65f0c0ffee00de00000000be',
        ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
        ARCHIVE_BUCKET: BUCKET,
        SLACK_BOT_TOKEN: 'xoxb-bundle-test',
        SLACK_CHANNEL: CHANNEL,
        SLACK_ALLOWED_TEAM_IDS: TEAM,
        LOG_LEVEL: 'warn',
      };
      sample += 1;
      const prepared = await runCold(
        { bundle: bundles['poll-invoices']?.file ?? '', kind: 'prepare', returnResult: true },
        path.join(dir, `spec-${sample}.json`),
        childEnv(env),
      );
      sample += 1;
      const answered = await runCold(
        {
          bundle: bundles['slack-command']?.file ?? '',
          kind: 'invoke',
          event: signedCommandEvent('help', SIGNING_SECRET, TEAM),
          returnResult: true,
        },
        path.join(dir, `spec-${sample}.json`),
        childEnv(env),
      );

      expect(prepared.result).toBeUndefined();
      expect((answered.result as HttpResult).statusCode).toBe(200);
      expect(check.seen).toHaveLength(2);
      for (const request of check.seen) {
        expect(request).toMatchObject({
          ok: true,
          accessKeyId: lambdaCredentials.AWS_ACCESS_KEY_ID,
          token: lambdaCredentials.AWS_SESSION_TOKEN,
        });
        expect(request.signed).toContain('x-amz-security-token');
      }
    } finally {
      await check.close();
    }
  });

  it('does not fall back to a shared credentials file: without credentials in the environment the secret is not read', async () => {
    const check = await startSigningCheck({});
    const credentialsFile = path.join(dir, 'aws-credentials');
    await writeFile(
      credentialsFile,
      `[default]\naws_access_key_id = ${LOCAL_AWS_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${LOCAL_AWS_CREDENTIALS.secretAccessKey}\n`,
    );
    try {
      sample += 1;
      const run = runCold(
        { bundle: bundles['poll-invoices']?.file ?? '', kind: 'prepare' },
        path.join(dir, `spec-${sample}.json`),
        childEnv({
          AWS_REGION: LOCAL_AWS_REGION,
          AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: check.url,
          APP_SECRET_ID: 'app',
          ATLAS_ORG_IDS: '65f0c0ffee00de00000000be',
          ATLAS_CLIENT_ID: DEMO_SERVICE_ACCOUNT.clientId,
          ATLAS_CLIENT_SECRET: DEMO_SERVICE_ACCOUNT.clientSecret,
          ARCHIVE_BUCKET: BUCKET,
          SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x',
        }),
      );

      await expect(run).rejects.toThrow(
        /APP_SECRET_ID: could not read the secret \(CredentialsProviderError\)/,
      );
      expect(check.seen).toEqual([]);
    } finally {
      await check.close();
    }
  });
});
