export interface RateLimitOptions {
  /** Bucket size. Default 500 (Atlas's invoice endpoints). */
  readonly capacity?: number;
  /** Tokens added per minute. Default 100. */
  readonly refillPerMinute?: number;
  /** Send `RateLimit-Limit` / `RateLimit-Remaining` headers. Default true. */
  readonly headers?: boolean;
}

export type TakeResult =
  | { readonly ok: true; readonly limit: number; readonly remaining: number }
  | { readonly ok: false; readonly limit: number; readonly retryAfterSeconds: number };

/** One token bucket per organisation, shared by all invoice endpoints (atlas-api.md "Errors and rate limits"). */
export function createRateLimiter(options: RateLimitOptions | false | undefined, clock: () => number) {
  const enabled = options !== false;
  const settings: RateLimitOptions = options === false ? {} : (options ?? {});
  const capacity = settings.capacity ?? 500;
  const perMs = (settings.refillPerMinute ?? 100) / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const fill = (orgId: string) => {
    const now = clock();
    const bucket = buckets.get(orgId) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    buckets.set(orgId, bucket);
    return bucket;
  };

  return {
    enabled,
    headers: enabled && settings.headers !== false,
    take(orgId: string): TakeResult {
      if (!enabled) return { ok: true, limit: capacity, remaining: capacity };
      const bucket = fill(orgId);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true, limit: capacity, remaining: Math.floor(bucket.tokens) };
      }
      const waitMs = perMs > 0 ? (1 - bucket.tokens) / perMs : 60_000;
      return { ok: false, limit: capacity, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
    /** Set an organisation's bucket (tests: empty it to provoke a 429). */
    setTokens(orgId: string, tokens: number) {
      buckets.set(orgId, { tokens, at: clock() });
    },
    reset() {
      buckets.clear();
    },
  };
}
