import { afterEach, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  DEMO_API_KEY,
  DEMO_SERVICE_ACCOUNT,
  startAtlasSandbox,
} from '../../infra/local/atlas-sandbox';
import { AtlasApiError, describeError } from '../../lib/errors';
import { recordingLogger } from '../support/fakes';
import { apiKey, serviceAccount, useAtlasClients } from './support';

let sandbox: AtlasSandbox;

async function setUp(options: Parameters<typeof startAtlasSandbox>[0] = {}) {
  sandbox = await startAtlasSandbox({ orgs: [{ name: 'Auth Org', invoices: 3 }], ...options });
  const orgId = sandbox.orgIds()[0] ?? '';
  return { orgId };
}

const atlasClient = useAtlasClients(() => sandbox);

function client(
  credentials: ReturnType<typeof serviceAccount>,
  extra: { log?: ReturnType<typeof recordingLogger> } = {},
) {
  return atlasClient({ credentials, ...extra });
}

afterEach(async () => {
  await sandbox.close();
});

describe('service account authentication', () => {
  it('exchanges the client credentials for a token and calls the API with it', async () => {
    const { orgId } = await setUp();

    const invoices = await client(serviceAccount()).listInvoices(orgId);

    expect(invoices).toHaveLength(3);
    const [token, list] = sandbox.requests;
    expect(token).toMatchObject({ method: 'POST', path: '/api/oauth/token', auth: 'basic', status: 200 });
    expect(list).toMatchObject({ auth: 'bearer', status: 200 });
  });

  it('reuses one token across calls and fetches only one for concurrent callers', async () => {
    const { orgId } = await setUp();
    const atlas = client(serviceAccount());
    const [first] = await atlas.listInvoices(orgId);

    await Promise.all(Array.from({ length: 8 }, () => atlas.getInvoice(orgId, first?.id ?? '')));
    await atlas.getPendingInvoices(orgId);

    expect(sandbox.tokensIssued()).toBe(1);
    expect(sandbox.requests.filter((r) => r.path === '/api/oauth/token')).toHaveLength(1);
  });

  it('fetches one token for many concurrent first calls', async () => {
    const { orgId } = await setUp();
    const atlas = client(serviceAccount());

    await Promise.all(Array.from({ length: 6 }, () => atlas.getPendingInvoices(orgId)));

    expect(sandbox.tokensIssued()).toBe(1);
  });

  it('drops a token Atlas no longer accepts and retries once with a fresh one', async () => {
    const { orgId } = await setUp();
    const atlas = client(serviceAccount());
    await atlas.listInvoices(orgId);
    sandbox.revokeAllTokens();

    const invoices = await atlas.listInvoices(orgId);

    expect(invoices).toHaveLength(3);
    expect(sandbox.tokensIssued()).toBe(2);
    expect(sandbox.requests.map((r) => r.status)).toEqual([200, 200, 401, 200, 200]);
  });

  it('fails with an AtlasApiError 401 naming what to check, without the secret anywhere', async () => {
    const { orgId } = await setUp();
    const secret = 'mdb_sa_sk_wrong-secret-value-123';
    const log = recordingLogger();
    const { lines } = log;
    const atlas = client(serviceAccount({ clientId: DEMO_SERVICE_ACCOUNT.clientId, clientSecret: secret }), {
      log,
    });

    const error = await atlas.listInvoices(orgId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ status: 401, errorCode: 'invalid_client', path: '/api/oauth/token' });
    expect((error as Error).message).toContain('ATLAS_CLIENT_ID, ATLAS_CLIENT_SECRET');
    expect(JSON.stringify(describeError(error))).not.toContain(secret);
    expect(`${(error as Error).message} ${String((error as Error).cause)}`).not.toContain(secret);
    expect(lines.join('\n')).not.toContain(secret);
    expect(sandbox.requests.filter((r) => r.path !== '/api/oauth/token')).toHaveLength(0);
  });
});

describe('API key (HTTP Digest) authentication', () => {
  it.each(['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'] as const)(
    'answers an %s challenge',
    async (algorithm) => {
      const { orgId } = await setUp({ digestAlgorithm: algorithm });

      const invoices = await client(apiKey()).listInvoices(orgId);

      expect(invoices).toHaveLength(3);
      expect(sandbox.requests.map((r) => [r.auth, r.status])).toEqual([
        ['none', 401],
        ['digest', 200],
      ]);
    },
  );

  it('reuses the nonce with an incrementing count instead of a challenge per request', async () => {
    const { orgId } = await setUp();
    const atlas = client(apiKey());

    const [first] = await atlas.listInvoices(orgId);
    await atlas.getInvoice(orgId, first?.id ?? '');
    await atlas.getPendingInvoices(orgId);

    expect(sandbox.requests.map((r) => r.status)).toEqual([401, 200, 200, 200]);
  });

  it('answers stale=true again without treating it as bad credentials', async () => {
    const { orgId } = await setUp();
    const atlas = client(apiKey());
    await atlas.listInvoices(orgId);
    sandbox.expireNonces();

    const pending = await atlas.getPendingInvoices(orgId);

    expect(pending).toHaveLength(1);
    expect(sandbox.requests.map((r) => r.status)).toEqual([401, 200, 401, 200]);
  });

  it('fails with an AtlasApiError 401 for a wrong private key, without the key anywhere', async () => {
    const { orgId } = await setUp();
    const privateKey = 'wrong-private-key-0000-aaaa';
    const log = recordingLogger();
    const { lines } = log;

    const error = await client(apiKey({ publicKey: DEMO_API_KEY.publicKey, privateKey }), { log })
      .listInvoices(orgId)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ status: 401 });
    expect((error as Error).message).toContain('ATLAS_PUBLIC_KEY, ATLAS_PRIVATE_KEY');
    expect(JSON.stringify(describeError(error))).not.toContain(privateKey);
    expect(lines.join('\n')).not.toContain(privateKey);
    expect(sandbox.requests).toHaveLength(2);
  });
});
