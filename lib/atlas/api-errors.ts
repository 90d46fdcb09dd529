import type { AtlasCredentials } from '../config';
import { AtlasApiError } from '../errors';

/** The longest piece of a server's body that may appear in a message. */
export const MAX_DETAIL_CHARS = 300;

/** What Atlas sends in an error body (`error` is the HTTP status there; OAuth endpoints use a string code instead). */
export interface ParsedErrorBody {
  readonly errorCode: string | undefined;
  readonly detail: string | undefined;
}

/** What a message needs to say which request failed and what to do about it. */
export interface FailureContext {
  readonly method: string;
  /** Path without query. */
  readonly path: string;
  readonly orgId?: string | undefined;
  readonly invoiceId?: string | undefined;
  readonly apiVersion: string;
  readonly accept: string;
  readonly credentialsKind: AtlasCredentials['kind'];
  /** Where the credential was configured, e.g. `ATLAS_CLIENT_ID, ATLAS_CLIENT_SECRET`. */
  readonly credentialsSource?: string | undefined;
  /** The request asked for linked invoices (Billing Admin needed). */
  readonly linked?: boolean | undefined;
  /** The request was the OAuth token exchange. */
  readonly tokenRequest?: boolean | undefined;
}

/**
 * Reads `{error, errorCode, detail, reason}` (or OAuth's `{error, error_description}`) from a body that may be
 * anything: not JSON, HTML from a proxy, empty. Never throws.
 */
export function parseErrorBody(text: string): ParsedErrorBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const plain = text.trim();
    return { errorCode: undefined, detail: plain === '' ? undefined : plain };
  }
  if (typeof value !== 'object' || value === null) return { errorCode: undefined, detail: undefined };
  const body = value as Record<string, unknown>;
  const errorCode =
    typeof body.errorCode === 'string'
      ? body.errorCode
      : typeof body.error === 'string'
        ? body.error
        : undefined;
  const detail =
    typeof body.detail === 'string'
      ? body.detail
      : typeof body.error_description === 'string'
        ? body.error_description
        : typeof body.reason === 'string'
          ? body.reason
          : undefined;
  return { errorCode, detail };
}

