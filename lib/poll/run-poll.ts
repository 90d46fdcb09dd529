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
 * for each change, oldest billing period first: `archiveInvoice` (the CSV, then its index entry) → `announceChange`
 * → remember the completed work; then `saveState` once, conditionally, recording exactly the work that completed.
 * Consequences, by construction:
 * - an invoice whose archive or notification failed is not recorded, so the next run re-does it;
 * - a crash anywhere before the save loses only the record, never the work's trigger: the next run re-does the
 *   archive (found identical, so not written again) and the notification;
 * - a lost conditional save (another run wrote first) re-reads, merges what this run completed into the newer state
 *   (`mergeCompleted`, symmetric), does whatever the merged state still lacks, and saves again (bounded rounds);
 * - with little time left (`reserveMs`), no new invoice is started and what completed is saved; every request carries
 *   the deadline's signal, the save and its re-reads included, so a stalled one cannot outlive the Lambda;
 * - so a change is announced at most twice: a message posted before a crash, a deadline or a lost save that kept it
 *   from being recorded (or delivered by Slack but never answered, then retried; or posted by each of two racing
 *   polls) is posted once more by the next run, and never more, since that run records it.
 * A new organisation (no state) gets its CSVs archived and one "now watching" message instead of one per invoice. An
 * organisation whose state cannot be read is re-baselined the same way (`readOrgState` moves the object aside) with
 * one "state reset" notice instead. Invoices Atlas lists that the state could not hold are reported and skipped.
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
