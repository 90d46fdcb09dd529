import { DEMO_API_KEY, DEMO_SERVICE_ACCOUNT } from './credentials';
import type { AtlasSandboxOptions } from './server';
import type { InvoiceSeed, OrgSeed } from './store';

export { DEMO_API_KEY, DEMO_SERVICE_ACCOUNT };

export const DEMO_ORG_ID = '65f0c0ffee00de0000000001';
/** Hostile on purpose: non-ASCII, `&`, `<`, `>` and quotes must survive CSV, JSON, Slack and terminals. */
export const DEMO_ORG_NAME = 'Ünïcode & <Co> "Demo"';

/**
 * Fourteen months, newest first: the current month PENDING (accruing daily), last month CLOSED (the story pays it
 * two days on), one FAILED (paid three days on), one FORGIVEN, the rest PAID; one month with a credit line and one
 * with a starting balance.
 */
const DEMO_INVOICES: readonly InvoiceSeed[] = [
  { statusName: 'PENDING' },
  { statusName: 'CLOSED' },
  { statusName: 'FAILED' },
  { statusName: 'PAID', creditCents: 5_000 },
  { statusName: 'PAID' },
  { statusName: 'PAID', startingBalanceCents: 1_250 },
  { statusName: 'FORGIVEN' },
  { statusName: 'PAID' },
  { statusName: 'PAID' },
  { statusName: 'PAID' },
  { statusName: 'PAID' },
  { statusName: 'PAID' },
  { statusName: 'PAID' },
  { statusName: 'PAID' },
];

export const DEMO_ORG: OrgSeed = {
  id: DEMO_ORG_ID,
  name: DEMO_ORG_NAME,
  invoices: DEMO_INVOICES,
  projects: ['Production, "EU"', '日本語プロジェクト', '<!channel> staging & QA', 'Analytics — Ω'],
  live: true,
  lineItems: 'daily',
  taxRateBasisPoints: 825,
};

/**
 * Ready options for the local run: the demo organisation, the demo service account and API key, Atlas's rate limit.
 * Pass overrides (e.g. a fixed `clock` or `port`) as the argument.
 */
export function createDemoSandboxOptions(overrides: Partial<AtlasSandboxOptions> = {}): AtlasSandboxOptions {
  return {
    orgs: [DEMO_ORG],
    serviceAccounts: [DEMO_SERVICE_ACCOUNT],
    apiKeys: [DEMO_API_KEY],
    ...overrides,
  };
}
