import type { Invoice, InvoiceMetadata, Link } from '../../../lib/invoices/invoice';
import { amountsOf, type SandboxInvoice, type SandboxOrg } from './model';

/** Where links in bodies point: the sandbox's own URL and the flavour's path prefix. */
export interface ViewContext {
  readonly baseUrl: string;
  readonly prefix: string;
}

export function selfLink(ctx: ViewContext, orgId: string, invoiceId: string): Link {
  return { href: `${ctx.baseUrl}${ctx.prefix}/orgs/${orgId}/invoices/${invoiceId}`, rel: 'self' };
}

/** Invoice metadata as the list returns it, fields in Atlas's (alphabetical) order. */
export function metadataView(
  invoice: SandboxInvoice,
  ctx: ViewContext,
  linkedInvoices: readonly InvoiceMetadata[] = [],
): InvoiceMetadata {
  const amounts = amountsOf(invoice);
  return {
    amountBilledCents: amounts.amountBilledCents,
    amountPaidCents: amounts.amountPaidCents,
    created: invoice.created,
    creditsCents: amounts.creditsCents,
    endDate: invoice.endDate,
    id: invoice.id,
    linkedInvoices,
    links: [selfLink(ctx, invoice.orgId, invoice.id)],
    orgId: invoice.orgId,
    salesTaxCents: amounts.salesTaxCents,
    startDate: invoice.startDate,
    startingBalanceCents: amounts.startingBalanceCents,
    statusName: invoice.statusName,
    subtotalCents: amounts.subtotalCents,
    updated: invoice.updated,
  };
}

/** The full invoice: metadata plus line items, payments and refunds. */
export function invoiceView(
  invoice: SandboxInvoice,
  ctx: ViewContext,
  linkedInvoices: readonly InvoiceMetadata[] = [],
): Invoice {
  const meta = metadataView(invoice, ctx, linkedInvoices);
  const { amountBilledCents, amountPaidCents, created, creditsCents, endDate, id } = meta;
  return {
    amountBilledCents,
    amountPaidCents,
    created,
    creditsCents,
    endDate,
    id,
    lineItems: invoice.lineItems.map((item) => item.json),
    linkedInvoices: meta.linkedInvoices ?? [],
    links: meta.links ?? [],
    orgId: meta.orgId,
    payments: invoice.payments,
    refunds: invoice.refunds,
    salesTaxCents: meta.salesTaxCents,
    startDate: meta.startDate,
    startingBalanceCents: meta.startingBalanceCents,
    statusName: meta.statusName,
    subtotalCents: meta.subtotalCents,
    updated: meta.updated,
  };
}

/** The invoices of linked organisations for the same billing period, as `linkedInvoices` shows them. */
export function linkedFor(
  orgs: ReadonlyMap<string, SandboxOrg>,
  org: SandboxOrg,
  invoice: SandboxInvoice,
  ctx: ViewContext,
): InvoiceMetadata[] {
  const out: InvoiceMetadata[] = [];
  for (const linkedId of org.linkedOrgIds) {
    const linked = orgs.get(linkedId);
    for (const candidate of linked?.invoices ?? []) {
      if (candidate.startDate === invoice.startDate) out.push(metadataView(candidate, ctx));
    }
  }
  return out;
}
