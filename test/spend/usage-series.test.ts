import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AtlasSandbox, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import { createCsvInspector, inspectCsv } from '../../lib/invoices/csv-summary';
import type { Invoice } from '../../lib/invoices/invoice';
import { inspectLineItems } from '../../lib/invoices/line-item-summary';
import { parseIsoDay } from '../../lib/spend/calendar';
import {
  billingPeriodOf,
  parseBillingPeriod,
  seriesTotalCents,
  type UsageDimension,
  type UsageSeries,
} from '../../lib/spend/usage-series';
import { HISTORY_NOW, HISTORY_ORG_ID, historyOrg } from './sandbox-history';
import { buildCsv, bytesOf, type TestRow } from './support';

const JUNE = 'June 1, 2024 - July 1, 2024';

/** Every dimension's lines plus other, day by day. */
function dimensionSums(dimension: UsageDimension, days: number): number[] {
  return Array.from(
    { length: days },
    (_, d) =>
      (dimension.otherDailyCents?.[d] ?? 0) +
      dimension.lines.reduce((sum, line) => sum + (line.dailyCents[d] ?? 0), 0),
  );
}

function expectConsistent(series: UsageSeries): void {
  for (const dimension of [series.projects, series.skus, series.clusters]) {
    expect(dimensionSums(dimension, series.days)).toEqual(series.dailyCents);
  }
}

describe('the usage series from a real sandbox CSV', () => {
  let sandbox: AtlasSandbox;
  let invoice: Invoice;

  beforeAll(async () => {
    sandbox = await startAtlasSandbox({ clock: () => HISTORY_NOW, orgs: [historyOrg(3)] });
    const closed = sandbox.listInvoices(HISTORY_ORG_ID).find((i) => i.statusName === 'PAID');
    invoice = sandbox.getInvoice(HISTORY_ORG_ID, closed?.id ?? '');
  });
  afterAll(() => sandbox.close());

  it('builds per day, per project, SKU and cluster totals in the streaming pass, equal to the JSON line items', async () => {
    const daily = new Array<number>(31).fill(0);
    const byProject = new Map<string, number>();
    const byCluster = new Map<string, number>();
    const start = parseIsoDay(invoice.startDate) as number;
    for (const item of invoice.lineItems ?? []) {
      const index = (parseIsoDay(item.startDate ?? '') as number) - start;
      daily[index] = (daily[index] as number) + (item.totalPriceCents ?? 0);
      const projectKey = item.groupId === undefined ? `name:${item.groupName ?? ''}` : `id:${item.groupId}`;
      byProject.set(projectKey, (byProject.get(projectKey) ?? 0) + (item.totalPriceCents ?? 0));
      const clusterKey = `${projectKey}/${item.clusterName ?? ''}`;
      byCluster.set(clusterKey, (byCluster.get(clusterKey) ?? 0) + (item.totalPriceCents ?? 0));
    }
    const inspector = createCsvInspector({ seriesTopN: 3 });
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });

    await pipeline(sandbox.csvStream(HISTORY_ORG_ID, invoice.id), inspector.stream, sink);
    const { usage, summary } = await inspector.result();

    expect(invoice.startDate).toBe('2026-10-01T00:00:00Z');
    expect(usage?.start).toBe('2026-10-01');
    expect(usage?.days).toBe(31);
    expect(usage?.lastUsageDay).toBe(31);
    expect(usage?.dailyCents).toEqual(daily);
    expect(seriesTotalCents(usage as UsageSeries)).toBe(summary.totalCents);
    const topProjects = [...byProject.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    expect(usage?.projects.lines.map((l) => [l.key, l.dailyCents.reduce((a, b) => a + b, 0)])).toEqual(
      topProjects,
    );
    expect(byProject.size).toBe(5);
    expect(usage?.projects.otherCount).toBe(2);
    const topClusters = [...byCluster.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    expect(usage?.clusters.lines.map((l) => [l.key, l.dailyCents.reduce((a, b) => a + b, 0)])).toEqual(
      topClusters,
    );
    expect(usage?.clusters.otherCount).toBe(byCluster.size - 3);
    expectConsistent(usage as UsageSeries);
  });

  it('gives the same series from the JSON line items as from the CSV', async () => {
    const fromCsv = await inspectCsv(sandbox.csvStream(HISTORY_ORG_ID, invoice.id));

    const fromJson = inspectLineItems(invoice);

    expect(fromJson.usage).toEqual(fromCsv.usage);
    expect(fromJson.summary.totalCents).toBe(fromCsv.summary.totalCents);
  });

  it('stops at the latest usage day of the pending invoice', async () => {
    const pending = sandbox.listInvoices(HISTORY_ORG_ID).find((i) => i.statusName === 'PENDING');

    const { usage } = await inspectCsv(sandbox.csvStream(HISTORY_ORG_ID, pending?.id ?? ''));

    expect(usage?.start).toBe('2026-11-01');
    expect(usage?.lastUsageDay).toBe(20);
    expect(usage?.dailyCents.slice(20).every((c) => c === 0)).toBe(true);
    expect(usage?.dailyCents.slice(0, 20).every((c) => c > 0)).toBe(true);
  });
});

