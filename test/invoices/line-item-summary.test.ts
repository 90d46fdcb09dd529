import { describe, expect, it } from 'vitest';
import { inspectCsv } from '../../lib/invoices/csv-summary';
import type { Invoice, InvoiceLineItem } from '../../lib/invoices/invoice';
import {
  formatBillingPeriod,
  inspectLineItems,
  summariseLineItems,
} from '../../lib/invoices/line-item-summary';

const PROJECTS = [
  { groupName: 'Production', groupId: '666acb8787ba43606905dc01' },
  { groupName: 'Staging', groupId: '666acb8787ba43606905dc02' },
  { groupName: 'Analytics, EU', groupId: '666acb8787ba43606905dc03' },
  { groupName: 'Équipe 日本', groupId: '666acb8787ba43606905dc04' },
  { groupName: 'Sandbox', groupId: '666acb8787ba43606905dc05' },
  { groupName: 'Archive', groupId: '666acb8787ba43606905dc06' },
];
const SKUS = [
  'ATLAS_AWS_INSTANCE_M30',
  'ATLAS_AWS_INSTANCE_M10',
  'ATLAS_BACKUP_SNAPSHOT_STORAGE',
  'ATLAS_SUPPORT',
];

function invoice(lineItems: InvoiceLineItem[] | undefined): Invoice {
  return {
    id: '666acb8787ba43606905dcae',
    orgId: '666acb8787ba43606905dcac',
    statusName: 'PENDING',
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    updated: '2024-06-15T04:00:00Z',
    ...(lineItems === undefined ? {} : { lineItems }),
  };
}

function lineItems(): InvoiceLineItem[] {
  const items: InvoiceLineItem[] = [];
  let seed = 17;
  for (let day = 0; day < 10; day++) {
    PROJECTS.forEach((project, p) => {
      SKUS.forEach((sku, s) => {
        if ((day + p + s) % 2 !== 0) return;
        seed = (seed * 7919 + 13) % 100_003;
        items.push({ ...project, sku, totalPriceCents: seed * (p + 1) });
      });
    });
  }
  items.push({ ...PROJECTS[0], sku: 'CREDIT', totalPriceCents: -2500 });
  return items;
}

