import { classifyChange, diffInvoices, type InvoiceChange } from '../../invoices/diff';
import type { OrgState } from '../../invoices/types';
import { hasTimeForWork, type PollDeps } from '../deps';
import type { OrgPoll } from '../org-poll';

/**
 * Step 3: what the listing still asks of `current` (the state with this run's work merged in), oldest billing period
 * first, leaving out invoices this run already tried. Each change is counted once per run by kind for the report.
 */
export function decideChanges(poll: OrgPoll, current: OrgState): InvoiceChange[] {
  const { changes } = diffInvoices(poll.listed, current);
  return changes.filter((change) => {
    const id = change.invoice.id;
    if (poll.attempted.has(id)) return false;
    if (!poll.changed.has(id)) {
      poll.changed.add(id);
      countChange(poll, change);
    }
    return true;
  });
}

/** Whether to start the work of `invoiceId` now; without time for it, it is left for the next run. */
export function startWork(deps: PollDeps, poll: OrgPoll, invoiceId: string): boolean {
  if (!hasTimeForWork(deps)) {
    poll.deferred.add(invoiceId);
    return false;
  }
  poll.attempted.add(invoiceId);
  poll.deferred.delete(invoiceId);
  return true;
}

function countChange(poll: OrgPoll, change: InvoiceChange): void {
  const seen = classifyChange(change);
  if (seen.kind === 'new') poll.seen.newInvoices += 1;
  else if (seen.kind === 'updated') poll.seen.updatedOnly += 1;
  else if (seen.kind === 'status')
    poll.seen.statusChanges.push({ invoiceId: change.invoice.id, from: seen.from, to: seen.to });
}
