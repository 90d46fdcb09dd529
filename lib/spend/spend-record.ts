import { AppError } from '../errors';
import { isObjectId } from '../ids';
import { MAX_TEXT_LENGTH, projectKey } from '../invoices/cost-tally';
import { monthOf, parseDay } from './calendar';
import {
  clusterKey,
  MAX_PERIOD_DAYS,
  type RowTotal,
  type UsageDimension,
  type UsageLine,
  type UsageSeries,
} from './usage-series';

/**
 * The stored form of one organisation's usage series for one billing period, at
 * `{prefix}spend/{orgId}/{YYYY-MM}.json` (written by the poller with conditional PUTs, like the state). Numbers are
 * arrays, not objects, so a large organisation stays small: with 8 lines per dimension and 31 days it is about 10 kB
 * (the test measures it).
 *
 * ```
 * { "v": 1, "org": "<orgId>", "invoice": "<invoiceId>", "updated": "<ISO timestamp>", "final": false,
 *   "start": "2024-12-01", "days": 31, "last": 19,
 *   "total": [cents per day…], "undated": [cents, rows], "outside": [cents, rows],
 *   "projects": [[[name, id, [cents per day…]]…], [other per day…] | null, otherCount],
 *   "skus":     [[[name, [cents per day…]]…], …],
 *   "clusters": [[[name, projectName, projectId, [cents per day…]]…], …] }
 * ```
 * `id` / `projectId` are '' when Atlas gave none; keys are derived from names and ids exactly as the inspector does.
 * `updated` (optional) is Atlas's `updated` of the invoice version the series was read from: when two polls write the
 * same month, the newer version wins.
 *
 * One codec: `encodeSpendRecord` writes only what `decodeSpendRecord` accepts, and decoding refuses anything else
 * with a `SpendRecordError`: an unknown version, an id that is not 24 hex digits, a date that does not exist, a period
 * longer than 62 days, an array of the wrong length, a number that is not a safe integer, a name longer than the
 * inspector keeps, more than `MAX_LINES` lines, or a dimension whose lines and other do not add up to the day's total.
 */

export const SPEND_RECORD_VERSION = 1;
/** Lines a dimension may hold (top N plus pinned projects). */
export const MAX_LINES = 200;

export interface SpendRecord {
  readonly orgId: string;
  readonly invoiceId?: string;
  /** Atlas's `updated` of the invoice version the series was read from (a timestamp `Date.parse` reads). */
  readonly updated?: string;
  /** The invoice was no longer PENDING when the series was read: every day of it is complete. */
  readonly final: boolean;
  readonly series: UsageSeries;
}

/** The stored record did not decode; `problem` says where. Never carries the stored text. */
export class SpendRecordError extends AppError {
  override readonly name = 'SpendRecordError';
  constructor(readonly problem: string) {
    super(`spend record refused: ${problem}`);
  }
}

/** `{prefix}spend/{orgId}/{YYYY-MM}.json`, the month being the period's first day's. */
export function spendRecordKey(prefix: string, orgId: string, month: string): string {
  if (!isObjectId(orgId)) throw new SpendRecordError('organisation id must be 24 hex digits');
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new SpendRecordError('month must be YYYY-MM');
  return `${prefix}spend/${orgId}/${month}.json`;
}

/** The key of a record, from its series' start. */
export function spendRecordKeyOf(prefix: string, record: SpendRecord): string {
  const start = parseDay(record.series.start);
  if (start === undefined) throw new SpendRecordError('start must be a YYYY-MM-DD date');
  return spendRecordKey(prefix, record.orgId, monthOf(start));
}

/** JSON text for the record. Throws SpendRecordError for a record `decodeSpendRecord` would refuse. */
export function encodeSpendRecord(record: SpendRecord): string {
  const { series } = record;
  const dimension = <T>(d: UsageDimension, line: (l: UsageLine) => T) => [
    d.lines.map(line),
    d.otherDailyCents ?? null,
    d.otherCount,
  ];
  const json = {
    v: SPEND_RECORD_VERSION,
    org: record.orgId,
    ...(record.invoiceId === undefined ? {} : { invoice: record.invoiceId }),
    ...(record.updated === undefined ? {} : { updated: record.updated }),
    final: record.final,
    start: series.start,
    days: series.days,
    last: series.lastUsageDay,
    total: series.dailyCents,
    undated: [series.undated.cents, series.undated.rows],
    outside: [series.outOfPeriod.cents, series.outOfPeriod.rows],
    projects: dimension(series.projects, (l) => [l.name, l.id ?? '', l.dailyCents]),
    skus: dimension(series.skus, (l) => [l.name, l.dailyCents]),
    clusters: dimension(series.clusters, (l) => [
      l.name,
      l.project?.name ?? '',
      l.project?.id ?? '',
      l.dailyCents,
    ]),
  };
  const text = JSON.stringify(json);
  decodeSpendRecord(text);
  return text;
}

/** The record in `text`; throws SpendRecordError for anything but what `encodeSpendRecord` writes. */
export function decodeSpendRecord(text: string): SpendRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SpendRecordError('not JSON');
  }
  return parseSpendRecord(json);
}

