import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import type { ApiFlavour } from '../../../lib/atlas/types';
import { OBJECT_ID_PATTERN } from '../../../lib/ids';
import type { Invoice, InvoiceMetadata, InvoiceStatus } from '../../../lib/invoices/invoice';
import openApiDocument from '../../../test/fixtures/atlas-invoices-openapi.json';
import {
  type ApiKeySeed,
  type AuthKind,
  createAuthority,
  type DigestAlgorithm,
  type Principal,
  type ServiceAccountSeed,
} from './auth';
import { DEMO_API_KEY, DEMO_SERVICE_ACCOUNT } from './credentials';
import { createGeneratedCsvStream, type GeneratedCsvSpec, generatedCsvSize, renderInvoiceCsv } from './csv';
import { dailyUsageItems, type SandboxInvoice, type SandboxOrg } from './model';
import { createRateLimiter, type RateLimitOptions } from './rate-limit';
import { createSpecChecker, type OpenApiDocument, type SpecViolation } from './spec-check';
import { createStore, type DemoStep, type InvoiceSeed, type OrgSeed } from './store';
import { invoiceView, linkedFor, metadataView, type ViewContext } from './views';

export interface AtlasSandboxOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly orgs?: readonly OrgSeed[];
  /** Default: the demo service account (see demo.ts). */
  readonly serviceAccounts?: readonly ServiceAccountSeed[];
  /** Default: the demo API key. */
  readonly apiKeys?: readonly ApiKeySeed[];
  /** Per-organisation token bucket (default 500, refilling 100 per minute); `false` disables it. */
  readonly rateLimit?: RateLimitOptions | false;
  /** Default 3600. */
  readonly tokenTtlSeconds?: number;
  /** How long a digest nonce stays fresh. Default 300. */
  readonly nonceTtlSeconds?: number;
  /** Default MD5, as Atlas. */
  readonly digestAlgorithm?: DigestAlgorithm;
  /** Epoch ms; drives token and nonce expiry, the rate limit's refill and invoice timestamps. Default Date.now. */
  readonly clock?: () => number;
  /**
   * Epoch ms of the demo story's first day, when it is not the clock's day: invoices and timestamps are then dated on
   * the story's calendar (`calendar()`), while tokens and the rate limit keep the clock's time. See store.ts.
   */
  readonly storyStart?: number;
  /** Seed of every generated id, amount and CSV byte. Default 1. */
  readonly seed?: number;
  /** How `/invoices/pending` answers: the spec's paginated list (default) or the older single object. */
  readonly pendingShape?: 'list' | 'object';
  /** API versions answered with 410 VERSION_GONE instead of 406. */
  readonly sunsetVersions?: readonly string[];
  /** Live tokens per service account before 403 access_denied. Default 100. */
  readonly maxTokensPerAccount?: number;
}

/** One request as the sandbox saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** Decoded path without query. */
  readonly path: string;
  /** Query values by key (repeated keys keep every value). */
  readonly query: Readonly<Record<string, readonly string[]>>;
  readonly rawQuery: string;
  readonly accept: string | undefined;
  readonly auth: AuthKind;
  /** Set once the response is over, if its headers went out; undefined for a hung or reset request. */
  status: number | undefined;
  readonly flavour: ApiFlavour | 'oauth' | undefined;
  readonly orgId: string | undefined;
  readonly invoiceId: string | undefined;
  readonly at: number;
}

