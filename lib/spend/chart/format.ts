const MONTH_YEAR = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long', year: 'numeric' });

/** "March 2025" for year 2025, month 3 (1-12). */
export function formatChartMonth(year: number, month: number): string {
  return MONTH_YEAR.format(Date.UTC(year, month - 1, 1));
}
