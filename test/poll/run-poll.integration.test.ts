import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvKey, stateKey } from '../../lib/archive/keys';
import type { PollDeps } from '../../lib/poll/run-poll';
import { runPoll } from '../../lib/poll/run-poll';
import { gate } from '../support/gate';
import { withCrash } from './crash';
import { BUCKET, type RealPorts, realPorts, type StandIns, sandboxCsv, startStandIns } from './stand-ins';

/**
 * The poll use case against real servers (Atlas sandbox, S3 stand-in enforcing conditional writes, Slack stand-in):
 * crashes at the dangerous points and two polls racing on one organisation.
 */
let standIns: StandIns;
const opened: RealPorts[] = [];
let orgCounter = 0;

beforeAll(async () => {
  standIns = await startStandIns();
});
afterAll(async () => {
  await Promise.all(opened.map((ports) => ports.close()));
  await standIns.close();
});

/** A fresh organisation with history, polled once, then changed: CLOSED → PAID, PENDING accrued, a new month. */
async function changedOrg() {
  const { sandbox } = standIns;
  orgCounter += 1;
  const org = sandbox.createOrg({
    name: `Crash & Race <Org ${orgCounter}>`,
    invoices: [
      { statusName: 'PENDING' },
      { statusName: 'CLOSED' },
      { statusName: 'PAID' },
      { statusName: 'FAILED' },
    ],
  });
  const prefix = `run-${orgCounter}/`;
  const channel = `C0ORG${String(orgCounter).padStart(4, '0')}`;
  const ports = realPorts(standIns, { prefix, orgIds: [org.id], channel });
  opened.push(ports);
  const first = await runPoll(ports.deps);
  expect(first.ok).toBe(true);

  const [pending, closed] = sandbox.listInvoices(org.id);
  if (pending === undefined || closed === undefined) throw new Error('sandbox history is too short');
  const before = new Map<string, Buffer>();
  for (const invoice of sandbox.listInvoices(org.id))
    before.set(invoice.id, await sandboxCsv(sandbox, org.id, invoice.id));
  sandbox.setStatus(org.id, closed.id, 'PAID');
  sandbox.touch(org.id, pending.id);
  sandbox.addInvoice(org.id);
  return { orgId: org.id, prefix, channel, ports, before };
}

/** Everything that must hold once the work of the changes is complete. */
/**
 * `racing`: two polls that both read the state before either saved may both upload the same new content (as they
 * would on real S3): at most one extra version of it, never a lost one.
 */
async function expectAllWorkDone(
  org: Awaited<ReturnType<typeof changedOrg>>,
  options: { racing?: boolean } = {},
) {
  const { sandbox, s3 } = standIns;
  const state = JSON.parse((await s3.getObjectBytes(BUCKET, stateKey(org.prefix, org.orgId))).toString());
  for (const invoice of sandbox.listInvoices(org.orgId)) {
    const key = csvKey(org.prefix, org.orgId, invoice.startDate, invoice.id);
    const now = await sandboxCsv(sandbox, org.orgId, invoice.id);
    expect((await s3.getObjectBytes(BUCKET, key)).equals(now)).toBe(true);
    // One version per distinct content: nothing identical was written twice, crash or not.
    const previous = org.before.get(invoice.id);
    const contents = previous === undefined || previous.equals(now) ? 1 : 2;
    const versions = s3.listVersions(BUCKET, key).length;
    if (options.racing) {
      expect(versions).toBeGreaterThanOrEqual(contents);
      expect(versions).toBeLessThanOrEqual(contents + 1);
    } else {
      expect(versions).toBe(contents);
    }
    expect(state.invoices[invoice.id]).toMatchObject({
      statusName: invoice.statusName,
      updated: invoice.updated,
      notifiedStatus: invoice.statusName,
      archived: { statusName: invoice.statusName, updated: invoice.updated },
    });
  }
}

