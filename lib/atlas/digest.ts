import { createHash, randomBytes } from 'node:crypto';

/**
 * HTTP Digest (RFC 7616) as Atlas API keys use it. Atlas challenges with
 * `Digest realm="MMS Public API", domain="", nonce="...", algorithm=MD5, qop="auth", stale=false`.
 */
export const DIGEST_ALGORITHMS = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: DigestAlgorithm;
  /** Empty when the server sent no qop (RFC 2069 style). */
  readonly qop: readonly string[];
  readonly stale: boolean;
}

/** Splits an auth-param list (`a=b, c="d, e"`) honouring quoted strings and backslash escapes. */
export function parseAuthParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const pattern = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/y;
  let match = pattern.exec(text);
  while (match !== null) {
    const [, key = '', quoted, token] = match;
    params.set(key.toLowerCase(), quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (token ?? ''));
    if (pattern.lastIndex >= text.length) break;
    match = pattern.exec(text);
  }
  return params;
}

/**
 * The Digest challenge in a `WWW-Authenticate` header (one value or several), or undefined when there is none or it
 * names an algorithm this client cannot answer.
 */
export function parseDigestChallenge(
  header: string | readonly string[] | undefined,
): DigestChallenge | undefined {
  const values = header === undefined ? [] : typeof header === 'string' ? [header] : header;
  for (const value of values) {
    const start = value.search(/(^|[\s,])Digest\s/i);
    if (start < 0) continue;
    const params = parseAuthParams(value.slice(value.toLowerCase().indexOf('digest', start) + 6));
    const nonce = params.get('nonce');
    const realm = params.get('realm');
    if (nonce === undefined || realm === undefined) continue;
    const algorithmName = params.get('algorithm') ?? 'MD5';
    const algorithm = DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === algorithmName.toLowerCase());
    if (algorithm === undefined) continue;
    const qop = (params.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter((q) => q !== '');
    return {
      realm,
      nonce,
      opaque: params.get('opaque'),
      algorithm,
      qop,
      stale: (params.get('stale') ?? '').toLowerCase() === 'true',
    };
  }
  return undefined;
}

export interface DigestAnswer {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  /** Request target exactly as sent: path plus query string. */
  readonly uri: string;
  readonly challenge: DigestChallenge;
  /** Nonce count, 1 for the first use of a nonce. */
  readonly nc: number;
  /** Client nonce; random by default. */
  readonly cnonce?: string;
}

/** The `Authorization` header value answering a challenge (`qop=auth`, or RFC 2069 when the server offers no qop). */
export function digestAuthorization(answer: DigestAnswer): string {
  const { challenge } = answer;
  const hash = challenge.algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (text: string) => createHash(hash).update(text, 'utf8').digest('hex');
  const cnonce = answer.cnonce ?? randomBytes(12).toString('hex');
  const nc = answer.nc.toString(16).padStart(8, '0');
  let ha1 = h(`${answer.username}:${challenge.realm}:${answer.password}`);
  if (challenge.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${answer.method}:${answer.uri}`);
  const useQop = challenge.qop.includes('auth');
  const response = useQop
    ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const parts = [
    `username=${quote(answer.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(answer.uri)}`,
    `algorithm=${challenge.algorithm}`,
    `response=${quote(response)}`,
  ];
  if (useQop) parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
