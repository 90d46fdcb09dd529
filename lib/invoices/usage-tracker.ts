import {
  type BillingPeriod,
  buildUsageSeries,
  clusterKey,
  type DailyEntry,
  DEFAULT_SERIES_TOP_N,
  rankUsageLines,
  type UsageSeries,
} from '../spend/usage-series';
import {
  type CostTally,
  type CostTotal,
  checkTopN,
  createCostTally,
  DEFAULT_MAX_DISTINCT,
  projectKey,
} from './cost-tally';

export interface UsageTrackerOptions {
  readonly maxDistinct?: number;
  readonly topN?: number;
  readonly pinnedProjectIds?: readonly string[];
}

/**
 * The usage-series side of a pass over line items, fed row by row alongside the summary's tallies. Per key it keeps
 * one `Float64Array` of the period's days on the summary's own totals (exact for integer cents below 2^53); clusters
 * are tallied per project with the same `maxDistinct` fold. Memory: at most `3 × maxDistinct` arrays of `period.days`
 * numbers, whatever the row count.
 */
export class UsageTracker {
  private readonly days: number;
  private readonly topN: number;
  private readonly clusterTally: CostTally;
  private readonly daily: Float64Array;
  private readonly undated = { cents: 0, rows: 0 };
  private readonly outOfPeriod = { cents: 0, rows: 0 };
  private lastUsageDay = 0;

  /** Throws RangeError for invalid options. */
  constructor(
    private readonly period: BillingPeriod,
    private readonly options: UsageTrackerOptions = {},
  ) {
    this.days = period.days;
    this.topN = checkTopN(options.topN ?? DEFAULT_SERIES_TOP_N);
    this.clusterTally = createCostTally(options.maxDistinct ?? DEFAULT_MAX_DISTINCT);
    this.daily = new Float64Array(period.days);
  }

  /** The cluster total of `project` named `name` ('' for rows without a cluster), created on first use. */
  cluster(project: CostTotal, name: string): CostTotal {
    project.clusters ??= new Map();
    let cluster = project.clusters.get(name);
    if (cluster === undefined) {
      const tally = this.clusterTally;
      cluster = tally.total(clusterKey(projectKey(project.name, project.id), name), name);
      // Only tracked clusters are remembered per project, so these maps hold at most `maxDistinct` entries in all.
      if (cluster === tally.overflow) return cluster;
      cluster.project = project;
      project.clusters.set(name, cluster);
    }
    return cluster;
  }

  /** True for the shared total of clusters past `maxDistinct`. */
  isOverflow(cluster: CostTotal): boolean {
    return cluster === this.clusterTally.overflow;
  }

  /**
   * One line item: `day` is its usage day number (NaN when it has none or it is unreadable); `project`, `sku` and
   * `cluster` the totals it was added to (the cluster from `cluster()`).
   */
  add(day: number, cents: number, project: CostTotal, sku: CostTotal, cluster: CostTotal): void {
    const index = day - this.period.startDay;
    const days = this.days;
    if (!(index >= 0 && index < days)) {
      const bucket = Number.isNaN(day) ? this.undated : this.outOfPeriod;
      bucket.cents += cents;
      bucket.rows++;
      return;
    }
    this.daily[index] = (this.daily[index] as number) + cents;
    if (index >= this.lastUsageDay) this.lastUsageDay = index + 1;
    addDaily(project, index, cents, days);
    addDaily(sku, index, cents, days);
    addDaily(cluster, index, cents, days);
  }

  /** The series, from the summary's project and SKU tallies (those whose totals were passed to `add`). */
  finish(projects: CostTally, skus: CostTally): UsageSeries {
    const { days, topN } = this;
    const pinned = new Set(
      (this.options.pinnedProjectIds ?? []).filter((id) => id !== '').map((id) => projectKey('', id)),
    );
    const clusters = this.clusterTally;
    return buildUsageSeries({
      period: this.period,
      lastUsageDay: this.lastUsageDay,
      daily: this.daily,
      projects: rankUsageLines(
        dailyEntries(projects, (t) => projectKey(t.name, t.id)),
        projects.overflow?.daily,
        days,
        topN,
        pinned,
      ),
      skus: rankUsageLines(
        dailyEntries(skus, (t) => t.name),
        skus.overflow?.daily,
        days,
        topN,
      ),
      clusters: rankUsageLines(
        dailyEntries(clusters, (t) => clusterKey(projectKey(t.project?.name ?? '', t.project?.id), t.name)),
        clusters.overflow?.daily,
        days,
        topN,
      ),
      undated: { ...this.undated },
      outOfPeriod: { ...this.outOfPeriod },
    });
  }
}

function addDaily(total: CostTotal, index: number, cents: number, days: number): void {
  total.daily ??= new Float64Array(days);
  total.daily[index] = (total.daily[index] as number) + cents;
}

function dailyEntries(tally: CostTally, keyOf: (total: CostTotal) => string): DailyEntry[] {
  const out: DailyEntry[] = [];
  for (const total of tally.totals()) {
    if (total === tally.overflow) continue;
    const project = total.project;
    out.push({
      key: keyOf(total),
      name: total.name,
      ...(total.id === undefined ? {} : { id: total.id }),
      ...(project === undefined
        ? {}
        : {
            project:
              project.id === undefined ? { name: project.name } : { name: project.name, id: project.id },
          }),
      daily: total.daily,
    });
  }
  return out;
}
