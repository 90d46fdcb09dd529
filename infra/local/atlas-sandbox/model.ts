import type {
  InvoiceLineItem,
  InvoicePayment,
  InvoiceRefund,
  InvoiceStatus,
} from '../../../lib/invoices/invoice';
import type { InvoiceAmounts } from '../../../lib/invoices/types';
import { between, objectId, pick, type Random } from './random';

/** A project of a sandbox organisation (CSV "Project"/"Project ID", JSON groupName/groupId). */
export interface SandboxProject {
  readonly id: string;
  readonly name: string;
  /** Clusters of the project; names follow Atlas's `^[a-zA-Z0-9][a-zA-Z0-9-]*$`. */
  readonly clusters: readonly string[];
}

/** One line item: its JSON as the API returns it plus the CSV-only columns. */
export interface SandboxLineItem {
  readonly json: InvoiceLineItem;
  readonly description: string;
  readonly region: string;
  readonly replicaSet: string;
}

export interface SandboxInvoice {
  readonly id: string;
  readonly orgId: string;
  statusName: InvoiceStatus;
  /** ISO 8601 UTC, `YYYY-MM-DDT00:00:00Z`. */
  readonly startDate: string;
  readonly endDate: string;
  readonly created: string;
  updated: string;
  readonly lineItems: SandboxLineItem[];
  readonly payments: InvoicePayment[];
  readonly refunds: InvoiceRefund[];
  readonly startingBalanceCents: number;
  /** Sales tax in basis points of the (positive) subtotal. */
  readonly taxRateBasisPoints: number;
  /** When set, the CSV is a generated one of exactly this many bytes instead of the line items. */
  csvBytes: number | undefined;
  /** Demo story bookkeeping: the story day the invoice closed / failed. */
  closedOnDay: number | undefined;
  failedOnDay: number | undefined;
}

export interface SandboxOrg {
  readonly id: string;
  name: string;
  readonly projects: readonly SandboxProject[];
  /** Newest first (by startDate). */
  readonly invoices: SandboxInvoice[];
  readonly linkedOrgIds: readonly string[];
  /** Takes part in `advanceDemo()`. */
  readonly live: boolean;
  readonly lineItemMode: 'daily' | 'monthly';
  readonly taxRateBasisPoints: number;
}

/** subtotal = every line item (credits are negative lines); billed = subtotal + tax − starting balance. */
export function amountsOf(invoice: SandboxInvoice): InvoiceAmounts {
  let subtotal = 0;
  let credits = 0;
  for (const item of invoice.lineItems) {
    const cents = item.json.totalPriceCents ?? 0;
    subtotal += cents;
    if (cents < 0) credits -= cents;
  }
  const salesTax = subtotal > 0 ? Math.round((subtotal * invoice.taxRateBasisPoints) / 10_000) : 0;
  const billed = subtotal + salesTax - invoice.startingBalanceCents;
  const paid = invoice.payments
    .filter((p) => p.statusName === 'PAID')
    .reduce((sum, p) => sum + (p.amountPaidCents ?? 0), 0);
  return {
    subtotalCents: subtotal,
    creditsCents: credits,
    salesTaxCents: salesTax,
    startingBalanceCents: invoice.startingBalanceCents,
    amountBilledCents: billed,
    amountPaidCents: paid,
  };
}

interface CatalogueEntry {
  readonly sku: string;
  readonly description: string;
  readonly unit: string;
  readonly unitPriceDollars: number;
  readonly cloudProvider: 'AWS' | 'GCP' | 'AZURE' | 'ATLAS';
  readonly region: string;
  /** Typical daily quantity range. */
  readonly perDay: readonly [number, number];
  readonly cluster: boolean;
}

/** A small, realistic SKU catalogue. Descriptions with commas and quotes exercise CSV quoting. */
export const SKU_CATALOGUE: readonly CatalogueEntry[] = [
  {
    sku: 'ATLAS_AWS_INSTANCE_M10',
    description: 'AWS Instance M10',
    unit: 'server hours',
    unitPriceDollars: 0.08,
    cloudProvider: 'AWS',
    region: 'US_EAST_1',
    perDay: [72, 72],
    cluster: true,
  },
  {
    sku: 'ATLAS_AWS_INSTANCE_M30',
    description: 'AWS Instance M30',
    unit: 'server hours',
    unitPriceDollars: 0.54,
    cloudProvider: 'AWS',
    region: 'EU_WEST_1',
    perDay: [72, 72],
    cluster: true,
  },
  {
    sku: 'ATLAS_GCP_INSTANCE_M20',
    description: 'GCP Instance M20',
    unit: 'server hours',
    unitPriceDollars: 0.2,
    cloudProvider: 'GCP',
    region: 'CENTRAL_US',
    perDay: [72, 72],
    cluster: true,
  },
  {
    sku: 'ATLAS_AZURE_INSTANCE_M40',
    description: 'Azure Instance M40',
    unit: 'server hours',
    unitPriceDollars: 1.04,
    cloudProvider: 'AZURE',
    region: 'EUROPE_WEST',
    perDay: [24, 72],
    cluster: true,
  },
  {
    sku: 'ATLAS_AWS_DATA_TRANSFER_SAME_REGION',
    description: 'AWS Data Transfer (Same Region)',
    unit: 'GB',
    unitPriceDollars: 0.01,
    cloudProvider: 'AWS',
    region: 'US_EAST_1',
    perDay: [1, 400],
    cluster: true,
  },
  {
    sku: 'ATLAS_AWS_DATA_TRANSFER_INTERNET',
    description: 'AWS Data Transfer (Internet), "egress"',
    unit: 'GB',
    unitPriceDollars: 0.09,
    cloudProvider: 'AWS',
    region: 'US_EAST_1',
    perDay: [1, 120],
    cluster: true,
  },
  {
    sku: 'ATLAS_AWS_BACKUP_SNAPSHOT_STORAGE',
    description: 'AWS Backup Snapshot Storage',
    unit: 'GB days',
    unitPriceDollars: 0.0033,
    cloudProvider: 'AWS',
    region: 'US_EAST_1',
    perDay: [50, 900],
    cluster: true,
  },
  {
    sku: 'ATLAS_SUPPORT_DEVELOPER',
    description: 'Developer Support, 20% of usage (min $29/month)',
    unit: 'days',
    unitPriceDollars: 0.97,
    cloudProvider: 'ATLAS',
    region: '',
    perDay: [1, 1],
    cluster: false,
  },
];

