import type { InvoiceStatus } from './invoice';
import { expectedBilledCents, formatUsd } from './money';
import type { InvoiceAmounts } from './types';

/**
 * What an invoice's status means for the money, after Atlas's own definitions of `statusName` (Admin API v2):
 *
 * | status   | Atlas says                                                        | owed                    |
 * |----------|-------------------------------------------------------------------|-------------------------|
 * | PENDING  | charges of the current billing cycle                              | nothing yet (accruing)  |
 * | CLOSED   | all charges finalised, the customer not charged yet               | billed − paid           |
 * | INVOICED | charges handled by (elastic) invoicing: paid against the invoice  | billed − paid           |
 * | FAILED   | charging the payment method failed                                | billed − paid           |
 * | PAID     | the payment method was charged successfully                       | billed − paid (0)       |
 * | FORGIVEN | MongoDB forgave the payment                                       | nothing; billed − paid is forgiven |
 * | FREE     | all charges totalled zero, nothing is charged                     | nothing                 |
 * | PREPAID  | a prepaid plan covers it, nothing is charged                      | nothing; billed is covered |
 * | other    | a status Atlas added after this was written                       | unknown: not claimed    |
 *
 * For the statuses that are paid (CLOSED, INVOICED, FAILED, PAID) more paid than billed is a credit. All in cents.
 */
export type BalanceKind =
  | 'accruing'
  | 'due'
  | 'settled'
  | 'credit'
  | 'forgiven'
  | 'free'
  | 'prepaid'
  | 'unknown';

export interface InvoiceBalance {
  readonly kind: BalanceKind;
  /**
   * The one number that matters for this kind, in cents: owed (due), paid (settled), the credit, what was forgiven,
   * the cycle so far (accruing), what the plan covers (prepaid), billed (free), billed − paid (unknown).
   */
  readonly cents: number;
  /** What the organisation still has to pay, never negative; undefined for a status this app does not know. */
  readonly owedCents: number | undefined;
}

/** Atlas suspends an organisation whose payment stays failed this many days, and locks it after LOCK_DAYS. */
export const SUSPEND_DAYS = 30;
export const LOCK_DAYS = 60;
const DAY_MS = 86_400_000;

/** The one definition of "owed" (and of what else an invoice's money is) for every status; see the table above. */
export function balanceOf(
  status: InvoiceStatus,
  amounts: Pick<InvoiceAmounts, 'amountBilledCents' | 'amountPaidCents'>,
): InvoiceBalance {
  const billed = amounts.amountBilledCents;
  const paid = amounts.amountPaidCents;
  switch (status) {
    case 'PENDING':
      return { kind: 'accruing', cents: billed, owedCents: 0 };
    case 'CLOSED':
    case 'INVOICED':
    case 'FAILED':
    case 'PAID': {
      const owed = billed - paid;
      if (owed > 0) return { kind: 'due', cents: owed, owedCents: owed };
      if (owed < 0) return { kind: 'credit', cents: -owed, owedCents: 0 };
      return { kind: 'settled', cents: paid, owedCents: 0 };
    }
    case 'FORGIVEN':
      return { kind: 'forgiven', cents: Math.max(0, billed - paid), owedCents: 0 };
    case 'FREE':
      return { kind: 'free', cents: billed, owedCents: 0 };
    case 'PREPAID':
      return { kind: 'prepaid', cents: billed, owedCents: 0 };
    default:
      return { kind: 'unknown', cents: billed - paid, owedCents: undefined };
  }
}

/** The balance in a few words, the number first: `$3,705.14 paid`, `$3,258.70 forgiven, nothing owed`. */
export function describeBalance(balance: InvoiceBalance): string {
  const usd = formatUsd(balance.cents);
  switch (balance.kind) {
    case 'accruing':
      return `${usd} so far this cycle`;
    case 'due':
      return `${usd} owed`;
    case 'settled':
      return balance.cents > 0 ? `${usd} paid` : 'nothing owed';
    case 'credit':
      return `${usd} credit`;
    case 'forgiven':
      return `${usd} forgiven, nothing owed`;
    case 'free':
      return 'free, nothing owed';
    case 'prepaid':
      return balance.cents > 0 ? `${usd} covered by the prepaid plan` : 'prepaid, nothing owed';
    case 'unknown':
      return `${usd} billed but not paid, by Atlas's figures`;
  }
}

