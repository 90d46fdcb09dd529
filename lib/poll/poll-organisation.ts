import { hasTimeForWork, type PollDeps } from './deps';
import { mergedState, type OrgPoll, reportOf, startOrgPoll } from './org-poll';
import type { OrgPollReport } from './report';
import { announceChange, announceFirstRun } from './steps/announce';
import { type ArchivedInvoice, archiveInvoice, recordArchived } from './steps/archive-invoice';
import { decideChanges, startWork } from './steps/decide';
import { listOrgInvoices } from './steps/list-invoices';
import { readOrgState } from './steps/read-state';
import { saveState } from './steps/save-state';
import { storeSpendRecord } from './steps/store-spend';
import { watchedInvoiceId, watchSpend } from './steps/watch-spend';

/**
 * One organisation's poll, as named steps over one `OrgPoll` record: read state → list → (decide → archive + index →
 * announce → spend records → [first-run message] → spend watch → save), the bracket repeated after a lost conditional
 * save (bounded rounds). Never throws: failures are in the report. The contract the order gives is documented on
 * `runPoll`.
 */
export async function pollOrganisation(deps: PollDeps, orgId: string): Promise<OrgPollReport> {
  const poll = startOrgPoll(deps, orgId);
  if ((await readOrgState(deps, poll)) && (await listOrgInvoices(deps, poll))) {
    for (let round = 1; ; round += 1) {
      await workRound(deps, poll);
      if ((await saveState(deps, poll, round)) === 'done') break;
    }
  }
  if (poll.deferred.size > 0)
    poll.log.warn('deadline near: invoices left for the next run', { deferred: poll.deferred.size });
  return reportOf(poll);
}

/**
 * Everything the current state (the base with this run's work) still lacks: per change, oldest billing period first,
 * archive the CSV and write its index, then announce it; an invoice whose archive failed is not announced. Then each
 * archived invoice's spend record (work already started: it goes on within the save's reserve, as the announcement
 * does), recording its archive once that is done, except the watched PENDING invoice's, which waits for its spend
 * watch (alerts and chart) at the end. A first run announces nothing per invoice and sends
 * its one message before the spend watch's alerts.
 */
async function workRound(deps: PollDeps, poll: OrgPoll): Promise<void> {
  const current = mergedState(poll);
  const firstRun = current.watchingSince === '';
  poll.counts.firstRun ||= firstRun;
  const archived: ArchivedInvoice[] = [];
  for (const change of decideChanges(poll, current)) {
    if (!startWork(deps, poll, change.invoice.id)) continue;
    const stored = change.archive ? await archiveInvoice(deps, poll, change) : undefined;
    if (change.archive && stored === undefined) continue;
    if (stored !== undefined) archived.push(stored);
    if (change.notify && !firstRun) await announceChange(deps, poll, change, stored?.summary);
  }
  const watchedId = watchedInvoiceId(poll);
  let watched: { archived: ArchivedInvoice; changed: boolean } | undefined;
  for (const item of archived) {
    const spend = await storeSpendRecord(deps, poll, item);
    if (spend === undefined) continue;
    if (item.change.invoice.id === watchedId) watched = { archived: item, changed: spend.changed };
    else recordArchived(poll, item);
  }
  if (firstRun && !poll.firstRunMessageTried && hasTimeForWork(deps)) await announceFirstRun(deps, poll);
  if (watched === undefined) return;
  // The watch's alerts, chart upload and posts are the heaviest part: with only the save's reserve left they wait
  // for the next run (the invoice stays unrecorded, so that run reads it again), rather than risk a save cut off
  // after the posts.
  if (hasTimeForWork(deps)) await watchSpend(deps, poll, watched.archived, watched.changed, archived);
  else poll.deferred.add(watched.archived.change.invoice.id);
}
