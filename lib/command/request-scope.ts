/**
 * Per-request facts shared between the HTTP adapter, the listeners and `app.error`. Bolt copies it into each
 * listener's `context` (as `requestScope`) through the receiver's `customPropertiesExtractor`.
 */
export interface RequestScope {
  /** Epoch milliseconds when the request reached the function (before any cold-start work). */
  readonly receivedAt: number;
  /** Set by `app.error`: a listener failed, so a missing answer must become the safe message. */
  failed: boolean;
}

export const REQUEST_SCOPE_KEY = 'requestScope';

/** The scope in a Bolt context, if there is one. */
export function scopeOf(context: unknown): RequestScope | undefined {
  if (context === null || typeof context !== 'object') return undefined;
  const scope = (context as Record<string, unknown>)[REQUEST_SCOPE_KEY];
  if (scope === null || typeof scope !== 'object') return undefined;
  return typeof (scope as RequestScope).receivedAt === 'number' ? (scope as RequestScope) : undefined;
}
