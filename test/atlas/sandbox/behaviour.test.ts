import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  type AtlasSandboxOptions,
  createDemoSandboxOptions,
  DEMO_ORG_ID,
  DEMO_ORG_NAME,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../../infra/local/atlas-sandbox';
import { bearerToken, rawGet } from '../support';

const JSON_V2 = 'application/vnd.atlas.2023-01-01+json';
let sandbox: AtlasSandbox;

afterEach(async () => {
  await sandbox.close();
});

async function start(options: AtlasSandboxOptions) {
  sandbox = await startAtlasSandbox(options);
  return sandbox;
}

async function get(path: string, accept = JSON_V2, token?: string) {
  return rawGet(sandbox.url, path, {
    accept,
    authorization: `Bearer ${token ?? (await bearerToken(sandbox.url))}`,
  });
}

describe('demo organisation', () => {
  it('has fourteen months in mixed statuses under a hostile name', async () => {
    await start(createDemoSandboxOptions({ clock: () => Date.parse('2024-06-15T10:00:00Z') }));

    const invoices = sandbox.listInvoices(DEMO_ORG_ID);

    expect(invoices).toHaveLength(14);
    expect(invoices.map((i) => i.statusName).slice(0, 3)).toEqual(['PENDING', 'CLOSED', 'FAILED']);
    expect(new Set(invoices.map((i) => i.statusName))).toEqual(
      new Set(['PENDING', 'CLOSED', 'FAILED', 'PAID', 'FORGIVEN']),
    );
    expect(invoices[0]?.startDate).toBe('2024-06-01T00:00:00Z');
    expect(invoices[13]?.startDate).toBe('2023-05-01T00:00:00Z');
    expect(sandbox.csvText(DEMO_ORG_ID, invoices[0]?.id ?? '')).toContain('"Ünïcode & <Co> ""Demo"""');
    expect(DEMO_ORG_NAME).toBe('Ünïcode & <Co> "Demo"');
  });

  it('is deterministic for the same seed and date', async () => {
    const clock = () => Date.parse('2024-06-15T10:00:00Z');
    const first = await startAtlasSandbox(createDemoSandboxOptions({ clock }));
    const firstIds = first.listInvoices(DEMO_ORG_ID).map((i) => [i.id, i.amountBilledCents]);
    const firstCsv = first.csvText(DEMO_ORG_ID, first.listInvoices(DEMO_ORG_ID)[2]?.id ?? '');
    await first.close();

    await start(createDemoSandboxOptions({ clock }));

    expect(sandbox.listInvoices(DEMO_ORG_ID).map((i) => [i.id, i.amountBilledCents])).toEqual(firstIds);
    expect(sandbox.csvText(DEMO_ORG_ID, sandbox.listInvoices(DEMO_ORG_ID)[2]?.id ?? '')).toBe(firstCsv);
  });
});