const DAY_MS = 86_400_000;

export function isoDay(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)}T00:00:00Z`;
}

/** UTC midnight of the first day of the month `offset` months from the month containing `ms`. */
export function monthStart(ms: number, offset = 0): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1);
}

export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export { DAY_MS };

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function lineItem(
  random: Random,
  entry: CatalogueEntry,
  project: SandboxProject | undefined,
  from: number,
  to: number,
  days: number,
): SandboxLineItem {
  const [low, high] = entry.perDay;
  const quantity = round2(days * (low + random() * (high - low)));
  const totalPriceCents = Math.round(quantity * entry.unitPriceDollars * 100);
  const cluster = entry.cluster && project !== undefined ? pick(random, project.clusters) : undefined;
  const json: InvoiceLineItem = {
    sku: entry.sku,
    cloudProvider: entry.cloudProvider,
    ...(project !== undefined ? { groupId: project.id, groupName: project.name } : {}),
    ...(cluster !== undefined ? { clusterName: cluster } : {}),
    quantity,
    unit: entry.unit,
    unitPriceDollars: entry.unitPriceDollars,
    totalPriceCents,
    startDate: isoDay(from),
    endDate: isoDay(to),
    created: isoDay(to),
  };
  return {
    json,
    description: entry.description,
    region: entry.region,
    replicaSet: cluster === undefined ? '' : `atlas-${cluster.toLowerCase()}-shard-0`,
  };
}

/**
 * The line items of one day of usage (`daily` orgs: one line per cluster SKU of each project, plus support), or of a
 * whole month (`monthly` orgs: a handful of lines covering the period).
 */
export function generateLineItems(
  random: Random,
  projects: readonly SandboxProject[],
  mode: 'daily' | 'monthly',
  from: number,
  to: number,
): SandboxLineItem[] {
  const items: SandboxLineItem[] = [];
  const clusterSkus = SKU_CATALOGUE.filter((e) => e.cluster);
  const support = SKU_CATALOGUE.find((e) => !e.cluster);
  if (mode === 'daily') {
    for (const project of projects) {
      const count = between(random, 1, 2);
      for (let i = 0; i < count; i++)
        items.push(lineItem(random, pick(random, clusterSkus), project, from, to, 1));
    }
    if (support !== undefined) items.push(lineItem(random, support, undefined, from, to, 1));
    return items;
  }
  const days = Math.max(1, Math.round((to - from) / DAY_MS));
  const count = between(random, 2, 5);
  for (let i = 0; i < count; i++) {
    const project = projects.length === 0 ? undefined : pick(random, projects);
    items.push(lineItem(random, pick(random, clusterSkus), project, from, to, days));
  }
  return items;
}

/** An organisation-wide credit line (negative amount, no project), as Atlas shows promotional credits. */
export function creditLineItem(from: number, to: number, cents: number): SandboxLineItem {
  return {
    json: {
      sku: 'CREDIT',
      cloudProvider: 'ATLAS',
      note: 'Startup program, "Build" tier',
      quantity: 1,
      unit: 'credit',
      unitPriceDollars: -cents / 100,
      totalPriceCents: -cents,
      startDate: isoDay(from),
      endDate: isoDay(to),
      created: isoDay(to),
    },
    description: 'Credit',
    region: '',
    replicaSet: '',
  };
}

export function generateProjects(random: Random, names: readonly string[]): SandboxProject[] {
  return names.map((name, i) => ({
    id: objectId(random),
    name,
    clusters: i % 2 === 0 ? [`Cluster${i}`, `analytics-${i}`] : [`Cluster${i}`],
  }));
}

/** A payment as Atlas lists it under an invoice (unitPrice is a decimal string: the USD exchange rate). */
export function payment(
  random: Random,
  statusName: 'PAID' | 'FAILED' | 'FORGIVEN',
  amounts: InvoiceAmounts,
  at: string,
): InvoicePayment {
  return {
    id: objectId(random),
    statusName,
    amountBilledCents: amounts.amountBilledCents,
    amountPaidCents: statusName === 'PAID' ? amounts.amountBilledCents : 0,
    salesTaxCents: amounts.salesTaxCents,
    subtotalCents: amounts.subtotalCents,
    unitPrice: '1.00',
    currency: 'USD',
    created: at,
    updated: at,
  };
}
