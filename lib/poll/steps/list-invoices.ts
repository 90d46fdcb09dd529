import { checkAmounts, checkStateEntry } from '../../archive/codecs';
import { shapeProblem } from '../../archive/shape-checks';
import { isObjectId } from '../../ids';
import type { InvoiceMetadata } from '../../invoices/invoice';
import { toAmounts } from '../../invoices/money';
import type { PollDeps } from '../deps';
import { seenFields } from '../merge-state';
import { failStep, type OrgPoll } from '../org-poll';
import { POLL_STEPS } from '../report';

/**
 * Step 2: list the organisation's invoices. An invoice that could not be recorded is logged, counted and left out
 * here, so nothing downstream archives, announces or stores it. False when the listing failed.
 */
export async function listOrgInvoices(deps: PollDeps, poll: OrgPoll): Promise<boolean> {
  let listed: InvoiceMetadata[];
  try {
    listed = await deps.atlas.listInvoices(poll.orgId, {
      viewLinkedInvoices: false,
      signal: deps.deadline.signal,
      deadline: deps.deadline,
    });
  } catch (error) {
    failStep(poll, POLL_STEPS.list, error);
    return false;
  }
  poll.listed = listed.filter((invoice) => {
    const problem = invoiceProblem(invoice);
    if (problem === undefined) return true;
    poll.counts.invalidInvoices += 1;
    poll.log.warn('Atlas listed an invoice that cannot be recorded; skipped', {
      ...(isObjectId(invoice.id) ? { invoiceId: invoice.id } : {}),
      problem,
    });
    return false;
  });
  poll.counts.invoicesSeen = poll.listed.length;
  return true;
}

/**
 * Why `invoice` cannot be recorded, or undefined when it can: it must have a valid id and pass the very rules the
 * state and index codecs read with (a readable `updated` and billing period, exact whole-cent amounts), or a later
 * read of the state would refuse what this run saved.
 */
export function invoiceProblem(invoice: InvoiceMetadata): string | undefined {
  if (!isObjectId(invoice.id)) return 'invoice.id is not a 24-hex id';
  try {
    checkStateEntry(seenFields(invoice, undefined), 'invoice');
    checkAmounts(toAmounts(invoice), 'invoice');
    return undefined;
  } catch (error) {
    return shapeProblem(error);
  }
}
