import { addMonths, formatDay } from './calendar';
import {
  forecastMonthEnd,
  lineSeries,
  type MonthForecast,
  type RangeCalibration,
  type SpendForecast,
} from './forecast';
import { budgetsOf, type SpendBudget, type SpendSettings } from './settings';
import { detectSpikes, type SpendSpike } from './spikes';
import { periodOf, sumCents, type UsageSeries } from './usage-series';

/**
 * Which spend alerts are due, each once per threshold per billing period.
 *
 * Every alert has a stable key naming its scope (`{orgId}` or `{orgId}/{projectId}`) and period:
 * `budget:{scope}:{percent}:{YYYY-MM}`, `forecast:{scope}:{YYYY-MM}`, `spike:{orgId}:{YYYY-MM-DD}`. The poller keeps the
 * keys it has fired in its state (a set: merge two runs' sets with `mergeFiredKeys` on a write conflict), passes them
 * in, and adds an alert's `keys` once the message is posted. A new period has new keys, so every threshold re-arms on
 * the 1st; `pruneFiredKeys` drops the keys of periods that can no longer fire.
 *
 * Rules, for each budget of the organisation (its own, then each project's):
 * - budget: month-to-date (complete days, see forecast.ts) reached `percent`% of the budget, exactly-at counting
 *   (`monthToDate × 100 ≥ percent × budget`, in integers). When several percentages are crossed at once (80% and 100%
 *   between two polls), ONE alert names the highest and settles them all (its `keys` hold every one): a single message
 *   with the current figure says more than two in a row, and the lower one can never fire later.
 * - forecast: before the budget is reached, the month-end forecast first exceeds it; the alert names the day the
 *   cumulative forecast crosses the budget. Once 100% is reached the forecast alert is moot: the budget alert settles
 *   its key. A project budget needs the project listed in the series (the inspector's `pinnedProjectIds`); otherwise it
 *   is skipped rather than guessed.
 * - spike: see spikes.ts, for the organisation's total.
 * Order: budget alerts (organisation first, then projects as configured), forecast alerts, spikes by day.
 */

export interface SpendWatchInput {
  readonly orgId: string;
  readonly orgName?: string | undefined;
  /** The current billing period's series. */
  readonly series: UsageSeries;
  /** Last month's series, when archived. */
  readonly previous?: UsageSeries | undefined;
  /** The invoice is no longer PENDING. */
  readonly final?: boolean | undefined;
  /** Today, `YYYY-MM-DD` (UTC). */
  readonly asOf?: string | undefined;
  /** From the backtest of this organisation's archived months (`calibrateForecastRange`). */
  readonly calibration?: RangeCalibration | undefined;
  readonly settings: SpendSettings;
}

export interface SpendScope {
  readonly orgId: string;
  readonly projectId?: string;
  /** The project's name as the series knows it. */
  readonly projectName?: string;
  /** `{orgId}` or `{orgId}/{projectId}`: the scope part of alert keys. */
  readonly key: string;
}

interface AlertBase {
  /** This alert's own key. */
  readonly key: string;
  /** Every key the alert settles (its own first): add them all to the fired set once it is posted. */
  readonly keys: readonly string[];
  readonly orgId: string;
  readonly orgName?: string;
  /** `YYYY-MM` */
  readonly month: string;
}

export interface BudgetAlert extends AlertBase {
  readonly kind: 'budget';
  readonly scope: SpendScope;
  /** The highest percentage crossed. */
  readonly percent: number;
  readonly budgetCents: number;
  readonly monthToDateCents: number;
  readonly forecast: MonthForecast;
  readonly drivers: readonly Driver[];
}

export interface ForecastAlert extends AlertBase {
  readonly kind: 'forecast';
  readonly scope: SpendScope;
  readonly budgetCents: number;
  readonly forecast: SpendForecast;
  /** The first day the cumulative forecast is above the budget, `YYYY-MM-DD`. */
  readonly crossingDay: string;
  readonly drivers: readonly Driver[];
}

/**
 * Where a scope's month-to-date went, largest first: an organisation's top projects, a project's top clusters
 * (complete days only; a project's clusters as far as the series lists them).
 */
export interface Driver {
  readonly name: string;
  /** The project of a cluster. */
  readonly project?: string;
  readonly monthToDateCents: number;
}

/** Drivers listed per alert. */
export const DRIVERS = 3;

export interface SpikeAlert extends AlertBase {
  readonly kind: 'spike';
  readonly spike: SpendSpike;
  readonly forecast: MonthForecast;
}

export type SpendAlert = BudgetAlert | ForecastAlert | SpikeAlert;

/** A scope's series and forecast, as the alerts and the digest read them. */
export interface ScopeSpend {
  readonly scope: SpendScope;
  readonly budget: SpendBudget;
  readonly forecast: MonthForecast;
}

export function budgetKey(scope: string, percent: number, month: string): string {
  return `budget:${scope}:${percent}:${month}`;
}

export function forecastKey(scope: string, month: string): string {
  return `forecast:${scope}:${month}`;
}

export function spikeKey(orgId: string, day: string): string {
  return `spike:${orgId}:${day}`;
}

/** The forecast of the organisation's whole series. */
export function forecastOrg(input: SpendWatchInput): MonthForecast {
  return forecastMonthEnd(input.series, {
    previous: input.previous,
    final: input.final,
    asOf: input.asOf,
    calibration: input.calibration,
  });
}

/**
 * Each budget of the organisation with its scope's forecast; project budgets whose project may be folded into
 * "other" are left out (see the module comment).
 */
