import { describe, expect, it } from 'vitest';
import {
  addMonths,
  civilDate,
  dayNumber,
  daysInMonth,
  formatDay,
  formatDayRange,
  formatShortDay,
  isWeekend,
  parseDay,
  parseIsoDay,
  parseLongDate,
  parseMonth,
  parseUsDate,
  utcDayOf,
  utcMonthOf,
  weekdayOf,
} from '../../lib/spend/calendar';

describe('calendar days', () => {
  it('numbers days from 1970-01-01 and back again', () => {
    expect(dayNumber(1970, 1, 1)).toBe(0);
    expect(dayNumber(2000, 3, 1)).toBe(11_017);
    expect(formatDay(dayNumber(2024, 2, 29))).toBe('2024-02-29');
    expect(civilDate(-1)).toEqual({ year: 1969, month: 12, day: 31 });
  });

  it('agrees with Date.UTC on every day of 1999 to 2101', () => {
    const disagreements: number[] = [];
    for (let day = dayNumber(1999, 1, 1); day <= dayNumber(2101, 12, 31); day++) {
      const { year, month, day: d } = civilDate(day);
      if (Date.UTC(year, month - 1, d) / 86_400_000 !== day || dayNumber(year, month, d) !== day)
        disagreements.push(day);
    }
    expect(disagreements).toEqual([]);
  });

  it('knows month lengths and leap years', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2023, m))).toEqual([
      31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    ]);
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
  });

  it('parses only real dates', () => {
    expect(parseDay('2024-02-29')).toBe(dayNumber(2024, 2, 29));
    expect(parseDay('2023-02-29')).toBeUndefined();
    expect(parseDay('2024-13-01')).toBeUndefined();
    expect(parseDay('2024-1-01')).toBeUndefined();
    expect(parseUsDate('02/29/2024')).toBe(dayNumber(2024, 2, 29));
    expect(parseUsDate('2/9/2024')).toBe(dayNumber(2024, 2, 9));
    expect(parseUsDate('02/30/2024')).toBeUndefined();
    expect(parseUsDate('2024-02-01')).toBeUndefined();
    expect(parseLongDate('June 1, 2024')).toBe(dayNumber(2024, 6, 1));
    expect(parseLongDate('Feb 29, 2023')).toBeUndefined();
    expect(parseMonth('2024-12')).toBe(dayNumber(2024, 12, 1));
    expect(parseMonth('2024-00')).toBeUndefined();
  });

  it('reads the UTC calendar day of an ISO timestamp without drifting across midnight', () => {
    expect(parseIsoDay('2024-06-01T00:00:00Z')).toBe(dayNumber(2024, 6, 1));
    expect(parseIsoDay('2024-06-30T23:59:59Z')).toBe(dayNumber(2024, 6, 30));
    expect(parseIsoDay('2024-06-01T00:00:00-04:00')).toBe(dayNumber(2024, 6, 1));
    expect(parseIsoDay('2024-06-01T23:00:00-04:00')).toBe(dayNumber(2024, 6, 2));
    expect(parseIsoDay('2024-06-01')).toBe(dayNumber(2024, 6, 1));
    expect(parseIsoDay('yesterday')).toBeUndefined();
  });

  it('knows weekends', () => {
    expect(weekdayOf(dayNumber(2024, 12, 14))).toBe(6);
    expect(isWeekend(dayNumber(2024, 12, 14))).toBe(true);
    expect(isWeekend(dayNumber(2024, 12, 15))).toBe(true);
    expect(isWeekend(dayNumber(2024, 12, 16))).toBe(false);
    expect(weekdayOf(dayNumber(1969, 12, 28))).toBe(0);
  });

  it('moves months across year ends', () => {
    expect(addMonths('2024-12', 1)).toBe('2025-01');
    expect(addMonths('2025-01', -1)).toBe('2024-12');
    expect(addMonths('2024-03', -14)).toBe('2023-01');
    expect(() => addMonths('2024-3', 1)).toThrow(RangeError);
  });

  it('formats days and ranges for people', () => {
    expect(formatShortDay(dayNumber(2024, 12, 14))).toBe('Dec 14');
    expect(formatDayRange(dayNumber(2024, 12, 1), dayNumber(2024, 12, 19))).toBe('Dec 1–19');
    expect(formatDayRange(dayNumber(2024, 11, 28), dayNumber(2024, 12, 3))).toBe('Nov 28–Dec 3');
    expect(formatDayRange(dayNumber(2024, 12, 5), dayNumber(2024, 12, 5))).toBe('Dec 5');
  });
});

describe('UTC day and month of an instant', () => {
  it('takes the UTC day and month of an instant', () => {
    expect(utcDayOf(Date.parse('2026-11-30T23:59:59Z'))).toBe('2026-11-30');
    expect(utcMonthOf(Date.parse('2026-12-01T00:00:00Z'))).toBe('2026-12');
  });
});
