import { afterEach, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  type AtlasSandboxOptions,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../infra/local/atlas-sandbox';
import { type AtlasClientOptions, createAtlasClient } from '../../lib/atlas/client';
import { AtlasApiError, ValidationError } from '../../lib/errors';
import { serviceAccount, textOf, useAtlasClients } from './support';

let sandbox: AtlasSandbox;

async function start(options: AtlasSandboxOptions) {
  sandbox = await startAtlasSandbox({ rateLimit: false, ...options });
  return sandbox;
}

const atlasClient = useAtlasClients(() => sandbox);
const client = (options: Partial<AtlasClientOptions> = {}) =>
  atlasClient({ credentials: serviceAccount(), ...options });

const apiRequests = () => sandbox.requests.filter((r) => r.path !== '/api/oauth/token');

afterEach(async () => {
  await sandbox.close();
});

describe('listInvoices', () => {
  it('reads 1,200 invoices in exactly three requests of 500 without linked invoices', async () => {
    await start({ orgs: [{ name: 'Big', invoices: 1200 }] });
    const orgId = sandbox.orgIds()[0] ?? '';
    const pages: number[] = [];

    const invoices = await client().listInvoices(orgId, { onPage: (page) => pages.push(page.count) });

    expect(invoices).toHaveLength(1200);
    expect(new Set(invoices.map((i) => i.id)).size).toBe(1200);
    expect(pages).toEqual([500, 500, 200]);
    const lists = apiRequests();
    expect(lists).toHaveLength(3);
    expect(lists.map((r) => r.query.pageNum)).toEqual([['1'], ['2'], ['3']]);
    for (const request of lists) {
      expect(request.query.itemsPerPage).toEqual(['500']);
      expect(request.query.viewLinkedInvoices).toEqual(['false']);
    }
  });

  it('stops when a full page has no next link', async () => {
    await start({ orgs: [{ name: 'Exact', invoices: 1000 }] });

    const invoices = await client().listInvoices(sandbox.orgIds()[0] ?? '');

    expect(invoices).toHaveLength(1000);
    expect(apiRequests()).toHaveLength(2);
  });

  it('sends each status as its own statusNames key, and the date range', async () => {
    await start({
      orgs: [
        {
          name: 'Mixed',
          invoices: [{ statusName: 'PENDING' }, { statusName: 'FAILED' }, { statusName: 'PAID' }],
        },
      ],
    });
    const orgId = sandbox.orgIds()[0] ?? '';
    const all = sandbox.listInvoices(orgId);
    const failed = all.find((i) => i.statusName === 'FAILED');

    const invoices = await client().listInvoices(orgId, {
      statusNames: ['FAILED', 'PAID'],
      fromDate: failed?.startDate.slice(0, 10),
    });

    expect(invoices.map((i) => i.statusName)).toEqual(['FAILED']);
    const [request] = apiRequests();
    expect(request?.query.statusNames).toEqual(['FAILED', 'PAID']);
    expect(request?.query.fromDate).toEqual([failed?.startDate.slice(0, 10)]);
  });

  it('asks for linked invoices only when told to', async () => {
    await start({ orgs: [{ id: 'aaaaaaaaaaaaaaaaaaaaaaaa', name: 'Linked', invoices: 2 }] });
    sandbox.createOrg({
      id: 'bbbbbbbbbbbbbbbbbbbbbbbb',
      name: 'Payer',
      invoices: 2,
      linkedOrgIds: ['aaaaaaaaaaaaaaaaaaaaaaaa'],
    });

    const invoices = await client().listInvoices('bbbbbbbbbbbbbbbbbbbbbbbb', { viewLinkedInvoices: true });

    expect(apiRequests()[0]?.query.viewLinkedInvoices).toEqual(['true']);
    expect(invoices[0]?.linkedInvoices?.[0]?.orgId).toBe('aaaaaaaaaaaaaaaaaaaaaaaa');
  });

  it('refuses bad filter values before any request', async () => {
    await start({ orgs: [{ name: 'Org' }] });
    const orgId = sandbox.orgIds()[0] ?? '';

    await expect(client().listInvoices(orgId, { fromDate: '2024-13-45x' })).rejects.toThrow(ValidationError);
    await expect(client().listInvoices(orgId, { statusNames: ['NOPE' as 'PAID'] })).rejects.toThrow(
      ValidationError,
    );
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe('getInvoice and getPendingInvoices', () => {
  it('returns the full invoice with line items and payments', async () => {
    await start({ orgs: [{ name: 'Org', invoices: [{ statusName: 'PAID' }] }] });
    const orgId = sandbox.orgIds()[0] ?? '';
    const expected = sandbox.listInvoices(orgId)[0];

    const invoice = await client().getInvoice(orgId, expected?.id ?? '');

    expect(invoice).toEqual(sandbox.getInvoice(orgId, expected?.id ?? ''));
    expect(invoice.lineItems?.length).toBeGreaterThan(0);
    expect(invoice.payments?.[0]).toMatchObject({
      statusName: 'PAID',
      amountPaidCents: invoice.amountBilledCents,
    });
  });

  it('accepts the pending invoice as a paginated list', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 3 }], pendingShape: 'list' });
    const orgId = sandbox.orgIds()[0] ?? '';

    const pending = await client().getPendingInvoices(orgId);

    expect(pending.map((i) => i.statusName)).toEqual(['PENDING']);
    expect(pending[0]?.lineItems?.length).toBeGreaterThan(0);
  });

  it('accepts the pending invoice as a single object', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 3 }], pendingShape: 'object' });
    const orgId = sandbox.orgIds()[0] ?? '';

    const pending = await client().getPendingInvoices(orgId);

    expect(pending).toHaveLength(1);
    expect(pending[0]).toEqual(sandbox.getInvoice(orgId, pending[0]?.id ?? ''));
  });

  it('returns no pending invoice when the list is empty', async () => {
    await start({ orgs: [{ name: 'Org', invoices: [{ statusName: 'PAID' }] }] });

    expect(await client().getPendingInvoices(sandbox.orgIds()[0] ?? '')).toEqual([]);
  });
});

