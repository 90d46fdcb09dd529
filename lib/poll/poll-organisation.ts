import { hasTimeForWork, type PollDeps } from './deps';
import { mergedState, type OrgPoll, reportOf, startOrgPoll } from './org-poll';
import type { OrgPollReport } from './report';
import { announceChange, announceFirstRun } from './steps/announce';
import { archiveInvoice } from './steps/archive-invoice';
import { decideChanges, startWork } from './steps/decide';
import { listOrgInvoices } from './steps/list-invoices';
import { readOrgState } from './steps/read-state';
import { saveState } from './steps/save-state';

/**
 * One organisation's poll, as named steps over one `OrgPoll` record: read state → list → (decide → archive + index →
 * announce → save), the bracket repeated after a lost conditional save (bounded rounds). Never throws: failures are
 * in the report. The contract the order gives is documented on `runPoll`.
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
 * archive the CSV and write its index, then announce it; an invoice whose archive failed is not announced. A first run
 * announces nothing per invoice and sends its one message at the end.
 */
async function workRound(deps: PollDeps, poll: OrgPoll): Promise<void> {
  const current = mergedState(poll);
  const firstRun = current.watchingSince === '';
  poll.counts.firstRun ||= firstRun;
  for (const change of decideChanges(poll, current)) {
    if (!startWork(deps, poll, change.invoice.id)) continue;
    const summary = change.archive ? await archiveInvoice(deps, poll, change) : undefined;
    if (change.archive && summary === undefined) continue;
    if (change.notify && !firstRun) await announceChange(deps, poll, change, summary);
  }
  if (firstRun && !poll.firstRunMessageTried && hasTimeForWork(deps)) await announceFirstRun(deps, poll);
}