function byCentsThenName(a: { name: string; cents: number }, b: { name: string; cents: number }): number {
  return b.cents - a.cents || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

describe('summariseLineItems', () => {
  it('totals and ranks projects and SKUs from the JSON line items', () => {
    const items = lineItems();
    const projectTotals = new Map<string, { name: string; id: string; cents: number }>();
    const skuTotals = new Map<string, { name: string; cents: number }>();
    for (const item of items) {
      const id = item.groupId as string;
      const project = projectTotals.get(id) ?? { name: item.groupName as string, id, cents: 0 };
      project.cents += item.totalPriceCents as number;
      projectTotals.set(id, project);
      const sku = skuTotals.get(item.sku as string) ?? { name: item.sku as string, cents: 0 };
      sku.cents += item.totalPriceCents as number;
      skuTotals.set(item.sku as string, sku);
    }

    const summary = summariseLineItems(invoice(items), 3);

    expect(summary.lineItemCount).toBe(items.length);
    expect(summary.totalCents).toBe(items.reduce((sum, item) => sum + (item.totalPriceCents as number), 0));
    expect(summary.projects).toEqual([...projectTotals.values()].sort(byCentsThenName).slice(0, 3));
    expect(summary.projectCount).toBe(PROJECTS.length);
    expect(summary.skus).toEqual([...skuTotals.values()].sort(byCentsThenName).slice(0, 3));
    expect(summary.skuCount).toBe(SKUS.length + 1);
    expect(summary.malformedRows).toBe(0);
  });

  it('takes the header values from the invoice, with the period written as the CSV writes it', () => {
    const summary = summariseLineItems(invoice([]));

    expect(summary.invoiceNumber).toBe('666acb8787ba43606905dcae');
    expect(summary.organizationId).toBe('666acb8787ba43606905dcac');
    expect(summary.billingPeriod).toBe('June 1, 2024 - July 1, 2024');
    expect(summary.organizationName).toBeUndefined();
  });

  it('matches the summary of the same line items read from a CSV', async () => {
    const items = lineItems();
    const header =
      'Date,Usage Date,Description,Note,Organization Name,Organization ID,Project,Project ID,SKU,Region,Cluster,' +
      'Replica Set,Config Server,Application,Unit,Unit Price,Quantity,Discount Percent,Amount';
    const quote = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
    const dollars = (cents: number) =>
      `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
    const rows = items.map((item) =>
      [
        '06/01/2024',
        '06/01/2024',
        'usage',
        '',
        'Test 2',
        '666acb8787ba43606905dcac',
        quote(item.groupName as string),
        item.groupId,
        item.sku,
        'US_EAST_1',
        'Cluster0',
        '',
        '',
        '',
        'hours',
        '0.08',
        '1',
        '0',
        dollars(item.totalPriceCents as number),
      ].join(','),
    );
    const csv = Buffer.from(`Invoice Number,666acb8787ba43606905dcae,\n\n${header}\n${rows.join('\n')}\n`);
    async function* once() {
      yield csv;
    }

    const fromJson = summariseLineItems(invoice(items), 4);
    const { summary: fromCsv } = await inspectCsv(once(), { topN: 4 });

    expect(fromJson.projects).toEqual(fromCsv.projects);
    expect(fromJson.skus).toEqual(fromCsv.skus);
    expect(fromJson.totalCents).toBe(fromCsv.totalCents);
    expect(fromJson.lineItemCount).toBe(fromCsv.lineItemCount);
    expect(fromJson.projectCount).toBe(fromCsv.projectCount);
    expect(fromJson.skuCount).toBe(fromCsv.skuCount);
  });

  it('lists five projects by default', () => {
    expect(summariseLineItems(invoice(lineItems())).projects).toHaveLength(5);
  });

  it('summarises an invoice without line items as empty', () => {
    const summary = summariseLineItems(invoice(undefined));

    expect(summary).toMatchObject({
      lineItemCount: 0,
      totalCents: 0,
      projects: [],
      projectCount: 0,
      skus: [],
      skuCount: 0,
      malformedRows: 0,
    });
  });

  it('counts a missing amount as zero and a fractional one as malformed', () => {
    const items: InvoiceLineItem[] = [
      { groupName: 'A', groupId: 'a1', sku: 'S', totalPriceCents: 150 },
      { groupName: 'A', groupId: 'a1', sku: 'S' },
      { groupName: 'A', groupId: 'a1', sku: 'S', totalPriceCents: 12.5 },
      { groupName: 'A', groupId: 'a1', sku: 'S', totalPriceCents: Number.NaN },
    ];

    const summary = summariseLineItems(invoice(items));

    expect(summary.lineItemCount).toBe(2);
    expect(summary.totalCents).toBe(150);
    expect(summary.malformedRows).toBe(2);
  });

  it('keys a project without an id by its name, and names a missing SKU as empty', () => {
    const items: InvoiceLineItem[] = [
      { groupName: 'Shared', totalPriceCents: 100 },
      { groupName: 'Shared', totalPriceCents: 50 },
    ];

    const summary = summariseLineItems(invoice(items));

    expect(summary.projects).toEqual([{ name: 'Shared', cents: 150 }]);
    expect(summary.skus).toEqual([{ name: '', cents: 150 }]);
  });

  it('refuses a negative or fractional topN', () => {
    expect(() => summariseLineItems(invoice([]), -1)).toThrow(RangeError);
    expect(() => summariseLineItems(invoice([]), 2.5)).toThrow(RangeError);
  });
});

describe('formatBillingPeriod', () => {
  it('writes both dates in UTC, whatever the time of day', () => {
    expect(formatBillingPeriod('2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z')).toBe(
      'December 1, 2024 - January 1, 2025',
    );
  });

  it('answers undefined for unreadable dates', () => {
    expect(formatBillingPeriod('not a date', '2024-07-01T00:00:00Z')).toBeUndefined();
  });
});

describe('inspectLineItems', () => {
  it('builds the usage series from each line item’s start date and cluster, beside the same summary', () => {
    const items: InvoiceLineItem[] = [
      {
        ...PROJECTS[0],
        sku: 'ATLAS_AWS_INSTANCE_M30',
        clusterName: 'Cluster0',
        startDate: '2024-06-01T00:00:00Z',
        totalPriceCents: 1_000,
      },
      {
        ...PROJECTS[0],
        sku: 'ATLAS_AWS_INSTANCE_M30',
        clusterName: 'Cluster0',
        startDate: '2024-06-03T00:00:00Z',
        totalPriceCents: 2_000,
      },
      { ...PROJECTS[1], sku: 'CREDIT', startDate: '2024-06-03T00:00:00Z', totalPriceCents: -500 },
      { ...PROJECTS[1], sku: 'LATE', startDate: '2024-07-01T00:00:00Z', totalPriceCents: 70 },
      { ...PROJECTS[1], sku: 'UNDATED', totalPriceCents: 30 },
    ];

    const { summary, usage } = inspectLineItems(invoice(items));

    expect(summary).toEqual(summariseLineItems(invoice(items)));
    expect(usage?.start).toBe('2024-06-01');
    expect(usage?.days).toBe(30);
    expect(usage?.lastUsageDay).toBe(3);
    expect(usage?.dailyCents.slice(0, 4)).toEqual([1_000, 0, 1_500, 0]);
    expect(usage?.outOfPeriod).toEqual({ cents: 70, rows: 1 });
    expect(usage?.undated).toEqual({ cents: 30, rows: 1 });
    expect(usage?.clusters.lines.map((l) => [l.key, l.name])).toEqual([
      [`id:${PROJECTS[0]?.groupId}/Cluster0`, 'Cluster0'],
      [`id:${PROJECTS[1]?.groupId}/`, ''],
    ]);
  });

  it('has no series when the invoice dates are unreadable, and refuses a bad seriesTopN', () => {
    expect(inspectLineItems({ ...invoice([]), startDate: 'soon' }).usage).toBeUndefined();
    expect(() => inspectLineItems(invoice([]), { seriesTopN: -1 })).toThrow(RangeError);
  });
});
