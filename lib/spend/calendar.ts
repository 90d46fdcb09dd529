/**
 * Calendar days for the spend watch. A usage day is a calendar day (Atlas's `Usage Date`, MM/DD/YYYY), not an
 * instant, so days are handled as UTC day numbers (days since 1970-01-01) and `YYYY-MM-DD` strings, converted with
 * integer arithmetic only: no `Date`, no time zone, no clock. Proleptic Gregorian calendar, years 1..9999.
 */

const MONTH_SHORT = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;
/** English month names, January first. */
export const MONTH_NAMES = [
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

export const MIN_YEAR = 1;
export const MAX_YEAR = 9999;

export interface CivilDate {
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  /** 1-31 */
  readonly day: number;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** 28, 29, 30 or 31. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** True for a real date of years 1..9999. */
export function isValidDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    year >= MIN_YEAR &&
    year <= MAX_YEAR &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

/** Days since 1970-01-01 of a valid date (Hinnant's days_from_civil). */
export function dayNumber(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The date of a day number (Hinnant's civil_from_days). */
export function civilDate(days: number): CivilDate {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** `YYYY-MM-DD`. */
export function formatDay(days: number): string {
  const { year, month, day } = civilDate(days);
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
}

/** The day number of a `YYYY-MM-DD` string naming a real date; undefined for anything else. */
export function parseDay(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return isValidDate(year, month, day) ? dayNumber(year, month, day) : undefined;
}

/**
 * The calendar day an ISO 8601 timestamp names in UTC (`2024-06-01T00:00:00Z` → 2024-06-01), or a plain
 * `YYYY-MM-DD`. An offset other than Z moves the instant, and so possibly the UTC day. Undefined if unreadable.
 */
export function parseIsoDay(text: string): number | undefined {
  const plain = parseDay(text);
  if (plain !== undefined) return plain;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  return Math.floor(ms / 86_400_000);
}

/** `06/01/2024` or `6/1/2024` (Atlas's Usage Date) as a day number; undefined unless it is a real date. */
export function parseUsDate(text: string): number | undefined {
  const match = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text);
  if (match === null) return undefined;
  const [month, day, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return isValidDate(year, month, day) ? dayNumber(year, month, day) : undefined;
}

/** `June 1, 2024` (the CSV's Billing Period) as a day number; undefined unless it is a real date. */
export function parseLongDate(text: string): number | undefined {
  const match = /^\s*([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})\s*$/.exec(text);
  if (match === null) return undefined;
  const name = (match[1] ?? '').toLowerCase();
  const index = MONTH_NAMES.findIndex(
    (m) => m.toLowerCase() === name || m.slice(0, 3).toLowerCase() === name,
  );
  const [day, year] = [Number(match[2]), Number(match[3])];
  return index >= 0 && isValidDate(year, index + 1, day) ? dayNumber(year, index + 1, day) : undefined;
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

export function isWeekend(days: number): boolean {
  const weekday = weekdayOf(days);
  return weekday === 0 || weekday === 6;
}

/** `YYYY-MM` of a day number. */
export function monthOf(days: number): string {
  const { year, month } = civilDate(days);
  return `${String(year).padStart(4, '0')}-${pad2(month)}`;
}

/** `YYYY-MM-DD` (UTC) of an epoch-milliseconds instant. */
export function utcDayOf(epochMs: number): string {
  return formatDay(Math.floor(epochMs / 86_400_000));
}

/** `YYYY-MM` (UTC) of an epoch-milliseconds instant. */
export function utcMonthOf(epochMs: number): string {
  return monthOf(Math.floor(epochMs / 86_400_000));
}

/** The day number of the first day of a `YYYY-MM` month; undefined for anything else. */
export function parseMonth(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [year, month] = [Number(match[1]), Number(match[2])];
  return isValidDate(year, month, 1) ? dayNumber(year, month, 1) : undefined;
}

/** `YYYY-MM` shifted by `offset` months. Throws RangeError for a malformed month. */
export function addMonths(month: string, offset: number): string {
  const first = parseMonth(month);
  if (first === undefined) throw new RangeError(`not a YYYY-MM month: ${month}`);
  const { year, month: m } = civilDate(first);
  const index = year * 12 + (m - 1) + offset;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${pad2((index % 12) + 1)}`;
}

/** `Dec 14`. */
export function formatShortDay(days: number): string {
  const { month, day } = civilDate(days);
  return `${MONTH_SHORT[month - 1]} ${day}`;
}

/** `December 2024`. */
export function formatMonthName(days: number): string {
  const { year, month } = civilDate(days);
  return `${MONTH_NAMES[month - 1]} ${year}`;
}

/** `Dec 1–19`, `Nov 28–Dec 3`, or `Dec 5` for a single day; inclusive. */
export function formatDayRange(first: number, last: number): string {
  if (first === last) return formatShortDay(first);
  const a = civilDate(first);
  const b = civilDate(last);
  if (a.year === b.year && a.month === b.month) return `${MONTH_SHORT[a.month - 1]} ${a.day}–${b.day}`;
  return `${formatShortDay(first)}–${formatShortDay(last)}`;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
