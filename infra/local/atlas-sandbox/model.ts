import type {
  InvoiceLineItem,
  InvoicePayment,
  InvoiceRefund,
  InvoiceStatus,
} from '../../../lib/invoices/invoice';
import type { InvoiceAmounts } from '../../../lib/invoices/types';
import { between, createRandom, hashSeed, objectId, pick, type Random } from './random';

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
  /** Seeds the `daily` spend pattern (see `dailyUsageItems`). */
  readonly spendSeed: number;
  /** A spike placed on a chosen day instead of its month's own (see `dailyUsageItems`). */
  readonly placedSpike?: PlacedSpike | undefined;
}

/** A one-day spike on a chosen day: one project's internet egress `factor` times its usual. */
export interface PlacedSpike {
  /** The usage day, `YYYY-MM-DD` (UTC). */
  readonly day: string;
  /** Index of the project in the organisation's list. */
  readonly project: number;
  readonly factor: number;
}

/** The part of an organisation its spend pattern depends on. */
export type SpendPatternOrg = Pick<SandboxOrg, 'projects' | 'spendSeed' | 'placedSpike'>;

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
  const quantity = days * (low + random() * (high - low));
  const cluster = entry.cluster && project !== undefined ? pick(random, project.clusters) : undefined;
  return usageLine(entry, project, cluster, from, to, quantity);
}

