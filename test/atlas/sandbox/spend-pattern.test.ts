import { afterEach, describe, expect, it } from 'vitest';
import { type AtlasSandbox, startAtlasSandbox } from '../../../infra/local/atlas-sandbox';
import { DAY_MS, dailyUsageItems, generateProjects } from '../../../infra/local/atlas-sandbox/model';
import { createRandom } from '../../../infra/local/atlas-sandbox/random';

const PROJECTS = generateProjects(createRandom(1), ['Production', 'Staging', 'Analytics']);
const ORG = { projects: PROJECTS, spendSeed: 12_345 };

function dayTotal(dayMs: number, org = ORG): number {
  return dailyUsageItems(org, dayMs).reduce((sum, item) => sum + (item.json.totalPriceCents ?? 0), 0);
}

function monthDays(month: string): number[] {
  const start = Date.parse(`${month}-01T00:00:00Z`);
  const days: number[] = [];
  for (let day = start; new Date(day).getUTCMonth() === new Date(start).getUTCMonth(); day += DAY_MS)
    days.push(day);
  return days;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

describe('the daily spend pattern', () => {
  let sandbox: AtlasSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('is a function of the seed and the day alone', () => {
    const day = Date.parse('2025-03-12T00:00:00Z');

    expect(dailyUsageItems(ORG, day + 5 * 3_600_000)).toEqual(dailyUsageItems(ORG, day));
    expect(dailyUsageItems({ ...ORG, spendSeed: 1 }, day)).not.toEqual(dailyUsageItems(ORG, day));
    for (const item of dailyUsageItems(ORG, day)) {
      expect(item.json.startDate).toBe('2025-03-12T00:00:00Z');
      expect(item.json.endDate).toBe('2025-03-13T00:00:00Z');
      expect(Number.isSafeInteger(item.json.totalPriceCents)).toBe(true);
    }
  });

  it('makes weekends cheaper than weekdays', () => {
    const days = monthDays('2025-03');
    const weekend = days.filter((d) => [0, 6].includes(new Date(d).getUTCDay())).map((d) => dayTotal(d));
    const weekday = days.filter((d) => ![0, 6].includes(new Date(d).getUTCDay())).map((d) => dayTotal(d));

    expect(median(weekend)).toBeLessThan(median(weekday) * 0.9);
  });

  it('launches clusters mid-month that run to the end of the next month, and has one-day spikes', () => {
    const months = Array.from({ length: 12 }, (_, i) => `2025-${String(i + 1).padStart(2, '0')}`);
    const launched = months.filter((month) =>
      monthDays(month).some((d) =>
        dailyUsageItems(ORG, d).some((item) => item.json.clusterName === `launch-${month}`),
      ),
    );
    const spiked = months.filter((month) => {
      const totals = monthDays(month).map((d) => dayTotal(d));
      return Math.max(...totals) > 1.5 * median(totals);
    });

    expect(launched.length).toBeGreaterThanOrEqual(3);
    expect(spiked.length).toBeGreaterThanOrEqual(4);
    const month = launched[0] as string;
    const runs = (day: number) =>
      dailyUsageItems(ORG, day).some((item) => item.json.clusterName === `launch-${month}`);
    const days = monthDays(month);
    const first = days.findIndex(runs);
    expect(first).toBeGreaterThanOrEqual(7);
    expect(first).toBeLessThanOrEqual(19);
    expect(days.slice(first).every(runs)).toBe(true);
    const next = Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1);
    expect(runs(next)).toBe(true);
    expect(runs(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) + 1, 1))).toBe(false);
  });

  it('serves the same days whether generated at once or accrued day by day', async () => {
    const seedOf = { id: '5f0000000000000000005eed', lineItems: 'daily' as const, invoices: 1, live: true };
    let now = Date.parse('2026-03-10T10:00:00Z');
    sandbox = await startAtlasSandbox({ clock: () => now, orgs: [seedOf] });
    for (let i = 0; i < 5; i++) {
      now += DAY_MS;
      sandbox.advanceDemo();
    }
    const accrued = sandbox.getInvoice(seedOf.id, sandbox.listInvoices(seedOf.id)[0]?.id ?? '');
    await sandbox.close();

    sandbox = await startAtlasSandbox({ clock: () => now, orgs: [seedOf] });
    const atOnce = sandbox.getInvoice(seedOf.id, sandbox.listInvoices(seedOf.id)[0]?.id ?? '');

    expect(accrued.lineItems?.map((i) => [i.startDate, i.clusterName, i.totalPriceCents])).toEqual(
      atOnce.lineItems?.map((i) => [i.startDate, i.clusterName, i.totalPriceCents]),
    );
  });

  it("places a spike on a chosen day instead of its month's own, leaving other months as they were", () => {
    const month = monthDays('2025-03');
    const placed = { ...ORG, placedSpike: { day: '2025-03-05', project: 1, factor: 30 } };
    const egress = (org: typeof placed | typeof ORG, day: number) =>
      dailyUsageItems(org, day).find(
        (item) =>
          item.json.sku === 'ATLAS_AWS_DATA_TRANSFER_INTERNET' && item.json.groupId === PROJECTS[1]?.id,
      )?.json.quantity ?? 0;
    const fifth = month[4] as number;

    expect(egress(placed, fifth) / egress(ORG, fifth)).toBeCloseTo(30, 1);
    const spiked = month.filter(
      (d) => dayTotal(d, placed) > 1.5 * median(month.map((m) => dayTotal(m, placed))),
    );
    expect(spiked).toEqual([fifth]);
    for (const day of [...monthDays('2025-02'), ...monthDays('2025-04')])
      expect(dayTotal(day, placed)).toBe(dayTotal(day));
  });

  it("tells what a usage day costs, as the sum of that day's CSV rows, before the day has accrued", async () => {
    const seedOf = { id: '5f0000000000000000005eed', lineItems: 'daily' as const, invoices: 1, live: true };
    let now = Date.parse('2026-03-10T10:00:00Z');
    sandbox = await startAtlasSandbox({ clock: () => now, orgs: [seedOf] });
    const before = sandbox.usageDayCents(seedOf.id, '2026-03-12');
    now += 3 * DAY_MS;
    sandbox.advanceDemo();
    sandbox.advanceDemo();
    sandbox.advanceDemo();
    const invoiceId = sandbox.listInvoices(seedOf.id)[0]?.id ?? '';
    const rows = sandbox
      .csvText(seedOf.id, invoiceId)
      .split('\n')
      .filter((line) => line.includes(',03/12/2026,'));
    const amounts = rows.map((line) => Math.round(Number(line.slice(line.lastIndexOf(',') + 1)) * 100));

    expect(rows.length).toBeGreaterThan(0);
    expect(before).toBe(amounts.reduce((a, b) => a + b, 0));
    expect(() => sandbox?.usageDayCents(seedOf.id, '12/03/2026')).toThrow(/usage day/);
  });
});