describe('advanceDemo', () => {
  it('accrues the pending invoice, closes it at the month boundary and opens the next one', async () => {
    await start(createDemoSandboxOptions({ clock: () => Date.parse('2024-06-28T10:00:00Z') }));
    const pending = sandbox.listInvoices(DEMO_ORG_ID)[0];
    const csvBefore = sandbox.csvText(DEMO_ORG_ID, pending?.id ?? '');

    const day1 = sandbox.advanceDemo();

    expect(day1.date).toBe('2024-06-29');
    expect(day1.changes).toContainEqual({
      orgId: DEMO_ORG_ID,
      invoiceId: pending?.id,
      kind: 'accrued',
      to: 'PENDING',
    });
    const accrued = sandbox.getInvoice(DEMO_ORG_ID, pending?.id ?? '');
    expect(accrued.updated > (pending?.updated ?? '')).toBe(true);
    expect(sandbox.csvText(DEMO_ORG_ID, pending?.id ?? '')).not.toBe(csvBefore);

    sandbox.advanceDemo();
    const boundary = sandbox.advanceDemo();

    expect(boundary.date).toBe('2024-07-01');
    expect(boundary.changes).toContainEqual({
      orgId: DEMO_ORG_ID,
      invoiceId: pending?.id,
      kind: 'status',
      from: 'PENDING',
      to: 'CLOSED',
    });
    const fresh = sandbox.listInvoices(DEMO_ORG_ID)[0];
    expect(fresh).toMatchObject({ statusName: 'PENDING', startDate: '2024-07-01T00:00:00Z' });
  });

  it('pays closed invoices two days later and failed ones three days later', async () => {
    await start(createDemoSandboxOptions({ clock: () => Date.parse('2024-06-10T10:00:00Z') }));
    const [, closed, failed] = sandbox.listInvoices(DEMO_ORG_ID);

    const steps = [sandbox.advanceDemo(), sandbox.advanceDemo(), sandbox.advanceDemo()];
    const statusChanges = steps.flatMap((s) => s.changes.filter((c) => c.kind === 'status'));

    expect(statusChanges.find((c) => c.invoiceId === closed?.id)?.from).toBe('CLOSED');
    expect(statusChanges).toContainEqual({
      orgId: DEMO_ORG_ID,
      invoiceId: failed?.id,
      kind: 'status',
      from: 'FAILED',
      to: 'PAID',
    });
    const paid = sandbox.getInvoice(DEMO_ORG_ID, failed?.id ?? '');
    expect(paid.amountPaidCents).toBe(paid.amountBilledCents);
    expect(paid.payments?.map((p) => p.statusName)).toEqual(['FAILED', 'PAID']);
  });

  it('tells the same story every time', async () => {
    const clock = () => Date.parse('2024-01-20T10:00:00Z');
    const first = await startAtlasSandbox(createDemoSandboxOptions({ clock }));
    const story = Array.from({ length: 40 }, () => first.advanceDemo());
    await first.close();

    await start(createDemoSandboxOptions({ clock }));

    expect(Array.from({ length: 40 }, () => sandbox.advanceDemo())).toEqual(story);
  });
});

describe("a story starting on another day than the clock's", () => {
  it("dates the invoices and stamps on the story's calendar while tokens keep the clock's time", async () => {
    const now = Date.parse('2024-06-03T10:00:00Z');
    await start(
      createDemoSandboxOptions({ clock: () => now, storyStart: Date.parse('2024-06-08T00:00:00Z') }),
    );
    const pending = sandbox.listInvoices(DEMO_ORG_ID)[0];
    const usageDays = () =>
      new Set(
        sandbox.getInvoice(DEMO_ORG_ID, pending?.id ?? '').lineItems?.map((i) => i.startDate?.slice(0, 10)),
      );

    expect(new Date(sandbox.calendar()).toISOString()).toBe('2024-06-08T10:00:00.000Z');
    expect([...usageDays()].sort().at(-1)).toBe('2024-06-08');
    expect(usageDays().size).toBe(8);
    expect(pending?.updated).toBe('2024-06-08T10:00:00Z');

    const step = sandbox.advanceDemo();

    expect(step.date).toBe('2024-06-09');
    expect(new Date(sandbox.calendar()).toISOString()).toBe('2024-06-09T10:00:00.000Z');
    expect([...usageDays()].sort().at(-1)).toBe('2024-06-09');
    expect(sandbox.getInvoice(DEMO_ORG_ID, pending?.id ?? '').updated).toBe('2024-06-09T12:00:00Z');
    expect((await get(`/api/atlas/v2/orgs/${DEMO_ORG_ID}/invoices`)).status).toBe(200);
  });
});

describe('control methods', () => {
  it('touch bumps updated and changes a pending CSV, but only updated of a paid one', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 2 }] });
    const orgId = sandbox.orgIds()[0] ?? '';
    const [pending, paid] = sandbox.listInvoices(orgId);
    const pendingCsv = sandbox.csvText(orgId, pending?.id ?? '');
    const paidCsv = sandbox.csvText(orgId, paid?.id ?? '');

    const touchedPending = sandbox.touch(orgId, pending?.id ?? '');
    const touchedPaid = sandbox.touch(orgId, paid?.id ?? '');

    expect(touchedPending.updated > (pending?.updated ?? '')).toBe(true);
    expect(touchedPaid.updated > (paid?.updated ?? '')).toBe(true);
    expect(sandbox.csvText(orgId, pending?.id ?? '')).not.toBe(pendingCsv);
    expect(sandbox.csvText(orgId, paid?.id ?? '')).toBe(paidCsv);
  });

  it('setStatus records a payment and addInvoice adds the next month', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 1 }], clock: () => Date.parse('2024-03-05T00:00:00Z') });
    const orgId = sandbox.orgIds()[0] ?? '';
    const [pending] = sandbox.listInvoices(orgId);

    const closed = sandbox.setStatus(orgId, pending?.id ?? '', 'PAID');
    const added = sandbox.addInvoice(orgId);

    expect(closed.payments?.at(-1)).toMatchObject({
      statusName: 'PAID',
      amountPaidCents: closed.amountBilledCents,
    });
    expect(added).toMatchObject({ statusName: 'PENDING', startDate: '2024-04-01T00:00:00Z' });
    expect(added.id).toMatch(/^[a-f0-9]{24}$/);
    expect(sandbox.listInvoices(orgId).map((i) => i.id)).toEqual([added.id, pending?.id]);
  });
});

