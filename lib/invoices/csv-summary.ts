import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors';
import { parseUsDate } from '../spend/calendar';
import {
  type BillingPeriod,
  billingPeriodOf,
  DEFAULT_SERIES_TOP_N,
  parseBillingPeriod,
  type UsageSeries,
  usDateDay,
} from '../spend/usage-series';
import {
  type CostTally,
  type CostTotal,
  checkTopN,
  clipText,
  createCostTally,
  DEFAULT_MAX_DISTINCT,
  DEFAULT_TOP_N,
  projectKey,
  rankCostLines,
} from './cost-tally';
import { type CsvParser, type CsvRow, createCsvParser } from './csv-parser';
import { parseDollarsToCents } from './money';
import type { CsvSummary } from './types';
import { UsageTracker, type UsageTrackerOptions } from './usage-tracker';

/**
 * The invoice-CSV inspector: one pass over the bytes as Atlas sent them yields their SHA-256, their length and a
 * summary of the line items, while the bytes flow on unchanged (to the S3 upload). Memory stays flat whatever the
 * size: rows are parsed incrementally (see `csv-parser.ts`) and at most `maxDistinct` projects and SKUs are tracked.
 *
 * Layout read (Atlas "The invoice CSV"): key/value rows (`Invoice Number`, `Billing Period`, `Organization Name`,
 * `Organization ID`), then a header row naming the columns, then one row per line item. Columns are found by header
 * name, so reordered and extra columns are fine. A line item is malformed when its field count differs from the
 * header's, the parser flagged it, or its Amount is not a dollar amount; malformed rows count in `malformedRows` and
 * nowhere else. Without a header, every row that is not a key/value row is malformed.
 *
 * The same pass builds the period's daily usage series (`usage`, see `lib/spend/usage-series.ts`) from the `Usage
 * Date` (MM/DD/YYYY) and `Cluster` columns: per day the total and per project, SKU and cluster, with the same interning
 * and the same `maxDistinct` fold as the summary, a fixed array of days per key and no row kept.
 */

export interface CsvInspection {
  /** Hex SHA-256 of every byte that passed through. */
  readonly sha256: string;
  readonly bytes: number;
  readonly summary: CsvSummary;
  /**
   * The daily usage series of the billing period; undefined when the period is unknown (no `period` option and no
   * readable `Billing Period` row before the column header).
   */
  readonly usage: UsageSeries | undefined;
}

export interface CsvInspectorOptions {
  /** Projects and SKUs listed in the summary; default 5. */
  readonly topN?: number;
  /** Default 10,000. */
  readonly maxDistinct?: number;
  /** Rows longer than this are malformed and not kept; default 1 MiB (see `createCsvParser`). */
  readonly maxRowBytes?: number;
  /**
   * The billing period as the invoice states it (`startDate`, `endDate` exclusive; ISO timestamps or `YYYY-MM-DD`),
   * which wins over the CSV's `Billing Period` row.
   */
  readonly period?: { readonly start: string; readonly end: string };
  /** Lines per dimension kept in the usage series; default 8. */
  readonly seriesTopN?: number;
  /** Project ids the usage series lists even past the top N (those with a budget). */
  readonly pinnedProjectIds?: readonly string[];
}

export interface CsvInspector {
  /** Passes every chunk through unchanged, in order, with the usual backpressure. */
  readonly stream: Transform;
  /**
   * Resolves once the writable side has ended and every byte was inspected. Rejects with the stream's error, or with
   * an `AppError` when the stream was destroyed before its end. Callers that never call it see no unhandled rejection.
   */
  result(): Promise<CsvInspection>;
}

/**
 * The inspector as a Transform for `pipeline(atlasBody, inspector.stream, upload)`.
 * Throws RangeError on invalid options.
 */
export function createCsvInspector(options: CsvInspectorOptions = {}): CsvInspector {
  const core = new InspectionCore(options);
  let resolve: (value: CsvInspection) => void = () => {};
  let reject: (reason: unknown) => void = () => {};
  let settled = false;
  const done = new Promise<CsvInspection>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => {});
  const settle = (outcome: { value: CsvInspection } | { error: unknown }): void => {
    if (settled) return;
    settled = true;
    if ('value' in outcome) resolve(outcome.value);
    else reject(outcome.error);
  };

  const stream = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      try {
        core.update(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback): void {
      let inspection: CsvInspection;
      try {
        inspection = core.finish();
      } catch (error) {
        callback(error as Error);
        return;
      }
      // Settled before the readable side ends, so a stage downstream may await the result in its own flush.
      settle({ value: inspection });
      callback();
    },
  });
  stream.on('error', (error) => settle({ error }));
  stream.once('close', () => settle({ error: new AppError('CSV stream was closed before it ended') }));
  return { stream, result: () => done };
}