export function measureBudgets(
  input: SpendWatchInput,
  orgForecast: MonthForecast = forecastOrg(input),
): ScopeSpend[] {
  const out: ScopeSpend[] = [];
  for (const budget of budgetsOf(input.settings, input.orgId)) {
    if (budget.projectId === undefined) {
      out.push({ scope: { orgId: input.orgId, key: input.orgId }, budget, forecast: orgForecast });
      continue;
    }
    const key = `id:${budget.projectId}`;
    const series = lineSeries(input.series, 'projects', key);
    if (series === undefined) continue;
    const previous = input.previous === undefined ? undefined : lineSeries(input.previous, 'projects', key);
    const name = input.series.projects.lines.find((l) => l.key === key)?.name;
    out.push({
      scope: {
        orgId: input.orgId,
        projectId: budget.projectId,
        ...(name === undefined ? {} : { projectName: name }),
        key: `${input.orgId}/${budget.projectId}`,
      },
      budget,
      forecast: forecastMonthEnd(series, { previous, final: input.final, asOf: input.asOf }),
    });
  }
  return out;
}

/**
 * The alerts due for this organisation and period that are not in `firedKeys`, in the order above. Pure: the caller
 * records `alert.keys` after posting each. Throws RangeError for a malformed `asOf`.
 */
export function decideSpendAlerts(input: SpendWatchInput, firedKeys: Iterable<string>): SpendAlert[] {
  const fired = new Set(firedKeys);
  const month = monthOfSeries(input.series);
  const orgForecast = forecastOrg(input);
  const base = {
    orgId: input.orgId,
    ...(input.orgName === undefined ? {} : { orgName: input.orgName }),
    month,
  };
  const budgetAlerts: BudgetAlert[] = [];
  const forecastAlerts: ForecastAlert[] = [];

  for (const { scope, budget, forecast } of measureBudgets(input, orgForecast)) {
    if (budget.cents <= 0) continue;
    const spent = forecast.monthToDateCents;
    const reached = (percent: number) => spent * 100 >= percent * budget.cents;
    const percents = [...new Set(input.settings.alertPercents)].sort((a, b) => a - b);
    const fresh = percents.filter((p) => reached(p) && !fired.has(budgetKey(scope.key, p, month)));
    const ownForecastKey = forecastKey(scope.key, month);
    if (fresh.length > 0) {
      const percent = fresh[fresh.length - 1] as number;
      const settled = [...fresh].reverse().map((p) => budgetKey(scope.key, p, month));
      if (reached(100) && !fired.has(ownForecastKey)) settled.push(ownForecastKey);
      budgetAlerts.push({
        kind: 'budget',
        key: budgetKey(scope.key, percent, month),
        keys: settled,
        ...base,
        scope,
        percent,
        budgetCents: budget.cents,
        monthToDateCents: spent,
        forecast,
        drivers: driversOf(input.series, scope, forecast.completeDays),
      });
    }
    if (
      forecast.kind === 'forecast' &&
      forecast.remainingDays > 0 &&
      !reached(100) &&
      forecast.forecastCents > budget.cents &&
      !fired.has(ownForecastKey)
    ) {
      const index = forecast.curve.cumulativeCents.findIndex((cents) => cents > budget.cents);
      const startDay = periodOf(input.series).startDay;
      forecastAlerts.push({
        kind: 'forecast',
        key: ownForecastKey,
        keys: [ownForecastKey],
        ...base,
        scope,
        budgetCents: budget.cents,
        forecast,
        crossingDay: formatDay(startDay + forecast.completeDays + index),
        drivers: driversOf(input.series, scope, forecast.completeDays),
      });
    }
  }

  const spikeAlerts: SpikeAlert[] = detectSpikes(input.series, {
    previous: input.previous,
    final: input.final,
    asOf: input.asOf,
    spikePercent: input.settings.spikePercent,
    spikeMinCents: input.settings.spikeMinCents,
  })
    .filter((spike) => !fired.has(spikeKey(input.orgId, spike.day)))
    .map((spike) => ({
      kind: 'spike',
      key: spikeKey(input.orgId, spike.day),
      keys: [spikeKey(input.orgId, spike.day)],
      ...base,
      spike,
      forecast: orgForecast,
    }));

  return [...budgetAlerts, ...forecastAlerts, ...spikeAlerts];
}

/** See `Driver`. */
export function driversOf(series: UsageSeries, scope: SpendScope, completeDays: number): Driver[] {
  const lines =
    scope.projectId === undefined
      ? series.projects.lines
      : series.clusters.lines.filter((line) => line.project?.id === scope.projectId);
  return lines
    .map((line) => ({
      name: line.name,
      ...(line.project === undefined ? {} : { project: line.project.name }),
      monthToDateCents: sumCents(line.dailyCents, 0, completeDays),
    }))
    .filter((driver) => driver.monthToDateCents !== 0)
    .sort(
      (a, b) => b.monthToDateCents - a.monthToDateCents || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .slice(0, DRIVERS);
}

/** The union of two fired-key sets (two runs that raced), sorted so the stored state does not churn. */
export function mergeFiredKeys(a: Iterable<string>, b: Iterable<string>): string[] {
  return [...new Set([...a, ...b])].sort();
}

/**
 * The fired keys worth keeping in `month` (`YYYY-MM`): this period's and the one before (whose late items can still
 * cross a threshold while its invoice closes). Keys of unknown shape are kept.
 */
export function pruneFiredKeys(keys: Iterable<string>, month: string): string[] {
  const oldest = addMonths(month, -1);
  return [...keys].filter((key) => {
    const period = /:(\d{4}-\d{2})(?:-\d{2})?$/.exec(key)?.[1];
    return period === undefined || period >= oldest;
  });
}

function monthOfSeries(series: UsageSeries): string {
  return series.start.slice(0, 7);
}
