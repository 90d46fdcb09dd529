import { describe, expect, it } from 'vitest';
import { runPoll } from '../../lib/poll/run-poll';
import { withCrash } from './crash';
import { invoiceId, makeInvoice, ORG_A, watchedOrg } from './harness';

const T2 = '2024-07-02T00:00:00Z';

/** A watched organisation in which three things changed since the last poll. */
async function scenario() {
  const h = await watchedOrg();
  h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2, amountPaidCents: 2000 }, 'v2');
  h.atlas.update(ORG_A, invoiceId(3), { updated: T2, amountBilledCents: 3500 }, 'v2');
  h.atlas.set(ORG_A, [...(h.atlas.invoices.get(ORG_A) ?? []), makeInvoice(ORG_A, 4, 'PENDING', T2)]);
  return h;
}

/** The port calls of an uninterrupted run, each a place a crash can happen after. */
async function cleanRun() {
  const h = await scenario();
  const { deps, crash } = withCrash(h.deps(), { after: 'none.none' });
  await runPoll(deps);
  const nth = new Map<string, number>();
  const points = crash.calls.map((label) => {
    nth.set(label, (nth.get(label) ?? 0) + 1);
    return { after: label, nth: nth.get(label) ?? 1 };
  });
  const { lastPollAt: _ignored, ...state } = h.stateStore.state(ORG_A);
  return { points, posts: h.notifier.texts(), writes: h.archive.writes, state, objects: h.archive.objects };
}

describe('a crash at any point of a poll', async () => {
  const clean = await cleanRun();

  it('is exercised at every port call of the run', () => {
    expect(clean.points.map((p) => p.after)).toEqual([
      'stateStore.readState',
      'atlas.listInvoices',
      'archive.archiveCsv',
      'atlas.getInvoiceCsv',
      'indexStore.writeIndex',
      'notifier.post',
      'archive.archiveCsv',
      'atlas.getInvoiceCsv',
      'indexStore.writeIndex',
      'archive.archiveCsv',
      'atlas.getInvoiceCsv',
      'indexStore.writeIndex',
      'notifier.post',
      'stateStore.writeState',
    ]);
    expect(clean.posts).toHaveLength(2);
    expect(clean.writes).toBe(3);
  });

  it.each(clean.points.map((point, i) => [i + 1, point.after, point]))(
    'after call %i (%s): the next run finishes the work, loses nothing and duplicates only what was posted before the crash',
    async (_i, _label, point) => {
      const h = await scenario();
      const crashed = withCrash(h.deps(), point);

      await runPoll(crashed.deps);
      const postedBeforeCrash = h.notifier.texts();
      const crashRunSaved = point.after === 'stateStore.writeState';
      await runPoll(h.deps());

      const { lastPollAt: _ignored, ...state } = h.stateStore.state(ORG_A);
      expect(crashed.crash.tripped).toBe(true);
      expect(state).toEqual(clean.state);
      expect(h.archive.objects).toEqual(clean.objects);
      // Every CSV is written once: the run after the crash finds the bytes it already wrote identical.
      expect(h.archive.writes).toBe(clean.writes);
      // Every change is announced; the only repeats are messages posted before a crash that prevented the save.
      const duplicates = crashRunSaved ? [] : postedBeforeCrash;
      expect([...h.notifier.texts()].sort()).toEqual([...clean.posts, ...duplicates].sort());
      expect(postedBeforeCrash).toEqual(clean.posts.slice(0, postedBeforeCrash.length));
    },
  );
});
