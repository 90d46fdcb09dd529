import { CSV_COLUMNS, csvField } from '../../infra/local/atlas-sandbox';
import { formatDay, parseDay } from '../../lib/spend/calendar';
import type { UsageLine, UsageSeries } from '../../lib/spend/usage-series';

/** One CSV line item for a test: only what the spend watch reads. */
export interface TestRow {
  /** As printed in Usage Date (MM/DD/YYYY), or anything else to test unreadable dates. */
  readonly usageDate: string;
  readonly project?: string;
  readonly projectId?: string;
  readonly sku?: string;
  readonly cluster?: string;
  /** As printed in Amount. */
  readonly amount: string;
}

/** An invoice CSV in Atlas's layout with the given Billing Period (omitted: no such row). */
export function buildCsv(rows: readonly TestRow[], billingPeriod?: string): string {
  const lines = [
    'Invoice Number,666acb8787ba43606905dcae,',
    ...(billingPeriod === undefined ? [] : [`Billing Period,${csvField(billingPeriod)},`]),
    'Organization Name,Test Org,',
    'Organization ID,666acb8787ba43606905dcac,',
    '',
    CSV_COLUMNS.join(','),
  ];
  for (const row of rows) {
    const values: Record<string, string> = {
      Date: row.usageDate,
      'Usage Date': row.usageDate,
      Description: 'usage',
      'Organization Name': 'Test Org',
      'Organization ID': '666acb8787ba43606905dcac',
      Project: row.project ?? 'Production',
      'Project ID': row.projectId ?? '666acb8787ba43606905dc01',
      SKU: row.sku ?? 'ATLAS_AWS_INSTANCE_M30',
      Cluster: row.cluster ?? 'Cluster0',
      Amount: row.amount,
    };
    lines.push(CSV_COLUMNS.map((column) => csvField(values[column] ?? '')).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export async function* bytesOf(
  text: string,
  chunkSize = Number.POSITIVE_INFINITY,
): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += Math.min(chunkSize, bytes.length)) {
    yield bytes.subarray(at, at + Math.min(chunkSize, bytes.length));
  }
}

/** `MM/DD/YYYY` of a `YYYY-MM-DD` day. */
export function us(day: string): string {
  const [y, m, d] = day.split('-');
  return `${m}/${d}/${y}`;
}

/** `YYYY-MM-DD` of the day `offset` days after `start`. */
export function dayAfter(start: string, offset: number): string {
  return formatDay((parseDay(start) as number) + offset);
}

/**
 * A series from daily totals, all of it one project / SKU / cluster line (so every dimension adds up). `days`
 * defaults to the length of `daily`; `lastUsageDay` to the last day given + 1 (so every given day is complete), capped
 * at `days`.
 */
export function seriesOf(
  start: string,
  daily: readonly number[],
  options: { days?: number; lastUsageDay?: number; undatedCents?: number; outOfPeriodCents?: number } = {},
): UsageSeries {
  const days = options.days ?? daily.length;
  const full = Array.from({ length: days }, (_, i) => daily[i] ?? 0);
  const line = (key: string, name: string, extra: Partial<UsageLine> = {}): UsageLine => ({
    key,
    name,
    ...extra,
    dailyCents: full,
  });
  return {
    start,
    days,
    lastUsageDay: options.lastUsageDay ?? Math.min(days, daily.length + 1),
    dailyCents: full,
    projects: {
      lines: [line('id:666acb8787ba43606905dc01', 'Production', { id: '666acb8787ba43606905dc01' })],
      otherCount: 0,
    },
    skus: { lines: [line('ATLAS_AWS_INSTANCE_M30', 'ATLAS_AWS_INSTANCE_M30')], otherCount: 0 },
    clusters: {
      lines: [
        line('id:666acb8787ba43606905dc01/Cluster0', 'Cluster0', {
          project: { name: 'Production', id: '666acb8787ba43606905dc01' },
        }),
      ],
      otherCount: 0,
    },
    undated: { cents: options.undatedCents ?? 0, rows: options.undatedCents === undefined ? 0 : 1 },
    outOfPeriod: {
      cents: options.outOfPeriodCents ?? 0,
      rows: options.outOfPeriodCents === undefined ? 0 : 1,
    },
  };
}

/** Daily amounts for `days` days from `start`: `weekday` cents Monday to Friday, `weekend` cents on Saturday/Sunday. */
export function weeklyPattern(start: string, days: number, weekday: number, weekend: number): number[] {
  const first = parseDay(start) as number;
  return Array.from({ length: days }, (_, i) => {
    const weekdayIndex = (((first + i + 4) % 7) + 7) % 7;
    return weekdayIndex === 0 || weekdayIndex === 6 ? weekend : weekday;
  });
}

/** One project/cluster/SKU's days, for `seriesOfLines`. */
export interface TestLine {
  readonly project: string;
  readonly projectId: string;
  readonly cluster: string;
  readonly sku: string;
  readonly daily: readonly number[];
}

/** A series whose dimensions list each of `lines` (grouped by project, cluster and SKU), nothing folded. */
export function seriesOfLines(
  start: string,
  days: number,
  lines: readonly TestLine[],
  options: { lastUsageDay?: number } = {},
): UsageSeries {
  const at = (daily: readonly number[], i: number) => daily[i] ?? 0;
  const group = (keyOf: (l: TestLine) => string, make: (l: TestLine) => Omit<UsageLine, 'dailyCents'>) => {
    const byKey = new Map<string, UsageLine>();
    for (const l of lines) {
      const key = keyOf(l);
      const known = byKey.get(key);
      const dailyCents = Array.from({ length: days }, (_, i) => at(l.daily, i) + (known?.dailyCents[i] ?? 0));
      byKey.set(key, { ...make(l), dailyCents });
    }
    return { lines: [...byKey.values()], otherCount: 0 };
  };
  const longest = Math.max(0, ...lines.map((l) => l.daily.length));
  return {
    start,
    days,
    lastUsageDay: options.lastUsageDay ?? Math.min(days, longest + 1),
    dailyCents: Array.from({ length: days }, (_, i) => lines.reduce((sum, l) => sum + at(l.daily, i), 0)),
    projects: group(
      (l) => `id:${l.projectId}`,
      (l) => ({ key: `id:${l.projectId}`, name: l.project, id: l.projectId }),
    ),
    skus: group(
      (l) => l.sku,
      (l) => ({ key: l.sku, name: l.sku }),
    ),
    clusters: group(
      (l) => `id:${l.projectId}/${l.cluster}`,
      (l) => ({
        key: `id:${l.projectId}/${l.cluster}`,
        name: l.cluster,
        project: { name: l.project, id: l.projectId },
      }),
    ),
    undated: { cents: 0, rows: 0 },
    outOfPeriod: { cents: 0, rows: 0 },
  };
}
