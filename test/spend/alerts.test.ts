import { describe, expect, it } from 'vitest';
import {
  type BudgetAlert,
  decideSpendAlerts,
  type ForecastAlert,
  mergeFiredKeys,
  pruneFiredKeys,
  type SpendWatchInput,
} from '../../lib/spend/alerts';
import { DEFAULT_SPEND_SETTINGS, type SpendSettings } from '../../lib/spend/settings';
import { seriesOf, seriesOfLines } from './support';

const ORG = '5f0000000000000000005eed';
const PROJECT_A = 'a'.repeat(24);
const PROJECT_B = 'b'.repeat(24);
const SETTINGS: SpendSettings = { ...DEFAULT_SPEND_SETTINGS, budgets: [{ orgId: ORG, cents: 500_000 }] };
const flat = (days: number, cents = 20_000) => new Array<number>(days).fill(cents);

function input(daily: number[], overrides: Partial<SpendWatchInput> = {}): SpendWatchInput {
  return {
    orgId: ORG,
    orgName: 'Acme',
    series: seriesOf('2024-12-01', daily, { days: 31 }),
    settings: SETTINGS,
    ...overrides,
  };
}

describe('decideSpendAlerts', () => {
  it('warns first when the forecast says the budget will be exceeded, naming the day', () => {
    const alerts = decideSpendAlerts(input(flat(12)), []);

    expect(alerts).toHaveLength(1);
    const alert = alerts[0] as ForecastAlert;
    expect(alert).toMatchObject({
      kind: 'forecast',
      key: `forecast:${ORG}:2024-12`,
      keys: [`forecast:${ORG}:2024-12`],
      month: '2024-12',
      budgetCents: 500_000,
      crossingDay: '2024-12-26',
    });
    expect(alert.forecast.forecastCents).toBe(240_000 + 19 * 20_000);
  });

  it('alerts when month-to-date crosses a percentage, and never twice for one key', () => {
    const first = decideSpendAlerts(input(flat(13)), [`forecast:${ORG}:2024-12`]);
    const again = decideSpendAlerts(input(flat(14)), [
      ...first.flatMap((a) => a.keys),
      `forecast:${ORG}:2024-12`,
    ]);

    expect(first.map((a) => [a.kind, a.key])).toEqual([['budget', `budget:${ORG}:50:2024-12`]]);
    expect(first[0]).toMatchObject({ percent: 50, monthToDateCents: 260_000, budgetCents: 500_000 });
    expect(again).toEqual([]);
  });

  it('fires exactly at the threshold', () => {
    const atHalf = decideSpendAlerts(input([...flat(12), 10_000]), [`forecast:${ORG}:2024-12`]);

    expect(atHalf.map((a) => a.key)).toEqual([`budget:${ORG}:50:2024-12`]);
    expect((atHalf[0] as BudgetAlert).monthToDateCents).toBe(250_000);
  });

  it('sends one alert for the highest of several percentages crossed at once, settling them all', () => {
    const fired = [`budget:${ORG}:50:2024-12`, `forecast:${ORG}:2024-12`];

    const alerts = decideSpendAlerts(input(flat(25)), fired);
    const later = decideSpendAlerts(input(flat(27)), [...fired, ...alerts.flatMap((a) => a.keys)]);

    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'budget',
      percent: 100,
      key: `budget:${ORG}:100:2024-12`,
      keys: [`budget:${ORG}:100:2024-12`, `budget:${ORG}:80:2024-12`],
    });
    expect(later).toEqual([]);
  });

  it('settles the forecast alert when the budget is already reached', () => {
    const alerts = decideSpendAlerts(input(flat(26)), []);

    expect(alerts.map((a) => a.kind)).toEqual(['budget']);
    expect(alerts[0]?.keys).toEqual([
      `budget:${ORG}:100:2024-12`,
      `budget:${ORG}:80:2024-12`,
      `budget:${ORG}:50:2024-12`,
      `forecast:${ORG}:2024-12`,
    ]);
  });

  it('re-arms every threshold in the next billing period', () => {
    const december = decideSpendAlerts(input(flat(26)), []);
    const firedInDecember = december.flatMap((a) => a.keys);

    const january = decideSpendAlerts(
      input(flat(26), { series: seriesOf('2025-01-01', flat(26), { days: 31 }) }),
      firedInDecember,
    );

    expect(january.map((a) => a.key)).toEqual([`budget:${ORG}:100:2025-01`]);
  });

  it('watches project budgets on the project line, and skips one folded out of sight', () => {
    const series = seriesOfLines('2024-12-01', 31, [
      { project: 'Alpha', projectId: PROJECT_A, cluster: 'c0', sku: 'M30', daily: flat(10, 5_000) },
      { project: 'Beta & <Co>', projectId: PROJECT_B, cluster: 'c1', sku: 'M30', daily: flat(10, 15_000) },
    ]);
    const settings: SpendSettings = {
      ...DEFAULT_SPEND_SETTINGS,
      budgets: [
        { orgId: ORG, projectId: PROJECT_B, cents: 200_000 },
        { orgId: ORG, projectId: 'c'.repeat(24), cents: 100 },
      ],
    };
    const beta = series.projects.lines[1];
    const folded = {
      ...series,
      projects: {
        lines: series.projects.lines.slice(0, 1),
        otherDailyCents: beta?.dailyCents,
        otherCount: 1,
      },
    };

    const alerts = decideSpendAlerts(input([], { series, settings }), []);
    const blind = decideSpendAlerts(input([], { series: folded, settings }), []);

    expect(alerts.map((a) => a.key)).toEqual([
      `budget:${ORG}/${PROJECT_B}:50:2024-12`,
      `forecast:${ORG}/${PROJECT_B}:2024-12`,
    ]);
    expect(alerts[0]).toMatchObject({
      scope: { projectId: PROJECT_B, projectName: 'Beta & <Co>' },
      monthToDateCents: 150_000,
    });
    expect(alerts[1]).toMatchObject({ crossingDay: '2024-12-14' });
    expect(blind).toEqual([]);
  });

  it('orders budget alerts, then forecasts, then spikes', () => {
    const days = flat(13);
    days[12] = 90_000;

    const alerts = decideSpendAlerts(input(days), []);

    expect(alerts.map((a) => a.key)).toEqual([
      `budget:${ORG}:50:2024-12`,
      `forecast:${ORG}:2024-12`,
      `spike:${ORG}:2024-12-13`,
    ]);
  });

  it('has no alerts without budgets or surprises', () => {
    expect(decideSpendAlerts(input(flat(20), { settings: DEFAULT_SPEND_SETTINGS }), [])).toEqual([]);
  });

  it('keys a spike on February 29 to its leap day', () => {
    const days = flat(29);
    days[28] = 200_000;
    const series = seriesOf('2024-02-01', days, { days: 29 });

    const alerts = decideSpendAlerts(
      input([], { series, final: true, settings: DEFAULT_SPEND_SETTINGS }),
      [],
    );

    expect(alerts.map((a) => a.key)).toEqual([`spike:${ORG}:2024-02-29`]);
  });
});

describe('fired keys', () => {
  it('merge as a set and keep only the current and previous period', () => {
    const merged = mergeFiredKeys(
      [`budget:${ORG}:50:2024-12`, `spike:${ORG}:2024-11-30`],
      [`budget:${ORG}:50:2024-12`, `forecast:${ORG}:2024-10`],
    );

    expect(merged).toEqual([
      `budget:${ORG}:50:2024-12`,
      `forecast:${ORG}:2024-10`,
      `spike:${ORG}:2024-11-30`,
    ]);
    expect(pruneFiredKeys(merged, '2024-12')).toEqual([
      `budget:${ORG}:50:2024-12`,
      `spike:${ORG}:2024-11-30`,
    ]);
    expect(pruneFiredKeys([`budget:${ORG}:80:2024-12`], '2025-01')).toEqual([`budget:${ORG}:80:2024-12`]);
    expect(pruneFiredKeys(['something-else'], '2025-01')).toEqual(['something-else']);
  });
});