/** Removes control characters and every secret, and shortens to MAX_DETAIL_CHARS. */
export function cleanDetail(text: string | undefined, scrub: (s: string) => string): string | undefined {
  if (text === undefined) return undefined;
  const flat = scrub(text)
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  if (flat === '') return undefined;
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS - 1)}…` : flat;
}

/** A scrubber replacing each secret (at least 4 characters long) wherever it occurs. */
export function createScrubber(secrets: () => readonly string[]): (text: string) => string {
  return (text) => {
    let out = text;
    for (const secret of secrets()) {
      if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join('[redacted]');
    }
    return out;
  };
}

/** Atlas's codes for a request from an address its API access list does not allow (or an organisation requiring one). */
const ACCESS_LIST_CODES = /ACCESS_LIST|WHITELIST|IP_ADDRESS/i;

/** Where the address is added, per kind of credential; the deployment's fixed address is the `EgressIp` output. */
const ACCESS_LIST_FIX: Readonly<Record<AtlasCredentials['kind'], string>> = {
  'service-account':
    'Add it in Atlas (Organization → Access Manager → Applications → Service Accounts → the account → API Access List → Add Access List Entry) or with "atlas api serviceAccounts createOrgAccessList". On AWS, deploy with --param="staticEgress=true" and add the stack output EgressIp.',
  'api-key':
    'Add it in Atlas (Organization → Access Manager → Applications → API Keys → the key → Edit → Add Access List Entry) or with "atlas organizations apiKeys accessLists create". On AWS, deploy with --param="staticEgress=true" and add the stack output EgressIp.',
};

/**
 * The error for an HTTP failure, with a message a person can act on. `attempts` is how many tries were made (said
 * in the message for the retried statuses).
 */
export function httpFailure(
  status: number,
  body: ParsedErrorBody,
  context: FailureContext,
  attempts: number,
): AtlasApiError {
  const code = body.errorCode === undefined ? '' : ` ${body.errorCode}`;
  const where = `${context.method} ${context.path}`;
  const detailSuffix = body.detail === undefined ? '' : ` Atlas said: ${body.detail}`;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  let message: string;
  if (status === 401) {
    const what =
      context.credentialsKind === 'service-account'
        ? `the service account client id and secret (${context.credentialsSource ?? 'ATLAS_CLIENT_ID, ATLAS_CLIENT_SECRET'})`
        : `the API key public and private key (${context.credentialsSource ?? 'ATLAS_PUBLIC_KEY, ATLAS_PRIVATE_KEY'})`;
    message = `Atlas rejected the credentials (HTTP 401${code}) for ${where}: check ${what}, and that they are not expired, revoked or deleted.`;
  } else if (status === 403) {
    const who = context.credentialsKind === 'service-account' ? 'service account' : 'API key';
    const org = context.orgId === undefined ? 'the organisation' : `organisation ${context.orgId}`;
    const linked = context.linked ? ' (linked invoices need Organization Billing Admin)' : '';
    message = ACCESS_LIST_CODES.test(body.errorCode ?? '')
      ? `Atlas refused ${where} (HTTP 403${code}): this machine's outbound IP address is not on the ${who}'s API access list${context.credentialsSource === undefined ? '' : ` (${context.credentialsSource})`}. ${ACCESS_LIST_FIX[context.credentialsKind]}`
      : context.tokenRequest
        ? `Atlas refused to issue a token (HTTP 403${code}) for ${where}: a service account may hold at most 100 live tokens; revoke unused ones or wait for them to expire.`
        : `Atlas refused access to ${org} (HTTP 403${code}) for ${where}: the ${who} needs the Organization Billing Viewer role on ${org}${linked}.`;
  } else if (status === 404) {
    const orgMissing = context.invoiceId === undefined || /ORG|GROUP/i.test(body.errorCode ?? '');
    message = orgMissing
      ? `Atlas has no organisation ${context.orgId ?? '(unknown)'} visible to these credentials (HTTP 404${code}) for ${where}: check the organisation id.`
      : `Atlas has no invoice ${context.invoiceId} in organisation ${context.orgId} (HTTP 404${code}) for ${where}: check the invoice id.`;
  } else if (status === 406) {
    message = `Atlas does not accept API version ${context.apiVersion} (Accept: ${context.accept}) for ${where} (HTTP 406${code}): use a version the endpoint supports, such as 2023-01-01.`;
  } else if (status === 410) {
    message = `Atlas has sunset API version ${context.apiVersion} for ${where} (HTTP 410${code}): move to a newer version of the endpoint.`;
  } else if (status === 429) {
    const org = context.orgId === undefined ? '' : ` for organisation ${context.orgId}`;
    message = `Atlas rate limit reached${org} (HTTP 429${code}) on ${where}${tries}: the invoice endpoints share 100 requests per minute per organisation; try again later.`;
  } else if (status >= 500) {
    message = `Atlas failed with HTTP ${status}${code} on ${where}${tries}: this is on Atlas's side; try again later.`;
  } else if (status === 400) {
    message = `Atlas refused the request as invalid (HTTP 400${code}) for ${where}.`;
  } else {
    message = `Atlas answered HTTP ${status}${code} for ${where}.`;
  }
  return new AtlasApiError(`${message}${detailSuffix}`, {
    status,
    errorCode: body.errorCode,
    detail: body.detail,
    method: context.method,
    path: context.path,
  });
}

/** Node/undici error codes worth another try: the connection broke or a timeout fired. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isRetryableNetworkError(error: unknown): boolean {
  const code = networkErrorCode(error);
  return code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
}

const NETWORK_WORDS: Readonly<Record<string, string>> = {
  UND_ERR_CONNECT_TIMEOUT: 'connecting timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'the response body stalled',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
  ECONNRESET: 'the connection was reset',
  ECONNREFUSED: 'the connection was refused',
};

/** The error for a request that never got a usable answer. The cause is kept (undici errors carry no headers). */
export function networkFailure(error: unknown, context: FailureContext, attempts: number): AtlasApiError {
  const code = networkErrorCode(error);
  const words = (code !== undefined ? NETWORK_WORDS[code] : undefined) ?? 'a network error';
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  const shownCode = code === undefined ? '' : ` (${code})`;
  return new AtlasApiError(
    `Could not get an answer from Atlas for ${context.method} ${context.path}${tries}: ${words}${shownCode}.`,
    { status: undefined, errorCode: code, method: context.method, path: context.path },
    { cause: error },
  );
}
