import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Roles that matter to the invoice endpoints. Billing Viewer suffices except for linked invoices (Billing Admin). */
export const SANDBOX_ROLES = ['ORG_OWNER', 'ORG_BILLING_ADMIN', 'ORG_BILLING_VIEWER', 'ORG_MEMBER'] as const;
export type SandboxRole = (typeof SANDBOX_ROLES)[number];

export interface ServiceAccountSeed {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default ORG_BILLING_ADMIN. */
  readonly role?: SandboxRole;
  /** Organisations it may read; default all. */
  readonly orgIds?: readonly string[];
}

export interface ApiKeySeed {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly role?: SandboxRole;
  readonly orgIds?: readonly string[];
}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface Principal {
  readonly kind: 'service-account' | 'api-key';
  readonly id: string;
  readonly role: SandboxRole;
  readonly orgIds: readonly string[] | undefined;
}

export type AuthKind = 'none' | 'bearer' | 'digest' | 'basic' | 'other';

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal; readonly kind: AuthKind }
  | { readonly ok: false; readonly kind: AuthKind; readonly stale: boolean; readonly reason: string };

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

export interface AuthorityOptions {
  readonly serviceAccounts: readonly ServiceAccountSeed[];
  readonly apiKeys: readonly ApiKeySeed[];
  readonly clock: () => number;
  readonly tokenTtlSeconds: number;
  readonly digestAlgorithm: DigestAlgorithm;
  readonly nonceTtlSeconds: number;
  /** Atlas allows 100 live tokens per service account; one more gets 403 access_denied. */
  readonly maxTokensPerAccount: number;
}

export const DIGEST_REALM = 'MMS Public API';

