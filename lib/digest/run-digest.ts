import type { SlackDelivery } from '../config';
import { AppError, describeError } from '../errors';
import type { Deadline } from '../retry';
import type { RunOutcome } from '../scheduled-run';
import {
  type FileUploadClient,
  isFileNotReady,
  postWhileFileProcesses,
  uploadSlackFile,
} from '../slack/files';
import { code, escapeAndTruncate, plainText } from '../slack/mrkdwn';
import type { Notifier } from '../slack/notifier';
import { formatMonthName, parseMonth } from '../spend/calendar';
import { buildSpendDigest, type ChartImage, type SpendMessage, spendAltText } from '../spend/messages';
import type { SpendOverview } from '../spend/spend-overview';
import type { SpendChartReader } from './chart-reader';
import { withNotes } from './message-notes';
import {
  type OrgSpend,
  type OrgSpendDeps,
  orgBudgetCents,
  readOrgSpend,
  sharedSignal,
} from './read-org-spend';

/**
 * The scheduled spend digest: one message per Slack channel with each organisation routed to it (month-to-date,
 * forecast against last month and the budget, top projects, biggest movers) and, for several, their total. Reads
 * only what the poller stored (per organisation its state and the spend records of the month and the months before
 * it, all in parallel: see read-org-spend.ts);
 * no Atlas call. Organisations go where their notifications go (SLACK_CHANNEL_ROUTES, else SLACK_CHANNEL, or the
 * incoming webhook's channel), so a channel sees the organisations it already follows and no other.
 *
 * Charts: with a bot token each shown organisation's stored chart PNG is uploaded (Slack's upload flow, the file kept
 * by the app) and shown from the digest by its file id, so the picture stays with the message in the channel's
 * history; a presigned link would stop loading after its expiry. An incoming webhook cannot upload: the digest goes
 * without pictures. A chart that cannot be read or uploaded is left out (its alt text's figures are in the section
 * anyway), and a post Slack still refuses because a file is not processed yet is sent again without pictures.
 *
 * Failures: each channel is posted independently. A channel whose post failed, or an organisation whose record could
 * not be read (the digest goes out with a note), makes the report not ok: the handler logs once and fails, so the
 * function's error alarm fires. Nothing is retried beyond the notifier's own bounded retry: a second run would post
 * the same digest twice to the channels that got it.
 */
export interface DigestDeps extends OrgSpendDeps {
  readonly orgIds: readonly string[];
  /** Where each organisation's messages go (the poller's routing). */
  readonly delivery: SlackDelivery;
  readonly notifier: Notifier;
  /** With a bot token: the stored charts and the client that uploads them. Absent for an incoming webhook. */
  readonly charts?: { readonly reader: SpendChartReader; readonly uploader: FileUploadClient } | undefined;
  /** Epoch milliseconds: which month, and which of its days are complete. */
  readonly now: () => number;
  readonly deadline: Deadline;
  /** Waits between posts Slack refuses while an uploaded chart is processed (default FILE_PROCESSING_DELAYS_MS). */
  readonly fileProcessingDelaysMs?: readonly number[];
}

export interface DigestReport {
  /** Every channel got its digest and every organisation's record could be read. */
  readonly ok: boolean;
  readonly channels: readonly ChannelDigest[];
}

export interface ChannelDigest {
  /** A channel id, or `webhook`. */
  readonly channel: string;
  readonly orgIds: readonly string[];
  readonly posted: boolean;
  /** Organisations without a record of the month yet, and those whose record could not be read. */
  readonly missing: readonly string[];
  readonly unreadable: readonly string[];
  /** Charts shown. */
  readonly charts: number;
  /** Why the post failed (error name, message and Slack's code; never a token or URL). */
  readonly error?: Record<string, unknown>;
}