export interface FaultSpec {
  /** Which requests: `path` as a RegExp or a substring of the path; `method` exact. Default: every request. */
  readonly match?: { readonly path?: RegExp | string; readonly method?: string };
  /** How many matching requests it affects. Default 1; `Infinity` for all. */
  readonly times?: number;
  /** Answer with this status and an Atlas error body instead of the real answer. */
  readonly status?: number;
  readonly errorCode?: string;
  readonly detail?: string;
  /** Raw body (and its Content-Type) instead of Atlas's error JSON, e.g. an HTML page from a proxy. */
  readonly body?: string;
  readonly contentType?: string;
  readonly retryAfterSeconds?: number;
  readonly rateLimitHeaders?: {
    readonly limit?: number;
    readonly remaining?: number;
    readonly reset?: number;
  };
  /** Wait this long before answering (the real answer, or the fault's). */
  readonly delayMs?: number;
  /** Never answer (until the sandbox closes). */
  readonly hang?: boolean;
  /** Destroy the connection with a TCP reset instead of answering. */
  readonly resetConnection?: boolean;
  /** Answer normally but cut the connection after this many body bytes. */
  readonly abortAfterBytes?: number;
}

export interface FaultHandle {
  /** Matching requests it will still affect. */
  remaining(): number;
  cancel(): void;
}

export interface SandboxOrgInfo {
  readonly id: string;
  readonly name: string;
  readonly invoiceIds: readonly string[];
}

export interface AtlasSandbox {
  /** `http://127.0.0.1:<port>`, the base URL for clients. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  /** Requests that did not match the OpenAPI spec (path, method, parameters, Accept). */
  readonly violations: readonly SpecViolation[];
  /** Clears the request log and the recorded violations. */
  resetRequests(): void;

  createOrg(seed?: OrgSeed): SandboxOrgInfo;
  orgIds(): string[];
  setOrgName(orgId: string, name: string): void;
  addInvoice(orgId: string, seed?: InvoiceSeed): Invoice;
  setStatus(orgId: string, invoiceId: string, status: InvoiceStatus): Invoice;
  /** Bumps `updated`; on a PENDING invoice also accrues a new line item, so its CSV changes. */
  touch(orgId: string, invoiceId: string): Invoice;
  /** Serve a generated CSV of exactly `bytes` bytes (undefined: back to the line items). Returns its spec. */
  setCsvSize(orgId: string, invoiceId: string, bytes: number | undefined): GeneratedCsvSpec | undefined;
  /** One day of the demo story (see store.ts). */
  advanceDemo(): DemoStep;
  /** Now on the calendar the data is dated on (epoch ms): the clock's, or the story's with `storyStart`. */
  calendar(): number;
  /**
   * What one usage day (`YYYY-MM-DD`) of a `daily` organisation costs in cents, as the sum of that day's rows in its
   * CSV will show: the spend pattern is a function of the seed and the date, whether or not the day has accrued yet.
   */
  usageDayCents(orgId: string, day: string): number;
  setPendingShape(shape: 'list' | 'object'): void;

  /** What the v2 API would return, for expected values in tests. */
  listInvoices(orgId: string): InvoiceMetadata[];
  getInvoice(orgId: string, invoiceId: string): Invoice;
  /** The CSV bytes the API would send now, as a stream (generated CSVs are never held in memory). */
  csvStream(orgId: string, invoiceId: string): Readable;
  /** The CSV of a line-item invoice as text (refuses generated CSVs: use csvStream). */
  csvText(orgId: string, invoiceId: string): string;

  injectFault(fault: FaultSpec): FaultHandle;
  clearFaults(): void;
  /** Set an organisation's rate-limit bucket (0 provokes a 429 on the next call). */
  setRateLimitTokens(orgId: string, tokens: number): void;
  /** Tokens issued by `POST /api/oauth/token` since start. */
  tokensIssued(): number;
  /** Forget all digest nonces: the next digest answer gets `stale=true`. */
  expireNonces(): void;
  /** Forget all bearer tokens: the next Bearer call gets 401. */
  revokeAllTokens(): void;

  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}

const FLAVOUR_PREFIXES: readonly (readonly [ApiFlavour, string])[] = [
  ['v2', '/api/atlas/v2'],
  ['v1', '/api/atlas/v1.0'],
  ['cloud-manager', '/api/public/v1.0'],
];

