import { Agent, type Dispatcher } from 'undici';
import { type AtlasCredentialChoice, type AtlasCredentials, credentialsForOrg } from '../config';
import { AtlasApiError, ConfigError, ValidationError } from '../errors';
import { assertObjectId, isObjectId } from '../ids';
import { INVOICE_STATUSES, type Invoice, type InvoiceMetadata } from '../invoices/invoice';
import { isRecord } from '../is-record';
import { type Logger, silentLogger } from '../log';
import type { RetryPolicy } from '../retry';
import { createScrubber, type FailureContext } from './api-errors';
import {
  type AccessToken,
  type Authenticator,
  basicAuthorization,
  createAuthenticator,
  createTokenCache,
} from './auth';
import {
  acceptFor,
  assertApiVersion,
  DEFAULT_API_VERSION,
  invoicePaths,
  MAX_ITEMS_PER_PAGE,
  type Representation,
  supportsListFilters,
} from './flavours';
import {
  callAtlas,
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUTS,
  type RemainingTime,
  readJson,
  type Timeouts,
  type Transport,
} from './request';
import type { ApiFlavour, AtlasInvoiceApi, CsvDownload, ListInvoicesOptions, RequestOptions } from './types';

export interface AtlasClientOptions {
  /** Origin of the Admin API, e.g. `https://cloud.mongodb.com` (a path prefix is kept). */
  readonly baseUrl: string;
  /**
   * One credential for every organisation, or one per organisation (`AtlasOrgCredentials`): each request uses the
   * credential of the organisation in its path. Organisations sharing a service account share its cached token.
   */
  readonly credentials: AtlasCredentialChoice;
  /** Default 'v2'. */
  readonly flavour?: ApiFlavour;
  /** Resource version in the v2 Accept types. Default 2023-01-01. */
  readonly apiVersion?: string;
  /** Ask Atlas to wrap bodies (`envelope=true`); the client unwraps them. */
  readonly envelope?: boolean;
  readonly pretty?: boolean;
  /** Default: 4 attempts, 500 ms base, 8 s cap. */
  readonly retry?: RetryPolicy;
  readonly timeouts?: Partial<Timeouts>;
  /** Inject an undici dispatcher (tests, benchmarks, proxies). The client then does not close it. */
  readonly dispatcher?: Dispatcher;
  readonly log?: Logger;
  /** Jitter source, [0, 1). */
  readonly random?: () => number;
  readonly userAgent?: string;
  /** Clock for token expiry, epoch ms. */
  readonly now?: () => number;
  /** Page size for listing; default and maximum 500. */
  readonly itemsPerPage?: number;
  /** A 429 asking to wait longer than this fails at once. Default 120 s. */
  readonly maxRetryAfterMs?: number;
}

/** Per-call options: an AbortSignal (overall deadline) and, when known, the deadline's remaining time. */
export interface AtlasCallOptions extends RequestOptions {
  /** With it, a retry that could not finish before the deadline is not started (lib/retry `Deadline` fits). */
  readonly deadline?: RemainingTime & { readonly signal?: AbortSignal };
}

export interface AtlasListOptions extends ListInvoicesOptions {
  readonly deadline?: RemainingTime & { readonly signal?: AbortSignal };
}

export interface InvoicePage {
  readonly pageNum: number;
  readonly results: InvoiceMetadata[];
  /** Atlas's estimate, when it sent one. */
  readonly totalCount: number | undefined;
}

export interface AtlasClient extends AtlasInvoiceApi {
  readonly flavour: ApiFlavour;
  readonly apiVersion: string;
  listInvoices(orgId: string, options?: AtlasListOptions): Promise<InvoiceMetadata[]>;
  getInvoice(orgId: string, invoiceId: string, options?: AtlasCallOptions): Promise<Invoice>;
  getPendingInvoices(orgId: string, options?: AtlasCallOptions): Promise<Invoice[]>;
  /**
   * Retries happen only until the response headers arrived: once the body flows it is the caller's, and a broken
   * stream surfaces as a stream error (a retry would have to restart the download from byte 0, which only the
   * caller can decide to do). The caller must consume or destroy `body`; aborting the signal destroys it.
   */
  getInvoiceCsv(orgId: string, invoiceId: string, options?: AtlasCallOptions): Promise<CsvDownload>;
  /** The list one page at a time (pages of `itemsPerPage`, stopping on a short page or one without a next link). */
  invoicePages(orgId: string, options?: AtlasListOptions): AsyncGenerator<InvoicePage>;
  /**
   * Closes the client's own connection pool (not an injected dispatcher), waiting up to 2 s for requests in flight
   * before destroying their connections.
   */
  close(): Promise<void>;
}