/** The run could not post every digest or read every organisation; the report says which. */
export class DigestFailedError extends AppError {
  override readonly name = 'DigestFailedError';
  constructor(readonly report: DigestReport) {
    const failed = report.channels.filter((c) => !c.posted).length;
    const unreadable = report.channels.reduce((n, c) => n + c.unreadable.length, 0);
    super(
      `spend digest incomplete: ${failed} of ${report.channels.length} channels not posted, ${unreadable} organisations unreadable`,
    );
  }
}

/**
 * The digest's log line: per channel what was shown, or, when a channel was not posted or an organisation not read,
 * those channels and the DigestFailedError to throw.
 */
export function describeDigest(report: DigestReport): RunOutcome {
  if (!report.ok) {
    return {
      message: 'spend digest failed',
      error: new DigestFailedError(report),
      fields: {
        failures: report.channels
          .filter((c) => !c.posted || c.unreadable.length > 0)
          .map(({ channel, posted, unreadable, error: cause }) => ({
            channel,
            posted,
            unreadable,
            error: cause,
          })),
      },
    };
  }
  return {
    message: 'spend digest posted',
    fields: {
      channels: report.channels.map(({ channel, orgIds, missing, charts }) => ({
        channel,
        organisations: orgIds.length,
        missing: missing.length,
        charts,
      })),
    },
  };
}

/** The organisations of each channel, in the order of ATLAS_ORG_IDS; `undefined` collects those with no channel. */
export function groupByChannel(
  delivery: SlackDelivery,
  orgIds: readonly string[],
): Map<string | undefined, string[]> {
  const groups = new Map<string | undefined, string[]>();
  for (const orgId of orgIds) {
    const channel =
      delivery.kind === 'webhook' ? 'webhook' : (delivery.routes.get(orgId) ?? delivery.defaultChannel);
    groups.set(channel, [...(groups.get(channel) ?? []), orgId]);
  }
  return groups;
}

export async function runSpendDigest(deps: DigestDeps): Promise<DigestReport> {
  const now = deps.now();
  const signal = sharedSignal(deps.deadline.signal, deps.orgIds.length);
  const spends = new Map(
    await Promise.all(
      deps.orgIds.map(async (orgId) => [orgId, await readOrgSpend(deps, orgId, now, signal)] as const),
    ),
  );
  const allWatched = [...spends.values()].flatMap((s) => (s.kind === 'found' ? [s.overview] : []));
  const channels: ChannelDigest[] = [];
  for (const [channel, orgIds] of groupByChannel(deps.delivery, deps.orgIds)) {
    const of = orgIds.map((id) => spends.get(id)).filter((s): s is OrgSpend => s !== undefined);
    channels.push(await postChannelDigest(deps, channel, of, allWatched, signal));
  }
  return {
    ok: channels.every((c) => c.posted && c.unreadable.length === 0),
    channels,
  };
}

async function postChannelDigest(
  deps: DigestDeps,
  channel: string | undefined,
  spends: readonly OrgSpend[],
  allWatched: readonly SpendOverview[],
  signal: AbortSignal,
): Promise<ChannelDigest> {
  const overviews = spends.flatMap((s) => (s.kind === 'found' ? [s.overview] : []));
  const missing = spends.filter((s) => s.kind === 'missing');
  const unreadable = spends.filter((s) => s.kind === 'unreadable');
  const base = {
    channel: channel ?? 'none',
    orgIds: spends.map((s) => s.orgId),
    missing: missing.map((s) => s.orgId),
    unreadable: unreadable.map((s) => s.orgId),
  };
  const compose = (images: Readonly<Record<string, ChartImage>>): SpendMessage =>
    withNotes(
      buildSpendDigest(overviews, { images, missingOrgIds: base.missing, allWatched }),
      unreadable.length === 0 ? [] : [unreadableNote(unreadable)],
    );
  const first = spends[0];
  if (first === undefined) return { ...base, posted: true, charts: 0 };
  const images = await uploadCharts(deps, overviews, shownOrgIds(overviews, compose), signal);
  try {
    await post(deps, first.orgId, compose(images), Object.keys(images).length > 0);
    return { ...base, posted: true, charts: Object.keys(images).length };
  } catch (error) {
    if (!isFileNotReady(error)) return { ...base, posted: false, charts: 0, error: describeError(error) };
    deps.log.warn('Slack had not processed the charts in time: posting the digest without them', {
      channel,
    });
  }
  try {
    await post(deps, first.orgId, compose({}), false);
    return { ...base, posted: true, charts: 0 };
  } catch (error) {
    return { ...base, posted: false, charts: 0, error: describeError(error) };
  }
}

