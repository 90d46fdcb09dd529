import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPollHandler } from '../../functions/poll-invoices';
import { csvKey } from '../../lib/archive/keys';
import { PollFailedError, type PollReport } from '../../lib/poll/report';
import { BUCKET, type StandIns, sandboxCsv, startStandIns } from '../poll/stand-ins';
import { invokePoll, QUICK, standInDeps } from './poll-handler';

/**
 * Two organisations, each readable only with its own service account (the sandbox enforces a credential's `orgIds`
 * as Atlas does), polled in one run by the real poll handler configured from the environment alone: organisation A
 * through the default ATLAS_CLIENT_ID pair, organisation B through its ATLAS_ORG_CREDENTIALS entry.
 */
const ORG_A = '65f0c0ffee00de0000000a01';
const ORG_B = '65f0c0ffee00de0000000b02';
const ACCOUNT_A = {
  clientId: 'mdb_sa_id_0000000000000000000000a1',
  clientSecret: 'mdb_sa_sk_org-a-only-secret',
};
const ACCOUNT_B = {
  clientId: 'mdb_sa_id_0000000000000000000000b2',
  clientSecret: 'mdb_sa_sk_org-b-only-secret',
};
const WRONG_SECRET = 'mdb_sa_sk_not-org-b-secret';
const CHANNEL = 'C0ORGCREDS';

let standIns: StandIns;
let runs = 0;

beforeAll(async () => {
  standIns = await startStandIns({
    orgs: [
      { id: ORG_A, name: 'Org A', invoices: 2 },
      { id: ORG_B, name: 'Org B', invoices: 3 },
    ],
    serviceAccounts: [
      { ...ACCOUNT_A, orgIds: [ORG_A] },
      { ...ACCOUNT_B, orgIds: [ORG_B] },
    ],
  });
  // Required by the handler's type; never called, since APP_SECRET_ID is not set.
});

afterAll(async () => {
  await standIns.close();
});

/** A cold start of the real handler with this environment and a fresh archive prefix; returns its report. */
async function poll(orgBCredential: { clientId: string; clientSecret: string }) {
  const { sandbox, slack } = standIns;
  runs += 1;
  const prefix = `org-credentials-${runs}/`;
  const logs: string[] = [];
  const handler = createPollHandler(
    {
      env: {
        ATLAS_ORG_IDS: `${ORG_A},${ORG_B}`,
        ATLAS_BASE_URL: sandbox.url,
        ATLAS_CLIENT_ID: ACCOUNT_A.clientId,
        ATLAS_CLIENT_SECRET: ACCOUNT_A.clientSecret,
        ATLAS_ORG_CREDENTIALS: JSON.stringify({ [ORG_B]: orgBCredential }),
        ARCHIVE_BUCKET: BUCKET,
        ARCHIVE_PREFIX: prefix,
        S3_FORCE_PATH_STYLE: 'true',
        SLACK_BOT_TOKEN: slack.token,
        SLACK_CHANNEL: CHANNEL,
        SLACK_API_URL: slack.apiUrl,
      },
      ...standInDeps(standIns, logs),
    },
    QUICK,
  );
  let report: PollReport;
  try {
    report = await invokePoll(handler);
  } catch (error) {
    if (!(error instanceof PollFailedError)) throw error;
    report = error.report;
  }
  return { report, prefix, logs };
}

async function archivedEverything(prefix: string, orgId: string): Promise<boolean> {
  const { sandbox, s3 } = standIns;
  for (const invoice of sandbox.listInvoices(orgId)) {
    const stored = await s3.getObjectBytes(BUCKET, csvKey(prefix, orgId, invoice.startDate, invoice.id));
    if (!stored.equals(await sandboxCsv(sandbox, orgId, invoice.id))) return false;
  }
  return true;
}

describe('two organisations with different credentials in one poll', () => {
  it('reads and archives each with its own service account', async () => {
    const { report, prefix, logs } = await poll(ACCOUNT_B);

    expect(report.ok).toBe(true);
    expect(report.orgs.map((org) => [org.orgId, org.invoicesSeen, org.archived, org.errors.length])).toEqual([
      [ORG_A, 2, 2, 0],
      [ORG_B, 3, 3, 0],
    ]);
    expect(await archivedEverything(prefix, ORG_A)).toBe(true);
    expect(await archivedEverything(prefix, ORG_B)).toBe(true);
    const all = logs.join('\n');
    for (const secret of [ACCOUNT_A.clientSecret, ACCOUNT_B.clientSecret]) expect(all).not.toContain(secret);
  });

  it('still polls the other organisation when one organisation credential is wrong', async () => {
    const { report, prefix, logs } = await poll({ clientId: ACCOUNT_B.clientId, clientSecret: WRONG_SECRET });

    expect(report.ok).toBe(false);
    const [orgA, orgB] = report.orgs;
    expect(orgA).toMatchObject({ orgId: ORG_A, invoicesSeen: 2, archived: 2, errors: [] });
    expect(orgB?.orgId).toBe(ORG_B);
    expect(orgB?.archived).toBe(0);
    expect(orgB?.errors.map((failure) => failure.message)).toEqual([
      expect.stringContaining(`(the ATLAS_ORG_CREDENTIALS entry for ${ORG_B})`),
    ]);
    expect(await archivedEverything(prefix, ORG_A)).toBe(true);
    const all = logs.join('\n');
    expect(all).toContain('poll failed');
    for (const secret of [ACCOUNT_A.clientSecret, WRONG_SECRET]) expect(all).not.toContain(secret);
  });
});