const INVOICE_ROUTE = /^\/orgs\/([^/]+)\/invoices(?:\/([^/]+)(\/csv)?)?$/;
const SUPPORTED_VERSIONS = ['2023-01-01'];
const SORT_BY = ['START_DATE', 'END_DATE'];
const ORDER_BY = ['asc', 'desc'];

interface ActiveFault {
  readonly spec: FaultSpec;
  left: number;
}

/**
 * Atlas's error body: `{detail, error, errorCode, parameters, reason}`. Real Atlas sometimes puts strings in
 * `parameters`, but the spec declares an array of objects; the sandbox keeps to the spec and sends it empty.
 */
export function atlasErrorBody(status: number, errorCode: string, detail: string) {
  return { detail, error: status, errorCode, parameters: [], reason: STATUS_CODES[status] ?? 'Error' };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

/** Starts the sandbox on 127.0.0.1 (port 0 by default). See README-like comments on each option. */
export async function startAtlasSandbox(options: AtlasSandboxOptions = {}): Promise<AtlasSandbox> {
  const clock = options.clock ?? Date.now;
  const seed = options.seed ?? 1;
  const store = createStore({
    clock,
    seed,
    ...(options.storyStart === undefined ? {} : { storyStart: options.storyStart }),
  });
  for (const orgSeed of options.orgs ?? []) store.createOrg(orgSeed);
  const authority = createAuthority({
    serviceAccounts: options.serviceAccounts ?? [DEMO_SERVICE_ACCOUNT],
    apiKeys: options.apiKeys ?? [DEMO_API_KEY],
    clock,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    digestAlgorithm: options.digestAlgorithm ?? 'MD5',
    nonceTtlSeconds: options.nonceTtlSeconds ?? 300,
    maxTokensPerAccount: options.maxTokensPerAccount ?? 100,
  });
  const limiter = createRateLimiter(options.rateLimit, clock);
  const checker = createSpecChecker(openApiDocument as unknown as OpenApiDocument);
  const sunset = new Set(options.sunsetVersions ?? []);
  let pendingShape = options.pendingShape ?? 'list';
  const requests: RecordedRequest[] = [];
  const violations: SpecViolation[] = [];
  const faults: ActiveFault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let baseUrl = '';

  const takeFault = (method: string, path: string): FaultSpec | undefined => {
    for (const fault of faults) {
      if (fault.left <= 0) continue;
      const match = fault.spec.match ?? {};
      if (match.method !== undefined && match.method.toUpperCase() !== method) continue;
      if (match.path !== undefined) {
        const hit = typeof match.path === 'string' ? path.includes(match.path) : match.path.test(path);
        if (!hit) continue;
      }
      fault.left -= 1;
      return fault.spec;
    }
    return undefined;
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, atlasErrorBody(500, 'UNEXPECTED_ERROR', `sandbox failure: ${String(error)}`));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = decodeURIComponent(url.pathname);
    const rawQuery = url.search.replace(/^\?/, '');
    const accept = req.headers.accept;
    const authorization = req.headers.authorization;
    const body = await readBody(req);

    const route = matchRoute(path);
    const record: RecordedRequest = {
      method,
      path,
      query: groupQuery(url.searchParams),
      rawQuery,
      accept,
      auth: authKind(authorization),
      status: undefined,
      flavour: route?.flavour,
      orgId: route?.kind === 'invoices' ? route.orgId : undefined,
      invoiceId: route?.kind === 'invoices' ? route.invoiceId : undefined,
      at: clock(),
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    res.on('close', () => {
      if (res.headersSent) record.status = res.statusCode;
    });

    if (route?.kind !== 'oauth') {
      for (const problem of checker.check(method, path, rawQuery, accept)) {
        violations.push({ method, path, query: rawQuery, problem });
      }
    }

    const fault = takeFault(method, path);
    if (fault?.delayMs !== undefined && fault.delayMs > 0) await wait(fault.delayMs);
    if (fault?.hang) return;
    if (fault?.resetConnection) {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault?.status !== undefined) {
      sendFault(res, fault);
      return;
    }

    try {
      if (route === undefined) {
        throw new HttpError(404, 'RESOURCE_NOT_FOUND', `Cannot find resource ${path}.`);
      }
      if (route.kind === 'oauth') {
        if (method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `Use POST for ${path}.`);
        const answer =
          route.action === 'token'
            ? authority.issueToken(authorization, req.headers['content-type'], body)
            : authority.revoke(authorization, body);
        if (answer.body === undefined) {
          res.writeHead(answer.status, { 'content-length': '0' }).end();
        } else {
          sendJson(res, answer.status, answer.body, { 'cache-control': 'no-store' });
        }
        return;
      }
      if (method !== 'GET')
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `Method ${method} is not allowed.`);
      const auth = authority.authenticate(method, rawUrl, authorization);
      if (!auth.ok) {
        throw new HttpError(401, 'UNAUTHORIZED', 'You are not authorized for this resource.', {
          'www-authenticate': authority.challenge(auth.stale),
        });
      }
      await serveInvoices(req, res, route, url, auth.principal, fault);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // Errors are never enveloped: Atlas sends them as plain application/json with the real status.
      sendJson(res, error.status, atlasErrorBody(error.status, error.errorCode, error.detail), {
        ...error.headers,
      });
    }
  }

  async function serveInvoices(
    req: IncomingMessage,
    res: ServerResponse,
    route: Extract<Route, { kind: 'invoices' }>,
    url: URL,
    principal: Principal,
    fault: FaultSpec | undefined,
  ): Promise<void> {
    const { flavour, prefix, orgId, invoiceId, csv } = route;
    const params = url.searchParams;
    if (!OBJECT_ID_PATTERN.test(orgId)) {
      throw new HttpError(
        400,
        'INVALID_ORG_ID',
        `An invalid organization ID ${orgId.slice(0, 40)} was specified.`,
      );
    }
    const org = store.org(orgId);
    if (org === undefined) {
      throw new HttpError(404, 'ORG_NOT_FOUND', `No organization with ID ${orgId} exists.`);
    }
    if (
      principal.role === 'ORG_MEMBER' ||
      (principal.orgIds !== undefined && !principal.orgIds.includes(orgId))
    ) {
      throw new HttpError(403, 'USER_UNAUTHORIZED', 'Current user is not authorized to perform this action.');
    }
    const take = limiter.take(orgId);
    const limitHeaders: Record<string, string> = {};
    if (limiter.headers) {
      limitHeaders['ratelimit-limit'] = String(take.limit);
      limitHeaders['ratelimit-remaining'] = String(take.ok ? take.remaining : 0);
    }
    if (!take.ok) {
      throw new HttpError(
        429,
        'RATE_LIMITED',
        'Resource has been rate limited. Please retry after some time.',
        {
          'retry-after': String(take.retryAfterSeconds),
          ...limitHeaders,
        },
      );
    }
    const representation = csv ? 'csv' : 'json';
    const contentType = negotiate(
      flavour,
      representation,
      req.headers.accept,
      path(prefix, orgId, invoiceId, csv),
    );
    const ctx: ViewContext = { baseUrl, prefix };
    const pretty = booleanParam(params, 'pretty', false);
    const envelope = booleanParam(params, 'envelope', false);
    const send = (value: unknown, isList: boolean) => {
      const wrapped = !envelope
        ? value
        : isList
          ? { ...(value as object), status: 200 }
          : { status: 200, content: value };
      sendJson(res, 200, wrapped, limitHeaders, contentType, pretty);
    };

    if (invoiceId === undefined) {
      send(listPage(org, params, ctx, flavour, principal), true);
      return;
    }
    if (invoiceId === 'pending' && !csv) {
      const pending = org.invoices.filter((i) => i.statusName === 'PENDING');
      const views = pending.map((i) => invoiceView(i, ctx));
      if (pendingShape === 'object') {
        const first = views[0];
        if (first === undefined) {
          throw new HttpError(404, 'RESOURCE_NOT_FOUND', `No pending invoice for organization ${orgId}.`);
        }
        send(first, false);
        return;
      }
      const self = { href: `${baseUrl}${prefix}/orgs/${orgId}/invoices/pending`, rel: 'self' };
      send({ links: [self], results: views, totalCount: views.length }, true);
      return;
    }
    if (!OBJECT_ID_PATTERN.test(invoiceId)) {
      throw new HttpError(
        400,
        'INVALID_INVOICE_ID',
        `An invalid invoice ID ${invoiceId.slice(0, 40)} was specified.`,
      );
    }
    const invoice = org.invoices.find((i) => i.id === invoiceId);
    if (invoice === undefined) {
      throw new HttpError(404, 'INVOICE_NOT_FOUND', `Invoice ${invoiceId} not found.`);
    }
    if (!csv) {
      send(invoiceView(invoice, ctx, linkedFor(store.orgs, org, invoice, ctx)), false);
      return;
    }
    sendCsv(res, org, invoice, contentType, limitHeaders, fault?.abortAfterBytes);
  }

  function listPage(
    org: SandboxOrg,
    params: URLSearchParams,
    ctx: ViewContext,
    flavour: ApiFlavour,
    principal: Principal,
  ): unknown {
    const itemsPerPage = integerParam(params, 'itemsPerPage', 100);
    const pageNum = integerParam(params, 'pageNum', 1);
    if (itemsPerPage < 1 || itemsPerPage > 500) {
      throw new HttpError(
        400,
        'INVALID_ITEMS_PER_PAGE',
        `Invalid itemsPerPage ${itemsPerPage}: must be between 1 and 500.`,
      );
    }
    if (pageNum < 1)
      throw new HttpError(400, 'INVALID_PAGE_NUM', `Invalid pageNum ${pageNum}: must be at least 1.`);
    const legacyList = flavour === 'cloud-manager';
    const includeCount = booleanParam(params, 'includeCount', true);
    const viewLinked = !legacyList && booleanParam(params, 'viewLinkedInvoices', true);
    if (viewLinked && org.linkedOrgIds.length > 0 && principal.role === 'ORG_BILLING_VIEWER') {
      throw new HttpError(
        403,
        'USER_UNAUTHORIZED',
        'Viewing linked invoices requires the Organization Billing Admin or Organization Owner role.',
      );
    }
    let invoices: SandboxInvoice[] = org.invoices;
    if (!legacyList) {
      const statuses = params.getAll('statusNames');
      for (const status of statuses) {
        if (!/^[A-Z]+$/.test(status)) {
          throw new HttpError(400, 'INVALID_ENUM_VALUE', `Invalid statusNames value ${status.slice(0, 20)}.`);
        }
      }
      const from = dateParam(params, 'fromDate');
      const to = dateParam(params, 'toDate');
      invoices = invoices.filter(
        (i) =>
          (statuses.length === 0 || statuses.includes(i.statusName)) &&
          (from === undefined || Date.parse(i.startDate) >= from) &&
          (to === undefined || Date.parse(i.endDate) <= to),
      );
      const sortBy =
        enumParam(params, 'sortBy', SORT_BY, 'END_DATE') === 'START_DATE' ? 'startDate' : 'endDate';
      const direction = enumParam(params, 'orderBy', ORDER_BY, 'desc') === 'asc' ? 1 : -1;
      invoices = [...invoices].sort((a, b) =>
        a[sortBy] < b[sortBy] ? -direction : a[sortBy] > b[sortBy] ? direction : 0,
      );
    }
    const total = invoices.length;
    const page = invoices.slice((pageNum - 1) * itemsPerPage, pageNum * itemsPerPage);
    const results = page.map((i) =>
      metadataView(i, ctx, viewLinked ? linkedFor(store.orgs, org, i, ctx) : []),
    );
    const href = (n: number) => {
      const query = new URLSearchParams(params);
      query.set('pageNum', String(n));
      query.set('itemsPerPage', String(itemsPerPage));
      return `${baseUrl}${ctx.prefix}/orgs/${org.id}/invoices?${query}`;
    };
    const links = [];
    if (pageNum > 1) links.push({ href: href(pageNum - 1), rel: 'previous' });
    links.push({ href: href(pageNum), rel: 'self' });
    if (pageNum * itemsPerPage < total) links.push({ href: href(pageNum + 1), rel: 'next' });
    return includeCount ? { links, results, totalCount: total } : { links, results };
  }

  function sendCsv(
    res: ServerResponse,
    org: SandboxOrg,
    invoice: SandboxInvoice,
    contentType: string,
    headers: Record<string, string>,
    abortAfterBytes: number | undefined,
  ) {
    const spec = store.csvSpec(org.id, invoice.id);
    let source: Readable;
    let length: number;
    if (spec !== undefined) {
      source = createGeneratedCsvStream(spec);
      length = generatedCsvSize(spec);
    } else {
      const bytes = Buffer.from(csvOf(org, invoice), 'utf8');
      source = Readable.from([bytes]);
      length = bytes.length;
    }
    res.writeHead(200, { 'content-type': contentType, 'content-length': String(length), ...headers });
    if (abortAfterBytes === undefined) {
      pipeline(source, res, () => {});
      return;
    }
    // Fault: send the first `abortAfterBytes` bytes, then close the connection mid-body (short of Content-Length).
    let sent = 0;
    source.on('data', (chunk: Buffer) => {
      const room = abortAfterBytes - sent;
      if (chunk.length < room) {
        sent += chunk.length;
        if (!res.write(chunk)) source.pause();
        return;
      }
      source.destroy();
      res.write(chunk.subarray(0, Math.max(0, room)), () => res.socket?.destroy());
    });
    res.on('drain', () => source.resume());
    source.on('end', () => res.end());
  }

  function sendFault(res: ServerResponse, fault: FaultSpec) {
    const status = fault.status ?? 500;
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    const limits = fault.rateLimitHeaders;
    if (limits?.limit !== undefined) headers['ratelimit-limit'] = String(limits.limit);
    if (limits?.remaining !== undefined) headers['ratelimit-remaining'] = String(limits.remaining);
    if (limits?.reset !== undefined) headers['ratelimit-reset'] = String(limits.reset);
    if (fault.body !== undefined) {
      const bytes = Buffer.from(fault.body, 'utf8');
      res
        .writeHead(status, {
          ...headers,
          'content-type': fault.contentType ?? 'text/html',
          'content-length': String(bytes.length),
        })
        .end(bytes);
      return;
    }
    const code = fault.errorCode ?? defaultErrorCode(status);
    sendJson(res, status, atlasErrorBody(status, code, fault.detail ?? `Injected ${status} fault.`), headers);
  }

  function csvOf(org: SandboxOrg, invoice: SandboxInvoice): string {
    return renderInvoiceCsv(
      {
        invoiceId: invoice.id,
        orgId: org.id,
        orgName: org.name,
        startDate: invoice.startDate,
        endDate: invoice.endDate,
      },
      invoice.lineItems,
    );
  }

  function negotiate(
    flavour: ApiFlavour,
    representation: 'json' | 'csv',
    accept: string | undefined,
    where: string,
  ): string {
    const types = (accept ?? '')
      .split(',')
      .map((t) => t.split(';')[0]?.trim().toLowerCase() ?? '')
      .filter((t) => t !== '');
    if (flavour !== 'v2') {
      const wanted = representation === 'json' ? 'application/json' : 'text/csv';
      if (types.length === 0 || types.includes(wanted) || types.includes('*/*')) return wanted;
      throw new HttpError(406, 'INVALID_ACCEPT_HEADER', 'Invalid accept header.');
    }
    for (const type of types) {
      const match = /^application\/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+(json|csv)$/.exec(type);
      if (match === null) continue;
      const [, version = '', subtype] = match;
      if (sunset.has(version)) {
        throw new HttpError(
          410,
          'VERSION_GONE',
          `Version ${version} of ${where.slice(1)} is no longer available.`,
        );
      }
      if (subtype === representation && SUPPORTED_VERSIONS.includes(version)) {
        return `application/vnd.atlas.${version}+${representation}`;
      }
    }
    throw new HttpError(406, 'INVALID_VERSION_DATE', 'Invalid accept header or version date.');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;
  const v2: ViewContext = { baseUrl, prefix: '/api/atlas/v2' };

  const info = (org: SandboxOrg): SandboxOrgInfo => ({
    id: org.id,
    name: org.name,
    invoiceIds: org.invoices.map((i) => i.id),
  });
  const requireOrg = (orgId: string) => {
    const org = store.org(orgId);
    if (org === undefined) throw new Error(`sandbox: no organisation ${orgId}`);
    return org;
  };
  const requireInvoice = (orgId: string, invoiceId: string) => {
    const invoice = store.invoice(orgId, invoiceId);
    if (invoice === undefined) throw new Error(`sandbox: no invoice ${invoiceId} in organisation ${orgId}`);
    return invoice;
  };
  const view = (invoice: SandboxInvoice) => invoiceView(invoice, v2);

  return {
    url: baseUrl,
    port: address.port,
    requests,
    violations,
    resetRequests() {
      requests.length = 0;
      violations.length = 0;
    },
    createOrg: (orgSeed) => info(store.createOrg(orgSeed)),
    orgIds: () => [...store.orgs.keys()],
    setOrgName(orgId, name) {
      requireOrg(orgId).name = name;
    },
    addInvoice: (orgId, invoiceSeed) => view(store.addInvoice(orgId, invoiceSeed)),
    setStatus: (orgId, invoiceId, status) => view(store.setStatus(orgId, invoiceId, status)),
    touch: (orgId, invoiceId) => view(store.touch(orgId, invoiceId)),
    setCsvSize: (orgId, invoiceId, bytes) => store.setCsvSize(orgId, invoiceId, bytes),
    advanceDemo: () => store.advanceDemo(),
    calendar: () => store.calendar(),
    usageDayCents(orgId, day) {
      const org = requireOrg(orgId);
      if (org.lineItemMode !== 'daily') throw new Error(`sandbox: organisation ${orgId} has no daily usage`);
      const dayMs = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
      if (Number.isNaN(dayMs)) throw new Error(`sandbox: a usage day looks like 2026-03-09 (got ${day})`);
      return dailyUsageItems(org, dayMs).reduce((sum, item) => sum + (item.json.totalPriceCents ?? 0), 0);
    },
    setPendingShape(shape) {
      pendingShape = shape;
    },
    listInvoices: (orgId) => requireOrg(orgId).invoices.map((i) => metadataView(i, v2)),
    getInvoice: (orgId, invoiceId) => view(requireInvoice(orgId, invoiceId)),
    csvStream(orgId, invoiceId) {
      const spec = store.csvSpec(orgId, invoiceId);
      if (spec !== undefined) return createGeneratedCsvStream(spec);
      return Readable.from([Buffer.from(csvOf(requireOrg(orgId), requireInvoice(orgId, invoiceId)), 'utf8')]);
    },
    csvText(orgId, invoiceId) {
      if (store.csvSpec(orgId, invoiceId) !== undefined) {
        throw new Error('sandbox: this invoice serves a generated CSV; read it with csvStream()');
      }
      return csvOf(requireOrg(orgId), requireInvoice(orgId, invoiceId));
    },
    injectFault(fault) {
      const active: ActiveFault = { spec: fault, left: fault.times ?? 1 };
      faults.push(active);
      return {
        remaining: () => active.left,
        cancel: () => {
          active.left = 0;
        },
      };
    },
    clearFaults() {
      faults.length = 0;
    },
    setRateLimitTokens: (orgId, tokens) => limiter.setTokens(orgId, tokens),
    tokensIssued: () => authority.tokensIssued(),
    expireNonces: () => authority.expireNonces(),
    revokeAllTokens: () => authority.revokeAllTokens(),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

type Route =
  | { readonly kind: 'oauth'; readonly action: 'token' | 'revoke'; readonly flavour: 'oauth' }
  | {
      readonly kind: 'invoices';
      readonly flavour: ApiFlavour;
      readonly prefix: string;
      readonly orgId: string;
      readonly invoiceId: string | undefined;
      readonly csv: boolean;
    };

function matchRoute(path: string): Route | undefined {
  if (path === '/api/oauth/token') return { kind: 'oauth', action: 'token', flavour: 'oauth' };
  if (path === '/api/oauth/revoke') return { kind: 'oauth', action: 'revoke', flavour: 'oauth' };
  for (const [flavour, prefix] of FLAVOUR_PREFIXES) {
    if (!path.startsWith(`${prefix}/`)) continue;
    const match = INVOICE_ROUTE.exec(path.slice(prefix.length));
    if (match === null) return undefined;
    const [, orgId = '', invoiceId, csv] = match;
    return { kind: 'invoices', flavour, prefix, orgId, invoiceId, csv: csv !== undefined };
  }
  return undefined;
}

function path(prefix: string, orgId: string, invoiceId: string | undefined, csv: boolean): string {
  return `${prefix}/orgs/${orgId}/invoices${invoiceId === undefined ? '' : `/${invoiceId}`}${csv ? '/csv' : ''}`;
}

function authKind(authorization: string | undefined): AuthKind {
  const scheme = authorization?.trim().split(/\s+/, 1)[0]?.toLowerCase();
  if (scheme === undefined || scheme === '') return 'none';
  if (scheme === 'bearer' || scheme === 'digest' || scheme === 'basic') return scheme;
  return 'other';
}

function groupQuery(params: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of params) {
    const values = out[key] ?? [];
    values.push(value);
    out[key] = values;
  }
  return out;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  contentType = 'application/json',
  pretty = false,
) {
  const bytes = Buffer.from(pretty ? `${JSON.stringify(body, null, 2)}\n` : JSON.stringify(body), 'utf8');
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(bytes.length) });
  res.end(bytes);
}