/**
 * Inspect a whole CSV from any byte source (a response body, a file stream). Rejects with what the source throws.
 * Throws RangeError on invalid options and TypeError if the source yields strings (their bytes would be a guess).
 */
export async function inspectCsv(
  source: AsyncIterable<Uint8Array>,
  options: CsvInspectorOptions = {},
): Promise<CsvInspection> {
  const core = new InspectionCore(options);
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('inspectCsv: the source must yield bytes');
    core.update(chunk);
  }
  return core.finish();
}

/** Key/value rows before the column header, by their lower-cased key. */
const HEADER_KEYS: ReadonlyMap<
  string,
  'invoiceNumber' | 'billingPeriod' | 'organizationName' | 'organizationId'
> = new Map([
  ['invoice number', 'invoiceNumber'],
  ['billing period', 'billingPeriod'],
  ['organization name', 'organizationName'],
  ['organization id', 'organizationId'],
]);

interface Columns {
  readonly count: number;
  readonly amount: number;
  readonly project: number;
  readonly projectId: number;
  readonly sku: number;
  /** -1 when the CSV has no such column. */
  readonly usageDate: number;
  readonly cluster: number;
}

/** Hash, count and summarise; `update` per chunk, `finish` once. */
class InspectionCore {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private readonly parser: CsvParser;
  private readonly topN: number;
  private finished = false;

  private readonly header: {
    invoiceNumber?: string;
    billingPeriod?: string;
    organizationName?: string;
    organizationId?: string;
  } = {};
  private columns: Columns | undefined;
  /** Non-blank rows before any header that were not key/value rows: malformed if no header ever comes. */
  private strayRows = 0;
  private lineItems = 0;
  private malformed = 0;
  private totalCents = 0;
  private readonly projects: CostTally;
  private readonly skus: CostTally;
  private readonly projectsById: FieldInterner<CostTotal>;
  private readonly projectsByName: FieldInterner<CostTotal>;
  private readonly skusByName: FieldInterner<CostTotal>;
  /** Created with the column header, once the billing period is known; undefined if it never is. */
  private usage: UsageTracker | undefined;
  /** Cluster names by id, and the interner from a Cluster field's bytes to its id (-1 past `maxDistinct`). */
  private readonly clusterNames: string[] = [];
  private readonly clusterNameIds: FieldInterner<number>;
  private readonly usageOptions: UsageTrackerOptions;
  private readonly givenPeriod: BillingPeriod | undefined;
  /** Usage Dates already read, as MMDDYYYY digits, and their day numbers: a direct-mapped cache. */
  private readonly dateDigits = new Int32Array(DATE_CACHE_SLOTS).fill(-1);
  private readonly dateDays = new Float64Array(DATE_CACHE_SLOTS);

