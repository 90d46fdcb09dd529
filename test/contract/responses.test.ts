import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  DEMO_ORG_ID,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../infra/local/atlas-sandbox';
import { bearerToken, rawGet } from '../atlas/support';
import { createOpenApiValidators, explain } from './openapi';
import { demoWithPayer, PAYER } from './sandbox';

const JSON_V2 = 'application/vnd.atlas.2023-01-01+json';
const CSV_V2 = 'application/vnd.atlas.2023-01-01+csv';
const LIST = '/api/atlas/v2/orgs/{orgId}/invoices';
const ONE = '/api/atlas/v2/orgs/{orgId}/invoices/{invoiceId}';
const CSV = '/api/atlas/v2/orgs/{orgId}/invoices/{invoiceId}/csv';
const PENDING = '/api/atlas/v2/orgs/{orgId}/invoices/pending';
const MEMBER = {
  clientId: 'mdb_sa_id_member',
  clientSecret: 'member-secret-value',
  role: 'ORG_MEMBER' as const,
};

const strict = createOpenApiValidators({ strict: true });
let sandbox: AtlasSandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startAtlasSandbox(
    demoWithPayer(
      { name: 'Payer & Co', invoices: 3 },
      { serviceAccounts: [DEMO_SERVICE_ACCOUNT, MEMBER], sunsetVersions: ['2022-10-01'] },
    ),
  );
  token = await bearerToken(sandbox.url);
});

afterAll(async () => {
  await sandbox.close();
});

/** `bearer: null` sends no credentials. */
async function fetchAs(path: string, accept = JSON_V2, bearer: string | null = token) {
  return rawGet(
    sandbox.url,
    path,
    bearer === null ? { accept } : { accept, authorization: `Bearer ${bearer}` },
  );
}

/** Asserts status, a Content-Type the spec declares, and a body valid against the declared schema. */
async function expectValid(
  path: string,
  template: string,
  status: number,
  options: { accept?: string; bearer?: string | null } = {},
) {
  const response = await fetchAs(path, options.accept, options.bearer === undefined ? token : options.bearer);
  expect(response.status, `${path}: ${response.text.slice(0, 200)}`).toBe(status);
  const contentType = String(response.headers['content-type']);
  const declared = strict.mediaTypes(template, status);
  // The list endpoint declares no 400 and none declares 406/410: Atlas still answers them with its ApiError JSON.
  const validate =
    strict.response(template, status, contentType) ?? (status >= 400 ? strict.schema('ApiError') : undefined);
  if (declared.length > 0) expect(declared).toContain(contentType);
  expect(typeof validate, `no schema for ${template} ${status} ${contentType}`).toBe('function');
  if (validate !== undefined) {
    const valid = validate(response.json);
    expect(valid, `${path}: ${explain(validate)}`).toBe(true);
  }
  return response;
}