/** One line item of `quantity` units (rounded to hundredths, as Atlas prints them) of a catalogue SKU. */
function usageLine(
  entry: CatalogueEntry,
  project: SandboxProject | undefined,
  cluster: string | undefined,
  from: number,
  to: number,
  units: number,
): SandboxLineItem {
  const quantity = round2(units);
  const totalPriceCents = Math.round(quantity * entry.unitPriceDollars * 100);
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
 * The line items of one day of usage (`daily` orgs: the spend pattern of `dailyUsageItems`), or of a whole month
 * (`monthly` orgs: a handful of lines covering the period).
 */
export function generateLineItems(
  random: Random,
  org: SpendPatternOrg,
  mode: 'daily' | 'monthly',
  from: number,
  to: number,
): SandboxLineItem[] {
  if (mode === 'daily') return dailyUsageItems(org, from);
  const projects = org.projects;
  const clusterSkus = SKU_CATALOGUE.filter((e) => e.cluster);
  const items: SandboxLineItem[] = [];
  const days = Math.max(1, Math.round((to - from) / DAY_MS));
  const count = between(random, 2, 5);
  for (let i = 0; i < count; i++) {
    const project = projects.length === 0 ? undefined : pick(random, projects);
    items.push(lineItem(random, pick(random, clusterSkus), project, from, to, days));
  }
  return items;
}

function catalogue(sku: string): CatalogueEntry {
  const entry = SKU_CATALOGUE.find((e) => e.sku === sku);
  if (entry === undefined) throw new Error(`sandbox: no SKU ${sku} in the catalogue`);
  return entry;
}

/** Instance sizes by cluster, in turn: what each cluster of a project runs all day. */
const INSTANCE_SKUS = [
  'ATLAS_AWS_INSTANCE_M30',
  'ATLAS_AWS_INSTANCE_M10',
  'ATLAS_GCP_INSTANCE_M20',
  'ATLAS_AWS_INSTANCE_M30',
] as const;
/** Server hours a day of a three-node replica set. */
const SERVER_HOURS_PER_DAY = 72;
/** Weekend internet egress as a share of a weekday's. */
const WEEKEND_EGRESS_SHARE = 0.35;

/** `YYYY-MM` of a UTC day. */
function monthKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The month's events, a function of the seed and the month alone (and of a spike placed in that month). */
function monthEvents(org: SpendPatternOrg, monthStartMs: number) {
  const random = createRandom(hashSeed(org.spendSeed, 'month', monthKey(monthStartMs)));
  const launches = random() < 0.5;
  const launchDay = between(random, 8, 20);
  const launchProject = Math.floor(random() * Math.max(1, org.projects.length));
  const spikes = random() < 0.67;
  const spikeDay = between(random, 3, 27);
  const spikeProject = Math.floor(random() * Math.max(1, org.projects.length));
  const spikeFactor = 20 + random() * 20;
  const placed = org.placedSpike;
  const spike =
    placed !== undefined && placed.day.slice(0, 7) === monthKey(monthStartMs)
      ? { day: Number(placed.day.slice(8, 10)), project: placed.project, factor: placed.factor }
      : spikes
        ? { day: spikeDay, project: spikeProject, factor: spikeFactor }
        : undefined;
  return {
    launch: launches
      ? { day: launchDay, project: launchProject, cluster: `launch-${monthKey(monthStartMs)}` }
      : undefined,
    spike,
  };
}

/**
 * One usage day of a `daily` organisation. What a day costs follows from the organisation's `spendSeed` and the date
 * alone (never from the order days are generated in), so the same history serves the tests, the benchmarks and
 * `npm start`:
 * - every cluster of a project runs one instance size all day (72 server hours: a three-node replica set), and keeps
 *   a slowly growing backup snapshot;
 * - each project's internet egress is business traffic: weekends carry 35% of a weekday's (weekly seasonality);
 * - support, one line a day;
 * - a cluster launch: in about half the months, on a day from the 8th to the 20th, a new M40 cluster
 *   (`launch-YYYY-MM`) starts in one project and runs to the end of the following month (a level shift up, then down
 *   at a month boundary);
 * - a one-day spike: in about two months of three, one day's internet egress of one project is 20 to 40 times its
 *   usual (a runaway export); an organisation's `placedSpike` replaces its month's own spike.
 * Day-to-day noise is about ±15% on egress and ±10% on backups.
 */
export function dailyUsageItems(org: SpendPatternOrg, dayMs: number): SandboxLineItem[] {
  const day = dayStart(dayMs);
  const next = day + DAY_MS;
  const random = createRandom(hashSeed(org.spendSeed, 'day', isoDay(day)));
  const date = new Date(day);
  const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
  const dayOfMonth = date.getUTCDate();
  const events = monthEvents(org, monthStart(day));
  const earlier = monthEvents(org, monthStart(day, -1));
  const yearDay = Math.floor((day - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS);
  const items: SandboxLineItem[] = [];
  org.projects.forEach((project, p) => {
    project.clusters.forEach((cluster, c) => {
      const sku = INSTANCE_SKUS[(p + c) % INSTANCE_SKUS.length] as string;
      items.push(usageLine(catalogue(sku), project, cluster, day, next, SERVER_HOURS_PER_DAY));
      const storedGb = (250 + 40 * p + 60 * c + yearDay) * (0.9 + 0.2 * random());
      items.push(
        usageLine(catalogue('ATLAS_AWS_BACKUP_SNAPSHOT_STORAGE'), project, cluster, day, next, storedGb),
      );
    });
    const launches = [
      events.launch !== undefined && events.launch.project === p && dayOfMonth >= events.launch.day
        ? events.launch.cluster
        : undefined,
      earlier.launch !== undefined && earlier.launch.project === p ? earlier.launch.cluster : undefined,
    ];
    for (const cluster of launches) {
      if (cluster !== undefined) {
        items.push(
          usageLine(catalogue('ATLAS_AZURE_INSTANCE_M40'), project, cluster, day, next, SERVER_HOURS_PER_DAY),
        );
      }
    }
    const weekdayGb = 250 + 60 * p;
    let egressGb = weekdayGb * (weekend ? WEEKEND_EGRESS_SHARE : 1) * (0.85 + 0.3 * random());
    if (events.spike !== undefined && events.spike.project === p && events.spike.day === dayOfMonth) {
      egressGb *= events.spike.factor;
    }
    const home = project.clusters[0];
    items.push(usageLine(catalogue('ATLAS_AWS_DATA_TRANSFER_INTERNET'), project, home, day, next, egressGb));
  });
  items.push(usageLine(catalogue('ATLAS_SUPPORT_DEVELOPER'), undefined, undefined, day, next, 1));
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
