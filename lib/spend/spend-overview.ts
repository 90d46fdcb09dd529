import {
  type Driver,
  driversOf,
  forecastOrg,
  measureBudgets,
  type ScopeSpend,
  type SpendWatchInput,
} from './alerts';
import type { MonthForecast } from './forecast';
import { roundCents } from './stats';
import { completeDayValues, lineIdentity, selectLine } from './usage-series';

/**
 * What the digest and `/invoice spend` say about one organisation: month-to-date and forecast, its budgets, where the
 * money goes (top projects by month-to-date) and what changed (the biggest movers).
 *
 * Movers compare each cluster's average day over the last 7 complete days with the 7 days before (reaching into last
 * month), so a launch or a removal shows within a week; a change under $1.00 a day is not a move. An organisation
 * whose line items name no cluster is compared by project instead.
 */

export const TOP_MOVERS = 3;
export const MOVER_WINDOW_DAYS = 7;
export const MIN_MOVE_CENTS_PER_DAY = 100;

export interface SpendOverview {
  readonly orgId: string;
  readonly orgName?: string;
  /** `YYYY-MM` */
  readonly month: string;
  readonly forecast: MonthForecast;
  /** The organisation's budget first, then its projects'. */
  readonly budgets: readonly ScopeSpend[];
  /** Largest month-to-date (complete days) first. */
  readonly topProjects: readonly Driver[];
  /** Projects in the series beyond the top ones, "other" counting as its folded keys. */
  readonly moreProjects: number;
  /** Largest change first. */
  readonly movers: readonly Mover[];
}

export interface Mover {
  readonly kind: 'cluster' | 'project';
  readonly key: string;
  readonly name: string;
  readonly project?: { readonly name: string; readonly id?: string };
  readonly id?: string;
  /** Average day over the last 7 complete days, and over the 7 before, in cents (rounded). */
  readonly recentDailyCents: number;
  readonly earlierDailyCents: number;
  readonly changeCents: number;
  /** First and last day (day numbers) of the recent window. */
  readonly recentFrom: number;
  readonly recentTo: number;
}

/** The overview of one organisation. Throws RangeError for a malformed `asOf`. */
export function describeSpend(input: SpendWatchInput): SpendOverview {
  const forecast = forecastOrg(input);
  const complete = forecast.completeDays;
  const projects = input.series.projects;
  const topProjects = driversOf(input.series, { orgId: input.orgId, key: input.orgId }, complete);
  const clusterMovers = findMovers(input, 'clusters', complete);
  return {
    orgId: input.orgId,
    ...(input.orgName === undefined ? {} : { orgName: input.orgName }),
    month: forecast.month,
    forecast,
    budgets: measureBudgets(input, forecast),
    topProjects,
    moreProjects: projects.lines.length - topProjects.length + projects.otherCount,
    movers: input.series.clusters.lines.some((l) => l.name !== '')
      ? clusterMovers
      : findMovers(input, 'projects', complete),
  };
}

function findMovers(input: SpendWatchInput, dimension: 'clusters' | 'projects', complete: number): Mover[] {
  const found: Mover[] = [];
  for (const line of input.series[dimension].lines) {
    const values = completeDayValues(input.series, complete, input.previous, selectLine(dimension, line.key));
    if (values === undefined || values.length < 2 * MOVER_WINDOW_DAYS) continue;
    const recent = values.slice(-MOVER_WINDOW_DAYS);
    const earlier = values.slice(-2 * MOVER_WINDOW_DAYS, -MOVER_WINDOW_DAYS);
    const average = (days: typeof values) =>
      roundCents(days.reduce((sum, v) => sum + v.cents, 0) / days.length);
    const recentDailyCents = average(recent);
    const earlierDailyCents = average(earlier);
    const changeCents = recentDailyCents - earlierDailyCents;
    if (Math.abs(changeCents) < MIN_MOVE_CENTS_PER_DAY) continue;
    found.push({
      kind: dimension === 'clusters' ? 'cluster' : 'project',
      ...lineIdentity(line),
      recentDailyCents,
      earlierDailyCents,
      changeCents,
      recentFrom: (recent[0] as { day: number }).day,
      recentTo: (recent[recent.length - 1] as { day: number }).day,
    });
  }
  found.sort((a, b) => Math.abs(b.changeCents) - Math.abs(a.changeCents) || (a.name < b.name ? -1 : 1));
  return found.slice(0, TOP_MOVERS);
}
