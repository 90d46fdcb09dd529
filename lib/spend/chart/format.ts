const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** "March 2025" for year 2025, month 3. */
export function formatChartMonth(year: number, month: number): string {
  return `${MONTHS[month - 1] ?? `Month ${month}`} ${year}`;
}
