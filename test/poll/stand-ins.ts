import { S3Client } from '@aws-sdk/client-s3';
import { WebClient } from '@slack/web-api';
import {
  type AtlasSandbox,
  type AtlasSandboxOptions,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../infra/local/atlas-sandbox';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { type SlackStandIn, type SlackStandInOptions, startSlackStandIn } from '../../infra/local/slack';
import { createCsvArchive } from '../../lib/archive/csv-archive';
import { createIndexStore } from '../../lib/archive/index-store';
import { createSpendStore } from '../../lib/archive/spend-store';
import { createStateStore } from '../../lib/archive/state-store';
import { type AtlasClient, createAtlasClient } from '../../lib/atlas/client';
import { createCsvInspector } from '../../lib/invoices/csv-summary';
import { silentLogger } from '../../lib/log';
import type { PollDeps } from '../../lib/poll/run-poll';
import { NO_DEADLINE, type RetryPolicy } from '../../lib/retry';
import { createSlackNotifier, slackWebClientOptions } from '../../lib/slack/notifier';
import { renderSpendChartPng } from '../../lib/spend/chart/render-png';
import { DEFAULT_SPEND_SETTINGS, type SpendSettings } from '../../lib/spend/settings';

/**
 * The real servers the poll talks to in integration tests, all on 127.0.0.1 with port 0: the Atlas sandbox, the S3
 * stand-in (conditional writes enforced, versioning on) and the Slack stand-in. Built once per test file.
 */
export const BUCKET = 'invoice-archive';
export const FAST_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

export interface StandIns {
  readonly sandbox: AtlasSandbox;
  readonly s3: S3StandIn;
  readonly slack: SlackStandIn;
  close(): Promise<void>;
}

export async function startStandIns(
  sandboxOptions: AtlasSandboxOptions = {},
  slackOptions: SlackStandInOptions = {},
): Promise<StandIns> {
  const [sandbox, s3, slack] = await Promise.all([
    startAtlasSandbox({ rateLimit: false, ...sandboxOptions }),
    startS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] }),
    startSlackStandIn(slackOptions),
  ]);
  return {
    sandbox,
    s3,
    slack,
    close: async () => {
      await Promise.all([sandbox.close(), s3.close(), slack.close()]);
    },
  };
}

export interface RealPorts {
  readonly deps: PollDeps;
  readonly atlas: AtlasClient;
  readonly s3Client: S3Client;
  close(): Promise<void>;
}

/** The production ports wired to the stand-ins, as the handler wires them, for tests that drive `runPoll`. */
export function realPorts(
  standIns: StandIns,
  init: {
    prefix: string;
    orgIds: readonly string[];
    channel: string;
    now?: () => Date;
    spend?: SpendSettings;
  },
): RealPorts {
  const { sandbox, s3, slack } = standIns;
  const s3Client = new S3Client(s3.clientConfig());
  const atlas = createAtlasClient({
    baseUrl: sandbox.url,
    credentials: { kind: 'service-account', ...DEMO_SERVICE_ACCOUNT },
    retry: FAST_RETRY,
  });
  const indexStore = createIndexStore({ s3: s3Client, bucket: BUCKET, prefix: init.prefix });
  const deps: PollDeps = {
    atlas,
    archive: createCsvArchive({
      s3: s3Client,
      bucket: BUCKET,
      prefix: init.prefix,
      createInspector: createCsvInspector,
      index: indexStore,
    }),
    stateStore: createStateStore({ s3: s3Client, bucket: BUCKET, prefix: init.prefix }),
    indexStore,
    spendStore: createSpendStore({ s3: s3Client, bucket: BUCKET, prefix: init.prefix }),
    spend: init.spend ?? DEFAULT_SPEND_SETTINGS,
    renderChart: renderSpendChartPng,
    notifier: createSlackNotifier({
      transport: {
        kind: 'bot',
        client: new WebClient(
          slack.token,
          slackWebClientOptions({ apiUrl: slack.apiUrl, log: silentLogger }),
        ),
        defaultChannel: init.channel,
        routes: new Map(),
      },
      log: silentLogger,
      retry: FAST_RETRY,
    }),
    log: silentLogger,
    now: init.now ?? (() => new Date()),
    deadline: NO_DEADLINE,
    orgIds: init.orgIds,
    concurrency: 2,
    topN: 5,
  };
  return {
    deps,
    atlas,
    s3Client,
    close: async () => {
      s3Client.destroy();
      await atlas.close();
    },
  };
}

/** The bytes the sandbox serves for an invoice's CSV now. */
export async function sandboxCsv(sandbox: AtlasSandbox, orgId: string, invoiceId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of sandbox.csvStream(orgId, invoiceId)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
