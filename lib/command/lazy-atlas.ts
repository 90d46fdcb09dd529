import type { AtlasInvoiceApi } from '../atlas/types';
import { once } from '../once';

/**
 * An AtlasInvoiceApi built on first use. The slash command only talks to Atlas for ids that are not archived yet, so
 * loading and building the client stays off the cold start of every other answer. A failed build is retried on the
 * next call (see `once`).
 */
export function createLazyAtlas(load: () => Promise<AtlasInvoiceApi>): AtlasInvoiceApi {
  const get = once(load);
  return {
    listInvoices: async (orgId, options) => (await get()).listInvoices(orgId, options),
    getInvoice: async (orgId, invoiceId, options) => (await get()).getInvoice(orgId, invoiceId, options),
    getPendingInvoices: async (orgId, options) => (await get()).getPendingInvoices(orgId, options),
    getInvoiceCsv: async (orgId, invoiceId, options) =>
      (await get()).getInvoiceCsv(orgId, invoiceId, options),
  };
}
