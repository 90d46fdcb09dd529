import { formatUsd } from '../invoices/money';
import { code, escapeAndTruncate, plainText, SLACK_LIMITS, truncateEscaped } from '../slack/mrkdwn';
import type {
  BudgetAlert,
  Driver,
  ForecastAlert,
  ScopeSpend,
  SpendAlert,
  SpendScope,
  SpikeAlert,
} from './alerts';
import {
  addMonths,
  formatDayRange,
  formatMonthName,
  formatShortDay,
  parseDay,
  parseMonth,
  weekdayOf,
} from './calendar';
import { LEVEL_WINDOW_DAYS, type MonthForecast, SHIFT_THRESHOLD, type SpendForecast } from './forecast';
import type { Mover, SpendOverview } from './spend-overview';
import type { SpikeMover } from './spikes';

/**
 * Pure Block Kit builders for the spend watch: budget, forecast and spike alerts, the digest and the `/invoice spend`
 * reply. Every message has a plain fallback `text`, shows each amount with its arithmetic, escapes every string from
 * outside (organisation, project, cluster and SKU names), stays inside Block Kit's limits (50 blocks, 3,000-character
 * sections, 150-character headers) and ends with what to do. Each builder takes an optional chart image, shown as an
 * image block with its alt text; `spendAltText` is the text that alt text should carry.
 */

export type Block = Record<string, unknown>;

export interface SpendMessage {
  /** Plain fallback for notifications and screen readers (mrkdwn-escaped: Slack parses it too). */
  readonly text: string;
  readonly blocks: readonly Block[];
}

/** A chart to show: an uploaded Slack file or a URL Slack can fetch, with the alt text (see `spendAltText`). */
export type ChartImage = ({ readonly slackFileId: string } | { readonly imageUrl: string }) & {
  readonly altText: string;
};

export interface MessageOptions {
  readonly image?: ChartImage | undefined;
}

export interface DigestOptions {
  /** Charts by organisation id, shown under each organisation's section. */
  readonly images?: Readonly<Record<string, ChartImage>>;
  /** Organisations asked about that have no stored series yet. */
  readonly missingOrgIds?: readonly string[];
  /**
   * Every watched organisation's overview, when the message shows only some of them (a channel's share of routed
   * organisations): a second total then covers them all.
   */
  readonly allWatched?: readonly SpendOverview[];
}

const NAME_MAX = 80;
const ORG_NAME_MAX = 120;
const IMAGE_ALT_MAX = 2000;
/** Blocks kept free for the header, the total, the notes and a truncation line. */
const RESERVED_BLOCKS = 6;
/** Blocks one organisation takes in the digest: its section, an image, a divider. */
const BLOCKS_PER_ORG = 3;

// ---------------------------------------------------------------------------------------------------------------
// Alerts

export function buildSpendAlertMessage(alert: SpendAlert, options: MessageOptions = {}): SpendMessage {
  switch (alert.kind) {
    case 'budget':
      return buildBudgetAlertMessage(alert, options);
    case 'forecast':
      return buildForecastAlertMessage(alert, options);
    case 'spike':
      return buildSpikeAlertMessage(alert, options);
  }
}

export function buildBudgetAlertMessage(alert: BudgetAlert, options: MessageOptions = {}): SpendMessage {
  const { forecast, budgetCents, monthToDateCents } = alert;
  const scope = scopeMrkdwn(alert.scope, alert.orgName);
  const spent = `*${formatUsd(monthToDateCents)}* spent this month (${completeRange(forecast)}) = *${percentOf(monthToDateCents, budgetCents)}* of the ${formatUsd(budgetCents)} monthly budget of ${scope}.`;
  const left = forecast.days - forecast.completeDays;
  const todo =
    alert.percent >= 100
      ? `*What to do:* the budget is used up with ${plural(left, 'day')} of ${monthName(alert.month)} left. Check the ${driverNoun(alert.scope)} above and scale down or pause what is not needed; if this spend is expected, raise the budget (\`SPEND_BUDGETS\`).`
      : forecast.kind === 'forecast' && forecast.forecastCents > budgetCents
        ? `*What to do:* at this rate the budget runs out before the month ends. Check the ${driverNoun(alert.scope)} above now.`
        : forecast.kind === 'forecast' && forecast.highCents > budgetCents
          ? `*What to do:* the forecast is just within the budget, but its range reaches above it. Check the ${driverNoun(alert.scope)} above for anything that can wait.`
          : '*What to do:* nothing yet: the forecast stays within the budget. This is a heads-up.';
  const blocks = [
    header(`Budget ${alert.percent}% reached: ${scopeTitle(alert.scope, alert.orgName)}`),
    section(spent),
    section(forecastParagraph(forecast, budgetCents)),
    ...driversSection(alert.scope, alert.drivers),
    ...imageBlocks(options.image),
    section(todo),
    context(
      `Usage line items, complete days only (Atlas posts each day's charges a day later). Each threshold alerts once a month; they re-arm on ${rearmDay(alert.month)}.`,
    ),
  ];
  return {
    text: fallback(
      `Budget ${alert.percent}% reached for ${scopeTitle(alert.scope, alert.orgName)}: ${formatUsd(monthToDateCents)} of ${formatUsd(budgetCents)} spent this month${forecastTail(forecast)}.`,
    ),
    blocks: capBlocks(blocks),
  };
}