/** `decodeSpendRecord` for JSON already parsed (as the archive's JSON reader hands it over). */
export function parseSpendRecord(json: unknown): SpendRecord {
  const record = object(json, 'record');
  if (record.v !== SPEND_RECORD_VERSION)
    throw new SpendRecordError(`unknown version (expected ${SPEND_RECORD_VERSION})`);
  if (!isObjectId(record.org)) throw new SpendRecordError('org must be 24 hex digits');
  if (record.invoice !== undefined && !isObjectId(record.invoice)) {
    throw new SpendRecordError('invoice must be 24 hex digits');
  }
  if (
    record.updated !== undefined &&
    (typeof record.updated !== 'string' ||
      record.updated.length > 64 ||
      Number.isNaN(Date.parse(record.updated)))
  ) {
    throw new SpendRecordError('updated must be a timestamp');
  }
  if (typeof record.final !== 'boolean') throw new SpendRecordError('final must be true or false');
  if (typeof record.start !== 'string' || parseDay(record.start) === undefined) {
    throw new SpendRecordError('start must be a YYYY-MM-DD date');
  }
  const days = integer(record.days, 'days', 1, MAX_PERIOD_DAYS);
  const last = integer(record.last, 'last', 0, days);
  const total = daily(record.total, days, 'total');
  const projects = decodeDimension(record.projects, days, 'projects', (line, at) => {
    const [name, id, cents] = tuple(line, 3, at);
    const projectName = text_(name, `${at}/name`);
    const projectId = text_(id, `${at}/id`);
    return {
      key: projectKey(projectName, projectId || undefined),
      name: projectName,
      ...(projectId === '' ? {} : { id: projectId }),
      dailyCents: daily(cents, days, `${at}/days`),
    };
  });
  const skus = decodeDimension(record.skus, days, 'skus', (line, at) => {
    const [name, cents] = tuple(line, 2, at);
    const sku = text_(name, `${at}/name`);
    return { key: sku, name: sku, dailyCents: daily(cents, days, `${at}/days`) };
  });
  const clusters = decodeDimension(record.clusters, days, 'clusters', (line, at) => {
    const [name, projectName, projectId, cents] = tuple(line, 4, at);
    const cluster = text_(name, `${at}/name`);
    const pName = text_(projectName, `${at}/project`);
    const pId = text_(projectId, `${at}/projectId`);
    return {
      key: clusterKey(projectKey(pName, pId || undefined), cluster),
      name: cluster,
      project: pId === '' ? { name: pName } : { name: pName, id: pId },
      dailyCents: daily(cents, days, `${at}/days`),
    };
  });
  for (const [name, dimension] of [
    ['projects', projects],
    ['skus', skus],
    ['clusters', clusters],
  ] as const) {
    for (let d = 0; d < days; d++) {
      let sum = dimension.otherDailyCents?.[d] ?? 0;
      for (const line of dimension.lines) sum += line.dailyCents[d] as number;
      if (sum !== total[d]) throw new SpendRecordError(`${name} do not add up to the total of day ${d + 1}`);
    }
  }
  const series: UsageSeries = {
    start: record.start,
    days,
    lastUsageDay: last,
    dailyCents: total,
    projects,
    skus,
    clusters,
    undated: rowTotal(record.undated, 'undated'),
    outOfPeriod: rowTotal(record.outside, 'outside'),
  };
  return {
    orgId: record.org,
    ...(record.invoice === undefined ? {} : { invoiceId: record.invoice as string }),
    ...(record.updated === undefined ? {} : { updated: record.updated as string }),
    final: record.final,
    series,
  };
}

function decodeDimension(
  value: unknown,
  days: number,
  at: string,
  line: (value: unknown, at: string) => UsageLine,
): UsageDimension {
  const [lines, other, otherCount] = tuple(value, 3, at);
  if (!Array.isArray(lines)) throw new SpendRecordError(`${at} lines must be an array`);
  if (lines.length > MAX_LINES) throw new SpendRecordError(`${at} holds more than ${MAX_LINES} lines`);
  const decoded = lines.map((l, i) => line(l, `${at}/${i}`));
  if (new Set(decoded.map((l) => l.key)).size !== decoded.length)
    throw new SpendRecordError(`${at} repeats a line`);
  const count = integer(otherCount, `${at} otherCount`, 0, Number.MAX_SAFE_INTEGER);
  if (other === null) {
    if (count !== 0) throw new SpendRecordError(`${at} counts folded lines without their days`);
    return { lines: decoded, otherCount: 0 };
  }
  if (count === 0) throw new SpendRecordError(`${at} has other days without folded lines`);
  return { lines: decoded, otherDailyCents: daily(other, days, `${at} other`), otherCount: count };
}

function object(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SpendRecordError(`${at} must be an object`);
  }
  return value as Record<string, unknown>;
}

function tuple(value: unknown, length: number, at: string): unknown[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw new SpendRecordError(`${at} must be an array of ${length}`);
  }
  return value;
}

function integer(value: unknown, at: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new SpendRecordError(`${at} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function cents(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new SpendRecordError(`${at} must be whole cents (a safe integer)`);
  }
  return value;
}

function daily(value: unknown, days: number, at: string): number[] {
  if (!Array.isArray(value) || value.length !== days)
    throw new SpendRecordError(`${at} must hold ${days} days`);
  return value.map((v, i) => cents(v, `${at}/${i}`));
}

function rowTotal(value: unknown, at: string): RowTotal {
  const [c, rows] = tuple(value, 2, at);
  return { cents: cents(c, `${at} cents`), rows: integer(rows, `${at} rows`, 0, Number.MAX_SAFE_INTEGER) };
}

function text_(value: unknown, at: string): string {
  if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH) {
    throw new SpendRecordError(`${at} must be text of at most ${MAX_TEXT_LENGTH} characters`);
  }
  return value;
}
