import type { PollDeps } from './deps';
import { pollOrganisation } from './poll-organisation';
import { type OrgPollReport, type PollReport, summarise } from './report';

export {
  DEFAULT_MAX_SAVE_ROUNDS,
  DEFAULT_RESERVE_MS,
  type PollAtlas,
  type PollDeps,
} from './deps';

/**
 * One scheduled poll. Organisations run with bounded concurrency and independently: one's failure is recorded in its
 * report and the others go on. Never throws; the caller decides what a failed report means (the handler rethrows).
 *
 * Per organisation (`pollOrganisation`, steps in `steps/`): `readOrgState` → `listOrgInvoices` → `decideChanges` →
 * for each change, oldest billing period first: `archiveInvoice` (the CSV, reading its usage series in the same pass,
 * then its index entry) → `announceChange`; then `storeSpendRecord` for each archived invoice (its month's usage
 * record, when the series changed) → the first run's one message → `watchSpend` for the PENDING invoice when it was
 * archived (alerts decided against the fired keys, the chart drawn and stored, each alert posted); then `saveState`
 * once, conditionally, recording exactly the work that completed. Consequences, by construction:
 * - an invoice whose archive, spend record or notification failed is not recorded, so the next run re-does it;
 * - the PENDING invoice's archive is recorded only once its spend alerts were all delivered and its chart stored: an
 *   alert whose post failed is not in the fired keys, and since the archive is not recorded either, the next poll
 *   reads the CSV again (found identical, not written again) and re-decides the alerts, even if the invoice does not
 *   change again; that costs one CSV download per poll while the failure lasts (as a failing status message costs
 *   one post), and nothing on a quiet poll;
 * - a crash anywhere before the save loses only the record, never the work's trigger: the next run re-does the
 *   archive (found identical, so not written again), the spend record (found current, not written again), the
 *   notification and the spend alerts;
 * - a lost conditional save (another run wrote first) re-reads, merges what this run completed into the newer state
 *   (`mergeCompleted`, symmetric; fired alert keys are the union, `mergeFiredKeys`), does whatever the merged state
 *   still lacks, and saves again (bounded rounds);
 * - with little time left (`reserveMs`), no new invoice is started and what completed is saved; every request carries
 *   the deadline's signal, the save and its re-reads included, so a stalled one cannot outlive the Lambda;
 * - so a change, and a spend alert, is announced at most twice: a message posted before a crash, a deadline or a lost
 *   save that kept it from being recorded (or one Slack may have posted without answering: the notifier does not post
 *   it again itself; or posted by each of two racing polls that both saw it) is posted once more by the next run, and
 *   never more, since that run records it.
 * A new organisation (no state) gets its CSVs archived and one "now watching" message instead of one per invoice; the
 * spend alerts due for its current month follow it. An organisation whose state cannot be read is re-baselined the
 * same way (`readOrgState` moves the object aside) with one "state reset" notice instead, the spend alerts due then
 * recorded as sent without sending them. Invoices Atlas lists that the state could not hold are reported and skipped.
 */
export async function runPoll(deps: PollDeps): Promise<PollReport> {
  const startedAt = deps.now().toISOString();
  const reports: OrgPollReport[] = new Array(deps.orgIds.length);
  let next = 0;
  const worker = async () => {
    while (next < deps.orgIds.length) {
      const index = next;
      next += 1;
      const orgId = deps.orgIds[index] as string;
      reports[index] = await pollOrganisation(deps, orgId);
    }
  };
  const workers = Math.max(1, Math.min(deps.concurrency, deps.orgIds.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return summarise(reports, startedAt, deps.now().toISOString());
}