describe('a crash between archive, notify and save', () => {
  const points = [
    { after: 'archive.archiveCsv', nth: 1 },
    { after: 'indexStore.writeIndex', nth: 1 },
    { after: 'notifier.post', nth: 1 },
    { after: 'archive.archiveCsv', nth: 3 },
    { after: 'notifier.post', nth: 2 },
    { after: 'stateStore.writeState', nth: 1 },
  ];

  it.each(points)(
    'after $after #$nth is followed by a run that completes the work and loses nothing',
    async (point) => {
      const org = await changedOrg();
      const { slack } = standIns;
      const crashed = withCrash(org.ports.deps, point);

      const crashReport = await runPoll(crashed.deps);
      const postedBeforeCrash = slack.messagesIn(org.channel).map((m) => m.text);
      const recovery = await runPoll(org.ports.deps);
      const all = slack.messagesIn(org.channel).map((m) => m.text ?? '');

      expect(crashed.crash.tripped).toBe(true);
      expect(recovery.ok).toBe(true);
      await expectAllWorkDone(org);
      // Exactly one message per status change (the first run's summary, the CLOSED → PAID and the new invoice)...
      const distinct = [...new Set(all)];
      expect(distinct).toHaveLength(3);
      expect(distinct.filter((t) => t.includes('is now PAID (was CLOSED)'))).toHaveLength(1);
      expect(distinct.filter((t) => t.includes('is now PENDING:'))).toHaveLength(1);
      // ...and a repeat only of what was posted after the run started and before a crash that prevented its save.
      const savedBeforeCrash = crashReport.orgs[0]?.saved === true;
      const repeats = all.filter((text, i) => all.indexOf(text) !== i);
      const postedInCrashedRun = postedBeforeCrash.slice(1);
      expect(repeats).toEqual(savedBeforeCrash ? [] : postedInCrashedRun);
    },
  );
});

describe('two polls racing on the same organisation', () => {
  it('lets exactly one save win; the other re-reads, merges and saves, and no change is lost', async () => {
    const org = await changedOrg();
    const { sandbox, s3, slack } = standIns;
    const second = realPorts(standIns, { prefix: org.prefix, orgIds: [org.orgId], channel: org.channel });
    opened.push(second);
    // Both runs read the state before either lists; run B lists only after one more change appeared.
    let readers = 0;
    const bothRead = gate();
    const aListed = gate();
    const [oldest] = sandbox.listInvoices(org.orgId).slice(-1);
    if (oldest === undefined) throw new Error('no invoices');
    const gated = (deps: PollDeps, name: 'A' | 'B'): PollDeps => ({
      ...deps,
      stateStore: {
        readState: async (orgId, signal) => {
          const stored = await deps.stateStore.readState(orgId, signal);
          readers += 1;
          if (readers === 2) bothRead.open();
          await bothRead.passed;
          return stored;
        },
        writeState: (state, etag, signal) => deps.stateStore.writeState(state, etag, signal),
        quarantineState: (orgId, etag, at, signal) =>
          deps.stateStore.quarantineState(orgId, etag, at, signal),
      },
      atlas: {
        listInvoices: async (orgId, options) => {
          if (name === 'B') {
            await aListed.passed;
            sandbox.setStatus(org.orgId, oldest.id, 'FORGIVEN');
          }
          const listed = await deps.atlas.listInvoices(orgId, options);
          if (name === 'A') aListed.open();
          return listed;
        },
        getInvoiceCsv: (orgId, invoiceId, options) => deps.atlas.getInvoiceCsv(orgId, invoiceId, options),
      },
    });
    s3.resetRequests();

    const [a, b] = await Promise.all([runPoll(gated(org.ports.deps, 'A')), runPoll(gated(second.deps, 'B'))]);

    const statePuts = s3.requests.filter(
      (r) => r.operation === 'PutObject' && r.key === stateKey(org.prefix, org.orgId),
    );
    expect(statePuts.map((r) => r.status).sort()).toEqual([200, 200, 412]);
    expect([a, b].map((r) => r.orgs[0]?.conflicts).sort()).toEqual([0, 1]);
    expect(a.ok && b.ok).toBe(true);
    await expectAllWorkDone(org, { racing: true });
    const texts = slack.messagesIn(org.channel).map((m) => m.text ?? '');
    expect(texts.filter((t) => t.includes('is now FORGIVEN (was FAILED)'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('is now PAID (was CLOSED)')).length).toBeGreaterThanOrEqual(1);
  });
});
