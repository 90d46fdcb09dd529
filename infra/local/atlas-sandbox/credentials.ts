import type { ApiKeySeed, ServiceAccountSeed } from './auth';

/**
 * Credentials the sandbox accepts by default, for `npm start` with nothing configured. They open nothing but the
 * local sandbox; they are not secrets.
 */
export const DEMO_SERVICE_ACCOUNT: ServiceAccountSeed = {
  clientId: 'mdb_sa_id_000000000000000000sandbox',
  clientSecret: 'mdb_sa_sk_sandbox-local-only-not-a-secret',
};

export const DEMO_API_KEY: ApiKeySeed = {
  publicKey: 'sandboxpk',
  privateKey: '00000000-0000-4000-8000-5a4db0c0ffee',
};