describe('authentication endpoints', () => {
  it('sends the digest challenge exactly as Atlas does, with the Atlas error body', async () => {
    await start({ orgs: [{ name: 'Org' }] });

    const response = await rawGet(sandbox.url, `/api/atlas/v2/orgs/${sandbox.orgIds()[0]}/invoices`, {
      accept: JSON_V2,
    });

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(
      /^Digest realm="MMS Public API", domain="", nonce="[^"]+", algorithm=MD5, qop="auth", stale=false$/,
    );
    expect(response.json).toMatchObject({ error: 401, errorCode: 'UNAUTHORIZED', reason: 'Unauthorized' });
  });

  it('expires tokens with the clock', async () => {
    let now = Date.parse('2024-06-15T10:00:00Z');
    await start({ orgs: [{ name: 'Org' }], clock: () => now, tokenTtlSeconds: 60 });
    const token = await bearerToken(sandbox.url);
    const path = `/api/atlas/v2/orgs/${sandbox.orgIds()[0]}/invoices`;

    expect((await get(path, JSON_V2, token)).status).toBe(200);
    now += 61_000;
    expect((await get(path, JSON_V2, token)).status).toBe(401);
  });

  it('refuses a wrong client secret, a wrong grant type and a 101st live token', async () => {
    await start({ maxTokensPerAccount: 2 });
    const post = (authorization: string, body: string) =>
      request(`${sandbox.url}/api/oauth/token`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }).then(async (r) => ({ status: r.statusCode, body: await r.body.json() }));
    const basic = (secret: string) =>
      `Basic ${Buffer.from(`${DEMO_SERVICE_ACCOUNT.clientId}:${secret}`).toString('base64')}`;

    expect(await post(basic('nope'), 'grant_type=client_credentials')).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect((await post(basic(DEMO_SERVICE_ACCOUNT.clientSecret), 'grant_type=password')).status).toBe(400);
    await post(basic(DEMO_SERVICE_ACCOUNT.clientSecret), 'grant_type=client_credentials');
    const second = await post(basic(DEMO_SERVICE_ACCOUNT.clientSecret), 'grant_type=client_credentials');
    expect(second).toMatchObject({ status: 200, body: { expires_in: 3600, token_type: 'Bearer' } });
    expect(
      await post(basic(DEMO_SERVICE_ACCOUNT.clientSecret), 'grant_type=client_credentials'),
    ).toMatchObject({
      status: 403,
      body: { error: 'access_denied' },
    });
  });

  it('revokes a token', async () => {
    await start({ orgs: [{ name: 'Org' }] });
    const token = await bearerToken(sandbox.url);
    const basic = `Basic ${Buffer.from(`${DEMO_SERVICE_ACCOUNT.clientId}:${DEMO_SERVICE_ACCOUNT.clientSecret}`).toString('base64')}`;

    const revoked = await request(`${sandbox.url}/api/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(token)}&token_type_hint=access_token`,
    });
    await revoked.body.dump();

    expect(revoked.statusCode).toBe(200);
    expect((await get(`/api/atlas/v2/orgs/${sandbox.orgIds()[0]}/invoices`, JSON_V2, token)).status).toBe(
      401,
    );
  });
});

