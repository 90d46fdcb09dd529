import { describe, expect, it } from 'vitest';
import { runPoll } from '../../lib/poll/run-poll';
import { recordingLogger } from '../support/fakes';
import { createHarness, invoiceId, ORG_A, ORG_B, watchedOrg } from './harness';

const T2 = '2024-07-02T00:00:00Z';
const QUARANTINED = `state/quarantine/${ORG_A}-20240702T120000Z.json`;

/** A watched organisation whose state object was then corrupted (hand-edited, truncated, a future version...). */
async function corruptedOrg(orgIds = [ORG_A]) {
  const h = await watchedOrg(orgIds);
  h.stateStore.corrupt(ORG_A, '{"version":1,"orgId":"edited by hand"');
  return h;
}

describe('runPoll: a state object that cannot be read', () => {
  it('moves it aside, logs an error and re-baselines without announcing the history', async () => {
    const log = recordingLogger();
    const { lines } = log;
    const h = await corruptedOrg();
    h.atlas.update(ORG_A, invoiceId(1), { statusName: 'FORGIVEN', updated: T2 });

    const report = await runPoll(h.deps({ log }));

    expect(h.stateStore.quarantined).toEqual(
      new Map([[QUARANTINED, '{"version":1,"orgId":"edited by hand"']]),
    );
    expect(report.ok).toBe(true);
    expect(report.orgs[0]).toMatchObject({
      stateReset: QUARANTINED,
      firstRun: true,
      saved: true,
      errors: [],
    });
    expect(report.totals.stateResets).toBe(1);
    // Every invoice is archived again (found identical: nothing written) and recorded as told.
    expect(h.archive.calls.sort()).toEqual([invoiceId(1), invoiceId(2), invoiceId(3)]);
    expect(h.archive.writes).toBe(0);
    const state = h.stateStore.state(ORG_A);
    expect(
      Object.values(state.invoices).map((e) => [e.statusName, e.notifiedStatus, e.archived?.statusName]),
    ).toEqual([
      ['FORGIVEN', 'FORGIVEN', 'FORGIVEN'],
      ['CLOSED', 'CLOSED', 'CLOSED'],
      ['PENDING', 'PENDING', 'PENDING'],
    ]);
    expect(state.watchingSince).toBe('2024-07-02T12:00:00.000Z');
    // One short notice instead of a message per invoice.
    expect(h.notifier.texts()).toEqual([
      'The saved invoice state of Org aaaa could not be read and was reset: 3 invoices recorded again without ' +
        'announcing them. A status change since the last poll may have gone unannounced: check `/invoice list` or ' +
        'the Atlas billing page.',
    ]);
    expect(JSON.stringify(h.notifier.posts[0]?.message.blocks)).toContain(QUARANTINED);
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'state object could not be read: moved aside, and the organisation re-baselined',
        movedTo: QUARANTINED,
        orgId: ORG_A,
      }),
    );
  });

  it('polls normally after the reset, and announces the next change once', async () => {
    const h = await corruptedOrg();
    await runPoll(h.deps());
    h.notifier.posts.length = 0;
    h.atlas.update(ORG_A, invoiceId(3), { statusName: 'CLOSED', updated: T2 }, 'v2');

    const next = await runPoll(h.deps());

    expect(next.orgs[0]).toMatchObject({ firstRun: false, notified: 1 });
    expect(next.orgs[0]).not.toHaveProperty('stateReset');
    expect(h.notifier.texts()).toEqual([expect.stringContaining('is now CLOSED (was PENDING)')]);
    expect(h.stateStore.quarantined.size).toBe(1);
  });

  it('replaces the unreadable version even when the organisation lists no invoice', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, []);
    h.stateStore.corrupt(ORG_A, 'not json');

    const report = await runPoll(h.deps());
    const next = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({ saved: true, stateReset: QUARANTINED });
    expect(h.stateStore.state(ORG_A).invoices).toEqual({});
    expect(next.orgs[0]).not.toHaveProperty('stateReset');
    expect(h.stateStore.quarantined.size).toBe(1);
  });

  it('still records the re-baseline when the notice fails, and the next run sends the usual summary', async () => {
    const h = await corruptedOrg();
    h.notifier.failWhen = () => true;

    const failed = await runPoll(h.deps());
    h.notifier.failWhen = undefined;
    const retried = await runPoll(h.deps());

    expect(failed.orgs[0]?.errors.map((e) => e.step)).toEqual(['notify']);
    expect(h.stateStore.state(ORG_A).watchingSince).toBe('2024-07-02T12:00:00.000Z');
    expect(retried.orgs[0]).toMatchObject({ archived: 0, identical: 0, notified: 1 });
    expect(h.notifier.texts()).toEqual([
      expect.stringMatching(/^Now watching the Atlas invoices of Org aaaa: 3/),
    ]);
    expect(h.stateStore.quarantined.size).toBe(1);
  });

  it('fails the organisation, writing nothing, when the object cannot be moved aside; the others go on', async () => {
    const h = await corruptedOrg([ORG_A, ORG_B]);
    h.stateStore.failQuarantine = true;
    const writes = h.stateStore.writes;

    const report = await runPoll(h.deps());

    expect(report.orgs.map((o) => [o.orgId, o.errors.map((e) => [e.step, e.error])])).toEqual([
      [ORG_A, [['read-state', 'ArchiveError']]],
      [ORG_B, []],
    ]);
    expect(h.stateStore.writes).toBe(writes);
    expect(h.stateStore.unreadable.has(ORG_A)).toBe(true);
    expect(h.archive.calls).toEqual([]);
  });

  it('merges into the state another run re-baselined first instead of overwriting it', async () => {
    const h = await corruptedOrg();
    h.stateStore.beforeWrite = (ours) => {
      h.stateStore.unreadable.delete(ORG_A);
      h.stateStore.put({ ...ours, lastPollAt: 'theirs', watchingSince: 'theirs' });
    };

    const report = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({ conflicts: 1, saved: true });
    expect(h.stateStore.state(ORG_A).watchingSince).toBe('theirs');
    expect(h.stateStore.state(ORG_A).lastPollAt).toBe('2024-07-02T12:00:00.000Z');
  });
});
