import { describe, expect, it } from 'vitest';
import { detectSpikes } from '../../lib/spend/spikes';
import { seriesOf, seriesOfLines, weeklyPattern } from './support';

const THRESHOLDS = { spikePercent: 50, spikeMinCents: 10_000 };
const flat = (days: number, cents: number) => new Array<number>(days).fill(cents);

describe('detectSpikes', () => {
  it('compares a weekend day with weekend days and a weekday with weekdays', () => {
    const june = weeklyPattern('2024-06-01', 17, 40_000, 20_000);
    june[15] = 40_000;

    const sunday = detectSpikes(seriesOf('2024-06-01', june.slice(0, 16), { days: 30 }), THRESHOLDS);
    const monday = detectSpikes(seriesOf('2024-06-01', june.slice(0, 17), { days: 30 }), {
      ...THRESHOLDS,
      lookbackDays: 1,
    });

    expect(sunday).toHaveLength(1);
    expect(sunday[0]).toMatchObject({
      day: '2024-06-16',
      dayKind: 'weekend',
      dayCents: 40_000,
      typicalCents: 20_000,
      typicalDays: 4,
      increaseCents: 20_000,
      increasePercent: 100,
    });
    expect(monday).toEqual([]);
  });

  it('names the project, cluster and SKU that moved, with their day and their typical day', () => {
    const analytics = flat(12, 5_000);
    analytics[11] = 50_000;
    const series = seriesOfLines('2024-06-01', 30, [
      {
        project: 'Production',
        projectId: 'a'.repeat(24),
        cluster: 'Cluster0',
        sku: 'M30',
        daily: flat(12, 30_000),
      },
      {
        project: 'Analytics <&>',
        projectId: 'b'.repeat(24),
        cluster: 'analytics-1',
        sku: 'EGRESS',
        daily: analytics,
      },
    ]);

    const [spike] = detectSpikes(series, THRESHOLDS);

    expect(spike).toMatchObject({
      day: '2024-06-12',
      dayCents: 80_000,
      typicalCents: 35_000,
      increasePercent: 128,
    });
    expect(spike?.movers.clusters).toEqual([
      {
        key: `id:${'b'.repeat(24)}/analytics-1`,
        name: 'analytics-1',
        project: { name: 'Analytics <&>', id: 'b'.repeat(24) },
        dayCents: 50_000,
        typicalCents: 5_000,
        changeCents: 45_000,
      },
    ]);
    expect(spike?.movers.projects.map((m) => [m.name, m.changeCents])).toEqual([['Analytics <&>', 45_000]]);
    expect(spike?.movers.skus.map((m) => [m.name, m.changeCents])).toEqual([['EGRESS', 45_000]]);
  });

  it('needs more than the percentage AND more than the minimum, strictly', () => {
    const tiny = [...flat(11, 300), 900];
    const atBoth = [...flat(11, 20_000), 30_000];
    const justOver = [...flat(11, 20_000), 30_001];

    expect(detectSpikes(seriesOf('2024-06-03', tiny, { days: 28 }), THRESHOLDS)).toEqual([]);
    expect(detectSpikes(seriesOf('2024-06-03', atBoth, { days: 28 }), THRESHOLDS)).toEqual([]);
    expect(
      detectSpikes(seriesOf('2024-06-03', justOver, { days: 28 }), THRESHOLDS).map((s) => s.day),
    ).toEqual(['2024-06-14']);
  });

  it('reports a lasting rise once, on its first day', () => {
    const rise = [...flat(9, 10_000), 30_000, 30_000, 30_000];

    const spikes = detectSpikes(seriesOf('2024-06-01', rise, { days: 30 }), {
      ...THRESHOLDS,
      lookbackDays: 3,
    });

    expect(spikes.map((s) => s.day)).toEqual(['2024-06-10']);
  });

  it('looks only at the latest complete days, and needs three earlier days of the same kind', () => {
    const old = flat(12, 10_000);
    old[4] = 90_000;

    expect(detectSpikes(seriesOf('2024-06-01', old, { days: 30 }), THRESHOLDS)).toEqual([]);
    expect(detectSpikes(seriesOf('2024-06-03', [10_000, 10_000, 90_000], { days: 30 }), THRESHOLDS)).toEqual(
      [],
    );
  });

  it("reads typical days from last month's tail across the month boundary", () => {
    const january = seriesOf('2024-01-01', flat(31, 10_000));
    const february = seriesOf('2024-02-01', [10_000, 60_000], { days: 29 });

    const spikes = detectSpikes(february, { ...THRESHOLDS, previous: january });

    expect(spikes.map((s) => [s.day, s.typicalCents, s.typicalDays])).toEqual([['2024-02-02', 10_000, 10]]);
  });
});