/** A credential in use: where it was configured (for messages) and its authentication state. */
interface Identity {
  readonly credentials: AtlasCredentials;
  readonly source: string;
  readonly auth: Authenticator;
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** A safety stop for a server that keeps announcing a next page. */
const MAX_PAGES = 10_000;

export function createAtlasClient(options: AtlasClientOptions): AtlasClient {
  const flavour = options.flavour ?? 'v2';
  const apiVersion = assertApiVersion(options.apiVersion ?? DEFAULT_API_VERSION);
  const itemsPerPage = options.itemsPerPage ?? MAX_ITEMS_PER_PAGE;
  if (!Number.isInteger(itemsPerPage) || itemsPerPage < 1 || itemsPerPage > MAX_ITEMS_PER_PAGE) {
    throw new ValidationError(
      'itemsPerPage',
      `itemsPerPage must be a whole number from 1 to ${MAX_ITEMS_PER_PAGE}`,
    );
  }
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new ValidationError('baseUrl', 'baseUrl is not a valid URL');
  }
  if (base.username !== '' || base.password !== '') {
    throw new ValidationError('baseUrl', 'baseUrl must not embed credentials');
  }
  const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const ownAgent =
    options.dispatcher === undefined
      ? new Agent({
          connect: { timeout: timeouts.connectMs },
          headersTimeout: timeouts.headersMs,
          bodyTimeout: timeouts.bodyMs,
          keepAliveTimeout: 10_000,
        })
      : undefined;
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const log = (options.log ?? silentLogger).child({ component: 'atlas' });

  // The scrubber reads the authenticators' secrets lazily: tokens appear only after the first exchange.
  const identities = new Map<string, Identity>();
  const secrets = () => [...identities.values()].flatMap((identity) => identity.auth.secrets());
  const transport: Transport = {
    dispatcher,
    origin: base.origin,
    basePath: base.pathname.replace(/\/+$/, ''),
    timeouts,
    retry: options.retry ?? DEFAULT_RETRY_POLICY,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
    random: options.random ?? Math.random,
    log,
    userAgent: options.userAgent ?? `atlas-invoice-notifier/0.1 node/${process.versions.node}`,
    scrub: createScrubber(secrets),
  };

  const failureContext = (
    identity: Identity,
    method: string,
    path: string,
    accept: string,
    extra: Partial<FailureContext> = {},
  ): FailureContext => ({
    method,
    path,
    apiVersion,
    accept,
    credentialsKind: identity.credentials.kind,
    credentialsSource: identity.source,
    ...extra,
  });

  /** One authenticator (and for a service account one token cache) per distinct credential, made on first use. */
  const identityFor = (credentials: AtlasCredentials, source: string): Identity => {
    const key =
      credentials.kind === 'service-account'
        ? `sa\0${credentials.clientId}\0${credentials.clientSecret}`
        : `key\0${credentials.publicKey}\0${credentials.privateKey}`;
    const known = identities.get(key);
    if (known !== undefined) return known;
    const tokens = createTokenCache({
      now: options.now,
      fetchToken: async (): Promise<AccessToken> => {
        if (credentials.kind !== 'service-account') throw new Error('token exchange needs a service account');
        const path = '/api/oauth/token';
        const failure = failureContext(identity, 'POST', path, 'application/json', { tokenRequest: true });
        return callAtlas(transport, {
          method: 'POST',
          path,
          headers: {
            accept: 'application/json',
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basicAuthorization(credentials.clientId, credentials.clientSecret),
          },
          body: 'grant_type=client_credentials',
          failure,
          consume: async (response) => parseToken(await readJson(response, failure), failure),
        });
      },
    });
    const identity: Identity = { credentials, source, auth: createAuthenticator(credentials, tokens) };
    identities.set(key, identity);
    return identity;
  };

  const identityOf = (orgId: string): Identity => {
    const chosen = credentialsForOrg(options.credentials, orgId);
    if (chosen === undefined) {
      throw new ConfigError(
        'ATLAS_ORG_CREDENTIALS',
        `has no entry for organisation ${orgId}, and no ATLAS_CLIENT_ID / ATLAS_PUBLIC_KEY pair is set for the others`,
      );
    }
    return identityFor(chosen.credentials, chosen.source);
  };