/** Posts through the notifier, which routes by organisation: the first of the channel's names the channel. */
function post(deps: DigestDeps, orgId: string, message: SpendMessage, withFiles: boolean): Promise<void> {
  const send = () => deps.notifier.post(orgId, message, deps.deadline);
  if (!withFiles) return send();
  return postWhileFileProcesses(send, {
    deadline: deps.deadline,
    ...(deps.fileProcessingDelaysMs === undefined ? {} : { delaysMs: deps.fileProcessingDelaysMs }),
  });
}

/**
 * The organisations whose section the digest shows with room for a picture (it shows as many as 50 blocks hold,
 * the most urgent first), found by laying it out with a placeholder for each: only their charts are uploaded.
 */
function shownOrgIds(
  overviews: readonly SpendOverview[],
  compose: (images: Readonly<Record<string, ChartImage>>) => SpendMessage,
): Set<string> {
  const placeholders = Object.fromEntries(
    overviews.map((o) => [o.orgId, { imageUrl: `https://placeholder.invalid/${o.orgId}`, altText: o.orgId }]),
  );
  const shown = new Set<string>();
  for (const block of compose(placeholders).blocks) {
    const url = block.type === 'image' ? String(block.image_url) : '';
    if (url.startsWith('https://placeholder.invalid/'))
      shown.add(url.slice('https://placeholder.invalid/'.length));
  }
  return shown;
}

/** Each shown organisation's stored chart, uploaded; one that cannot be read or uploaded is left out. */
async function uploadCharts(
  deps: DigestDeps,
  overviews: readonly SpendOverview[],
  shown: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<Record<string, ChartImage>> {
  const charts = deps.charts;
  if (charts === undefined) return {};
  const uploaded = await Promise.all(
    overviews
      .filter((o) => shown.has(o.orgId))
      .map(async (overview): Promise<[string, ChartImage] | undefined> => {
        const { orgId, month } = overview;
        try {
          const bytes = await charts.reader.readChart(orgId, month, signal);
          if (bytes === undefined) return undefined;
          const altText = spendAltText({
            orgId,
            orgName: overview.orgName,
            forecast: overview.forecast,
            budgetCents: orgBudgetCents(overview),
          });
          const title = `Atlas spend, ${overview.orgName ?? orgId}, ${formatMonthName(parseMonth(month) as number)}`;
          const slackFileId = await uploadSlackFile(
            charts.uploader,
            { bytes, filename: `atlas-spend-${month}-${orgId}.png`, title: plainText(title, 250), altText },
            { deadline: deps.deadline },
          );
          return [orgId, { slackFileId, altText }];
        } catch (error) {
          deps.log.warn('the digest leaves a chart out: it could not be read or uploaded', {
            orgId,
            month,
            error: describeError(error),
          });
          return undefined;
        }
      }),
  );
  return Object.fromEntries(uploaded.filter((entry) => entry !== undefined));
}

function unreadableNote(spends: readonly OrgSpend[]): string {
  const names = spends
    .slice(0, 10)
    .map((s) => (s.state?.orgName ? escapeAndTruncate(s.state.orgName, 60) : code(s.orgId)));
  const more = spends.length > names.length ? ` and ${spends.length - names.length} more` : '';
  return `The stored spend of ${names.join(', ')}${more} could not be read, so this digest leaves it out. Ask \`/invoice spend\` later; whoever runs the Atlas invoice app finds the reason in the digest's logs.`;
}