  constructor(options: CsvInspectorOptions) {
    this.topN = checkTopN(options.topN ?? DEFAULT_TOP_N);
    const maxDistinct = options.maxDistinct ?? DEFAULT_MAX_DISTINCT;
    checkTopN(options.seriesTopN ?? DEFAULT_SERIES_TOP_N);
    if (options.period !== undefined) {
      this.givenPeriod = billingPeriodOf(options.period.start, options.period.end);
      if (this.givenPeriod === undefined) throw new RangeError('period must be a readable start and end');
    }
    this.usageOptions = {
      maxDistinct,
      ...(options.seriesTopN === undefined ? {} : { topN: options.seriesTopN }),
      ...(options.pinnedProjectIds === undefined ? {} : { pinnedProjectIds: options.pinnedProjectIds }),
    };
    this.projects = createCostTally(maxDistinct);
    this.skus = createCostTally(maxDistinct);
    this.projectsById = new FieldInterner(maxDistinct, (row) => {
      const cols = this.columns as Columns;
      const id = clipText(row.field(cols.projectId));
      const name = clipText(row.field(cols.project));
      return this.projects.total(projectKey(name, id), name, id);
    });
    this.projectsByName = new FieldInterner(maxDistinct, (row) => {
      const name = clipText(row.field((this.columns as Columns).project));
      return this.projects.total(projectKey(name, undefined), name);
    });
    this.skusByName = new FieldInterner(maxDistinct, (row) => {
      const name = clipText(row.field((this.columns as Columns).sku));
      return this.skus.total(name, name);
    });
    this.clusterNameIds = new FieldInterner(maxDistinct, (row) => {
      const column = (this.columns as Columns).cluster;
      const long = row.fieldEnd(column) - row.fieldStart(column) > MAX_INTERNED_BYTES;
      if (long || this.clusterNames.length >= maxDistinct) return -1;
      this.clusterNames.push(clipText(row.field((this.columns as Columns).cluster)));
      return this.clusterNames.length - 1;
    });

    const parserOptions = options.maxRowBytes === undefined ? {} : { maxRowBytes: options.maxRowBytes };
    this.parser = createCsvParser((row) => this.onRow(row), parserOptions);
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    this.parser.write(chunk);
  }

  finish(): CsvInspection {
    if (this.finished) throw new Error('CSV inspection already finished');
    this.finished = true;
    this.parser.end();
    const malformedRows = this.malformed + (this.columns === undefined ? this.strayRows : 0);
    const summary: CsvSummary = {
      ...this.header,
      lineItemCount: this.lineItems,
      totalCents: this.totalCents,
      projects: rankCostLines(this.projects.totals(), this.topN),
      projectCount: this.projects.size,
      skus: rankCostLines(this.skus.totals(), this.topN),
      skuCount: this.skus.size,
      malformedRows,
    };
    const usage = this.usage?.finish(this.projects, this.skus);
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, summary, usage };
  }

  private onRow(row: CsvRow): void {
    if (row.length === 0 && row.issue === undefined) return;
    const columns = this.columns;
    if (columns !== undefined) {
      this.onLineItem(row, columns);
      return;
    }
    if (row.issue !== undefined) {
      this.strayRows++;
      return;
    }
    const key = HEADER_KEYS.get(row.field(0).trim().toLowerCase());
    if (key !== undefined && row.length >= 2) {
      this.header[key] ??= clipText(row.field(1).trim());
      return;
    }
    const found = findColumns(row);
    if (found === undefined) {
      this.strayRows++;
      return;
    }
    this.columns = found;
    const period =
      this.givenPeriod ??
      (this.header.billingPeriod === undefined ? undefined : parseBillingPeriod(this.header.billingPeriod));
    if (period !== undefined) this.usage = new UsageTracker(period, this.usageOptions);
  }

  private onLineItem(row: CsvRow, columns: Columns): void {
    if (row.issue !== undefined || row.length !== columns.count) {
      this.malformed++;
      return;
    }
    const cents = amountCents(row, columns.amount);
    if (cents === undefined) {
      this.malformed++;
      return;
    }
    const project =
      row.fieldEnd(columns.projectId) > row.fieldStart(columns.projectId)
        ? this.projectsById.get(row, columns.projectId)
        : this.projectsByName.get(row, columns.project);
    const sku = this.skusByName.get(row, columns.sku);
    project.cents += cents;
    sku.cents += cents;
    this.totalCents += cents;
    this.lineItems++;
    const usage = this.usage;
    if (usage !== undefined) {
      usage.add(
        this.usageDay(row, columns.usageDate),
        cents,
        project,
        sku,
        this.clusterOf(usage, project, row, columns),
      );
    }
  }

  /**
   * The row's cluster total. Cluster names are interned to small ids (the same `FieldInterner` as projects and SKUs,
   * so a name is decoded once), and each project keeps its clusters in an array indexed by that id. Names past the
   * interner's limit go through the tracker's lookup by name.
   */
  private clusterOf(usage: UsageTracker, project: CostTotal, row: CsvRow, columns: Columns): CostTotal {
    const column = columns.cluster;
    if (column === -1) return usage.cluster(project, '');
    const nameId = this.clusterNameIds.get(row, column);
    if (nameId === -1) return usage.cluster(project, clipText(row.field(column)));
    project.clustersByNameId ??= [];
    const byId = project.clustersByNameId;
    let cluster = byId[nameId];
    if (cluster === undefined) {
      cluster = usage.cluster(project, this.clusterNames[nameId] as string);
      if (!usage.isOverflow(cluster)) byId[nameId] = cluster;
    }
    return cluster;
  }

  /** The row's Usage Date as a day number; NaN when the column is missing or the value is not a real date. */
  private usageDay(row: CsvRow, column: number): number {
    if (column === -1) return Number.NaN;
    const start = row.fieldStart(column);
    if (row.fieldEnd(column) - start === 10) {
      const digits = usDateDigits(row.bytes, start);
      if (digits !== -1) {
        const slot = Math.imul(digits, 0x9e3779b1) >>> (32 - DATE_CACHE_BITS);
        if (this.dateDigits[slot] !== digits) {
          this.dateDigits[slot] = digits;
          this.dateDays[slot] = usDateDay(
            Math.floor(digits / 1_000_000),
            Math.floor(digits / 10_000) % 100,
            digits % 10_000,
          );
        }
        return this.dateDays[slot] as number;
      }
    }
    return parseUsDate(row.field(column)) ?? Number.NaN;
  }
}