  const commonQuery = (query: URLSearchParams) => {
    if (options.envelope) query.set('envelope', 'true');
    if (options.pretty) query.set('pretty', 'true');
    return query;
  };

  const signalOf = (callOptions: AtlasCallOptions | AtlasListOptions | undefined) =>
    callOptions?.signal ?? callOptions?.deadline?.signal;

  const getJson = (
    path: string,
    query: URLSearchParams,
    callOptions: AtlasCallOptions | AtlasListOptions | undefined,
    extra: Partial<FailureContext> & { readonly orgId: string },
    representation: Representation = 'json',
  ): Promise<unknown> => {
    const accept = acceptFor(flavour, representation, apiVersion);
    const identity = identityOf(extra.orgId);
    const failure = failureContext(identity, 'GET', path, accept, extra);
    return callAtlas(transport, {
      method: 'GET',
      path,
      query,
      headers: { accept },
      auth: identity.auth,
      signal: signalOf(callOptions),
      deadline: callOptions?.deadline,
      failure,
      consume: async (response) => unwrapEntity(await readJson(response, failure), options.envelope ?? false),
    });
  };

  async function* invoicePages(
    orgId: string,
    listOptions: AtlasListOptions = {},
  ): AsyncGenerator<InvoicePage> {
    assertObjectId(orgId, 'orgId');
    const filter = checkListOptions(listOptions);
    const path = invoicePaths.list(flavour, orgId);
    const linked = listOptions.viewLinkedInvoices ?? false;
    for (let pageNum = 1; pageNum <= MAX_PAGES; pageNum++) {
      const query = new URLSearchParams({ pageNum: String(pageNum), itemsPerPage: String(itemsPerPage) });
      if (supportsListFilters(flavour)) {
        query.set('viewLinkedInvoices', String(linked));
        for (const status of listOptions.statusNames ?? []) query.append('statusNames', status);
        if (listOptions.fromDate !== undefined) query.set('fromDate', listOptions.fromDate);
        if (listOptions.toDate !== undefined) query.set('toDate', listOptions.toDate);
      }
      const body = await getJson(path, commonQuery(query), listOptions, { orgId, linked });
      const page = readList(body, path);
      const results = supportsListFilters(flavour) ? page.results : page.results.filter(filter);
      listOptions.onPage?.({ pageNum, count: results.length, totalCount: page.totalCount });
      yield { pageNum, results, totalCount: page.totalCount };
      if (page.results.length < itemsPerPage || !page.hasNext) return;
    }
  }

  return {
    flavour,
    apiVersion,
    invoicePages,

    async listInvoices(orgId, listOptions) {
      const all: InvoiceMetadata[] = [];
      for await (const page of invoicePages(orgId, listOptions)) all.push(...page.results);
      return all;
    },

    async getInvoice(orgId, invoiceId, callOptions) {
      assertObjectId(orgId, 'orgId');
      assertObjectId(invoiceId, 'invoiceId');
      const path = invoicePaths.one(flavour, orgId, invoiceId);
      const body = await getJson(path, commonQuery(new URLSearchParams()), callOptions, { orgId, invoiceId });
      return readInvoice(body, path);
    },

    async getPendingInvoices(orgId, callOptions) {
      assertObjectId(orgId, 'orgId');
      const path = invoicePaths.pending(flavour, orgId);
      const body = await getJson(path, commonQuery(new URLSearchParams()), callOptions, { orgId });
      // Declared as a paginated list; older documentation and clients read one invoice object. Accept both.
      if (isRecord(body) && Array.isArray(body.results)) {
        return body.results.map((item) => readInvoice(item, path));
      }
      if (body === null || (isRecord(body) && Object.keys(body).length === 0)) return [];
      return [readInvoice(body, path)];
    },

    async getInvoiceCsv(orgId, invoiceId, callOptions) {
      assertObjectId(orgId, 'orgId');
      assertObjectId(invoiceId, 'invoiceId');
      const path = invoicePaths.csv(flavour, orgId, invoiceId);
      const accept = acceptFor(flavour, 'csv', apiVersion);
      const identity = identityOf(orgId);
      return callAtlas(transport, {
        method: 'GET',
        path,
        headers: { accept },
        auth: identity.auth,
        signal: signalOf(callOptions),
        deadline: callOptions?.deadline,
        failure: failureContext(identity, 'GET', path, accept, { orgId, invoiceId }),
        // Hands the unread body over: from here on no retry is possible (see the interface comment).
        consume: async (response): Promise<CsvDownload> => {
          const length = Number(response.headers['content-length']);
          return {
            body: response.body as unknown as CsvDownload['body'],
            contentLength: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
          };
        },
      });
    },

    async close() {
      if (ownAgent === undefined) return;
      // A graceful close waits for every request to finish; a CSV body nobody consumed would keep it waiting.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), 2_000);
        timer.unref();
      });
      const outcome = await Promise.race([ownAgent.close().then(() => 'closed' as const), grace]);
      clearTimeout(timer);
      if (outcome === 'late') await ownAgent.destroy();
    },
  };
}