describe('the usage series from crafted CSVs', () => {
  const projectA = { project: 'Alpha', projectId: 'aaaaaaaaaaaaaaaaaaaaaaaa' };
  const projectB = { project: 'Beta, "B"', projectId: 'bbbbbbbbbbbbbbbbbbbbbbbb' };

  it('keeps credits on their day, and counts undated and out-of-period rows apart', async () => {
    const rows: TestRow[] = [
      { usageDate: '06/01/2024', amount: '100.00', ...projectA },
      { usageDate: '06/01/2024', amount: '-30.00', ...projectA, sku: 'CREDIT', cluster: '' },
      { usageDate: '06/02/2024', amount: '50.25', ...projectB },
      { usageDate: '', amount: '-12.00', sku: 'CREDIT', cluster: '' },
      { usageDate: '13/45/2024', amount: '1.00' },
      { usageDate: '07/01/2024', amount: '7.50', ...projectA },
      { usageDate: '05/31/2024', amount: '2.50', ...projectB },
    ];

    const { usage, summary } = await inspectCsv(bytesOf(buildCsv(rows, JUNE)));

    expect(usage?.dailyCents.slice(0, 3)).toEqual([7000, 5025, 0]);
    expect(usage?.lastUsageDay).toBe(2);
    expect(usage?.undated).toEqual({ cents: -1100, rows: 2 });
    expect(usage?.outOfPeriod).toEqual({ cents: 1000, rows: 2 });
    expect(seriesTotalCents(usage as UsageSeries)).toBe(summary.totalCents);
    expect(usage?.skus.lines.find((l) => l.name === 'CREDIT')?.dailyCents[0]).toBe(-3000);
    expect(usage?.clusters.lines.map((l) => [l.key, l.dailyCents.slice(0, 2)])).toEqual([
      ['id:aaaaaaaaaaaaaaaaaaaaaaaa/Cluster0', [10_000, 0]],
      ['id:bbbbbbbbbbbbbbbbbbbbbbbb/Cluster0', [0, 5025]],
      ['id:aaaaaaaaaaaaaaaaaaaaaaaa/', [-3000, 0]],
    ]);
    expectConsistent(usage as UsageSeries);
  });

  it('covers a 31-day month to its last day and a one-day period', async () => {
    const july = [1, 15, 31].map((d) => ({
      usageDate: `07/${String(d).padStart(2, '0')}/2024`,
      amount: '1.00',
    }));

    const month = await inspectCsv(bytesOf(buildCsv(july, 'July 1, 2024 - August 1, 2024')));
    const oneDay = await inspectCsv(bytesOf(buildCsv(july, 'July 31, 2024 - August 1, 2024')));

    expect(month.usage?.days).toBe(31);
    expect(month.usage?.lastUsageDay).toBe(31);
    expect([month.usage?.dailyCents[0], month.usage?.dailyCents[14], month.usage?.dailyCents[30]]).toEqual([
      100, 100, 100,
    ]);
    expect(oneDay.usage?.days).toBe(1);
    expect(oneDay.usage?.dailyCents).toEqual([100]);
    expect(oneDay.usage?.outOfPeriod).toEqual({ cents: 200, rows: 2 });
  });

  it('knows February 29 in a leap year and refuses it in another', async () => {
    const leap = await inspectCsv(
      bytesOf(buildCsv([{ usageDate: '02/29/2024', amount: '3.00' }], 'February 1, 2024 - March 1, 2024')),
    );
    const plain = await inspectCsv(
      bytesOf(buildCsv([{ usageDate: '02/29/2023', amount: '3.00' }], 'February 1, 2023 - March 1, 2023')),
    );

    expect(leap.usage?.days).toBe(29);
    expect(leap.usage?.dailyCents[28]).toBe(300);
    expect(plain.usage?.days).toBe(28);
    expect(plain.usage?.undated).toEqual({ cents: 300, rows: 1 });
  });

  it('folds keys past the top N into other, keeps pinned projects listed, and splits clusters by project', async () => {
    const rows: TestRow[] = [];
    const projects = ['a', 'b', 'c', 'd'].map((c, i) => ({
      project: `P-${c}`,
      projectId: c.repeat(24),
      cents: 1000 * (4 - i),
    }));
    for (const day of ['06/01/2024', '06/02/2024']) {
      for (const p of projects)
        rows.push({
          usageDate: day,
          project: p.project,
          projectId: p.projectId,
          amount: (p.cents / 100).toFixed(2),
        });
    }

    const { usage } = await inspectCsv(bytesOf(buildCsv(rows, JUNE)), {
      seriesTopN: 2,
      pinnedProjectIds: ['dddddddddddddddddddddddd'],
    });

    expect(usage?.projects.lines.map((l) => l.name)).toEqual(['P-a', 'P-b', 'P-d']);
    expect(usage?.projects.otherDailyCents?.slice(0, 2)).toEqual([2000, 2000]);
    expect(usage?.projects.otherCount).toBe(1);
    expect(usage?.clusters.lines.map((l) => l.project?.name)).toEqual(['P-a', 'P-b']);
    expect(usage?.clusters.otherCount).toBe(2);
    expectConsistent(usage as UsageSeries);
  });

  it('folds keys past maxDistinct into other without losing a cent', async () => {
    const rows: TestRow[] = Array.from({ length: 6 }, (_, i) => ({
      usageDate: '06/03/2024',
      project: `P${i}`,
      projectId: String(i).repeat(24),
      cluster: `C${i}`,
      amount: `${i + 1}.00`,
    }));

    const { usage } = await inspectCsv(bytesOf(buildCsv(rows, JUNE)), { maxDistinct: 3, seriesTopN: 8 });

    expect(usage?.projects.lines).toHaveLength(3);
    expect(usage?.projects.otherCount).toBe(1);
    expect(usage?.dailyCents[2]).toBe(2100);
    expectConsistent(usage as UsageSeries);
  });

  it('gives the same series whatever the chunking', async () => {
    const rows: TestRow[] = Array.from({ length: 40 }, (_, i) => ({
      usageDate: `06/${String((i % 30) + 1).padStart(2, '0')}/2024`,
      project: i % 3 === 0 ? 'Prod, "EU"' : 'Staging',
      projectId: i % 3 === 0 ? 'aaaaaaaaaaaaaaaaaaaaaaaa' : 'bbbbbbbbbbbbbbbbbbbbbbbb',
      cluster: i % 2 === 0 ? 'Cluster0' : 'analytics-1',
      amount: `${i}.${String(i % 100).padStart(2, '0')}`,
    }));
    const text = buildCsv(rows, JUNE);

    const whole = await inspectCsv(bytesOf(text));
    const byteByByte = await inspectCsv(bytesOf(text, 1));
    const odd = await inspectCsv(Readable.from(bytesOf(text, 7)));

    expect(byteByByte.usage).toEqual(whole.usage);
    expect(odd.usage).toEqual(whole.usage);
    expect(whole.usage?.dailyCents.reduce((a, b) => a + b, 0)).toBe(whole.summary.totalCents);
  });

  it('prefers the period it is given, and has no series when no period is known', async () => {
    const rows = [{ usageDate: '06/15/2024', amount: '1.00' }];

    const given = await inspectCsv(bytesOf(buildCsv(rows, JUNE)), {
      period: { start: '2024-06-15T00:00:00Z', end: '2024-06-16T00:00:00Z' },
    });
    const none = await inspectCsv(bytesOf(buildCsv(rows)));

    expect(given.usage?.start).toBe('2024-06-15');
    expect(given.usage?.dailyCents).toEqual([100]);
    expect(none.usage).toBeUndefined();
    expect(none.summary.totalCents).toBe(100);
    await expect(inspectCsv(bytesOf(''), { period: { start: 'soon', end: 'later' } })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('billing periods', () => {
  it('reads the CSV row and the invoice dates with an exclusive end', () => {
    expect(parseBillingPeriod(JUNE)).toEqual({ startDay: parseIsoDay('2024-06-01'), days: 30 });
    expect(parseBillingPeriod('February 1, 2024 - March 1, 2024')?.days).toBe(29);
    expect(billingPeriodOf('2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z')?.days).toBe(31);
    expect(parseBillingPeriod('July 1, 2024 - June 1, 2024')).toBeUndefined();
    expect(parseBillingPeriod('June 2024')).toBeUndefined();
    expect(billingPeriodOf('2024-01-01', '2024-06-01')).toBeUndefined();
  });
});
