import { classifyChange, diffInvoices, type InvoiceChange } from '../../invoices/diff';
import type { InvoiceStateEntry, OrgState } from '../../invoices/types';
import { hasTimeForWork, type PollDeps } from '../deps';
import type { OrgPoll } from '../org-poll';

/**
 * Step 3: what the listing still asks of `current` (the state with this run's work merged in), oldest billing period
 * first, leaving out invoices this run already tried. Each change is counted once per run by kind for the report.
 * An archive recorded before the spend watch existed (no `spend` mark) counts as not archived, so its CSV is read
 * once more (found identical, not written again) and its month's spend record written: the history backfills itself.
 */
export function decideChanges(poll: OrgPoll, current: OrgState): InvoiceChange[] {
  const { changes } = diffInvoices(poll.listed, withSpendPending(current));
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

/** `state` with every archive that predates the spend watch left out. */
function withSpendPending(state: OrgState): OrgState {
  const entries = Object.entries(state.invoices);
  if (entries.every(([, entry]) => entry.archived === undefined || entry.archived.spend === true))
    return state;
  const invoices: Record<string, InvoiceStateEntry> = {};
  for (const [id, entry] of entries) {
    if (entry.archived === undefined || entry.archived.spend === true) invoices[id] = entry;
    else {
      const { archived: _old, ...rest } = entry;
      invoices[id] = rest;
    }
  }
  return { ...state, invoices };
}

function countChange(poll: OrgPoll, change: InvoiceChange): void {
  const seen = classifyChange(change);
  if (seen.kind === 'new') poll.seen.newInvoices += 1;
  else if (seen.kind === 'updated') poll.seen.updatedOnly += 1;
  else if (seen.kind === 'status')
    poll.seen.statusChanges.push({ invoiceId: change.invoice.id, from: seen.from, to: seen.to });
}
