import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ScheduledEvent } from 'aws-lambda';
import { createPollHandler } from '../../functions/poll-invoices';
import { createSlackCommandHandler } from '../../functions/slack-command';
import { createDigestHandler } from '../../functions/spend-digest';
import { createIndexStore } from '../../lib/archive/index-store';
import type { IndexReader } from '../../lib/archive/ports';
import { type Env, loadCommandConfig, loadDigestConfig, loadPollConfig } from '../../lib/config';
import { DigestFailedError, type DigestReport } from '../../lib/digest/run-digest';
import { PollFailedError, type PollReport } from '../../lib/poll/report';
import { createSecretsManagerReader } from '../../lib/secrets';
import {
  type AtlasSandbox,
  DEMO_ORG_ID,
  DEMO_ORG_NAME,
  DEMO_SERVICE_ACCOUNT,
  type DemoStep,
  startAtlasSandbox,
} from './atlas-sandbox';
import { type CsvMirror, createCsvMirror } from './csv-mirror';
import { type DemoProgress, loadDemoProgress, monthOf, saveDemoProgress } from './demo-progress';
import {
  chooseDemoBudgetCents,
  type DemoStory,
  demoSpendBudgets,
  demoStorySandboxOptions,
  planDemoStory,
} from './demo-story';
import { type HttpBridge, type HttpExchange, startHttpBridge } from './http-bridge';
import { createLambdaContext } from './lambda-context';
import {
  buildHandlerEnv,
  firstListed,
  LOCAL_ARCHIVE_BUCKET,
  type LocalPlan,
  planLocalRun,
} from './local-env';
import { lockDataDir, removeRunFile, writeRunFile } from './run-file';
import { type S3StandIn, startS3StandIn } from './s3';
import { type SignedRequest, signedSlashCommand } from './signed-request';
import {
  LOCAL_SLACK_CHANNEL,
  LOCAL_SLACK_TEAM_ID,
  renderMessage,
  type SlackMessage,
  type SlackStandIn,
  startSlackStandIn,
} from './slack';
import { boxed, createPaint, formatLogLine, maskSecret, type Paint, sanitize } from './terminal';

/**
 * The local run behind `npm start`: starts the stand-ins the plan needs (see local-env.ts), builds the environment
 * the real handlers read, and invokes the real handlers (functions/poll-invoices.ts, functions/slack-command.ts)
 * through their factories as Lambda would: an EventBridge event and a context whose remaining time counts down
 * from the function's timeout (serverless.yml). Everything listens on 127.0.0.1 only.
 */

/** serverless.yml: pollInvoices `timeout: 300`, slackCommand `timeout: 6`, spendDigest `timeout: 120`. */
const POLL_TIMEOUT_MS = 300_000;
const COMMAND_TIMEOUT_MS = 6_000;
const DIGEST_TIMEOUT_MS = 120_000;
const DEMO_SEED = 1;
export const SLASH_COMMAND_PATH = '/slack/events';
const LOCAL_USER_ID = 'U0LOCALUSER';