export function buildForecastAlertMessage(alert: ForecastAlert, options: MessageOptions = {}): SpendMessage {
  const { forecast, budgetCents } = alert;
  const crossing = dayLabel(alert.crossingDay);
  const over = forecast.forecastCents - budgetCents;
  const blocks = [
    header(`Forecast over budget: ${scopeTitle(alert.scope, alert.orgName)}`),
    section(
      `At the current rate ${scopeMrkdwn(alert.scope, alert.orgName)} passes its *${formatUsd(budgetCents)}* budget around *${crossing}* and ends ${monthName(alert.month)} at about *${formatUsd(forecast.forecastCents)}*, *${formatUsd(over)}* over (${rangeText(forecast)}).`,
    ),
    section(`*How:* ${forecastArithmetic(forecast)}\n${rateExplanation(forecast)}.`),
    ...driversSection(alert.scope, alert.drivers),
    ...imageBlocks(options.image),
    section(
      `*What to do:* check the ${driverNoun(alert.scope)} above before ${crossing}: scale down or pause what is not needed, or raise the budget (\`SPEND_BUDGETS\`) if this level is expected.`,
    ),
    context(
      `${formatUsd(forecast.monthToDateCents)} is ${percentOf(forecast.monthToDateCents, budgetCents)} of the budget so far. This alert fires once a month per budget; the budget's own thresholds still alert as they are crossed.`,
    ),
  ];
  return {
    text: fallback(
      `Forecast over budget for ${scopeTitle(alert.scope, alert.orgName)}: about ${formatUsd(forecast.forecastCents)} by month end against ${formatUsd(budgetCents)}, crossing around ${crossing}.`,
    ),
    blocks: capBlocks(blocks),
  };
}

