import type { PresignedLink, StateReader } from '../archive/ports';
import type { SpendReader } from '../archive/spend-store';
import { withNotes } from '../digest/message-notes';
import { type OrgSpend, orgBudgetCents, readOrgSpend, sharedSignal } from '../digest/read-org-spend';
import { describeError } from '../errors';
import type { Logger } from '../log';
import { utcMonthOf } from '../spend/calendar';
import { buildSpendReply, type ChartImage, spendAltText } from '../spend/messages';
import type { SpendSettings } from '../spend/settings';
import type { SpendChartLinks } from './chart-links';
import { estimateNextPoll } from './next-poll';
import type { Visibility } from './parse';
import {
  type SlackReply,
  spendMissingText,
  spendNotRecordedReply,
  spendUnreadableReply,
  spendUnreadableText,
  unwatchedOrgReply,
} from './replies';

/** What `/invoice spend` reads: the poller's state and spend records, and the stored charts. */
export interface SpendCommandDeps {
  readonly state: StateReader;
  readonly spend: SpendReader;
  readonly charts: SpendChartLinks;
  /** The budgets the answer measures against (SPEND_BUDGETS). */
  readonly spendSettings: SpendSettings;
  readonly orgIds: readonly string[];
  /** Epoch milliseconds. */
  readonly now: () => number;
  /**
   * Epoch milliseconds on the billing calendar: which month is current and which usage days are complete. Default
   * `now`; a simulated calendar (the local demo's) replaces it without moving the signature window or link expiry.
   */
  readonly calendar?: (() => number) | undefined;
  readonly log: Logger;
  readonly pollIntervalMinutes?: number | undefined;
}

/** Slack refuses an image block whose `image_url` is longer. */
const IMAGE_URL_MAX = 3000;

/**
 * `/invoice spend [org id]`: one organisation in full, or every watched one (one section each, a total across them),
 * from what the poller stored: per organisation its state, the spend records of the month and the four before it
 * (the forecast's window, the comparison and the range's backtest, as the alerts use them) and a HEAD of the month's
 * chart, all in parallel (a second round only when the pending invoice is not the current month's). No Atlas call.
 * An organisation without a record yet, or whose record cannot be read, gets a clear answer (or a note when others
 * could be shown). The chart is shown as a presigned link to the stored PNG, only when it exists, with alt text
 * carrying the figures.
 */
export async function answerSpend(
  deps: SpendCommandDeps,
  orgId: string | undefined,
  visibility: Visibility,
  command: string,
  signal: AbortSignal,
): Promise<SlackReply> {
  if (orgId !== undefined && !deps.orgIds.includes(orgId)) return unwatchedOrgReply(orgId);
  const orgIds = orgId === undefined ? deps.orgIds : [orgId];
  const now = (deps.calendar ?? deps.now)();
  const shared = sharedSignal(signal, orgIds.length);
  const read = await Promise.all(orgIds.map((id) => readWithChart(deps, id, now, shared)));

  const found = read.filter((r) => r.spend.kind === 'found');
  const unreadable = read.filter((r) => r.spend.kind === 'unreadable').map((r) => orgOf(r.spend));
  if (found.length === 0) {
    if (unreadable.length > 0) return spendUnreadableReply(unreadable);
    return spendNotRecordedReply({
      orgs: read.map((r) => orgOf(r.spend)),
      nextPollAt: estimateNextPoll(
        deps.pollIntervalMinutes,
        read.map((r) => r.spend.state),
        now,
      ),
      command,
    });
  }
  const images: Record<string, ChartImage> = {};
  for (const { spend, chart } of found) {
    if (spend.kind !== 'found' || chart === undefined) continue;
    const { overview } = spend;
    images[spend.orgId] = {
      imageUrl: chart.url,
      altText: spendAltText({
        orgId: overview.orgId,
        orgName: overview.orgName,
        forecast: overview.forecast,
        budgetCents: orgBudgetCents(overview),
      }),
    };
  }
  const missing = read.filter((r) => r.spend.kind === 'missing').map((r) => orgOf(r.spend));
  const message = buildSpendReply(
    found.flatMap((r) => (r.spend.kind === 'found' ? [r.spend.overview] : [])),
    { images, missingOrgIds: missing.map((org) => org.orgId) },
  );
  // Several organisations shown together carry their own note on those without data; one shown in full does not.
  const notes = [
    ...(found.length === 1 && missing.length > 0 ? [spendMissingText(missing)] : []),
    ...(unreadable.length > 0 ? [spendUnreadableText(unreadable)] : []),
  ];
  const { text, blocks } = withNotes(message, notes);
  return { response_type: visibility, text, blocks };
}

interface ReadWithChart {
  readonly spend: OrgSpend;
  readonly chart: PresignedLink | undefined;
}

/**
 * The organisation's spend and, in parallel, the link to the current UTC month's chart; the chart of another month
 * is looked up once the spend says which month it is. A failed look-up only leaves the picture out.
 */
async function readWithChart(
  deps: SpendCommandDeps,
  orgId: string,
  now: number,
  signal: AbortSignal,
): Promise<ReadWithChart> {
  const link = (month: string) =>
    deps.charts.linkChart(orgId, month, signal).catch((error: unknown) => {
      deps.log.warn('looking up a spend chart failed', { orgId, month, error: describeError(error) });
      return undefined;
    });
  const guess = utcMonthOf(now);
  const guessed = link(guess);
  const spend = await readOrgSpend(
    { state: deps.state, spend: deps.spend, settings: deps.spendSettings, log: deps.log },
    orgId,
    now,
    signal,
  );
  // Awaited whatever the answer, so no request outlives the invocation (it was sent alongside the reads).
  const first = await guessed;
  if (spend.kind !== 'found') return { spend, chart: undefined };
  const chart = spend.month === guess ? first : await link(spend.month);
  return { spend, chart: chart !== undefined && chart.url.length <= IMAGE_URL_MAX ? chart : undefined };
}

function orgOf(spend: OrgSpend): { orgId: string; orgName: string | undefined } {
  return { orgId: spend.orgId, orgName: spend.state?.orgName };
}