/** `{status, content}` becomes `content`; a list keeps its shape (its added `status` is ignored). */
function unwrapEntity(body: unknown, envelope: boolean): unknown {
  if (envelope && isRecord(body) && typeof body.status === 'number' && 'content' in body) return body.content;
  return body;
}

function shapeError(path: string, what: string): AtlasApiError {
  return new AtlasApiError(`Atlas sent an unexpected body for GET ${path}: ${what}.`, {
    status: 200,
    method: 'GET',
    path,
  });
}

function readInvoice(value: unknown, path: string): Invoice {
  if (!isRecord(value)) throw shapeError(path, 'an invoice is not an object');
  if (!isObjectId(value.id)) throw shapeError(path, 'an invoice has no 24-hex id');
  if (typeof value.statusName !== 'string') throw shapeError(path, `invoice ${value.id} has no statusName`);
  return value as unknown as Invoice;
}

function readList(
  body: unknown,
  path: string,
): { results: InvoiceMetadata[]; totalCount: number | undefined; hasNext: boolean } {
  if (!isRecord(body) || !Array.isArray(body.results)) throw shapeError(path, 'no results array');
  const results = body.results.map((item) => readInvoice(item, path));
  const totalCount = typeof body.totalCount === 'number' ? body.totalCount : undefined;
  // The next page is requested by number with the same query rather than by following the href: an absolute URL
  // from a response could point elsewhere, and the credentials must only ever go to the configured base URL.
  const hasNext =
    Array.isArray(body.links) && body.links.some((link) => isRecord(link) && link.rel === 'next');
  return { results, totalCount, hasNext };
}

function parseToken(body: unknown, failure: FailureContext): AccessToken {
  const fail = (what: string) =>
    new AtlasApiError(`Atlas's token endpoint answered without ${what} for POST ${failure.path}.`, {
      status: 200,
      method: 'POST',
      path: failure.path,
    });
  if (!isRecord(body)) throw fail('a JSON object');
  const token = body.access_token;
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,8192}$/.test(token)) throw fail('a usable access_token');
  if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
    throw fail('a Bearer token_type');
  }
  const expires = body.expires_in;
  const expiresInSeconds = typeof expires === 'number' && expires > 0 ? expires : 3600;
  return { token, expiresInSeconds };
}

/** Validates the list options before any request; returns the client-side filter used for Cloud Manager. */
function checkListOptions(options: ListInvoicesOptions): (invoice: InvoiceMetadata) => boolean {
  for (const status of options.statusNames ?? []) {
    if (!(INVOICE_STATUSES as readonly string[]).includes(status)) {
      throw new ValidationError(
        'statusNames',
        `statusNames: unknown status "${String(status).slice(0, 20)}"`,
      );
    }
  }
  for (const field of ['fromDate', 'toDate'] as const) {
    const value = options[field];
    if (
      value !== undefined &&
      (!DATE_PATTERN.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    ) {
      throw new ValidationError(field, `${field} must be a date like 2024-06-01`);
    }
  }
  const statuses = options.statusNames === undefined ? undefined : new Set<string>(options.statusNames);
  const from = options.fromDate === undefined ? undefined : Date.parse(`${options.fromDate}T00:00:00Z`);
  const to = options.toDate === undefined ? undefined : Date.parse(`${options.toDate}T00:00:00Z`);
  return (invoice) =>
    (statuses === undefined || statuses.size === 0 || statuses.has(invoice.statusName)) &&
    (from === undefined || Date.parse(invoice.startDate) >= from) &&
    (to === undefined || Date.parse(invoice.endDate) <= to);
}
