import { compareUpdated, type InvoiceChange } from '../../invoices/diff';
import type { CsvSummary } from '../../invoices/types';
import { buildStatusChangeMessage, buildWatchingMessage } from '../../slack/notification-blocks';
import type { PollDeps } from '../deps';
import { failedSinceOf } from '../merge-state';
import { failStep, mergedState, type OrgPoll, recordWork } from '../org-poll';
import { POLL_STEPS } from '../report';
import { buildStateResetMessage } from '../state-reset-message';

/**
 * Step 5: tell the channel of one status change, with the CSV summary (this run's, else the index's). Recorded as
 * announced only once Slack accepted the message; a failure is reported and the next run announces it.
 */
export async function announceChange(
  deps: PollDeps,
  poll: OrgPoll,
  change: InvoiceChange,
  summary: CsvSummary | undefined,
): Promise<void> {
  const { invoice } = change;
  try {
    const known =
      summary ??
      (await deps.indexStore.readIndex(invoice.id, deps.deadline.signal).catch(() => undefined))?.summary;
    const message = buildStatusChangeMessage({
      orgId: poll.orgId,
      orgName: poll.orgName,
      invoice,
      fromStatus: change.fromStatus,
      summary: known,
      failedSince: failedSinceOf(invoice, change.previous),
      atlasBaseUrl: deps.atlasBaseUrl,
    });
    await deps.notifier.post(poll.orgId, message, deps.deadline);
    poll.counts.notified += 1;
    recordWork(poll, { invoice, notifiedStatus: invoice.statusName });
  } catch (error) {
    failStep(poll, POLL_STEPS.notify, error, invoice.id);
  }
}

/**
 * Step 5 of a first run: one message instead of one per historical invoice: the "now watching" summary, or, when
 * the unreadable state was reset, a notice saying so. Tried once per run; once delivered, every listed invoice the
 * state does not know in a newer version counts as announced, and the organisation as watched. Undelivered, the next
 * run sends the "now watching" summary.
 */
export async function announceFirstRun(deps: PollDeps, poll: OrgPoll): Promise<void> {
  poll.firstRunMessageTried = true;
  const current = mergedState(poll);
  const archivedCount = poll.listed.filter(
    (invoice) => current.invoices[invoice.id]?.archived !== undefined || poll.stored.has(invoice.id),
  ).length;
  const message =
    poll.resetFrom !== undefined
      ? buildStateResetMessage({
          orgId: poll.orgId,
          orgName: poll.orgName,
          invoiceCount: poll.listed.length,
          movedTo: poll.resetFrom,
        })
      : buildWatchingMessage({
          orgId: poll.orgId,
          orgName: poll.orgName,
          invoices: poll.listed,
          archivedCount,
          atlasBaseUrl: deps.atlasBaseUrl,
        });
  try {
    await deps.notifier.post(poll.orgId, message, deps.deadline);
  } catch (error) {
    failStep(poll, POLL_STEPS.notify, error);
    return;
  }
  poll.counts.notified += 1;
  poll.watchingSince = poll.now;
  for (const invoice of poll.listed) {
    const entry = current.invoices[invoice.id];
    if (entry !== undefined && compareUpdated(invoice.updated, entry.updated) < 0) continue;
    recordWork(poll, { invoice, notifiedStatus: invoice.statusName });
  }
}
