import { billingMonth } from '../../archive/keys';
import { CorruptObjectError } from '../../errors';
import { compareBillingPeriod } from '../../invoices/diff';
import { plainText } from '../../slack/mrkdwn';
import { decideSpendAlerts, forecastOrg, type SpendAlert, type SpendWatchInput } from '../../spend/alerts';
import { type HistoryMonth, historyInput, historyMonths } from '../../spend/backtest';
import { spendChartAltText } from '../../spend/chart/alt-text';
import { formatChartMonth } from '../../spend/chart/format';
import type { SpendChartInput } from '../../spend/chart/types';
import { toSpendChartData } from '../../spend/chart-data';
import type { MonthForecast } from '../../spend/forecast';
import { buildSpendAlertMessage, spendAltText } from '../../spend/messages';
import { budgetsOf } from '../../spend/settings';
import type { UsageSeries } from '../../spend/usage-series';
import type { PollDeps } from '../deps';
import { failStep, mergedState, type OrgPoll } from '../org-poll';
import { POLL_STEPS } from '../report';
import { type ArchivedInvoice, recordArchived } from './archive-invoice';

/** The invoice the spend watch follows: the PENDING invoice of the latest billing period listed. */
export function watchedInvoiceId(poll: OrgPoll): string | undefined {
  const pending = poll.listed.filter((invoice) => invoice.statusName === 'PENDING');
  pending.sort(compareBillingPeriod);
  return pending.at(-1)?.id;
}

/**
 * Step 6: the spend watch of the watched (PENDING) invoice's month, run whenever this run archived that invoice (it
 * changed, or an earlier run left its alerts undelivered):
 * 1. the month's input: its series (this run's), last month's record and the final months' backtest calibration
 *    (see SPEND_HISTORY_MONTHS), today as of this poll;
 * 2. the alerts due (`decideSpendAlerts`) against the fired keys of the state and this run; with not enough data for
 *    a forecast the reason is logged (budget alerts on month-to-date can still be due);
 * 3. the chart (`toSpendChartData`, titled with the organisation's name), drawn when the series changed (then stored
 *    at `spendChartKey`) or when there is an alert to show it in;
 * 4. each alert posted, with the chart uploaded once for all of them (`uploadImage`, `postWithImage`; without it
 *    when the upload is impossible or fails, the alt text carrying the figures), and its keys added to `poll.fired`
 *    once Slack accepted it. A run that reset an unreadable state settles the alerts due without posting them (they
 *    were most likely sent before the reset; the reset notice says what may have been missed).
 * Only when every alert was delivered and the chart stored is the invoice's archive recorded, so the next poll reads
 * the CSV again and re-decides whatever is missing, even if the invoice does not change again. Failures are
 * reported (`spend` for S3, `notify` for Slack), never thrown.
 */
export async function watchSpend(
  deps: PollDeps,
  poll: OrgPoll,
  watched: ArchivedInvoice,
  seriesChanged: boolean,
  thisRun: readonly ArchivedInvoice[],
): Promise<void> {
  const { invoice } = watched.change;
  const series = watched.usage;
  if (series === undefined) {
    recordArchived(poll, watched);
    return;
  }
  const budgetCents = budgetsOf(deps.spend, poll.orgId).find((b) => b.projectId === undefined)?.cents;
  let forecast: MonthForecast;
  let alerts: SpendAlert[];
  let chart: SpendChartInput;
  try {
    const input = await watchInput(deps, poll, series, thisRun);
    forecast = forecastOrg(input);
    alerts = decideSpendAlerts(input, mergedState(poll).spend?.fired ?? []);
    chart = {
      title: poll.orgName ?? poll.orgId,
      ...toSpendChartData({ series, forecast, previous: input.previous, budgetCents }),
    };
  } catch (error) {
    failStep(poll, POLL_STEPS.spend, error, invoice.id);
    return;
  }
  logWatch(poll, forecast, alerts);
  const png = seriesChanged || alerts.length > 0 ? await drawChart(deps, poll, chart) : undefined;
  let complete = true;
  if (seriesChanged && png !== undefined) {
    try {
      await deps.spendStore.writeChart(poll.orgId, forecast.month, png, deps.deadline.signal);
    } catch (error) {
      failStep(poll, POLL_STEPS.spend, error, invoice.id);
      complete = false;
    }
  }

  if (poll.resetFrom !== undefined) {
    for (const alert of alerts) for (const key of alert.keys) poll.fired.add(key);
    if (alerts.length > 0)
      poll.log.info('spend alerts due at the state reset recorded without sending them', {
        keys: alerts.map((alert) => alert.key),
      });
  } else if (alerts.length > 0) {
    const altText = spendAltText({ orgId: poll.orgId, orgName: poll.orgName, forecast, budgetCents });
    const fileId =
      png === undefined
        ? undefined
        : await deps.notifier.uploadImage(
            poll.orgId,
            {
              bytes: png,
              filename: `spend-${forecast.month}.png`,
              title: plainText(`${chart.title}: spend, ${formatChartMonth(chart.year, chart.month)}`, 250),
              altText: spendChartAltText(chart),
            },
            deps.deadline,
          );
    for (const alert of alerts) {
      const image = fileId === undefined ? undefined : { fileId, altText };
      if (!(await postAlert(deps, poll, invoice.id, alert, image))) complete = false;
    }
  }
  if (complete) recordArchived(poll, watched);
}