describe('envelope', () => {
  it('unwraps single entities and lists, and sends envelope=true', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 3 }] });
    const orgId = sandbox.orgIds()[0] ?? '';
    const atlas = client({ envelope: true, pretty: true });

    const invoices = await atlas.listInvoices(orgId);
    const invoice = await atlas.getInvoice(orgId, invoices[1]?.id ?? '');
    const pending = await atlas.getPendingInvoices(orgId);

    expect(invoices).toEqual(sandbox.listInvoices(orgId));
    expect(invoice).toEqual(sandbox.getInvoice(orgId, invoices[1]?.id ?? ''));
    expect(pending.map((i) => i.statusName)).toEqual(['PENDING']);
    for (const request of apiRequests()) {
      expect(request.query.envelope).toEqual(['true']);
      expect(request.query.pretty).toEqual(['true']);
    }
  });

  it('unwraps a single pending object sent in an envelope', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 2 }], pendingShape: 'object' });

    const pending = await client({ envelope: true }).getPendingInvoices(sandbox.orgIds()[0] ?? '');

    expect(pending.map((i) => i.statusName)).toEqual(['PENDING']);
  });
});

describe('flavours', () => {
  it('uses /api/atlas/v1.0 paths with application/json and text/csv', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 2 }] });
    const orgId = sandbox.orgIds()[0] ?? '';
    const atlas = client({ flavour: 'v1' });

    const invoices = await atlas.listInvoices(orgId);
    await atlas.getInvoice(orgId, invoices[0]?.id ?? '');
    await atlas.getPendingInvoices(orgId);
    const csv = await atlas.getInvoiceCsv(orgId, invoices[0]?.id ?? '');
    await textOf(csv.body);

    expect(
      apiRequests().map((r) => [
        r.path.replace(orgId, '{org}').replace(invoices[0]?.id ?? '', '{id}'),
        r.accept,
      ]),
    ).toEqual([
      ['/api/atlas/v1.0/orgs/{org}/invoices', 'application/json'],
      ['/api/atlas/v1.0/orgs/{org}/invoices/{id}', 'application/json'],
      ['/api/atlas/v1.0/orgs/{org}/invoices/pending', 'application/json'],
      ['/api/atlas/v1.0/orgs/{org}/invoices/{id}/csv', 'text/csv'],
    ]);
  });

  it('uses the Cloud Manager list with its own parameters and filters the pages itself', async () => {
    await start({
      orgs: [
        {
          name: 'Org',
          invoices: [{ statusName: 'PENDING' }, { statusName: 'FAILED' }, { statusName: 'PAID' }],
        },
      ],
    });
    const orgId = sandbox.orgIds()[0] ?? '';

    const invoices = await client({ flavour: 'cloud-manager' }).listInvoices(orgId, {
      statusNames: ['FAILED'],
    });

    expect(invoices.map((i) => i.statusName)).toEqual(['FAILED']);
    const [request] = apiRequests();
    expect(request?.path).toBe(`/api/public/v1.0/orgs/${orgId}/invoices`);
    expect(request?.accept).toBe('application/json');
    expect(Object.keys(request?.query ?? {}).sort()).toEqual(['itemsPerPage', 'pageNum']);
  });

  it('sends the v2 versioned Accept types exactly, with the configured version', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 1 }] });
    const orgId = sandbox.orgIds()[0] ?? '';
    const atlas = client();

    const [invoice] = await atlas.listInvoices(orgId);
    await textOf((await atlas.getInvoiceCsv(orgId, invoice?.id ?? '')).body);

    expect(apiRequests().map((r) => r.accept)).toEqual([
      'application/vnd.atlas.2023-01-01+json',
      'application/vnd.atlas.2023-01-01+csv',
    ]);
  });
});