describe('success responses validate against the official schemas', () => {
  it('list pages, with and without count, filters, sorting and pretty printing', async () => {
    const base = `/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices`;
    await expectValid(base, LIST, 200);
    await expectValid(`${base}?itemsPerPage=5&pageNum=2&includeCount=false`, LIST, 200);
    await expectValid(
      `${base}?statusNames=PAID&statusNames=FAILED&fromDate=2020-01-01&toDate=2099-01-01`,
      LIST,
      200,
    );
    await expectValid(
      `${base}?sortBy=START_DATE&orderBy=asc&pretty=true&viewLinkedInvoices=false`,
      LIST,
      200,
    );
  });

  it('a paying organisation with linked invoices', async () => {
    const response = await expectValid(
      `/api/atlas/v2/orgs/${PAYER}/invoices?viewLinkedInvoices=true`,
      LIST,
      200,
    );
    const body = response.json as { results: { linkedInvoices: unknown[] }[] };
    expect(body.results[0]?.linkedInvoices.length).toBeGreaterThan(0);
  });

  it('every invoice of the demo organisation, in every status', async () => {
    for (const invoice of sandbox.listInvoices(DEMO_ORG_ID)) {
      await expectValid(`/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices/${invoice.id}`, ONE, 200);
    }
    const paying = sandbox.listInvoices(PAYER)[0]?.id;
    await expectValid(`/api/atlas/v2/orgs/${PAYER}/invoices/${paying}`, ONE, 200);
  });

  it('the pending invoices, in both shapes', async () => {
    await expectValid(`/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices/pending`, PENDING, 200);
    sandbox.setPendingShape('object');
    try {
      const response = await fetchAs(`/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices/pending`);
      const validate = strict.schema('BillingInvoice');
      expect(validate(response.json), explain(validate)).toBe(true);
    } finally {
      sandbox.setPendingShape('list');
    }
  });

  it('enveloped bodies hold a valid entity or list', async () => {
    const list = await fetchAs(`/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices?envelope=true`);
    const { status, ...page } = list.json as { status: number };
    const validatePage = strict.schema('PaginatedApiInvoiceMetadataView');
    expect(status).toBe(200);
    expect(validatePage(page), explain(validatePage)).toBe(true);

    const invoiceId = sandbox.listInvoices(DEMO_ORG_ID)[1]?.id;
    const one = await fetchAs(
      `/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices/${invoiceId}?envelope=true&pretty=true`,
    );
    const validateOne = strict.schema('BillingInvoice');
    expect((one.json as { status: number }).status).toBe(200);
    expect(validateOne((one.json as { content: unknown }).content), explain(validateOne)).toBe(true);
  });

  it('the CSV with its declared media type', async () => {
    const invoiceId = sandbox.listInvoices(DEMO_ORG_ID)[1]?.id;

    const response = await fetchAs(`/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices/${invoiceId}/csv`, CSV_V2);

    expect(response.status).toBe(200);
    expect(strict.mediaTypes(CSV, 200)).toContain(response.headers['content-type']);
    expect(response.text.startsWith(`Invoice Number,${invoiceId},\n`)).toBe(true);
  });
});

describe('error responses validate against ApiError', () => {
  const list = (orgId = DEMO_ORG_ID) => `/api/atlas/v2/orgs/${orgId}/invoices`;

  it('401 without credentials', async () => {
    await expectValid(list(), LIST, 401, { bearer: null });
  });

  it('403 for credentials without a billing role', async () => {
    const member = await bearerToken(sandbox.url, MEMBER);
    await expectValid(list(), LIST, 403, { bearer: member });
  });

  it('404 for an unknown organisation and an unknown invoice', async () => {
    await expectValid(list('cccccccccccccccccccccccc'), LIST, 404);
    await expectValid(`${list()}/dddddddddddddddddddddddd`, ONE, 404);
    await expectValid(`${list()}/dddddddddddddddddddddddd/csv`, CSV, 404, { accept: CSV_V2 });
  });

  it('400 for more than 500 items per page', async () => {
    await expectValid(`${list()}?itemsPerPage=501`, LIST, 400);
  });

  it('406 for a wrong Accept and 410 for a sunset version', async () => {
    await expectValid(list(), LIST, 406, { accept: 'application/json' });
    await expectValid(list(), LIST, 410, { accept: 'application/vnd.atlas.2022-10-01+json' });
  });

  it('429 from the token bucket', async () => {
    sandbox.setRateLimitTokens(DEMO_ORG_ID, 0);
    const response = await expectValid(`${list()}/pending`, PENDING, 429);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('500 and 503 from injected faults', async () => {
    sandbox.injectFault({ match: { path: /\/invoices$/ }, status: 500 });
    await expectValid(list(PAYER), LIST, 500);
    sandbox.injectFault({ match: { path: /\/invoices$/ }, status: 503, retryAfterSeconds: 2 });
    const response = await fetchAs(list(PAYER));
    const validate = strict.schema('ApiError');
    expect(response.status).toBe(503);
    expect(validate(response.json), explain(validate)).toBe(true);
  });
});