export interface LocalRunOptions {
  /** The user's environment: real settings in it replace stand-ins. Only read, never changed. */
  readonly env: Env;
  /** Where the stand-ins keep data between runs (`.local`). */
  readonly dataDir: string;
  /** Wipe the stand-in archive and the demo story first. */
  readonly fresh?: boolean;
  /** Port of the slash-command endpoint (0: any); undefined: no endpoint. A taken port falls back to a free one. */
  readonly port?: number;
  /** Seconds between polls, which the slash command quotes as the next archive time. */
  readonly intervalSeconds: number;
  /** Where everything printed goes (one call per block of lines, no trailing newline). */
  readonly print: (text: string) => void;
  readonly color?: boolean;
  /** Print the handlers' JSON log lines. */
  readonly verbose?: boolean;
  /** Epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

export interface PollOutcome {
  readonly ok: boolean;
  readonly report?: PollReport;
  /** Set when the handler failed without a report (configuration, an unexpected error). */
  readonly error?: unknown;
  /** Readable copies of the CSVs this poll archived (stand-in archive only). */
  readonly archivedFiles: readonly string[];
  /**
   * Readable copies of the spend charts this poll stored that none of its messages showed (a message showing one has
   * the copy's path printed under it). Stand-in archive only.
   */
  readonly chartFiles: readonly string[];
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface DigestOutcome {
  readonly ok: boolean;
  readonly report?: DigestReport;
  /** Set when the handler failed without a report (configuration, an unexpected error). */
  readonly error?: unknown;
}

/** The demo story and the stand-in budget it is watched against (sandbox only). */
export interface DemoStoryInfo {
  readonly story: DemoStory;
  /** The story's current day, `YYYY-MM-DD`. */
  today(): string;
  /** `SPEND_BUDGETS` when it is the demo's stand-in; undefined when the user exported their own. */
  readonly standInBudgets: string | undefined;
}

export interface LocalRun {
  readonly plan: LocalPlan;
  /** The slash-command endpoint, e.g. `http://127.0.0.1:3000/slack/events`. */
  readonly endpointUrl: string | undefined;
  /** False when the requested port was taken and a free one is used instead. */
  readonly requestedPortUsed: boolean;
  /** Readable copies of the archived CSVs (stand-in archive only). */
  readonly csvDir: string | undefined;
  /** Readable copies of the stored spend charts (stand-in archive only). */
  readonly chartDir: string | undefined;
  readonly demo: DemoStoryInfo | undefined;
  /** Every readable CSV copy so far. */
  csvFiles(): string[];
  /** The start-up lines saying which parts are real and which are stand-ins. */
  describe(): string;
  /** Invokes the poll handler once; never throws. */
  poll(): Promise<PollOutcome>;
  /** Invokes the spend digest's handler once, as its weekly schedule would; never throws. */
  digest(): Promise<DigestOutcome>;
  /** One day of the demo story (sandbox only), saved so a restart resumes it. */
  advanceDemo(): Promise<DemoStep | undefined>;
  /** A slash command signed now with this run's signing secret. */
  signedCommand(text: string): SignedRequest;
  /** An archived invoice id worth asking about (the newest closed demo invoice), else `latest`. */
  suggestCommandText(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts everything and validates the configuration as the handlers will; a ConfigError (naming the variable) is
 * thrown after closing whatever had been started.
 */
export async function startLocalRun(options: LocalRunOptions): Promise<LocalRun> {
  const now = options.now ?? Date.now;
  const paint = createPaint(options.color ?? false);
  const print = options.print;
  const plan = planLocalRun(options.env);
  const dataDir = resolve(options.dataDir);
  const s3Dir = join(dataDir, 's3');
  const demoFile = join(dataDir, 'demo.json');
  const runFile = join(dataDir, 'run.json');
  await mkdir(dataDir, { recursive: true });
  // Before anything touches the directory: a second npm start here would share the stand-ins' files and replace the
  // first one's run.json. Throws DataDirInUseError naming the other process.
  const unlock = await lockDataDir(dataDir);

  const closers: Array<() => Promise<void>> = [unlock];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };
  try {
    if (options.fresh) {
      await rm(s3Dir, { recursive: true, force: true });
      await rm(demoFile, { force: true });
    }
    let sandbox: AtlasSandbox | undefined;
    let demo: DemoProgress | undefined;
    let story: DemoStory | undefined;
    let demoBudgets: string | undefined;
    if (plan.atlas === 'sandbox') {
      demo = await loadDemoProgress(demoFile, DEMO_SEED, monthOf(now()));
      story = planDemoStory(demo.month);
      sandbox = await startAtlasSandbox(demoStorySandboxOptions(story, { seed: DEMO_SEED, clock: now }));
      closers.push(() => (sandbox as AtlasSandbox).close());
      for (let i = 0; i < demo.steps; i++) sandbox.advanceDemo();
      const usage = sandbox;
      demoBudgets = demoSpendBudgets(
        chooseDemoBudgetCents(story, (day) => usage.usageDayCents(DEMO_ORG_ID, day)),
      );
    }
    // The handlers' clock: the demo story's calendar (one day per poll) with the sandbox, else the real one. The
    // slash command keeps the real clock for signatures and links, and reads spend on the story's calendar.
    const calendar = sandbox ? (sandbox as AtlasSandbox).calendar : now;
    let s3: S3StandIn | undefined;
    if (plan.archive === 'stand-in') {
      s3 = await startS3StandIn({
        dir: join(s3Dir, '.store'),
        buckets: [{ name: LOCAL_ARCHIVE_BUCKET, versioning: true }],
      });
      closers.push(() => (s3 as S3StandIn).close());
    }
    // Always started: it is the response_url of local slash commands even when notifications go to real Slack.
    const slack: SlackStandIn = await startSlackStandIn();
    closers.push(() => slack.close());

    const { env, localSigningSecret, standInBudgets } = buildHandlerEnv(options.env, plan, {
      ...(sandbox
        ? {
            atlas: {
              url: sandbox.url,
              orgId: DEMO_ORG_ID,
              clientId: DEMO_SERVICE_ACCOUNT.clientId,
              clientSecret: DEMO_SERVICE_ACCOUNT.clientSecret,
              ...(demoBudgets === undefined ? {} : { spendBudgets: demoBudgets }),
            },
          }
        : {}),
      ...(s3 ? { s3: s3.env() } : {}),
      slack: { apiUrl: slack.apiUrl, token: slack.token, channel: LOCAL_SLACK_CHANNEL },
      teamId: LOCAL_SLACK_TEAM_ID,
    });
    // The handlers would fail the same way on their first invocation; failing here names the variable up front.
    const pollConfig = loadPollConfig(env);
    loadCommandConfig(env);
    loadDigestConfig(env);

    const s3Clients: S3Client[] = [];
    const s3Client = (forcePathStyle: boolean): S3Client => {
      const client = s3
        ? new S3Client({
            endpoint: env.AWS_ENDPOINT_URL_S3,
            region: env.AWS_REGION,
            credentials: {
              accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
              secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
            },
            forcePathStyle,
          })
        : new S3Client({ forcePathStyle });
      s3Clients.push(client);
      return client;
    };
    closers.push(async () => {
      for (const client of s3Clients) client.destroy();
    });

    const logTo = (fn: 'poll' | 'command' | 'digest') => (line: string) => {
      const shown =
        fn === 'poll' && !options.verbose ? undefined : formatLogLine(line, options.verbose ?? false, paint);
      if (shown !== undefined) print(shown);
    };
    const pollHandler = createPollHandler({
      env,
      secrets: createSecretsManagerReader(
        new SecretsManagerClient({ region: env.AWS_REGION ?? 'us-east-1' }),
      ),
      s3: ({ forcePathStyle }) => s3Client(forcePathStyle),
      writeLog: logTo('poll'),
      now: () => new Date(calendar()),
    });
    const commandHandler = createSlackCommandHandler({
      env,
      s3: ({ forcePathStyle }) => s3Client(forcePathStyle),
      writeLog: logTo('command'),
      pollIntervalMinutes: options.intervalSeconds / 60,
      now,
      calendar,
    });
    const digestHandler = createDigestHandler({
      env,
      s3: ({ forcePathStyle }) => s3Client(forcePathStyle),
      writeLog: logTo('digest'),
      now: calendar,
    });

    const mirrorOf = (suffix: '.csv' | '.png', prefix: string): CsvMirror | undefined =>
      s3
        ? createCsvMirror({
            source: s3,
            bucket: LOCAL_ARCHIVE_BUCKET,
            prefix,
            root: join(s3Dir, LOCAL_ARCHIVE_BUCKET),
            suffix,
          })
        : undefined;
    const mirror = mirrorOf('.csv', pollConfig.archive.prefix);
    const chartMirror = mirrorOf('.png', `${pollConfig.archive.prefix}spend/`);
    if (mirror) await mirror.sync();
    if (chartMirror) await chartMirror.sync();

    // A message showing an uploaded chart gets the path of its readable copy under it (the stored chart with the same
    // bytes, copied now: the poll stores a chart before posting it).
    const shownCharts = new Set<string>();
    slack.onMessage((message) => {
      print(renderSlackMessage(message, paint, options.color ?? false));
      for (const fileId of slackFileIds(message.blocks)) {
        const bytes = slack.files.get(fileId)?.bytes;
        const copy =
          bytes === undefined || chartMirror === undefined
            ? undefined
            : chartMirror.copyMatching(`"${createHash('md5').update(bytes).digest('hex')}"`, bytes);
        if (copy === undefined) continue;
        shownCharts.add(copy.path);
        print(`  ${paint.dim('chart')} ${displayPath(copy.path)}`);
      }
    });

    const commandTeam = firstListed(env, 'SLACK_ALLOWED_TEAM_IDS', LOCAL_SLACK_TEAM_ID);
    const commandChannel = firstListed(
      env,
      'SLACK_ALLOWED_CHANNEL_IDS',
      /^[CGD][A-Z0-9]+$/.test(env.SLACK_CHANNEL ?? '') ? (env.SLACK_CHANNEL as string) : LOCAL_SLACK_CHANNEL,
    );
    const commandUser = firstListed(env, 'SLACK_ALLOWED_USER_IDS', LOCAL_USER_ID);
    const responseUrl = slack.responseUrl(undefined, 'commands');

    let bridge: HttpBridge | undefined;
    if (options.port !== undefined) {
      bridge = await startHttpBridge({
        port: options.port,
        fallbackToFreePort: true,
        routeKey: `POST ${SLASH_COMMAND_PATH}`,
        createContext: () =>
          createLambdaContext({ functionName: 'slackCommand', timeoutMs: COMMAND_TIMEOUT_MS }),
        handler: async (event, context) => {
          if (event.requestContext.http.method !== 'POST' || event.rawPath !== SLASH_COMMAND_PATH) {
            return {
              statusCode: 404,
              headers: { 'content-type': 'application/json' },
              body: '{"message":"Not Found"}',
            };
          }
          return commandHandler(event, context);
        },
        onExchange: (exchange) => {
          const shown = describeExchange(exchange, paint, options.color ?? false);
          if (shown !== undefined) print(shown);
          // A spend answer links its chart presigned: the readable copy of that stored chart, when there is one.
          for (const key of archiveKeysShown(exchange)) {
            const path = chartMirror?.pathOf(key);
            if (path !== undefined && key.endsWith('.png') && existsSync(path))
              print(`  ${paint.dim('chart')} ${displayPath(path)}`);
          }
        },
      });
      closers.push(() => (bridge as HttpBridge).close());
      await writeRunFile(runFile, {
        pid: process.pid,
        url: `${bridge.url}${SLASH_COMMAND_PATH}`,
        teamId: commandTeam,
        channelId: commandChannel,
        userId: commandUser,
        responseUrl,
        ...(localSigningSecret ? { signingSecret: env.SLACK_SIGNING_SECRET } : {}),
      });
      closers.push(() => removeRunFile(runFile));
    }
    const endpointUrl = bridge ? `${bridge.url}${SLASH_COMMAND_PATH}` : undefined;

    const describe = (): string => {
      const row = (name: string, kind: string, what: string) =>
        `  ${name.padEnd(9)}${kind === 'real' ? paint.yellow(kind.padEnd(9)) : paint.green(kind.padEnd(9))}${what}`;
      const orgs = pollConfig.orgIds.length;
      const lines = [paint.bold('Atlas invoice notifier: local run')];
      lines.push(
        sandbox
          ? [
              row(
                'Atlas',
                'sandbox',
                `${sandbox.url}  demo organisation ${sanitize(DEMO_ORG_NAME)} (${DEMO_ORG_ID})`,
              ),
              ...sandboxCliHint(sandbox.url, paint),
            ].join('\n')
          : row(
              'Atlas',
              'real',
              `${pollConfig.atlas.baseUrl}  ${orgs} organisation${orgs === 1 ? '' : 's'}, read-only`,
            ),
      );
      if (story !== undefined) {
        lines.push(
          row(
            'Story',
            'sandbox',
            `begins ${story.firstDay}, one day per poll: spend alerts from the first poll on`,
          ),
        );
      }
      if (standInBudgets && env.SPEND_BUDGETS !== undefined) {
        lines.push(
          row(
            'Budget',
            'stand-in',
            `SPEND_BUDGETS=${env.SPEND_BUDGETS} (chosen from the story's numbers; export SPEND_BUDGETS for your own)`,
          ),
        );
      }
      lines.push(
        s3
          ? row('S3', 'stand-in', `${s3.url}  bucket ${LOCAL_ARCHIVE_BUCKET}, kept in ${displayPath(s3Dir)}`)
          : row(
              'S3',
              'real',
              `bucket ${pollConfig.archive.bucket}, prefix ${pollConfig.archive.prefix || '(none)'}`,
            ),
      );
      const delivery = pollConfig.slack;
      lines.push(
        plan.slack === 'stand-in'
          ? row('Slack', 'stand-in', `${slack.url}  messages are printed here`)
          : delivery.kind === 'webhook'
            ? row('Slack', 'real', `incoming webhook ${maskSecret(delivery.url)}`)
            : row(
                'Slack',
                'real',
                `bot token ${maskSecret(delivery.token)}, channel ${delivery.defaultChannel ?? '(routes)'}`,
              ),
      );
      if (endpointUrl) {
        const secret = localSigningSecret
          ? `signing secret ${env.SLACK_SIGNING_SECRET} (random, this run only)`
          : `signing secret from SLACK_SIGNING_SECRET ${maskSecret(env.SLACK_SIGNING_SECRET ?? '')}`;
        lines.push(row('/invoice', 'local', `${endpointUrl}  ${secret}`));
      }
      for (const note of plan.notes) lines.push(`  ${paint.yellow('note')} ${note}`);
      return lines.join('\n');
    };

    let pollCount = 0;
    const poll = async (): Promise<PollOutcome> => {
      pollCount += 1;
      const startedAt = now();
      // The stand-ins record every request; a long run keeps only the current poll's.
      s3?.resetRequests();
      sandbox?.resetRequests();
      shownCharts.clear();
      const context = createLambdaContext({ functionName: 'pollInvoices', timeoutMs: POLL_TIMEOUT_MS, now });
      let report: PollReport | undefined;
      let error: unknown;
      try {
        report = await pollHandler(scheduledEvent(calendar(), `local-poll-${pollCount}`), context);
      } catch (caught) {
        if (caught instanceof PollFailedError) report = caught.report;
        else error = caught;
      }
      const archivedFiles = await mirrorWritten(mirror, '.csv');
      const chartFiles = (await mirrorWritten(chartMirror, '.png')).filter((path) => !shownCharts.has(path));
      return {
        ok: error === undefined && report?.ok === true,
        ...(report ? { report } : {}),
        ...(error === undefined ? {} : { error }),
        archivedFiles,
        chartFiles,
        startedAt,
        durationMs: now() - startedAt,
      };
    };

    /** The copies of the objects with this suffix that the stand-in stored since its requests were last reset. */
    const mirrorWritten = async (copies: CsvMirror | undefined, suffix: string): Promise<string[]> => {
      if (s3 === undefined || copies === undefined) return [];
      const stored = new Set(
        s3.requests
          .filter((r) => r.operation === 'PutObject' || r.operation === 'CompleteMultipartUpload')
          .filter((r) => r.status === 200 && r.key?.endsWith(suffix))
          .map((r) => r.key as string),
      );
      await copies.sync();
      return [...stored].sort().flatMap((key) => copies.pathOf(key) ?? []);
    };

    let digestCount = 0;
    const digest = async (): Promise<DigestOutcome> => {
      digestCount += 1;
      const context = createLambdaContext({ functionName: 'spendDigest', timeoutMs: DIGEST_TIMEOUT_MS, now });
      try {
        const report = await digestHandler(
          scheduledEvent(calendar(), `local-digest-${digestCount}`),
          context,
        );
        return { ok: report.ok, report };
      } catch (caught) {
        if (caught instanceof DigestFailedError) return { ok: false, report: caught.report };
        return { ok: false, error: caught };
      }
    };

    const demoInfo: DemoStoryInfo | undefined =
      story === undefined
        ? undefined
        : {
            story,
            today: () => new Date(calendar()).toISOString().slice(0, 10),
            standInBudgets: standInBudgets ? env.SPEND_BUDGETS : undefined,
          };

    const advanceDemo = async (): Promise<DemoStep | undefined> => {
      if (!sandbox || !demo) return undefined;
      const step = sandbox.advanceDemo();
      demo = { ...demo, steps: demo.steps + 1 };
      await saveDemoProgress(demoFile, demo);
      return step;
    };

    const signedCommand = (text: string): SignedRequest =>
      signedSlashCommand({
        url: endpointUrl ?? `http://127.0.0.1${SLASH_COMMAND_PATH}`,
        signingSecret: env.SLACK_SIGNING_SECRET as string,
        text,
        teamId: commandTeam,
        channelId: commandChannel,
        userId: commandUser,
        responseUrl,
        at: now(),
      });

    let index: IndexReader | undefined;
    const suggestCommandText = async (): Promise<string> => {
      if (!sandbox) return 'latest';
      index ??= createIndexStore({
        s3: s3Client(pollConfig.archive.forcePathStyle),
        bucket: pollConfig.archive.bucket,
        prefix: pollConfig.archive.prefix,
      });
      const invoices = sandbox.listInvoices(DEMO_ORG_ID);
      const preferred = [
        ...invoices.filter((i) => i.statusName !== 'PENDING'),
        ...invoices.filter((i) => i.statusName === 'PENDING'),
      ];
      for (const invoice of preferred) {
        const entry = await index.readIndex(invoice.id).catch(() => undefined);
        if (entry !== undefined) return invoice.id;
      }
      return 'latest';
    };

    return {
      plan,
      endpointUrl,
      requestedPortUsed: bridge?.requestedPortUsed ?? true,
      csvDir: mirror ? join(mirror.root, ...pollConfig.archive.prefix.split('/')) : undefined,
      chartDir: chartMirror
        ? join(chartMirror.root, ...`${pollConfig.archive.prefix}spend/`.split('/'))
        : undefined,
      demo: demoInfo,
      csvFiles: () => mirror?.files() ?? [],
      describe,
      poll,
      digest,
      advanceDemo,
      signedCommand,
      suggestCommandText,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The sandbox's base URL and demo credentials (they open nothing but this local sandbox, so they are shown), ready to
 * try the command line against it while the run lasts.
 */
function sandboxCliHint(url: string, paint: Paint): string[] {
  const indent = ' '.repeat(20);
  return [
    `${indent}${paint.dim('its credentials, for the command line while this runs (not secrets):')}`,
    `${indent}ATLAS_BASE_URL=${url} ATLAS_CLIENT_ID=${DEMO_SERVICE_ACCOUNT.clientId} \\`,
    `${indent}ATLAS_CLIENT_SECRET=${DEMO_SERVICE_ACCOUNT.clientSecret} \\`,
    `${indent}npm run -s cli -- invoices list --orgId ${DEMO_ORG_ID} --output table`,
  ];
}

/** An EventBridge scheduled event, as the rules in serverless.yml deliver it. */
function scheduledEvent(at: number, rule: string): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'local',
    resources: [`arn:aws:events:local:000000000000:rule/${rule}`],
    detail: {},
  };
}

function renderSlackMessage(message: SlackMessage, paint: Paint, color: boolean): string {
  const where =
    message.kind === 'response_url'
      ? `reply via response_url (${message.responseType ?? 'ephemeral'})`
      : `${message.channel ?? 'webhook'} (${message.kind})`;
  const title = `${paint.bold('Slack')} ${paint.dim(where)}`;
  return boxed(title, renderMessage({ text: message.text, blocks: message.blocks }, { color }), paint);
}

/** The slash command's answer, rendered; a refused signature explained. Undefined for nothing worth printing. */
function describeExchange(exchange: HttpExchange, paint: Paint, color: boolean): string | undefined {
  const { event, response } = exchange;
  const raw =
    event.body === undefined ? '' : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const form = new URLSearchParams(raw.toString());
  const asked = sanitize(`${form.get('command') ?? event.rawPath} ${form.get('text') ?? ''}`.trim()).slice(
    0,
    120,
  );
  if (response.statusCode === 401) {
    return `    ${paint.yellow('⚠')} ${asked}: refused (401). The signature is missing, wrong or older than 5 minutes: get a fresh command with ${paint.bold('npm start -- --sign "<text>"')}`;
  }
  if (response.statusCode !== 200)
    return `    ${paint.yellow('⚠')} ${asked}: answered ${response.statusCode}`;
  let reply: { text?: unknown; blocks?: unknown; response_type?: unknown };
  try {
    reply = JSON.parse(response.body.toString('utf8')) as typeof reply;
  } catch {
    return response.body.length === 0
      ? undefined
      : `    ${asked}: ${sanitize(response.body.toString('utf8').slice(0, 200))}`;
  }
  const rendered = renderMessage(
    {
      text: typeof reply.text === 'string' ? reply.text : undefined,
      blocks: Array.isArray(reply.blocks) ? reply.blocks : undefined,
    },
    { color },
  );
  const visibility = reply.response_type === 'in_channel' ? 'in channel' : 'ephemeral';
  return boxed(`${paint.bold(asked)} ${paint.dim(`→ reply (${visibility})`)}`, rendered, paint);
}

/** The archive keys a slash-command reply's image blocks link to (presigned, path-style URLs of the stand-in). */
function archiveKeysShown(exchange: HttpExchange): string[] {
  let reply: { blocks?: unknown };
  try {
    reply = JSON.parse(exchange.response.body.toString('utf8')) as typeof reply;
  } catch {
    return [];
  }
  const keys: string[] = [];
  for (const block of Array.isArray(reply.blocks) ? reply.blocks : []) {
    const url = (block as { type?: unknown; image_url?: unknown } | null)?.image_url;
    if ((block as { type?: unknown } | null)?.type !== 'image' || typeof url !== 'string') continue;
    const path = URL.canParse(url) ? new URL(url).pathname : '';
    const prefix = `/${LOCAL_ARCHIVE_BUCKET}/`;
    if (path.startsWith(prefix)) keys.push(decodeURIComponent(path.slice(prefix.length)));
  }
  return keys;
}

/** The ids of the uploaded files a message's image blocks show (`slack_file.id`). */
function slackFileIds(blocks: readonly unknown[] | undefined): string[] {
  const ids: string[] = [];
  for (const block of blocks ?? []) {
    if (typeof block !== 'object' || block === null) continue;
    const { type, slack_file: file } = block as { type?: unknown; slack_file?: { id?: unknown } };
    if (type === 'image' && typeof file?.id === 'string') ids.push(file.id);
  }
  return ids;
}

function displayPath(path: string): string {
  const cwd = process.cwd();
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}
