import { compareUtf8 } from './store';

/**
 * Listing arithmetic shared by ListObjects, ListObjectsV2 and ListObjectVersions: walk the sorted keys after a
 * marker, fold keys into common prefixes at the delimiter, stop at max-keys. A common prefix counts as one entry,
 * and resuming after a common prefix skips every key inside it, as S3 does.
 */
export type ListEntry =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'prefix'; readonly prefix: string };

export interface WalkOptions {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  /** Resume strictly after this key or common prefix. */
  readonly after: string | undefined;
  readonly maxKeys: number;
  /** Keys to leave out (those whose current version is a delete marker, for ListObjects). */
  readonly include: (key: string) => boolean;
}

export interface WalkResult {
  readonly entries: ListEntry[];
  readonly truncated: boolean;
}

export function walkKeys(keys: readonly string[], options: WalkOptions): WalkResult {
  const { prefix, delimiter, after, maxKeys, include } = options;
  if (maxKeys <= 0) return { entries: [], truncated: false };
  const entries: ListEntry[] = [];
  let lastPrefix: string | undefined;
  const skipInside = after !== undefined && isCommonPrefix(after, prefix, delimiter);
  const lower = after !== undefined && compareUtf8(after, prefix) > 0 ? after : prefix;
  for (let i = lowerBound(keys, lower); i < keys.length; i++) {
    const key = keys[i] as string;
    if (!key.startsWith(prefix)) {
      if (compareUtf8(key, prefix) > 0) break;
      continue;
    }
    if (after !== undefined && (compareUtf8(key, after) <= 0 || (skipInside && key.startsWith(after))))
      continue;
    if (!include(key)) continue;
    const group = commonPrefixOf(key, prefix, delimiter);
    if (group !== undefined && group === lastPrefix) continue;
    if (entries.length === maxKeys) return { entries, truncated: true };
    if (group !== undefined) {
      entries.push({ kind: 'prefix', prefix: group });
      lastPrefix = group;
    } else {
      entries.push({ kind: 'key', key });
    }
  }
  return { entries, truncated: false };
}

/** The common prefix `key` folds into, or undefined when the delimiter does not occur after the prefix. */
export function commonPrefixOf(
  key: string,
  prefix: string,
  delimiter: string | undefined,
): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at === -1 ? undefined : key.slice(0, at + delimiter.length);
}

function isCommonPrefix(marker: string, prefix: string, delimiter: string | undefined): boolean {
  return (
    delimiter !== undefined &&
    delimiter !== '' &&
    marker.startsWith(prefix) &&
    commonPrefixOf(marker, prefix, delimiter) === marker
  );
}

/** First index whose key is >= `value` in UTF-8 order. */
function lowerBound(keys: readonly string[], value: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(keys[mid] as string, value) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Continuation tokens are opaque to clients: base64url of the resume marker. */
export function encodeContinuationToken(marker: string): string {
  return Buffer.from(`v1:${marker}`, 'utf8').toString('base64url');
}

/** The marker a token stands for; undefined when it is not one of ours. */
export function decodeContinuationToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  return text.startsWith('v1:') ? text.slice(3) : undefined;
}