/**
 * The arithmetic behind the balance, in one line, zero terms left out:
 * `Owed $1,000.00 = billed $1,250.00 − paid $250.00 · billed = subtotal $1,200.00 + tax $50.00`. When Atlas's billed
 * amount is not subtotal + tax − starting balance, both are shown rather than a false equation.
 */
export function explainBalance(amounts: InvoiceAmounts, balance: InvoiceBalance): string {
  const billed = formatUsd(amounts.amountBilledCents);
  const paid = formatUsd(amounts.amountPaidCents);
  const usd = formatUsd(balance.cents);
  const somethingPaid = amounts.amountPaidCents !== 0;
  let settlement: string;
  switch (balance.kind) {
    case 'accruing':
      settlement = `Billed ${billed} so far; nothing is due until the cycle closes`;
      break;
    case 'due':
      settlement = somethingPaid
        ? `Owed ${usd} = billed ${billed} − paid ${paid}`
        : `Owed ${usd}, nothing paid yet`;
      break;
    case 'settled':
      settlement = balance.cents > 0 ? `Paid ${paid} in full` : 'Nothing billed';
      break;
    case 'credit':
      settlement = `Credit ${usd} = paid ${paid} − billed ${billed}`;
      break;
    case 'forgiven':
      settlement = somethingPaid
        ? `Forgiven ${usd} = billed ${billed} − paid ${paid}`
        : `Forgiven ${usd}, nothing paid`;
      break;
    case 'free':
      settlement = `Billed ${billed}, nothing charged`;
      break;
    case 'prepaid':
      settlement = `Billed ${billed}, covered by the prepaid plan, nothing charged`;
      break;
    case 'unknown':
      settlement = `Billed ${billed} − paid ${paid} = ${usd}; the status is new to this app, so check Atlas for what is owed`;
      break;
  }
  const credits =
    amounts.creditsCents === 0 ? undefined : `includes ${formatUsd(amounts.creditsCents)} of credits`;
  return [settlement, explainBilled(amounts), credits].filter((part) => part !== undefined).join(' · ');
}

/** `billed = subtotal $S + tax $T − starting balance $B` without zero terms; undefined when billed is the subtotal. */
function explainBilled(amounts: InvoiceAmounts): string | undefined {
  const expected = expectedBilledCents(amounts);
  if (expected !== amounts.amountBilledCents) {
    return `Atlas reports billed ${formatUsd(amounts.amountBilledCents)}; subtotal + tax − starting balance = ${formatUsd(expected)}`;
  }
  const terms = [
    amounts.salesTaxCents === 0 ? undefined : `+ tax ${formatUsd(amounts.salesTaxCents)}`,
    amounts.startingBalanceCents === 0
      ? undefined
      : `− starting balance ${formatUsd(amounts.startingBalanceCents)}`,
  ].filter((term) => term !== undefined);
  if (terms.length === 0) return undefined;
  return [`billed = subtotal ${formatUsd(amounts.subtotalCents)}`, ...terms].join(' ');
}

/**
 * Where a failed payment leads, counted from when the failure was first seen (epoch milliseconds): Atlas suspends the
 * organisation after SUSPEND_DAYS unpaid and locks it after LOCK_DAYS.
 */
export function failedPaymentDeadlines(failedSinceMs: number): { suspendAt: number; lockAt: number } {
  return { suspendAt: failedSinceMs + SUSPEND_DAYS * DAY_MS, lockAt: failedSinceMs + LOCK_DAYS * DAY_MS };
}

/** A few words on what a status means beyond its balance, where it adds something; undefined otherwise. */
export function statusNote(status: InvoiceStatus): string | undefined {
  return STATUS_NOTES.get(status);
}

const STATUS_NOTES: ReadonlyMap<string, string> = new Map([
  ['CLOSED', 'final, not charged yet'],
  ['INVOICED', 'to pay against the invoice'],
]);
