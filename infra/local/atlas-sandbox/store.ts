import { isObjectId } from '../../../lib/ids';
import { INVOICE_STATUSES, type InvoiceStatus } from '../../../lib/invoices/invoice';
import { type GeneratedCsvSpec, generatedCsvSize } from './csv';
import {
  amountsOf,
  creditLineItem,
  DAY_MS,
  dayStart,
  generateLineItems,
  generateProjects,
  isoDay,
  monthStart,
  type PlacedSpike,
  payment,
  type SandboxInvoice,
  type SandboxOrg,
} from './model';
import { createRandom, hashSeed, objectId, type Random } from './random';

/** One invoice of an organisation seed; every field optional. */
export interface InvoiceSeed {
  readonly statusName?: InvoiceStatus;
  /** Billing month `YYYY-MM`; default: consecutive months back from the current one. */
  readonly month?: string;
  readonly startingBalanceCents?: number;
  /** Adds an organisation-wide credit line of this many cents (negative amount). */
  readonly creditCents?: number;
  /** Serve a generated CSV of this many bytes instead of the line items. */
  readonly csvBytes?: number;
}

export interface OrgSeed {
  /** 24-hex id; default derived from the sandbox seed. */
  readonly id?: string;
  readonly name?: string;
  /**
   * A count of monthly invoices (newest, the current month, PENDING; the rest PAID), or one seed per invoice, newest
   * first. Default 3.
   */
  readonly invoices?: number | readonly InvoiceSeed[];
  /** Project names. Default two plain ones. */
  readonly projects?: readonly string[];
  /** Organisations whose invoices appear as `linkedInvoices` of this (paying) organisation. */
  readonly linkedOrgIds?: readonly string[];
  /** Takes part in `advanceDemo()`. Default false. */
  readonly live?: boolean;
  /** `daily`: one set of lines per day of usage (realistic, bigger); `monthly`: a few lines per invoice. */
  readonly lineItems?: 'daily' | 'monthly';
  readonly taxRateBasisPoints?: number;
  /** `daily` organisations: a spike on this day instead of its month's own (see `dailyUsageItems`). */
  readonly placedSpike?: PlacedSpike;
}

export interface DemoChange {
  readonly orgId: string;
  readonly invoiceId: string;
  readonly kind: 'accrued' | 'status' | 'created';
  readonly from?: InvoiceStatus;
  readonly to: InvoiceStatus;
}

export interface DemoStep {
  /** The story's new day, `YYYY-MM-DD`. */
  readonly date: string;
  readonly changes: readonly DemoChange[];
}