async function postAlert(
  deps: PollDeps,
  poll: OrgPoll,
  invoiceId: string,
  alert: SpendAlert,
  image: { readonly fileId: string; readonly altText: string } | undefined,
): Promise<boolean> {
  const plain = buildSpendAlertMessage(alert);
  try {
    if (image === undefined) await deps.notifier.post(poll.orgId, plain, deps.deadline);
    else {
      const shown = buildSpendAlertMessage(alert, {
        image: { slackFileId: image.fileId, altText: image.altText },
      });
      await deps.notifier.postWithImage(poll.orgId, shown, plain, deps.deadline);
    }
  } catch (error) {
    failStep(poll, POLL_STEPS.notify, error, invoiceId);
    return false;
  }
  poll.counts.spendAlerts += 1;
  for (const key of alert.keys) poll.fired.add(key);
  return true;
}

/**
 * The watch's input: the series, last month's and the calibration from the stored months. The months of history
 * (`SPEND_HISTORY_MONTHS`) are small GETs of about 10 kB, one after the other (every request of the poll shares the
 * deadline's signal, and organisations run side by side), made only when the PENDING invoice changed, about once a
 * day, never on a quiet poll: about 120 GETs a month per organisation, next to the state's 2,880. Not cached across
 * polls: a final month's record changes only when its invoice does, and a cache per warm Lambda could then go stale.
 * Months archived by the same run (a first run: all of them) are taken from memory.
 */
async function watchInput(
  deps: PollDeps,
  poll: OrgPoll,
  series: UsageSeries,
  thisRun: readonly ArchivedInvoice[],
): Promise<SpendWatchInput> {
  const month = series.start.slice(0, 7);
  const inMemory = new Map<string, { series: UsageSeries; final: boolean }>();
  for (const archived of thisRun) {
    if (archived.usage === undefined) continue;
    inMemory.set(archived.usage.start.slice(0, 7), {
      series: archived.usage,
      final: archived.change.invoice.statusName !== 'PENDING',
    });
  }
  const history: HistoryMonth[] = [];
  for (const m of historyMonths(
    poll.listed.map((invoice) => billingMonth(invoice.startDate)),
    month,
  ))
    history.push({ month: m, ...(inMemory.get(m) ?? (await readMonth(deps, poll, m))) });
  const { previous, calibration } = historyInput(history, month);
  return {
    orgId: poll.orgId,
    orgName: poll.orgName,
    series,
    previous,
    final: false,
    asOf: poll.now.slice(0, 10),
    calibration,
    settings: deps.spend,
  };
}

/** A stored month; nothing when absent or unreadable (logged: it is rewritten when its invoice next changes). */
async function readMonth(
  deps: PollDeps,
  poll: OrgPoll,
  month: string,
): Promise<{ series?: UsageSeries; final?: boolean }> {
  try {
    const stored = await deps.spendStore.readSpend(poll.orgId, month, deps.deadline.signal);
    return stored === undefined ? {} : { series: stored.record.series, final: stored.record.final };
  } catch (error) {
    if (!(error instanceof CorruptObjectError)) throw error;
    poll.log.warn('spend record could not be read: the month is left out of the forecast', { month, error });
    return {};
  }
}

/** The chart's PNG; undefined when it cannot be drawn (logged as an error: no retry would help). */
async function drawChart(
  deps: PollDeps,
  poll: OrgPoll,
  chart: SpendChartInput,
): Promise<Uint8Array | undefined> {
  try {
    return await deps.renderChart(chart);
  } catch (error) {
    poll.log.error('spend chart could not be drawn: alerts go without it', { error });
    return undefined;
  }
}

function logWatch(poll: OrgPoll, forecast: MonthForecast, alerts: readonly SpendAlert[]): void {
  const keys = alerts.map((alert) => alert.key);
  if (forecast.kind === 'not-enough-data') {
    poll.log.info('spend watch: not enough data for a forecast yet', {
      month: forecast.month,
      reason: forecast.reason,
      detail: forecast.detail,
      monthToDateCents: forecast.monthToDateCents,
      alerts: keys,
    });
    return;
  }
  poll.log.info('spend watch', {
    month: forecast.month,
    monthToDateCents: forecast.monthToDateCents,
    forecastCents: forecast.forecastCents,
    alerts: keys,
  });
}
