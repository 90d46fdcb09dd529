import type { IncomingHttpHeaders } from 'node:http';
import type { AtlasCredentials } from '../config';
import { DeadlineError } from '../errors';
import { type DigestChallenge, digestAuthorization, parseDigestChallenge } from './digest';

/**
 * Per-call authentication state. `authorize` runs before each try; `unauthorized` decides, after a 401, whether one
 * more try with fresh authorisation makes sense (such a retry is not counted against the retry policy).
 */
export interface AuthSession {
  /** The Authorization header for this try, or undefined to send none (digest before the first challenge). */
  authorize(method: string, uri: string, signal: AbortSignal | undefined): Promise<string | undefined>;
  unauthorized(headers: IncomingHttpHeaders): boolean;
}

export interface Authenticator {
  readonly kind: AtlasCredentials['kind'];
  begin(): AuthSession;
  /** Values that must never appear in a message or log: the secret and any live token. */
  secrets(): string[];
}

/** How many 401 answers one call may re-authenticate after (stale nonce, refused cached nonce, expired token). */
const MAX_AUTH_RETRIES = 3;

// ---------------------------------------------------------------------------------------------------------------
// Service accounts: OAuth 2.0 client credentials.

export interface AccessToken {
  readonly token: string;
  /** Lifetime in seconds as the token endpoint stated it. */
  readonly expiresInSeconds: number;
}

export interface TokenCacheOptions {
  /** Performs the token exchange (with its own retries and timeouts); never tied to one caller's signal. */
  readonly fetchToken: () => Promise<AccessToken>;
  readonly now?: () => number;
  /** Refresh this long before expiry. Default 60 s. */
  readonly refreshMarginMs?: number;
}

export interface TokenCache {
  /** A valid token; concurrent callers share one in-flight exchange. Rejects with DeadlineError if `signal` aborts. */
  get(signal?: AbortSignal): Promise<string>;
  /** Forget `token` if it is the cached one (after Atlas refused it). */
  invalidate(token: string): void;
  /** The cached token, if any, for scrubbing. */
  current(): string | undefined;
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const now = options.now ?? Date.now;
  const margin = options.refreshMarginMs ?? 60_000;
  let cached: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;

  const exchange = (): Promise<string> => {
    if (inflight !== undefined) return inflight;
    const started = now();
    const promise = options
      .fetchToken()
      .then((fresh) => {
        const lifetimeMs = fresh.expiresInSeconds * 1000;
        // Short-lived tokens (under twice the margin) are reused for half their life instead.
        const refreshAt = started + (lifetimeMs > 2 * margin ? lifetimeMs - margin : lifetimeMs / 2);
        cached = { token: fresh.token, refreshAt };
        return fresh.token;
      })
      .finally(() => {
        if (inflight === promise) inflight = undefined;
      });
    // A caller that gave up (deadline) no longer awaits the exchange; its failure must not go unhandled.
    promise.catch(() => {});
    inflight = promise;
    return promise;
  };

  return {
    async get(signal) {
      if (cached !== undefined && now() < cached.refreshAt) return cached.token;
      return raceSignal(exchange(), signal);
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
    current: () => cached?.token,
  };
}

export function createServiceAccountAuthenticator(
  credentials: Extract<AtlasCredentials, { kind: 'service-account' }>,
  tokens: TokenCache,
): Authenticator {
  return {
    kind: 'service-account',
    secrets: () => {
      const token = tokens.current();
      return token === undefined ? [credentials.clientSecret] : [credentials.clientSecret, token];
    },
    begin() {
      let used: string | undefined;
      let refreshed = false;
      return {
        async authorize(_method, _uri, signal) {
          used = await tokens.get(signal);
          return `Bearer ${used}`;
        },
        unauthorized() {
          // A token Atlas no longer accepts (revoked, expired early): drop it and try once with a fresh one.
          if (used === undefined || refreshed) return false;
          tokens.invalidate(used);
          refreshed = true;
          return true;
        },
      };
    },
  };
}

/** `Basic base64(clientId:clientSecret)` from the raw strings: Atlas ids contain no characters needing encoding. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// API keys: HTTP Digest.

/**
 * Digest with nonce reuse: the last challenge is kept and answered with an incrementing nonce count, so most calls
 * cost one round trip instead of two. When Atlas refuses a reused nonce (or says `stale=true`), the call takes the
 * new challenge and answers again; only a refusal of a fresh answer counts as bad credentials.
 */
export function createDigestAuthenticator(
  credentials: Extract<AtlasCredentials, { kind: 'api-key' }>,
  options: { cnonce?: () => string } = {},
): Authenticator {
  let shared: { challenge: DigestChallenge; nc: number } | undefined;
  return {
    kind: 'api-key',
    secrets: () => [credentials.privateKey],
    begin() {
      let answeredFresh = false;
      let answered = false;
      let freshChallenge = false;
      let retries = 0;
      return {
        async authorize(method, uri) {
          const state = shared;
          if (state === undefined) {
            answered = false;
            return undefined;
          }
          state.nc += 1;
          answered = true;
          answeredFresh = freshChallenge;
          return digestAuthorization({
            username: credentials.publicKey,
            password: credentials.privateKey,
            method,
            uri,
            challenge: state.challenge,
            nc: state.nc,
            ...(options.cnonce ? { cnonce: options.cnonce() } : {}),
          });
        },
        unauthorized(headers) {
          const challenge = parseDigestChallenge(headers['www-authenticate']);
          if (challenge === undefined || retries >= MAX_AUTH_RETRIES) return false;
          retries += 1;
          shared = { challenge, nc: 0 };
          freshChallenge = true;
          if (!answered) return true;
          if (challenge.stale) return true;
          return !answeredFresh;
        },
      };
    },
  };
}

export function createAuthenticator(credentials: AtlasCredentials, tokens: TokenCache): Authenticator {
  return credentials.kind === 'service-account'
    ? createServiceAccountAuthenticator(credentials, tokens)
    : createDigestAuthenticator(credentials);
}

/** Resolves with `promise` unless `signal` aborts first (then rejects with DeadlineError). */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted)
    return Promise.reject(new DeadlineError('deadline passed while waiting for an Atlas token'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeadlineError('deadline passed while waiting for an Atlas token'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
