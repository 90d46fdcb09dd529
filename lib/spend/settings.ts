/**
 * What the spend watch is told to watch. Structural, so the configuration reader (`SPEND_BUDGETS`,
 * `SPEND_ALERT_PERCENTS`, `SPEND_SPIKE_PERCENT`, `SPEND_SPIKE_MIN_USD`) or a test can hand it over as it is.
 */
export interface SpendSettings {
  readonly budgets: readonly SpendBudget[];
  /** Percentages of a budget that alert once per billing period each, e.g. [50, 80, 100]. */
  readonly alertPercents: readonly number[];
  /** A usage day more than this many percent above its typical day (and by more than `spikeMinCents`) is a spike. */
  readonly spikePercent: number;
  readonly spikeMinCents: number;
}

/** A monthly budget in integer cents, for an organisation or one of its projects. */
export interface SpendBudget {
  readonly orgId: string;
  readonly projectId?: string | undefined;
  readonly cents: number;
}

export const DEFAULT_SPEND_SETTINGS: SpendSettings = {
  budgets: [],
  alertPercents: [50, 80, 100],
  spikePercent: 50,
  spikeMinCents: 10_000,
};

/** The budgets of one organisation: the organisation's own first (if any), then its projects' in id order. */
export function budgetsOf(settings: Pick<SpendSettings, 'budgets'>, orgId: string): SpendBudget[] {
  return settings.budgets
    .filter((b) => b.orgId === orgId)
    .sort((a, b) =>
      a.projectId === undefined ? -1 : b.projectId === undefined ? 1 : a.projectId < b.projectId ? -1 : 1,
    );
}

/** The project ids the inspector must always list (`pinnedProjectIds`), so their budgets can be checked. */
export function budgetedProjectIds(settings: Pick<SpendSettings, 'budgets'>, orgId: string): string[] {
  return budgetsOf(settings, orgId).flatMap((b) => (b.projectId === undefined ? [] : [b.projectId]));
}