/** The header row: it names an Amount column and at least one of Project, Project ID and SKU. */
function findColumns(row: CsvRow): Columns | undefined {
  const names = row.toArray().map((name) => name.trim().toLowerCase());
  const amount = names.indexOf('amount');
  const project = names.indexOf('project');
  const projectId = names.indexOf('project id');
  const sku = names.indexOf('sku');
  if (amount === -1 || (project === -1 && projectId === -1 && sku === -1)) return undefined;
  return {
    count: names.length,
    amount,
    project,
    projectId,
    sku,
    usageDate: names.indexOf('usage date'),
    cluster: names.indexOf('cluster'),
  };
}

const SLASH = 0x2f;
const DATE_CACHE_BITS = 7;
const DATE_CACHE_SLOTS = 1 << DATE_CACHE_BITS;

/** `MM/DD/YYYY` at `start` (10 bytes) as the number MMDDYYYY; -1 for any other shape. */
function usDateDigits(bytes: Uint8Array, start: number): number {
  if (bytes[start + 2] !== SLASH || bytes[start + 5] !== SLASH) return -1;
  let value = 0;
  for (let i = start; i < start + 10; i++) {
    if (i === start + 2 || i === start + 5) continue;
    const c = (bytes[i] as number) - DIGIT_0;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * The Amount field in cents. The plain `-?digits[.digits]` form Atlas prints is read straight from the bytes, with
 * exactly `parseDollarsToCents`'s arithmetic; every other form (thousands separators, `$`, spaces, invalid text)
 * goes through `parseDollarsToCents` itself.
 */
function amountCents(row: CsvRow, column: number): number | undefined {
  if (!row.fieldEscaped(column)) {
    const fast = plainDollarsToCents(row.bytes, row.fieldStart(column), row.fieldEnd(column));
    if (fast !== undefined) return fast;
  }
  return parseDollarsToCents(row.field(column));
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;
/** Whole-dollar digits summed exactly in a double; longer numbers take the slow path. */
const MAX_FAST_WHOLE_DIGITS = 15;

/** `parseDollarsToCents` for `-?\d*(\.\d+)?` with at least one digit; undefined for anything else (or unsafe). */
export function plainDollarsToCents(bytes: Uint8Array, start: number, end: number): number | undefined {
  let i = start;
  let negative = false;
  if (i < end && bytes[i] === MINUS) {
    negative = true;
    i++;
  }
  let units = 0;
  let wholeDigits = 0;
  while (i < end) {
    const c = bytes[i] as number;
    if (c < DIGIT_0 || c > DIGIT_9) break;
    units = units * 10 + (c - DIGIT_0);
    wholeDigits++;
    i++;
  }
  if (wholeDigits > MAX_FAST_WHOLE_DIGITS) return undefined;
  let fractionDigits = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  if (i < end) {
    if (bytes[i] !== DOT) return undefined;
    i++;
    while (i < end) {
      const c = bytes[i] as number;
      if (c < DIGIT_0 || c > DIGIT_9) return undefined;
      if (fractionDigits === 0) d1 = c - DIGIT_0;
      else if (fractionDigits === 1) d2 = c - DIGIT_0;
      else if (fractionDigits === 2) d3 = c - DIGIT_0;
      fractionDigits++;
      i++;
    }
    if (fractionDigits === 0) return undefined;
  }
  if (wholeDigits === 0 && fractionDigits === 0) return undefined;
  let cents = units * 100 + (d1 * 10 + d2);
  if (fractionDigits > 2 && d3 >= 5) cents += 1;
  if (!Number.isSafeInteger(cents)) return undefined;
  return negative && cents !== 0 ? -cents : cents;
}

/** Fields longer than this are resolved every time rather than remembered. */
const MAX_INTERNED_BYTES = 256;

interface InternSlot<T> {
  /** A copy of the field's bytes. */
  readonly bytes: DataView;
  readonly length: number;
  readonly escaped: boolean;
  readonly value: T;
  next: InternSlot<T> | undefined;
}

/** Slots in the direct-mapped cache in front of the hash table (a power of two). */
const RECENT_SLOTS = 256;

/**
 * Maps a field's bytes to a value, decoding (through `resolve`) only the first time those bytes are seen: line items
 * repeat a few projects and SKUs many times, and decoding plus a string-keyed lookup per row would cost more than
 * parsing. Holds at most `limit` entries of at most `MAX_INTERNED_BYTES` bytes each.
 *
 * A lookup first tries a small direct-mapped cache indexed by a cheap fingerprint (length, first and last four bytes);
 * on a miss it hashes every byte (FNV-1a over 32-bit words) into a chained table. Both verify every byte before
 * answering, so a weak fingerprint costs only a miss, never a wrong value.
 */
class FieldInterner<T> {
  private readonly buckets = new Map<number, InternSlot<T>>();
  private readonly recent: (InternSlot<T> | undefined)[] = new Array(RECENT_SLOTS).fill(undefined);
  private size = 0;
  private viewOf: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(
    private readonly limit: number,
    private readonly resolve: (row: CsvRow) => T,
  ) {}

  get(row: CsvRow, column: number): T {
    const start = row.fieldStart(column);
    const end = row.fieldEnd(column);
    const length = end - start;
    if (length > MAX_INTERNED_BYTES) return this.resolve(row);
    const bytes = row.bytes;
    if (bytes !== this.viewOf) {
      this.viewOf = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const view = this.view;
    const escaped = row.fieldEscaped(column);
    let fingerprint = Math.imul(length, 0x9e3779b1);
    if (length >= 4) {
      fingerprint ^= view.getInt32(start, true) ^ Math.imul(view.getInt32(end - 4, true), 0x85ebca77);
    } else if (length > 0) {
      fingerprint ^= (bytes[start] as number) | ((bytes[end - 1] as number) << 8);
    }
    const at = ((fingerprint ^ (fingerprint >>> 15)) + (escaped ? 1 : 0)) & (RECENT_SLOTS - 1);
    const cached = this.recent[at];
    if (cached !== undefined && cached.escaped === escaped && sameBytes(cached, view, start, length)) {
      return cached.value;
    }
    let hash = escaped ? 0x2c9277b5 : 0x811c9dc5;
    let i = start;
    for (; i + 4 <= end; i += 4) hash = Math.imul(hash ^ view.getInt32(i, true), 0x01000193);
    for (; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
    hash >>>= 1;
    const head = this.buckets.get(hash);
    for (let slot = head; slot !== undefined; slot = slot.next) {
      if (slot.escaped === escaped && sameBytes(slot, view, start, length)) {
        this.recent[at] = slot;
        return slot.value;
      }
    }
    const value = this.resolve(row);
    if (this.size < this.limit) {
      const copy = Uint8Array.prototype.slice.call(bytes, start, end);
      const slot: InternSlot<T> = { bytes: new DataView(copy.buffer), length, escaped, value, next: head };
      this.buckets.set(hash, slot);
      this.size++;
      this.recent[at] = slot;
    }
    return value;
  }
}

function sameBytes(known: InternSlot<unknown>, view: DataView, start: number, length: number): boolean {
  if (known.length !== length) return false;
  const bytes = known.bytes;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    if (bytes.getInt32(i, true) !== view.getInt32(start + i, true)) return false;
  }
  for (; i < length; i++) {
    if (bytes.getUint8(i) !== view.getUint8(start + i)) return false;
  }
  return true;
}