function defaultErrorCode(status: number): string {
  if (status === 429) return 'RATE_LIMITED';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'USER_UNAUTHORIZED';
  if (status === 404) return 'RESOURCE_NOT_FOUND';
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  return status >= 500 ? 'UNEXPECTED_ERROR' : 'INVALID_REQUEST';
}

function booleanParam(params: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new HttpError(
    400,
    'INVALID_PARAMETER',
    `Invalid ${name} value ${raw.slice(0, 20)}: must be true or false.`,
  );
}

function integerParam(params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^-?\d{1,9}$/.test(raw)) {
    throw new HttpError(
      400,
      'INVALID_PARAMETER',
      `Invalid ${name} value ${raw.slice(0, 20)}: must be an integer.`,
    );
  }
  return Number(raw);
}

function enumParam(
  params: URLSearchParams,
  name: string,
  allowed: readonly string[],
  fallback: string,
): string {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!allowed.includes(raw)) {
    throw new HttpError(400, 'INVALID_ENUM_VALUE', `Invalid ${name} value ${raw.slice(0, 20)}.`);
  }
  return raw;
}

function dateParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const at = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(at))
    throw new HttpError(400, 'INVALID_DATE', `Invalid ${name} value ${raw.slice(0, 20)}.`);
  return at;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > 64 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
