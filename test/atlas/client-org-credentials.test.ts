import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AtlasSandbox, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import type { AtlasCredentials, AtlasOrgCredentials } from '../../lib/config';
import { AtlasApiError, ConfigError } from '../../lib/errors';
import { recordingLogger } from '../support/fakes';
import { useAtlasClients } from './support';

/**
 * One client, several organisations, each with the credential that belongs to it: a service account or API key of
 * one organisation cannot read another's invoices (the sandbox enforces `orgIds` per credential, as Atlas does).
 */
const ORG_A = '65f0c0ffee00de00000000a1';
const ORG_B = '65f0c0ffee00de00000000b2';
const ORG_C = '65f0c0ffee00de00000000c3';
const ACCOUNT_AB = {
  clientId: 'mdb_sa_id_0000000000000000000000ab',
  clientSecret: 'mdb_sa_sk_shared-by-a-and-b',
};
const KEY_C = { publicKey: 'orgckey', privateKey: '11111111-2222-4333-8444-5555org0000c' };

let sandbox: AtlasSandbox;

beforeAll(async () => {
  sandbox = await startAtlasSandbox({
    orgs: [
      { id: ORG_A, name: 'Org A', invoices: 2 },
      { id: ORG_B, name: 'Org B', invoices: 3 },
      { id: ORG_C, name: 'Org C', invoices: 4 },
    ],
    serviceAccounts: [{ ...ACCOUNT_AB, orgIds: [ORG_A, ORG_B] }],
    apiKeys: [{ ...KEY_C, orgIds: [ORG_C] }],
    rateLimit: false,
  });
});

afterEach(async () => {
  sandbox.clearFaults();
  sandbox.resetRequests();
});

afterAll(async () => {
  await sandbox.close();
});

const accountAB: AtlasCredentials = { kind: 'service-account', ...ACCOUNT_AB };
const keyC: AtlasCredentials = { kind: 'api-key', ...KEY_C };

function perOrg(byOrg: Record<string, AtlasCredentials>, fallback?: AtlasCredentials): AtlasOrgCredentials {
  return { kind: 'per-organisation', fallback, byOrg: new Map(Object.entries(byOrg)) };
}

const atlasClient = useAtlasClients(() => sandbox);

function client(credentials: AtlasOrgCredentials, log = recordingLogger()) {
  return atlasClient({ credentials, log });
}

describe('per-organisation credentials', () => {
  it('reads each organisation with its own credential, one token per service account', async () => {
    const tokensBefore = sandbox.tokensIssued();
    const atlas = client(perOrg({ [ORG_C]: keyC }, accountAB));

    const [a, b, c] = await Promise.all([ORG_A, ORG_B, ORG_C].map((org) => atlas.listInvoices(org)));

    expect([a?.length, b?.length, c?.length]).toEqual([2, 3, 4]);
    expect(sandbox.tokensIssued() - tokensBefore).toBe(1);
    const authByOrg = Object.fromEntries(
      sandbox.requests.filter((r) => r.orgId !== undefined && r.status === 200).map((r) => [r.orgId, r.auth]),
    );
    expect(authByOrg).toEqual({ [ORG_A]: 'bearer', [ORG_B]: 'bearer', [ORG_C]: 'digest' });
  });

  it('fails only the organisation whose credential is wrong, naming where it is configured', async () => {
    const wrong: AtlasCredentials = {
      kind: 'service-account',
      clientId: ACCOUNT_AB.clientId,
      clientSecret: 'mdb_sa_sk_wrong-one',
    };
    const log = recordingLogger();
    const { lines } = log;
    const atlas = client(perOrg({ [ORG_B]: wrong, [ORG_C]: keyC }, accountAB), log);

    const results = await Promise.allSettled([ORG_A, ORG_B, ORG_C].map((org) => atlas.listInvoices(org)));

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const failure = (results[1] as PromiseRejectedResult).reason;
    expect(failure).toBeInstanceOf(AtlasApiError);
    expect((failure as AtlasApiError).status).toBe(401);
    expect((failure as Error).message).toContain(`(the ATLAS_ORG_CREDENTIALS entry for ${ORG_B})`);
    expect(`${(failure as Error).message}\n${lines.join('\n')}`).not.toContain('wrong-one');
  });

  it('refuses an organisation that has no credential before sending anything', async () => {
    const atlas = client(perOrg({ [ORG_C]: keyC }));

    await expect(atlas.listInvoices(ORG_A)).rejects.toThrow(ConfigError);
    await expect(atlas.listInvoices(ORG_A)).rejects.toThrow(`has no entry for organisation ${ORG_A}`);
    expect(sandbox.requests).toEqual([]);
  });
});

describe('an Atlas API access list', () => {
  it('says which access list to add the address to, and how', async () => {
    sandbox.injectFault({
      match: { path: `/api/atlas/v2/orgs/${ORG_C}/invoices` },
      status: 403,
      errorCode: 'IP_ADDRESS_NOT_ON_ACCESS_LIST',
      detail: 'IP address 203.0.113.7 is not allowed to access this resource.',
    });
    const atlas = client(perOrg({ [ORG_C]: keyC }, accountAB));

    const error = await atlas.listInvoices(ORG_C).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect((error as AtlasApiError).errorCode).toBe('IP_ADDRESS_NOT_ON_ACCESS_LIST');
    const message = (error as Error).message;
    expect(message).toContain(
      `this machine's outbound IP address is not on the API key's API access list (the ATLAS_ORG_CREDENTIALS entry for ${ORG_C})`,
    );
    expect(message).toContain('atlas organizations apiKeys accessLists create');
    expect(message).toContain('staticEgress=true');
    expect(message).toContain('EgressIp');
    expect(message).toContain('Atlas said: IP address 203.0.113.7 is not allowed to access this resource.');
  });

  it('points a service account at its own access list', async () => {
    sandbox.injectFault({
      match: { path: `/api/atlas/v2/orgs/${ORG_A}/invoices` },
      status: 403,
      errorCode: 'IP_ADDRESS_NOT_ON_ACCESS_LIST',
    });
    const atlas = client(perOrg({}, accountAB));

    await expect(atlas.listInvoices(ORG_A)).rejects.toThrow(
      /service account's API access list \(ATLAS_CLIENT_ID, ATLAS_CLIENT_SECRET\)\. Add it in Atlas \(Organization → Access Manager → Applications → Service Accounts/,
    );
  });
});