/** Both of Atlas's authentication schemes: OAuth client credentials (Bearer tokens) and HTTP Digest for API keys. */
export function createAuthority(options: AuthorityOptions) {
  const { clock } = options;
  const tokens = new Map<string, { clientId: string; expiresAt: number }>();
  const nonces = new Map<string, { expiresAt: number; used: Set<number> }>();
  let tokensIssued = 0;

  const principalOf = (
    seed: ServiceAccountSeed | ApiKeySeed,
    kind: Principal['kind'],
    id: string,
  ): Principal => ({
    kind,
    id,
    role: seed.role ?? 'ORG_BILLING_ADMIN',
    orgIds: seed.orgIds,
  });

  const basicClient = (header: string | undefined): ServiceAccountSeed | undefined => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (match === null) return undefined;
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const clientId = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const account = options.serviceAccounts.find((a) => a.clientId === clientId);
    return account !== undefined && safeEqual(account.clientSecret, secret) ? account : undefined;
  };

  const purge = () => {
    const now = clock();
    for (const [token, entry] of tokens) if (entry.expiresAt <= now) tokens.delete(token);
    for (const [nonce, entry] of nonces) if (entry.expiresAt <= now) nonces.delete(nonce);
  };

  return {
    /** `POST /api/oauth/token`. */
    issueToken(
      authorization: string | undefined,
      contentType: string | undefined,
      body: string,
    ): TokenAnswer {
      if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) {
        return {
          status: 400,
          body: { error: 'invalid_request', error_description: 'Expected a form-encoded body.' },
        };
      }
      const account = basicClient(authorization);
      if (account === undefined) {
        return {
          status: 401,
          body: { error: 'invalid_client', error_description: 'Invalid client credentials.' },
        };
      }
      if (new URLSearchParams(body).get('grant_type') !== 'client_credentials') {
        return {
          status: 400,
          body: {
            error: 'unsupported_grant_type',
            error_description: 'Only client_credentials is supported.',
          },
        };
      }
      purge();
      const live = [...tokens.values()].filter((t) => t.clientId === account.clientId).length;
      if (live >= options.maxTokensPerAccount) {
        return {
          status: 403,
          body: { error: 'access_denied', error_description: 'Maximum number of active tokens reached.' },
        };
      }
      const token = `sandbox_${randomBytes(24).toString('base64url')}`;
      tokens.set(token, { clientId: account.clientId, expiresAt: clock() + options.tokenTtlSeconds * 1000 });
      tokensIssued += 1;
      return {
        status: 200,
        body: { access_token: token, expires_in: options.tokenTtlSeconds, token_type: 'Bearer' },
      };
    },

    /** `POST /api/oauth/revoke` (RFC 7009: 200 whether or not the token was live). */
    revoke(authorization: string | undefined, body: string): TokenAnswer {
      const account = basicClient(authorization);
      if (account === undefined) {
        return {
          status: 401,
          body: { error: 'invalid_client', error_description: 'Invalid client credentials.' },
        };
      }
      const token = new URLSearchParams(body).get('token') ?? '';
      if (tokens.get(token)?.clientId === account.clientId) tokens.delete(token);
      return { status: 200, body: undefined };
    },

    /** Checks the Authorization header of an API request; `uri` is the request target exactly as received. */
    authenticate(method: string, uri: string, authorization: string | undefined): AuthResult {
      if (authorization === undefined || authorization.trim() === '') {
        return { ok: false, kind: 'none', stale: false, reason: 'no credentials' };
      }
      const scheme = authorization.trim().split(/\s+/, 1)[0]?.toLowerCase();
      if (scheme === 'bearer') {
        const token = authorization.trim().slice(6).trim();
        const entry = tokens.get(token);
        if (entry === undefined || entry.expiresAt <= clock()) {
          return { ok: false, kind: 'bearer', stale: false, reason: 'unknown or expired token' };
        }
        const account = options.serviceAccounts.find((a) => a.clientId === entry.clientId);
        if (account === undefined)
          return { ok: false, kind: 'bearer', stale: false, reason: 'account deleted' };
        return {
          ok: true,
          kind: 'bearer',
          principal: principalOf(account, 'service-account', account.clientId),
        };
      }
      if (scheme === 'digest') return verifyDigest(method, uri, authorization.trim().slice(6));
      if (scheme === 'basic')
        return { ok: false, kind: 'basic', stale: false, reason: 'basic is not accepted' };
      return { ok: false, kind: 'other', stale: false, reason: 'unknown scheme' };
    },

    /** The `WWW-Authenticate` value, exactly as Atlas sends it (with a fresh nonce). */
    challenge(stale: boolean): string {
      purge();
      const nonce = randomBytes(24).toString('base64');
      nonces.set(nonce, { expiresAt: clock() + options.nonceTtlSeconds * 1000, used: new Set() });
      return `Digest realm="${DIGEST_REALM}", domain="", nonce="${nonce}", algorithm=${options.digestAlgorithm}, qop="auth", stale=${stale}`;
    },

    /** How many tokens were issued since start (tests assert token reuse with it). */
    tokensIssued: () => tokensIssued,
    liveTokens: () => {
      purge();
      return tokens.size;
    },
    /** Forget every nonce (the next digest answer gets `stale=true`). */
    expireNonces: () => nonces.clear(),
    /** Forget every token (the next Bearer call gets 401). */
    revokeAllTokens: () => tokens.clear(),
  };

  function verifyDigest(method: string, uri: string, text: string): AuthResult {
    const params = parseParams(text);
    const username = params.get('username');
    const key = options.apiKeys.find((k) => k.publicKey === username);
    const fail = (reason: string, stale = false): AuthResult => ({
      ok: false,
      kind: 'digest',
      stale,
      reason,
    });
    if (key === undefined || username === undefined) return fail('unknown user');
    const nonce = params.get('nonce') ?? '';
    const algorithm = params.get('algorithm') ?? 'MD5';
    if (params.get('realm') !== DIGEST_REALM) return fail('wrong realm');
    if (params.get('uri') !== uri) return fail('uri does not match the request');
    if (algorithm.toLowerCase() !== options.digestAlgorithm.toLowerCase())
      return fail('unexpected algorithm');
    const qop = params.get('qop');
    const nc = params.get('nc') ?? '';
    const cnonce = params.get('cnonce') ?? '';
    if (qop !== 'auth' || !/^[0-9a-f]{8}$/i.test(nc) || cnonce === '')
      return fail('qop=auth, nc and cnonce required');
    const hashName = algorithm.toUpperCase().startsWith('SHA-256') ? 'sha256' : 'md5';
    const h = (s: string) => createHash(hashName).update(s, 'utf8').digest('hex');
    let ha1 = h(`${username}:${DIGEST_REALM}:${key.privateKey}`);
    if (algorithm.toLowerCase().endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
    const expected = h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${h(`${method}:${uri}`)}`);
    if (!safeEqual(expected, (params.get('response') ?? '').toLowerCase())) return fail('wrong response');
    // The answer is right; only now does the nonce's freshness matter (stale=true: answer again, same credentials).
    const entry = nonces.get(nonce);
    if (entry === undefined || entry.expiresAt <= clock()) return fail('nonce expired', true);
    const count = Number.parseInt(nc, 16);
    if (entry.used.has(count)) return fail('nonce count replayed', true);
    entry.used.add(count);
    return { ok: true, kind: 'digest', principal: principalOf(key, 'api-key', key.publicKey) };
  }
}

export type Authority = ReturnType<typeof createAuthority>;

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `key=value` and `key="quoted \" value"` pairs of an Authorization header. */
function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const pattern = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g;
  for (const match of text.matchAll(pattern)) {
    const [, key = '', quoted, bare] = match;
    out.set(key.toLowerCase(), quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? ''));
  }
  return out;
}
