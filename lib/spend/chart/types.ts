/**
 * What the spend chart draws, for one organisation and one billing month. Every amount is integer US cents (negative
 * allowed: a day of credits). Days are days of the month, 1-based in words and 0-based in the arrays.
 */
export interface SpendChartInput {
  /** The organisation's name, as Atlas gives it (any characters: it is escaped for XML and shortened to fit). */
  readonly title: string;
  readonly year: number;
  /** 1-12. */
  readonly month: number;
  /** Index 0 = day 1; length = days in the month; null = no data for that day yet. */
  readonly dailyCents: readonly (number | null)[];
  /** Last month's daily spend, index 0 = its day 1 (any length up to 31); drawn faintly for comparison. */
  readonly previousDailyCents?: readonly (number | null)[];
  /** Days 1..completeDays are final and count in month-to-date; later days with data are drawn as partial. */
  readonly completeDays: number;
  /** Cumulative month total forecast for days completeDays+1 .. daysInMonth (one entry each), with its range. */
  readonly forecast?: {
    readonly cumulativeCents: readonly number[];
    readonly lowCents: readonly number[];
    readonly highCents: readonly number[];
  };
  /** The organisation's monthly budget, when one is set. */
  readonly budgetCents?: number;
}

export interface SpendChartOptions {
  /** The font family named in the SVG. Default: the font shipped with the renderer (CHART_FONT.family). */
  readonly fontFamily?: string;
}