describe('API behaviour', () => {
  it('paginates with absolute self, next and previous links and totalCount', async () => {
    await start({ orgs: [{ name: 'Org', invoices: 5 }], rateLimit: false });
    const orgId = sandbox.orgIds()[0] ?? '';

    const page = await get(`/api/atlas/v2/orgs/${orgId}/invoices?itemsPerPage=2&pageNum=2`);
    const body = page.json as {
      links: { rel: string; href: string }[];
      results: unknown[];
      totalCount: number;
    };

    expect(page.headers['content-type']).toBe(JSON_V2);
    expect(body.totalCount).toBe(5);
    expect(body.results).toHaveLength(2);
    expect(body.links.map((l) => l.rel)).toEqual(['previous', 'self', 'next']);
    expect(body.links.find((l) => l.rel === 'next')?.href).toBe(
      `${sandbox.url}/api/atlas/v2/orgs/${orgId}/invoices?itemsPerPage=2&pageNum=3`,
    );
  });

  it('refuses more than 500 items per page with a 400', async () => {
    await start({ orgs: [{ name: 'Org' }] });

    const page = await get(`/api/atlas/v2/orgs/${sandbox.orgIds()[0]}/invoices?itemsPerPage=501`);

    expect(page.status).toBe(400);
    expect(page.json).toMatchObject({ error: 400, errorCode: 'INVALID_ITEMS_PER_PAGE' });
  });

  it('answers a v2 request without a versioned Accept with 406, and a legacy one with plain JSON', async () => {
    await start({ orgs: [{ name: 'Org' }] });
    const orgId = sandbox.orgIds()[0] ?? '';

    const v2 = await get(`/api/atlas/v2/orgs/${orgId}/invoices`, 'application/json');
    const v1 = await get(`/api/atlas/v1.0/orgs/${orgId}/invoices`, 'application/json');

    expect(v2.status).toBe(406);
    expect(v2.headers['content-type']).toBe('application/json');
    expect(v2.json).toMatchObject({ errorCode: 'INVALID_VERSION_DATE' });
    expect(v1.status).toBe(200);
    expect(v1.headers['content-type']).toBe('application/json');
  });

  it('rate limits per organisation with Retry-After and RateLimit headers, refilling with the clock', async () => {
    let now = Date.parse('2024-06-15T10:00:00Z');
    await start({
      orgs: [{ name: 'A' }, { name: 'B' }],
      clock: () => now,
      rateLimit: { capacity: 2, refillPerMinute: 60 },
    });
    const [a, b] = sandbox.orgIds();
    const token = await bearerToken(sandbox.url);

    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await get(`/api/atlas/v2/orgs/${a}/invoices`, JSON_V2, token)).status);
    const limited = await get(`/api/atlas/v2/orgs/${a}/invoices/pending`, JSON_V2, token);
    const other = await get(`/api/atlas/v2/orgs/${b}/invoices`, JSON_V2, token);
    now += 1_000;
    const refilled = await get(`/api/atlas/v2/orgs/${a}/invoices`, JSON_V2, token);

    expect(statuses).toEqual([200, 200, 429]);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.headers['ratelimit-limit']).toBe('2');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.json).toMatchObject({ error: 429, errorCode: 'RATE_LIMITED' });
    expect(other.status).toBe(200);
    expect(refilled.status).toBe(200);
  });

  it('records every request with its auth kind, org and status', async () => {
    await start({ orgs: [{ name: 'Org' }] });
    const orgId = sandbox.orgIds()[0] ?? '';

    await get(`/api/atlas/v2/orgs/${orgId}/invoices?statusNames=PAID&statusNames=FAILED`);

    expect(sandbox.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: `/api/atlas/v2/orgs/${orgId}/invoices`,
      query: { statusNames: ['PAID', 'FAILED'] },
      accept: JSON_V2,
      auth: 'bearer',
      status: 200,
      orgId,
      flavour: 'v2',
    });
    sandbox.resetRequests();
    expect(sandbox.requests).toHaveLength(0);
  });

  it('closes promptly with a hung request open', async () => {
    await start({ orgs: [{ name: 'Org' }] });
    sandbox.injectFault({ hang: true });
    const hung = request(`${sandbox.url}/api/atlas/v2/orgs/${sandbox.orgIds()[0]}/invoices`).catch(
      (e: unknown) => e,
    );
    while (sandbox.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    await sandbox.close();

    expect(await hung).toBeInstanceOf(Error);
    sandbox = await startAtlasSandbox();
  });
});