export interface Store {
  readonly orgs: ReadonlyMap<string, SandboxOrg>;
  createOrg(seed?: OrgSeed): SandboxOrg;
  org(orgId: string): SandboxOrg | undefined;
  invoice(orgId: string, invoiceId: string): SandboxInvoice | undefined;
  addInvoice(orgId: string, seed?: InvoiceSeed): SandboxInvoice;
  setStatus(orgId: string, invoiceId: string, status: InvoiceStatus): SandboxInvoice;
  touch(orgId: string, invoiceId: string): SandboxInvoice;
  setCsvSize(orgId: string, invoiceId: string, bytes: number | undefined): GeneratedCsvSpec | undefined;
  csvSpec(orgId: string, invoiceId: string): GeneratedCsvSpec | undefined;
  advanceDemo(): DemoStep;
  /** A fresh `updated` timestamp: never earlier than the calendar and strictly after the previous one. */
  stamp(): string;
  /** Now on the data's calendar (epoch ms): the clock, or with `storyStart` the clock moved to the story's day. */
  calendar(): number;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseMonth(month: string): number {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (match === null) throw new Error(`month must look like 2024-06 (got ${month})`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, 1);
}

/**
 * The sandbox's organisations and invoices, and every way they change. Deterministic: the same seed, calendar date and
 * sequence of calls give the same ids, amounts and CSV bytes.
 *
 * The calendar the data is dated on is the clock's, unless `storyStart` (epoch ms) names the demo story's first day:
 * then it is the clock moved by whole days to that day, and moved again to each new day of the story, so invoices,
 * line items and `updated` stamps follow the story while the clock keeps time for tokens and rate limits.
 */
export function createStore(options: { clock: () => number; seed: number; storyStart?: number }): Store {
  const { clock, seed } = options;
  const orgs = new Map<string, SandboxOrg>();
  const story = createRandom(hashSeed(seed, 'story'));
  const orgRandoms = new Map<string, Random>();
  const onStory = options.storyStart !== undefined;
  let offset = onStory ? dayStart(options.storyStart as number) - dayStart(clock()) : 0;
  const calendar = () => clock() + offset;
  let storyDay = dayStart(calendar());
  let storyDayNumber = 0;
  let lastStamp = 0;

  const stamp = (): string => {
    const at = Math.max(
      calendar(),
      storyDay + 12 * 3_600_000 * Math.min(1, storyDayNumber),
      lastStamp + 1000,
    );
    lastStamp = Math.floor(at / 1000) * 1000;
    return isoSeconds(lastStamp);
  };

  const requireOrg = (orgId: string): SandboxOrg => {
    const org = orgs.get(orgId);
    if (org === undefined) throw new Error(`sandbox: no organisation ${orgId}`);
    return org;
  };
  const requireInvoice = (orgId: string, invoiceId: string): SandboxInvoice => {
    const invoice = requireOrg(orgId).invoices.find((i) => i.id === invoiceId);
    if (invoice === undefined) throw new Error(`sandbox: no invoice ${invoiceId} in organisation ${orgId}`);
    return invoice;
  };
  const randomOf = (org: SandboxOrg): Random => {
    const random = orgRandoms.get(org.id);
    if (random === undefined) throw new Error(`sandbox: no random source for ${org.id}`);
    return random;
  };

  /** Brings payments in line with a new status (PAID adds a paid payment; FAILED a failed one; FORGIVEN one too). */
  const settle = (org: SandboxOrg, invoice: SandboxInvoice, status: InvoiceStatus, at: string) => {
    if (status === 'PAID' || status === 'FAILED' || status === 'FORGIVEN') {
      invoice.payments.push(
        payment(randomOf(org), status as 'PAID' | 'FAILED' | 'FORGIVEN', amountsOf(invoice), at),
      );
    }
  };

  const newInvoice = (
    org: SandboxOrg,
    random: Random,
    start: number,
    seedOf: InvoiceSeed,
  ): SandboxInvoice => {
    const end = monthStart(start, 1);
    const status = seedOf.statusName ?? 'PAID';
    const now = calendar();
    const usageEnd =
      status === 'PENDING' ? Math.min(end, Math.max(start + DAY_MS, dayStart(now) + DAY_MS)) : end;
    const lineItems = [];
    if (org.lineItemMode === 'daily') {
      for (let day = start; day < usageEnd; day += DAY_MS) {
        lineItems.push(...generateLineItems(random, org, 'daily', day, day + DAY_MS));
      }
    } else {
      lineItems.push(...generateLineItems(random, org, 'monthly', start, usageEnd));
    }
    if (seedOf.creditCents !== undefined && seedOf.creditCents > 0) {
      lineItems.push(creditLineItem(start, end, seedOf.creditCents));
    }
    const after = (days: number, hour: number) => Math.min(now, end + days * DAY_MS + hour * 3_600_000);
    const updatedAt =
      status === 'PENDING'
        ? Math.min(now, usageEnd)
        : status === 'CLOSED'
          ? after(0, 3)
          : status === 'FORGIVEN'
            ? after(20, 9)
            : after(4, 9);
    const updatedMs = Math.floor(Math.max(updatedAt, Math.min(now, start + 60_000)) / 1000) * 1000;
    // Later stamps must come strictly after every `updated` handed out, including these generated ones.
    lastStamp = Math.max(lastStamp, updatedMs);
    const invoice: SandboxInvoice = {
      id: objectId(random),
      orgId: org.id,
      statusName: status,
      startDate: isoDay(start),
      endDate: isoDay(end),
      created: isoSeconds(Math.min(now, start + 60_000)),
      updated: isoSeconds(updatedMs),
      lineItems,
      payments: [],
      refunds: [],
      startingBalanceCents: seedOf.startingBalanceCents ?? 0,
      taxRateBasisPoints: org.taxRateBasisPoints,
      csvBytes: seedOf.csvBytes,
      closedOnDay: status === 'CLOSED' ? 0 : undefined,
      failedOnDay: status === 'FAILED' ? 0 : undefined,
    };
    settle(org, invoice, status, invoice.updated);
    return invoice;
  };

  const sortInvoices = (org: SandboxOrg) => {
    org.invoices.sort((a, b) => (a.startDate < b.startDate ? 1 : a.startDate > b.startDate ? -1 : 0));
  };

  const createOrg = (orgSeed: OrgSeed = {}): SandboxOrg => {
    const index = orgs.size;
    const random = createRandom(hashSeed(seed, 'org', orgSeed.id ?? index, orgSeed.name ?? ''));
    const id = orgSeed.id ?? objectId(random);
    if (!isObjectId(id))
      throw new Error(`sandbox: organisation id must be 24 lower-case hex digits (got ${id})`);
    if (orgs.has(id)) throw new Error(`sandbox: organisation ${id} exists already`);
    const org: SandboxOrg = {
      id,
      name: orgSeed.name ?? `Sandbox Organization ${index + 1}`,
      projects: generateProjects(random, orgSeed.projects ?? ['Production', 'Staging']),
      invoices: [],
      linkedOrgIds: [...(orgSeed.linkedOrgIds ?? [])],
      live: orgSeed.live ?? false,
      lineItemMode: orgSeed.lineItems ?? 'monthly',
      taxRateBasisPoints: orgSeed.taxRateBasisPoints ?? 0,
      spendSeed: hashSeed(seed, 'spend', id),
      placedSpike: orgSeed.placedSpike,
    };
    orgs.set(id, org);
    orgRandoms.set(id, random);
    const seeds: readonly InvoiceSeed[] =
      typeof orgSeed.invoices === 'number' || orgSeed.invoices === undefined
        ? Array.from({ length: orgSeed.invoices ?? 3 }, (_, i) => ({
            statusName: i === 0 ? 'PENDING' : 'PAID',
          }))
        : orgSeed.invoices;
    const current = monthStart(calendar());
    seeds.forEach((invoiceSeed, i) => {
      const start = invoiceSeed.month !== undefined ? parseMonth(invoiceSeed.month) : monthStart(current, -i);
      org.invoices.push(newInvoice(org, random, start, invoiceSeed));
    });
    sortInvoices(org);
    return org;
  };

  const addInvoice = (orgId: string, invoiceSeed: InvoiceSeed = {}): SandboxInvoice => {
    const org = requireOrg(orgId);
    const newest = org.invoices[0];
    const start =
      invoiceSeed.month !== undefined
        ? parseMonth(invoiceSeed.month)
        : newest === undefined
          ? monthStart(calendar())
          : monthStart(Date.parse(newest.startDate), 1);
    const invoice = newInvoice(org, randomOf(org), start, { statusName: 'PENDING', ...invoiceSeed });
    invoice.updated = stamp();
    org.invoices.push(invoice);
    sortInvoices(org);
    return invoice;
  };

  const setStatus = (orgId: string, invoiceId: string, status: InvoiceStatus): SandboxInvoice => {
    if (!(INVOICE_STATUSES as readonly string[]).includes(status))
      throw new Error(`sandbox: unknown status ${status}`);
    const org = requireOrg(orgId);
    const invoice = requireInvoice(orgId, invoiceId);
    invoice.statusName = status;
    invoice.updated = stamp();
    if (status === 'CLOSED') invoice.closedOnDay = storyDayNumber;
    if (status === 'FAILED') invoice.failedOnDay = storyDayNumber;
    settle(org, invoice, status, invoice.updated);
    return invoice;
  };

  /** One more day of usage on the invoice (a new line item, so the CSV changes), or the last day again. */
  const accrue = (org: SandboxOrg, invoice: SandboxInvoice) => {
    const start = Date.parse(invoice.startDate);
    const end = Date.parse(invoice.endDate);
    const lastEnd = invoice.lineItems.reduce((max, item) => {
      const itemEnd = Date.parse(item.json.endDate ?? '');
      return item.json.sku !== 'CREDIT' && itemEnd > max ? itemEnd : max;
    }, start);
    const from = Math.min(lastEnd, end - DAY_MS);
    invoice.lineItems.push(...generateLineItems(randomOf(org), org, 'daily', from, from + DAY_MS));
  };

  const touch = (orgId: string, invoiceId: string): SandboxInvoice => {
    const org = requireOrg(orgId);
    const invoice = requireInvoice(orgId, invoiceId);
    if (invoice.statusName === 'PENDING') accrue(org, invoice);
    invoice.updated = stamp();
    return invoice;
  };

  const csvSpec = (orgId: string, invoiceId: string): GeneratedCsvSpec | undefined => {
    const org = requireOrg(orgId);
    const invoice = requireInvoice(orgId, invoiceId);
    if (invoice.csvBytes === undefined) return undefined;
    return {
      invoiceId: invoice.id,
      orgId: org.id,
      orgName: org.name,
      startDate: invoice.startDate,
      endDate: invoice.endDate,
      bytes: invoice.csvBytes,
      projects: org.projects.map((p) => ({ id: p.id, name: p.name })),
      seed,
    };
  };

  const setCsvSize = (orgId: string, invoiceId: string, bytes: number | undefined) => {
    if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes < 0)) {
      throw new Error('sandbox: CSV size must be a whole number of bytes');
    }
    requireInvoice(orgId, invoiceId).csvBytes = bytes;
    const spec = csvSpec(orgId, invoiceId);
    return spec === undefined ? undefined : { ...spec, bytes: generatedCsvSize(spec) };
  };

  /**
   * One day of the demo story for every live organisation: the PENDING invoice accrues a day; on a new month it
   * becomes CLOSED and a new PENDING appears; two days after closing, CLOSED becomes PAID (one time in four FAILED
   * first, then PAID three days later).
   */
  const advanceDemo = (): DemoStep => {
    storyDay += DAY_MS;
    storyDayNumber += 1;
    if (onStory) offset = storyDay - dayStart(clock());
    const changes: DemoChange[] = [];
    for (const org of orgs.values()) {
      if (!org.live) continue;
      const pending = org.invoices.find((i) => i.statusName === 'PENDING');
      if (pending !== undefined && Date.parse(pending.endDate) <= storyDay) {
        setStatus(org.id, pending.id, 'CLOSED');
        changes.push({ orgId: org.id, invoiceId: pending.id, kind: 'status', from: 'PENDING', to: 'CLOSED' });
        const fresh = newInvoice(org, randomOf(org), monthStart(storyDay), { statusName: 'PENDING' });
        fresh.updated = stamp();
        org.invoices.push(fresh);
        sortInvoices(org);
        changes.push({ orgId: org.id, invoiceId: fresh.id, kind: 'created', to: 'PENDING' });
      } else if (pending !== undefined) {
        accrue(org, pending);
        pending.updated = stamp();
        changes.push({ orgId: org.id, invoiceId: pending.id, kind: 'accrued', to: 'PENDING' });
      }
      for (const invoice of org.invoices) {
        if (invoice.statusName === 'CLOSED' && storyDayNumber - (invoice.closedOnDay ?? 0) >= 2) {
          const fails = invoice.failedOnDay === undefined && story() < 0.25;
          const to = fails ? 'FAILED' : 'PAID';
          setStatus(org.id, invoice.id, to);
          changes.push({ orgId: org.id, invoiceId: invoice.id, kind: 'status', from: 'CLOSED', to });
        } else if (invoice.statusName === 'FAILED' && storyDayNumber - (invoice.failedOnDay ?? 0) >= 3) {
          setStatus(org.id, invoice.id, 'PAID');
          changes.push({ orgId: org.id, invoiceId: invoice.id, kind: 'status', from: 'FAILED', to: 'PAID' });
        }
      }
    }
    return { date: new Date(storyDay).toISOString().slice(0, 10), changes };
  };

  return {
    orgs,
    createOrg,
    org: (orgId) => orgs.get(orgId),
    invoice: (orgId, invoiceId) => orgs.get(orgId)?.invoices.find((i) => i.id === invoiceId),
    addInvoice,
    setStatus,
    touch,
    setCsvSize,
    csvSpec,
    advanceDemo,
    stamp,
    calendar,
  };
}
