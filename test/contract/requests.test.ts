import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  DEMO_ORG_ID,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../infra/local/atlas-sandbox';
import { type AtlasClientOptions, createAtlasClient } from '../../lib/atlas/client';
import type { ApiFlavour } from '../../lib/atlas/types';
import { apiKey, bearerToken, FAST_RETRY, rawGet, serviceAccount, textOf } from '../atlas/support';
import { demoWithPayer, PAYER } from './sandbox';

let sandbox: AtlasSandbox;

beforeEach(async () => {
  sandbox = await startAtlasSandbox(
    demoWithPayer({ name: 'Payer' }, { serviceAccounts: [DEMO_SERVICE_ACCOUNT] }),
  );
});

afterEach(async () => {
  await sandbox.close();
});

/** Every operation the client has, with every option that changes the request. */
async function exercise(options: Partial<AtlasClientOptions>) {
  const atlas = createAtlasClient({
    baseUrl: sandbox.url,
    credentials: serviceAccount(),
    retry: FAST_RETRY,
    ...options,
  });
  try {
    const invoices = await atlas.listInvoices(DEMO_ORG_ID);
    await atlas.listInvoices(DEMO_ORG_ID, {
      statusNames: ['PAID', 'FAILED'],
      fromDate: '2020-01-01',
      toDate: '2099-12-31',
    });
    await atlas.listInvoices(PAYER, { viewLinkedInvoices: true });
    await atlas.getInvoice(DEMO_ORG_ID, invoices[1]?.id ?? '');
    await atlas.getPendingInvoices(DEMO_ORG_ID);
    await textOf((await atlas.getInvoiceCsv(DEMO_ORG_ID, invoices[2]?.id ?? '')).body);
  } finally {
    await atlas.close();
  }
}

describe('requests the client sends', () => {
  it.each<[string, Partial<AtlasClientOptions>]>([
    ['v2 with a service account', {}],
    ['v2 with an API key', { credentials: apiKey() }],
    ['v2 with envelope and pretty', { envelope: true, pretty: true }],
    ['v2 with small pages', { itemsPerPage: 5 }],
    ['Atlas v1.0', { flavour: 'v1' as ApiFlavour }],
    ['Cloud Manager v1.0', { flavour: 'cloud-manager' as ApiFlavour, envelope: true }],
  ])('match the spec: %s', async (_name, options) => {
    await exercise(options);

    expect(sandbox.violations).toEqual([]);
    expect(sandbox.requests.filter((r) => r.path !== '/api/oauth/token').length).toBeGreaterThanOrEqual(6);
  });
});

describe("the sandbox's spec check", () => {
  it('records and refuses a v2 request with a plain JSON Accept', async () => {
    const token = await bearerToken(sandbox.url);

    const response = await rawGet(sandbox.url, `/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices`, {
      accept: 'application/json',
      authorization: `Bearer ${token}`,
    });

    expect(response.status).toBe(406);
    expect(sandbox.violations).toHaveLength(1);
    expect(sandbox.violations[0]?.problem).toContain('Accept "application/json" is not one of');
  });

  it('records a CSV Accept sent to the list, an undeclared parameter and a bad value', async () => {
    const token = await bearerToken(sandbox.url);
    const headers = { authorization: `Bearer ${token}` };

    await rawGet(sandbox.url, `/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices?page=2`, {
      ...headers,
      accept: 'application/vnd.atlas.2023-01-01+json',
    });
    await rawGet(
      sandbox.url,
      `/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices?includeCount=maybe&statusNames=LOST`,
      {
        ...headers,
        accept: 'application/vnd.atlas.2023-01-01+csv',
      },
    );

    const problems = sandbox.violations.map((v) => v.problem);
    expect(problems).toContainEqual(expect.stringContaining('query parameter page is not declared'));
    expect(problems).toContainEqual(
      expect.stringContaining('query parameter includeCount must be true or false'),
    );
    expect(problems).toContainEqual(expect.stringContaining('query parameter statusNames must be one of'));
    expect(problems).toContainEqual(expect.stringContaining('Accept "application/vnd.atlas.2023-01-01+csv"'));
  });

  it('records a Cloud Manager list request with a v2-only filter and an unknown path', async () => {
    const token = await bearerToken(sandbox.url);
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };

    await rawGet(sandbox.url, `/api/public/v1.0/orgs/${DEMO_ORG_ID}/invoices?statusNames=PAID`, headers);
    await rawGet(sandbox.url, `/api/atlas/v2/orgs/${DEMO_ORG_ID}/bills`, headers);

    expect(sandbox.violations.map((v) => v.problem)).toEqual([
      expect.stringContaining('query parameter statusNames is not declared'),
      expect.stringContaining('is not in the spec'),
    ]);
  });
});
