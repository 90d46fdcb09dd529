import type { CostLine } from './types';

/**
 * Running totals in cents per project, SKU and cluster, as every invoice summary tallies them (the CSV inspector and
 * the line items of a full invoice), and the one ranking of those totals. Memory is bounded: at most `maxDistinct`
 * keys per tally, the rest folded into one "(other)" total, and outside text cut to `MAX_TEXT_LENGTH`.
 */

export const DEFAULT_TOP_N = 5;
/** Distinct projects (and, separately, SKUs) tracked before the rest are folded into one "(other)" line. */
export const DEFAULT_MAX_DISTINCT = 10_000;
export const OTHER_COST_LINE_NAME = '(other)';
/** Names, ids and header values are cut to this many UTF-16 units, so no single value can hold much memory. */
export const MAX_TEXT_LENGTH = 256;

/** A running total for one project, SKU or cluster, in cents, added to in place. */
export interface CostTotal {
  readonly name: string;
  readonly id?: string;
  cents: number;
  /** Cents per day of the billing period, from rows dated in it; created by the usage tracker on first use. */
  daily?: Float64Array | undefined;
  /** A project's clusters by name; created by the usage tracker. */
  clusters?: Map<string, CostTotal> | undefined;
  /** A project's clusters by the inspector's id for their name (see `InspectionCore.clusterOf`). */
  clustersByNameId?: (CostTotal | undefined)[] | undefined;
  /** A cluster's project. */
  project?: CostTotal | undefined;
}

/** Every total has the same fields from the start, so the per-row code reads one object shape. */
function newCostTotal(name: string, id: string | undefined): CostTotal {
  return {
    name,
    id,
    cents: 0,
    daily: undefined,
    clusters: undefined,
    clustersByNameId: undefined,
    project: undefined,
  };
}

export interface CostTally {
  /**
   * The running total for `key`, created on first use with `name`/`id`; once `maxDistinct` keys exist, every new key
   * shares one "(other)" total.
   */
  total(key: string, name: string, id?: string): CostTotal;
  /** Distinct totals held, "(other)" counting once. */
  readonly size: number;
  /** Every total, in no particular order. */
  totals(): Iterable<CostTotal>;
  /** The shared "(other)" total of keys past `maxDistinct`; undefined until one arrives. */
  readonly overflow: CostTotal | undefined;
}

export function createCostTally(maxDistinct: number = DEFAULT_MAX_DISTINCT): CostTally {
  if (!Number.isSafeInteger(maxDistinct) || maxDistinct < 1) {
    throw new RangeError('maxDistinct must be a positive integer');
  }
  const byKey = new Map<string, CostTotal>();
  let other: CostTotal | undefined;
  return {
    total(key, name, id) {
      const found = byKey.get(key);
      if (found !== undefined) return found;
      if (byKey.size >= maxDistinct) {
        other ??= newCostTotal(OTHER_COST_LINE_NAME, undefined);
        return other;
      }
      const created = newCostTotal(name, id);
      byKey.set(key, created);
      return created;
    },
    get size() {
      return byKey.size + (other === undefined ? 0 : 1);
    },
    *totals() {
      yield* byKey.values();
      if (other !== undefined) yield other;
    },
    get overflow() {
      return other;
    },
  };
}

/**
 * The tally key of a project: its id when there is one (a renamed project stays one line, under the first name
 * seen), else its name.
 */
export function projectKey(name: string, id: string | undefined): string {
  return id ? `id:${id}` : `name:${name}`;
}

/**
 * The `topN` largest totals, largest first; ties ordered by name then id so the result never depends on input
 * order. The one ranking used by every summary.
 */
export function rankCostLines(totals: Iterable<CostTotal>, topN: number): CostLine[] {
  const all = [...totals];
  all.sort((a, b) => b.cents - a.cents || compareText(a.name, b.name) || compareText(a.id ?? '', b.id ?? ''));
  return all
    .slice(0, Math.max(0, topN))
    .map((t) =>
      t.id === undefined ? { name: t.name, cents: t.cents } : { name: t.name, id: t.id, cents: t.cents },
    );
}

/** Cut an outside value to `MAX_TEXT_LENGTH` UTF-16 units without splitting a surrogate pair. */
export function clipText(text: string): string {
  if (text.length <= MAX_TEXT_LENGTH) return text;
  const code = text.charCodeAt(MAX_TEXT_LENGTH - 1);
  const cut = code >= 0xd800 && code <= 0xdbff ? MAX_TEXT_LENGTH - 1 : MAX_TEXT_LENGTH;
  return text.slice(0, cut);
}

export function checkTopN(topN: number): number {
  if (!Number.isSafeInteger(topN) || topN < 0) throw new RangeError('topN must be a non-negative integer');
  return topN;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