export function buildSpikeAlertMessage(alert: SpikeAlert, options: MessageOptions = {}): SpendMessage {
  const { spike } = alert;
  const day = dayLabel(spike.day);
  const weekday = WEEKDAYS[weekdayOf(parseDay(spike.day) as number)] as string;
  const kind = spike.dayKind === 'weekend' ? 'weekend day' : 'weekday';
  const percent = spike.increasePercent === undefined ? '' : ` (+${spike.increasePercent}%)`;
  const org = orgMrkdwn(alert.orgId, alert.orgName);
  const lead = leadMover(spike.movers);
  const also = [
    ...spike.movers.projects.slice(0, 2).map((m) => `project ${name(m.name)} ${moverChange(m)}`),
    ...spike.movers.skus.slice(0, 2).map((m) => `SKU ${code(m.name)} ${moverChange(m)}`),
  ];
  const blocks = [
    header(`Spend spike on ${day}: ${orgTitle(alert.orgId, alert.orgName)}`),
    section(
      `*${day} (${weekday}) cost ${formatUsd(spike.dayCents)}* for ${org}: ${signedUsd(spike.increaseCents)}${percent} above a typical ${kind} of ${formatUsd(spike.typicalCents)} (median of the ${plural(spike.typicalDays, kind)} before it).`,
    ),
    section(
      lead === undefined
        ? `*What to do:* check the invoice's line items for ${day} (\`/invoice pending\`): no single project, SKU or cluster stands out.`
        : `*What to do: check ${lead.subject}:* it cost ${formatUsd(lead.mover.dayCents)} on ${day}, typically ${formatUsd(lead.mover.typicalCents)}/day.`,
    ),
    ...(also.length === 0
      ? []
      : [section(`*Also up on ${day}:*\n${also.map((line) => `• ${line}`).join('\n')}`)]),
    ...imageBlocks(options.image),
    context(
      `${forecastLine(alert.forecast)} One alert per usage day; a rise that lasts is reported on its first day.`,
    ),
  ];
  return {
    text: fallback(
      `Spend spike for ${orgTitle(alert.orgId, alert.orgName)} on ${day}: ${formatUsd(spike.dayCents)}, ${signedUsd(spike.increaseCents)} above a typical ${kind}.${lead === undefined ? '' : ` Check ${lead.plain}.`}`,
    ),
    blocks: capBlocks(blocks),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Digest and /invoice spend

/**
 * The digest for one channel: each organisation's month-to-date, forecast against last month and budget, top
 * projects and biggest movers, and a total across them. Organisations past what 50 blocks hold are named in a line
 * at the end.
 */
export function buildSpendDigest(
  overviews: readonly SpendOverview[],
  options: DigestOptions = {},
): SpendMessage {
  const months = new Set(overviews.map((o) => o.month));
  const title =
    months.size === 1 ? `Atlas spend, ${monthName([...months][0] as string)}` : 'Atlas spend digest';
  return summaryMessage(title, overviews, options, 'digest');
}

/**
 * The `/invoice spend [org id]` reply: one organisation in full (arithmetic, rate, range, budgets, top projects,
 * movers), several as in the digest, none as a note on when data will be there.
 */
export function buildSpendReply(
  overviews: readonly SpendOverview[],
  options: DigestOptions = {},
): SpendMessage {
  const [only] = overviews;
  if (overviews.length !== 1 || only === undefined) {
    return summaryMessage('Atlas spend', overviews, options, 'reply');
  }
  const forecast = only.forecast;
  const orgBudget = orgBudgetOf(only);
  const blocks: Block[] = [
    header(`Spend: ${orgTitle(only.orgId, only.orgName)}, ${monthName(only.month)}`),
    section(`${orgMrkdwn(only.orgId, only.orgName)}\n${forecastParagraph(forecast, undefined)}`),
  ];
  const comparison = comparisonLine(forecast, orgBudget);
  if (comparison !== '') blocks.push(section(comparison));
  const projectBudgets = only.budgets.filter((b) => b.scope.projectId !== undefined);
  if (projectBudgets.length > 0) blocks.push(section(budgetsText(projectBudgets)));
  const where = [topProjectsLine(only), moversLine(only.movers)].filter((line) => line !== '');
  if (where.length > 0) blocks.push(section(where.join('\n')));
  blocks.push(...imageBlocks(options.images?.[only.orgId]));
  blocks.push(section(`*What to do:* ${adviceFor(only, orgBudget)}`));
  blocks.push(context(NOTES));
  return { text: fallback(overviewText(only, orgBudget)), blocks: capBlocks(blocks) };
}

function summaryMessage(
  title: string,
  overviews: readonly SpendOverview[],
  options: DigestOptions,
  kind: 'digest' | 'reply',
): SpendMessage {
  const blocks: Block[] = [header(title)];
  const missing = options.missingOrgIds ?? [];
  const allWatched = options.allWatched ?? overviews;
  const partial = allWatched.length > overviews.length;
  if (overviews.length > 1 || partial) {
    const here = overviews.length > 1 ? [totalText(overviews, partial ? 'in this channel' : '')] : [];
    const all = partial ? [totalText(allWatched, 'watched')] : [];
    blocks.push(section([...here, ...all].join('\n')));
  }
  const room = Math.max(1, Math.floor((SLACK_LIMITS.blocksPerMessage - RESERVED_BLOCKS) / BLOCKS_PER_ORG));
  const ordered = [...overviews].sort((a, b) => urgency(b) - urgency(a));
  const shown = ordered.slice(0, room);
  for (const overview of shown) {
    const budget = orgBudgetOf(overview);
    blocks.push(section(orgSummary(overview, budget)));
    blocks.push(...imageBlocks(options.images?.[overview.orgId]));
    blocks.push({ type: 'divider' });
  }
  const notes: string[] = [];
  if (ordered.length > shown.length) {
    const rest = ordered.slice(shown.length).map((o) => escapeAndTruncate(orgTitle(o.orgId, o.orgName), 40));
    notes.push(
      truncateEscaped(
        `${plural(rest.length, 'more organisation')} not shown (${rest.join(', ')}): ask \`/invoice spend &lt;org id&gt;\`.`,
        1000,
      ),
    );
  }
  if (missing.length > 0) {
    notes.push(
      `No spend data yet for ${missing.slice(0, 10).map(code).join(', ')}: it appears once the poller has archived ${missing.length === 1 ? 'its' : 'their'} pending invoice.`,
    );
  }
  if (overviews.length === 0 && missing.length === 0) notes.push('No organisation is watched for spend yet.');
  if (notes.length > 0) blocks.push(section(notes.join('\n')));
  const advice =
    kind === 'digest'
      ? 'Organisations over or heading over budget come first. `/invoice spend &lt;org id&gt;` shows one in full: how the rate was read, the range, project budgets.'
      : '`/invoice spend &lt;org id&gt;` shows one organisation in full: how the rate was read, the range, project budgets.';
  if (overviews.length > 0) blocks.push(context(`${NOTES} ${advice}`));
  const text =
    overviews.length === 0
      ? missing.length === 0
        ? 'No organisation is watched for spend yet.'
        : `No spend data yet for ${missing.slice(0, 10).join(', ')}.`
      : overviews
          .slice(0, 10)
          .map((o) => overviewText(o, orgBudgetOf(o)))
          .join(' ');
  return { text: fallback(`${title}: ${text}`), blocks: capBlocks(blocks) };
}

const NOTES =
  "Usage line items before tax, complete days only (Atlas posts each day's charges a day later); undated and late items count once in month-to-date.";

/** `*All 3 organisations:* $… month-to-date → forecast $…`; `scope` qualifies them (`in this channel`, `watched`). */
function totalText(overviews: readonly SpendOverview[], scope: '' | 'in this channel' | 'watched'): string {
  let monthToDate = 0;
  let forecast = 0;
  let forecasted = 0;
  for (const o of overviews) {
    monthToDate += o.forecast.monthToDateCents;
    if (o.forecast.kind === 'forecast') {
      forecast += o.forecast.forecastCents;
      forecasted++;
    } else forecast += o.forecast.monthToDateCents;
  }
  const note =
    forecasted === overviews.length
      ? ''
      : ` (${plural(overviews.length - forecasted, 'organisation')} without a forecast yet counted at month-to-date)`;
  const which =
    scope === 'watched'
      ? `All ${overviews.length} watched organisations`
      : `All ${overviews.length} organisations${scope === '' ? '' : ` ${scope}`}`;
  return `*${which}:* *${formatUsd(monthToDate)}* month-to-date → forecast *${formatUsd(forecast)}*${note}.`;
}

function orgSummary(overview: SpendOverview, budgetCents: number | undefined): string {
  const forecast = overview.forecast;
  const lines = [
    `${orgMrkdwn(overview.orgId, overview.orgName)}${ATTENTION[urgency(overview)]}`,
    headline(forecast),
  ];
  const comparison = comparisonLine(forecast, budgetCents);
  if (comparison !== '') lines.push(comparison);
  const top = topProjectsLine(overview);
  if (top !== '') lines.push(top);
  const movers = moversLine(overview.movers);
  if (movers !== '') lines.push(movers);
  return lines.join('\n');
}

/** 2: over budget, 1: forecast over budget, 0: neither (or no budget). */
function urgency(overview: SpendOverview): number {
  const budget = orgBudgetOf(overview);
  const f = overview.forecast;
  if (budget === undefined || budget <= 0) return 0;
  if (f.monthToDateCents >= budget) return 2;
  return f.kind === 'forecast' && f.forecastCents > budget ? 1 : 0;
}

const ATTENTION = [
  '',
  ' :large_orange_circle: *heading over budget*',
  ' :red_circle: *over budget*',
] as const;

function orgBudgetOf(overview: SpendOverview): number | undefined {
  return overview.budgets.find((b) => b.scope.projectId === undefined)?.budget.cents;
}

function headline(forecast: MonthForecast): string {
  if (forecast.kind !== 'forecast') {
    return `*${formatUsd(forecast.monthToDateCents)}* month-to-date (${completeRange(forecast)}); no forecast yet: ${escapeAndTruncate(forecast.detail, 300)}`;
  }
  if (forecast.remainingDays === 0) {
    return `*${formatUsd(forecast.forecastCents)}* for the whole period (${completeRange(forecast)}, every day complete)`;
  }
  return `Forecast: ${forecastArithmetic(forecast)} (${rangeShort(forecast)})`;
}

function comparisonLine(forecast: MonthForecast, budgetCents: number | undefined): string {
  const target = forecast.kind === 'forecast' ? forecast.forecastCents : forecast.monthToDateCents;
  const what = forecast.kind === 'forecast' ? 'forecast' : 'so far';
  const parts: string[] = [];
  if (forecast.previousTotalCents !== undefined) {
    const change =
      forecast.kind === 'forecast' && forecast.previousTotalCents > 0
        ? ` (forecast ${changePercent(forecast.forecastCents, forecast.previousTotalCents)})`
        : '';
    parts.push(`Last month ${formatUsd(forecast.previousTotalCents)}${change}`);
  }
  if (budgetCents !== undefined && budgetCents > 0) {
    const over = target - budgetCents;
    parts.push(
      `Budget ${formatUsd(budgetCents)} (${what} ${percentOf(target, budgetCents)}${over > 0 ? `, over by ${formatUsd(over)}` : `, ${formatUsd(-over)} left`})`,
    );
  }
  return parts.join(' · ');
}

function topProjectsLine(overview: SpendOverview): string {
  if (overview.topProjects.length === 0) return '';
  const more = overview.moreProjects > 0 ? ` (+${plural(overview.moreProjects, 'more project')})` : '';
  return `Top projects this month: ${overview.topProjects.map((p) => `${name(p.name)} ${formatUsd(p.monthToDateCents)}`).join(' · ')}${more}`;
}

function moversLine(movers: readonly Mover[]): string {
  if (movers.length === 0) return '';
  const first = movers[0] as Mover;
  const items = movers.map(
    (m) =>
      `${moverSubject(m)} ${signedUsd(m.changeCents)}/day (${formatUsd(m.earlierDailyCents)} → ${formatUsd(m.recentDailyCents)})`,
  );
  return `Biggest movers, ${formatDayRange(first.recentFrom, first.recentTo)} vs the 7 days before: ${items.join(' · ')}`;
}

function moverSubject(mover: Mover): string {
  if (mover.kind === 'project' || mover.project === undefined) return name(mover.name);
  return `${name(mover.project.name)}/${name(mover.name || '(no cluster)')}`;
}

function budgetsText(budgets: readonly ScopeSpend[]): string {
  const lines = budgets.map(({ scope, budget, forecast }) => {
    const target = forecast.kind === 'forecast' ? forecast.forecastCents : forecast.monthToDateCents;
    const forecastPart =
      forecast.kind === 'forecast'
        ? `, forecast ${formatUsd(target)} (${percentOf(target, budget.cents)})`
        : '';
    const project =
      scope.projectName === undefined ? code(scope.projectId ?? '') : `*${name(scope.projectName)}*`;
    return `• ${project}: ${formatUsd(forecast.monthToDateCents)} of ${formatUsd(budget.cents)} spent (${percentOf(forecast.monthToDateCents, budget.cents)})${forecastPart}`;
  });
  return `*Project budgets:*\n${lines.join('\n')}`;
}

function adviceFor(overview: SpendOverview, budgetCents: number | undefined): string {
  const f = overview.forecast;
  if (f.kind !== 'forecast') return 'wait for a few complete usage days; the forecast appears on its own.';
  const mover = overview.movers.find((m) => m.changeCents > 0);
  const moverHint =
    mover === undefined
      ? ''
      : ` The biggest rise is ${moverSubject(mover)}: ${formatUsd(mover.recentDailyCents)}/day, up from ${formatUsd(mover.earlierDailyCents)}.`;
  if (budgetCents !== undefined && f.monthToDateCents >= budgetCents) {
    return `the budget is used up. Check the top projects and scale down or pause what is not needed, or raise the budget (\`SPEND_BUDGETS\`).${moverHint}`;
  }
  if (budgetCents !== undefined && f.forecastCents > budgetCents) {
    return `the forecast is over the budget. Check the top projects and the movers before the month runs out.${moverHint}`;
  }
  if (budgetCents !== undefined && f.highCents > budgetCents) {
    return `the forecast is within the budget by ${formatUsd(budgetCents - f.forecastCents)}, but its range reaches above it: check the top projects for anything that can wait.${moverHint}`;
  }
  return mover === undefined
    ? 'nothing stands out; no action needed.'
    : `nothing is over budget.${moverHint} Check it is expected.`;
}

function overviewText(overview: SpendOverview, budgetCents: number | undefined): string {
  const f = overview.forecast;
  const budget = budgetCents === undefined ? '' : `, budget ${formatUsd(budgetCents)}`;
  const forecast = f.kind === 'forecast' ? `, forecast ${formatUsd(f.forecastCents)}` : ', no forecast yet';
  return `${orgTitle(overview.orgId, overview.orgName)}: ${formatUsd(f.monthToDateCents)} month-to-date${forecast}${budget}.`;
}

// ---------------------------------------------------------------------------------------------------------------
// The forecast in words and arithmetic (shared by every message)

/**
 * `$8,000.00 month-to-date (Dec 1–19) + 8 weekdays × $400.00/day + 4 weekend days × $286.42/day = $12,345.67`: the
 * forecast's own terms, which add up to it exactly.
 */
export function forecastArithmetic(forecast: SpendForecast): string {
  const start = `${formatUsd(forecast.monthToDateCents)} month-to-date (${completeRange(forecast)})`;
  if (forecast.remainingDays === 0) return `${start}, every day complete`;
  const terms = forecast.terms.map(
    (term) => ` + ${plural(term.days, TERM_NOUN[term.kind])} × ${formatUsd(term.rateCents)}/day`,
  );
  return `${start}${terms.join('')} = *${formatUsd(forecast.forecastCents)}*`;
}

const TERM_NOUN = { weekday: 'weekday', weekend: 'weekend day', day: 'day' } as const;

/** How the daily rate was read. */
export function rateExplanation(forecast: SpendForecast): string {
  const rate = forecast.rate;
  if (rate === undefined) return 'Every day of the period is complete';
  const window = formatDayRange(parseDay(rate.from) as number, parseDay(rate.to) as number);
  const base =
    rate.method === 'shift'
      ? `Rate: median of the last ${rate.windowDays} complete days (${window}), which all moved more than ${Math.round(SHIFT_THRESHOLD * 100)}% from the ${LEVEL_WINDOW_DAYS}-day median of ${formatUsd(rate.previousLevelCents ?? 0)}/day: a level shift`
      : `Rate: median of the last ${plural(rate.windowDays, 'complete day')} (${window}), so a one-day spike does not move it`;
  return rate.weekendPercent === undefined
    ? `${base}; no weekly pattern`
    : `${base}; weekend days at ${rate.weekendPercent}% of weekdays (last 4 weeks)`;
}

/** Month-to-date, the forecast with its arithmetic and rate, the range, against the budget. */
function forecastParagraph(forecast: MonthForecast, budgetCents: number | undefined): string {
  if (forecast.kind !== 'forecast') {
    return `*No forecast yet:* ${escapeAndTruncate(forecast.detail, 300)} Month-to-date: ${formatUsd(forecast.monthToDateCents)} (${completeRange(forecast)}).`;
  }
  if (forecast.remainingDays === 0) {
    return `*Final for ${monthName(forecast.month)}:* ${forecastArithmetic(forecast)}: *${formatUsd(forecast.forecastCents)}*.`;
  }
  const budget =
    budgetCents === undefined || budgetCents <= 0
      ? ''
      : ` That is ${percentOf(forecast.forecastCents, budgetCents)} of the budget${forecast.forecastCents > budgetCents ? `, over by ${formatUsd(forecast.forecastCents - budgetCents)}` : ''}.`;
  return `*Month-end forecast:* ${forecastArithmetic(forecast)}\n${rateExplanation(forecast)}.\n${capitalise(rangeText(forecast))}.${budget}`;
}

function rangeText(forecast: SpendForecast): string {
  const span = rangeShort(forecast);
  if (forecast.lowCents === forecast.highCents && forecast.range.basis !== 'exact') return span;
  switch (forecast.range.basis) {
    case 'backtest':
      return `${span}: 10th–90th percentile of how this forecast did at this point of the month over ${plural(forecast.range.months, 'archived month')}`;
    case 'recent-days':
      return `${span}: from the spread of the last 4 weeks' days; a launch still to come is not in it`;
    case 'exact':
      return 'exact: every day is complete';
  }
}

function rangeShort(forecast: SpendForecast): string {
  return forecast.lowCents === forecast.highCents
    ? `no spread: the days it was read from did not vary`
    : `likely ${formatUsd(forecast.lowCents)}–${formatUsd(forecast.highCents)}`;
}

function forecastTail(forecast: MonthForecast): string {
  return forecast.kind === 'forecast' && forecast.remainingDays > 0
    ? `; forecast ${formatUsd(forecast.forecastCents)} by month end`
    : '';
}

function forecastLine(forecast: MonthForecast): string {
  if (forecast.kind !== 'forecast')
    return `${formatUsd(forecast.monthToDateCents)} month-to-date; no forecast yet.`;
  return `${monthName(forecast.month)} forecast now ${formatUsd(forecast.forecastCents)} (${rangeShort(forecast)}), ${formatUsd(forecast.monthToDateCents)} month-to-date.`;
}

function completeRange(forecast: MonthForecast): string {
  const first = parseDay(forecast.start) as number;
  const adjustments =
    forecast.kind === 'forecast' && forecast.adjustmentsCents !== 0
      ? `, including ${formatUsd(forecast.adjustmentsCents)} of items without a usage day in the period`
      : '';
  if (forecast.completeDays === 0) return `no complete usage day yet${adjustments}`;
  return `${formatDayRange(first, first + forecast.completeDays - 1)}${adjustments}`;
}

/**
 * The alt text a chart of this organisation's month should carry, so the message is complete without the picture:
 * month-to-date, forecast and range, last month, budget. Plain text, control characters removed, at most 2,000
 * characters.
 */
export function spendAltText(input: {
  readonly orgId: string;
  readonly orgName?: string | undefined;
  readonly forecast: MonthForecast;
  readonly budgetCents?: number | undefined;
}): string {
  const f = input.forecast;
  const parts = [`Daily spend of ${orgTitle(input.orgId, input.orgName)}, ${monthName(f.month)}`];
  parts.push(`${formatUsd(f.monthToDateCents)} month-to-date (${completeRange(f)})`);
  if (f.kind === 'forecast' && f.remainingDays > 0) {
    parts.push(
      `forecast ${formatUsd(f.forecastCents)} (likely ${formatUsd(f.lowCents)} to ${formatUsd(f.highCents)})`,
    );
  } else if (f.kind !== 'forecast') parts.push('no forecast yet');
  if (f.previousTotalCents !== undefined) parts.push(`last month ${formatUsd(f.previousTotalCents)}`);
  parts.push(input.budgetCents === undefined ? 'no budget set' : `budget ${formatUsd(input.budgetCents)}`);
  return plainText(`${parts.join('; ')}.`, IMAGE_ALT_MAX);
}

// ---------------------------------------------------------------------------------------------------------------
// Small pieces

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

function leadMover(
  movers: SpikeAlert['spike']['movers'],
): { subject: string; plain: string; mover: SpikeMover } | undefined {
  const cluster = movers.clusters[0];
  if (cluster !== undefined && cluster.name !== '' && cluster.project !== undefined) {
    return {
      subject: `project ${name(cluster.project.name)}'s cluster ${name(cluster.name)}`,
      plain: `project ${cluster.project.name}'s cluster ${cluster.name}`,
      mover: cluster,
    };
  }
  const project = movers.projects[0];
  if (project !== undefined)
    return { subject: `project ${name(project.name)}`, plain: `project ${project.name}`, mover: project };
  const sku = movers.skus[0];
  if (sku !== undefined) return { subject: `SKU ${code(sku.name)}`, plain: `SKU ${sku.name}`, mover: sku };
  return undefined;
}

function moverChange(mover: SpikeMover): string {
  return `${signedUsd(mover.changeCents)} (${formatUsd(mover.dayCents)}, typically ${formatUsd(mover.typicalCents)}/day)`;
}

function driversSection(scope: SpendScope, drivers: readonly Driver[]): Block[] {
  if (drivers.length === 0) return [];
  const lines = drivers.map((d) => `• ${name(d.name || '(no cluster)')}: ${formatUsd(d.monthToDateCents)}`);
  const title =
    scope.projectId === undefined ? 'Top projects this month' : 'Top clusters of the project this month';
  return [section(`*${title}:*\n${lines.join('\n')}`)];
}

function driverNoun(scope: SpendScope): string {
  return scope.projectId === undefined ? 'top projects' : "project's clusters";
}

function imageBlocks(image: ChartImage | undefined): Block[] {
  if (image === undefined) return [];
  const alt_text = plainText(image.altText, IMAGE_ALT_MAX) || 'Spend chart';
  return 'slackFileId' in image
    ? [{ type: 'image', slack_file: { id: image.slackFileId }, alt_text }]
    : [{ type: 'image', image_url: image.imageUrl, alt_text }];
}

function orgTitle(orgId: string, orgName: string | undefined): string {
  const trimmed = orgName?.trim();
  return trimmed === undefined || trimmed === '' ? orgId : trimmed;
}

function orgMrkdwn(orgId: string, orgName: string | undefined): string {
  const title = orgTitle(orgId, orgName);
  return title === orgId ? code(orgId) : `*${escapeAndTruncate(title, ORG_NAME_MAX)}* (${code(orgId)})`;
}

function scopeTitle(scope: SpendScope, orgName: string | undefined): string {
  const org = orgTitle(scope.orgId, orgName);
  if (scope.projectId === undefined) return org;
  return `project ${scope.projectName ?? scope.projectId} (${org})`;
}

function scopeMrkdwn(scope: SpendScope, orgName: string | undefined): string {
  if (scope.projectId === undefined) return orgMrkdwn(scope.orgId, orgName);
  const project = scope.projectName === undefined ? code(scope.projectId) : `*${name(scope.projectName)}*`;
  return `project ${project} of ${orgMrkdwn(scope.orgId, orgName)}`;
}

/** A name from outside in running mrkdwn: escaped, capped, and unable to open a code span. */
function name(text: string): string {
  return escapeAndTruncate(text, NAME_MAX).replaceAll('`', 'ˋ');
}

function dayLabel(day: string): string {
  return formatShortDay(parseDay(day) as number);
}

function monthName(month: string): string {
  return formatMonthName(parseMonth(month) as number);
}

/** `January 1`, when every threshold of `month` re-arms. */
function rearmDay(month: string): string {
  return `${monthName(addMonths(month, 1)).split(' ')[0]} 1`;
}

/** `80.3%`, rounded down so a threshold is never shown as reached before it is. */
function percentOf(part: number, whole: number): string {
  if (whole <= 0) return 'n/a';
  return `${(Math.floor((part * 1000) / whole) / 10).toFixed(1)}%`;
}

/** `10.2% higher` / `3.0% lower`: `now` against `before`. */
function changePercent(now: number, before: number): string {
  const tenths = Math.round(((now - before) * 1000) / before);
  return tenths === 0
    ? 'about the same'
    : `${(Math.abs(tenths) / 10).toFixed(1)}% ${tenths > 0 ? 'higher' : 'lower'}`;
}

function signedUsd(cents: number): string {
  return cents >= 0 ? `+${formatUsd(cents)}` : formatUsd(cents);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function capitalise(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function header(text: string): Block {
  return {
    type: 'header',
    text: { type: 'plain_text', text: plainText(text, SLACK_LIMITS.headerText), emoji: true },
  };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(text, SLACK_LIMITS.sectionText) } };
}

function context(text: string): Block {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncateEscaped(text, SLACK_LIMITS.sectionText) }],
  };
}

/** The notification text, from plain text: escaped here, once. */
function fallback(plain: string): string {
  return escapeAndTruncate(plain, SLACK_LIMITS.fallbackText);
}

/** Never more than Slack's 50 blocks, whatever the caller passes. */
function capBlocks(blocks: readonly Block[]): Block[] {
  return blocks.slice(0, SLACK_LIMITS.blocksPerMessage);
}