describe('ids', () => {
  it.each([
    ['an organisation id that is too short', 'abc', undefined],
    ['an upper-case organisation id', 'AAAAAAAAAAAAAAAAAAAAAAAA', undefined],
    ['a path-traversing invoice id', 'aaaaaaaaaaaaaaaaaaaaaaaa', '../../../etc/passwd'],
    ['an invoice id with a query', 'aaaaaaaaaaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaaaaaaaaaa?x=1'],
  ])('refuses %s before any request', async (_name, orgId, invoiceId) => {
    await start({});
    const atlas = client();

    if (invoiceId === undefined) {
      await expect(atlas.listInvoices(orgId)).rejects.toThrow(ValidationError);
      await expect(atlas.getPendingInvoices(orgId)).rejects.toThrow(ValidationError);
    } else {
      await expect(atlas.getInvoice(orgId, invoiceId)).rejects.toThrow(ValidationError);
      await expect(atlas.getInvoiceCsv(orgId, invoiceId)).rejects.toThrow(ValidationError);
    }
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe('error messages', () => {
  it('explains a 403 with the role the credentials need', async () => {
    await start({
      orgs: [{ name: 'Org' }],
      serviceAccounts: [{ ...DEMO_SERVICE_ACCOUNT, role: 'ORG_MEMBER' }],
    });
    const orgId = sandbox.orgIds()[0] ?? '';

    const error = await client()
      .listInvoices(orgId)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ status: 403 });
    expect((error as Error).message).toContain('Organization Billing Viewer');
    expect((error as Error).message).toContain(orgId);
  });

  it('says linked invoices need Billing Admin when a Billing Viewer asks for them', async () => {
    await start({
      orgs: [
        { id: 'aaaaaaaaaaaaaaaaaaaaaaaa', name: 'Linked' },
        { id: 'bbbbbbbbbbbbbbbbbbbbbbbb', name: 'Payer', linkedOrgIds: ['aaaaaaaaaaaaaaaaaaaaaaaa'] },
      ],
      serviceAccounts: [{ ...DEMO_SERVICE_ACCOUNT, role: 'ORG_BILLING_VIEWER' }],
    });
    const atlas = client();

    const error = await atlas
      .listInvoices('bbbbbbbbbbbbbbbbbbbbbbbb', { viewLinkedInvoices: true })
      .catch((e) => e);

    expect((error as Error).message).toContain('linked invoices need Organization Billing Admin');
    expect(await atlas.listInvoices('bbbbbbbbbbbbbbbbbbbbbbbb')).toHaveLength(3);
  });

  it('names the organisation for a 404 of an unknown organisation', async () => {
    await start({});

    const error = await client()
      .listInvoices('cccccccccccccccccccccccc')
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 404, errorCode: 'ORG_NOT_FOUND' });
    expect((error as Error).message).toContain('no organisation cccccccccccccccccccccccc');
  });

  it('names the invoice for a 404 of an unknown invoice', async () => {
    await start({ orgs: [{ name: 'Org' }] });
    const orgId = sandbox.orgIds()[0] ?? '';

    const error = await client()
      .getInvoice(orgId, 'dddddddddddddddddddddddd')
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 404, errorCode: 'INVOICE_NOT_FOUND' });
    expect((error as Error).message).toContain('no invoice dddddddddddddddddddddddd');
  });

  it('names the API version for a 406', async () => {
    await start({ orgs: [{ name: 'Org' }] });

    const error = await client({ apiVersion: '2031-02-03' })
      .listInvoices(sandbox.orgIds()[0] ?? '')
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 406, errorCode: 'INVALID_VERSION_DATE' });
    expect((error as Error).message).toContain('API version 2031-02-03');
  });

  it('says a version was sunset for a 410', async () => {
    await start({ orgs: [{ name: 'Org' }], sunsetVersions: ['2022-10-01'] });

    const error = await client({ apiVersion: '2022-10-01' })
      .getPendingInvoices(sandbox.orgIds()[0] ?? '')
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 410, errorCode: 'VERSION_GONE' });
    expect((error as Error).message).toContain('sunset API version 2022-10-01');
  });

  it('refuses an API version that is not a date when the client is made', () => {
    expect(() =>
      createAtlasClient({
        baseUrl: 'https://cloud.mongodb.com',
        credentials: serviceAccount(),
        apiVersion: 'latest',
      }),
    ).toThrow(ValidationError);
  });
});
