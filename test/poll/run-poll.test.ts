import { describe, expect, it } from 'vitest';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import type { InvoiceStateEntry } from '../../lib/invoices/types';
import { runPoll } from '../../lib/poll/run-poll';
import { createDeadline, type Deadline } from '../../lib/retry';
import { csvFor, recordingLogger, sha256 } from '../support/fakes';
import { createHarness, invoiceId, makeInvoice, ORG_A, ORG_B, watchedOrg } from './harness';

const T1 = '2024-07-01T00:00:00Z';
const T2 = '2024-07-02T00:00:00Z';
const T3 = '2024-07-03T00:00:00Z';

function fixedDeadline(remaining: () => number): Deadline {
  return { at: Number.POSITIVE_INFINITY, signal: new AbortController().signal, remaining };
}

describe('runPoll: first run', () => {
  it('archives every CSV, writes index entries and sends one "now watching" message', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [
      makeInvoice(ORG_A, 1, 'PAID', T1),
      makeInvoice(ORG_A, 2, 'FAILED', T1),
      makeInvoice(ORG_A, 3, 'PENDING', T1),
    ]);

    const report = await runPoll(h.deps());

    expect(h.archive.writes).toBe(3);
    expect(h.indexStore.entries.size).toBe(3);
    expect(h.notifier.texts()).toEqual([
      'Now watching the Atlas invoices of Org aaaa: 3 invoices, $30.00 pending, 1 with a FAILED payment.',
    ]);
    const state = h.stateStore.state(ORG_A);
    expect(state.watchingSince).toBe('2024-07-02T12:00:00.000Z');
    expect(state.orgName).toBe('Org aaaa');
    expect(Object.values(state.invoices).map((e) => [e.notifiedStatus, e.archived?.statusName])).toEqual([
      ['PAID', 'PAID'],
      ['FAILED', 'FAILED'],
      ['PENDING', 'PENDING'],
    ]);
    expect(report).toMatchObject({
      ok: true,
      totals: { organisations: 1, invoicesSeen: 3, archived: 3, identical: 0, notified: 1, errors: 0 },
    });
    expect(report.orgs[0]).toMatchObject({ firstRun: true, saved: true, orgName: 'Org aaaa' });
  });

  it('records the index with the summary, amounts and archive key', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [
      makeInvoice(ORG_A, 4, 'CLOSED', T1, { amountBilledCents: 12_345, amountPaidCents: 45 }),
    ]);

    await runPoll(h.deps());

    const id = invoiceId(4);
    expect(h.indexStore.entries.get(id)).toEqual({
      version: 1,
      invoiceId: id,
      orgId: ORG_A,
      orgName: 'Org aaaa',
      statusName: 'CLOSED',
      startDate: '2024-04-01T00:00:00Z',
      endDate: '2024-05-01T00:00:00Z',
      updated: T1,
      amounts: {
        subtotalCents: 4000,
        creditsCents: 0,
        salesTaxCents: 0,
        startingBalanceCents: 0,
        amountBilledCents: 12_345,
        amountPaidCents: 45,
      },
      summary: expect.objectContaining({ organizationName: 'Org aaaa' }),
      csv: {
        key: `${ORG_A}/2024-04/${id}.csv`,
        sha256: sha256(csvFor(ORG_A, id, 'v1')),
        bytes: csvFor(ORG_A, id, 'v1').length,
      },
      archivedAt: '2024-07-02T12:00:00.000Z',
    });
  });

  it('keeps the archives and retries only the summary when the "now watching" message failed', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [makeInvoice(ORG_A, 1, 'PAID', T1), makeInvoice(ORG_A, 2, 'CLOSED', T1)]);
    h.notifier.failWhen = () => true;

    const failed = await runPoll(h.deps());
    h.notifier.failWhen = undefined;
    const retried = await runPoll(h.deps());

    expect(failed.ok).toBe(false);
    expect(failed.orgs[0]?.errors).toEqual([
      expect.objectContaining({ step: 'notify', error: 'SlackDeliveryError' }),
    ]);
    expect(h.stateStore.state(ORG_A).watchingSince).toBe('2024-07-02T12:00:00.000Z');
    expect(retried.ok).toBe(true);
    expect(retried.orgs[0]).toMatchObject({ firstRun: true, archived: 0, identical: 0, notified: 1 });
    expect(h.notifier.texts()).toEqual(['Now watching the Atlas invoices of Org aaaa: 2 invoices.']);
    expect(h.archive.writes).toBe(2);
  });

  it('saves the archives of a first run whose summary failed, marked as not yet watching', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [makeInvoice(ORG_A, 1, 'PAID', T1)]);
    h.notifier.failWhen = () => true;

    await runPoll(h.deps());

    const state = h.stateStore.state(ORG_A);
    expect(state.watchingSince).toBe('');
    expect(state.invoices[invoiceId(1)]?.archived).toEqual({
      statusName: 'PAID',
      updated: T1,
      sha256: sha256(csvFor(ORG_A, invoiceId(1), 'v1')),
      key: `${ORG_A}/2024-01/${invoiceId(1)}.csv`,
      spend: true,
    });
    expect(state.invoices[invoiceId(1)]?.notifiedStatus).toBeUndefined();
  });
});

describe('runPoll: later runs', () => {
  it('does nothing, and saves nothing, when no invoice changed', async () => {
    const h = await watchedOrg();
    const writes = h.stateStore.writes;
    const reads = h.stateStore.reads.length;

    const report = await runPoll(h.deps());

    expect(h.atlas.csvCalls).toEqual([]);
    expect(h.notifier.posts).toEqual([]);
    expect(h.stateStore.writes).toBe(writes);
    expect(h.stateStore.reads).toHaveLength(reads + 1);
    expect(report.orgs[0]).toMatchObject({ changed: 0, saved: false, firstRun: false });
  });

  it('archives and notifies when the status changed', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2, amountPaidCents: 2000 }, 'v2');

    const report = await runPoll(h.deps());

    expect(h.archive.calls).toEqual([invoiceId(2)]);
    expect(h.notifier.texts()).toEqual([
      'Atlas invoice of Org aaaa (February 1 – February 29, 2024) is now PAID (was CLOSED): $20.00 paid.',
    ]);
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(2)]).toMatchObject({
      statusName: 'PAID',
      updated: T2,
      notifiedStatus: 'PAID',
      archived: { statusName: 'PAID', updated: T2 },
    });
    expect(report.orgs[0]).toMatchObject({ changed: 1, archived: 1, notified: 1, saved: true });
  });

  it('archives but does not notify when only updated moved on a pending invoice', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(3), { updated: T2, amountBilledCents: 3500 }, 'v2');

    const report = await runPoll(h.deps());

    expect(h.archive.writes).toBe(1);
    expect(h.notifier.posts).toEqual([]);
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(3)]).toMatchObject({
      updated: T2,
      amountBilledCents: 3500,
      archived: { updated: T2 },
    });
    expect(report.orgs[0]).toMatchObject({ archived: 1, notified: 0 });
  });

  it('reports a download whose bytes did not change as identical and still records the new status', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 });

    const report = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({ archived: 0, identical: 1, notified: 1 });
    expect(h.archive.writes).toBe(0);
    expect(h.indexStore.entries.get(invoiceId(2))?.statusName).toBe('PAID');
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(2)]?.archived?.statusName).toBe('PAID');
  });

  it('announces a new invoice as a change from none', async () => {
    const h = await watchedOrg();
    const list = [...(h.atlas.invoices.get(ORG_A) ?? []), makeInvoice(ORG_A, 4, 'PENDING', T2)];
    h.atlas.set(ORG_A, list);

    await runPoll(h.deps());

    expect(h.notifier.posts).toHaveLength(1);
    expect(JSON.stringify(h.notifier.posts[0]?.message.blocks)).toContain('new → *PENDING*');
  });

  it('handles changes oldest billing period first', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(3), { statusName: 'CLOSED', updated: T2 }, 'v2');
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');

    await runPoll(h.deps());

    expect(h.archive.calls).toEqual([invoiceId(2), invoiceId(3)]);
    expect(h.notifier.texts().map((t) => /now (\w+)/.exec(t)?.[1])).toEqual(['PAID', 'CLOSED']);
  });

  it('uses the archived summary from the index when only the notification is left to do', async () => {
    const h = await watchedOrg();
    const entry = h.stateStore.state(ORG_A).invoices[invoiceId(2)] as InvoiceStateEntry;
    const stored = h.stateStore.objects.get(ORG_A);
    if (stored === undefined) throw new Error('no state');
    h.stateStore.put({
      ...stored.state,
      invoices: { ...stored.state.invoices, [invoiceId(2)]: { ...entry, notifiedStatus: 'PENDING' } },
    });

    await runPoll(h.deps());

    expect(h.archive.calls).toEqual([]);
    expect(h.indexStore.reads).toHaveLength(1);
    expect(JSON.stringify(h.notifier.posts[0]?.message.blocks)).toContain('Project X');
  });
});

describe('runPoll: failures', () => {
  it('leaves an invoice whose archive failed unrecorded, goes on with the others, and re-does it next run', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(1), { statusName: 'FORGIVEN', updated: T2 }, 'v2');
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    h.archive.failFor.add(invoiceId(1));

    const failed = await runPoll(h.deps());

    expect(failed.ok).toBe(false);
    expect(failed.orgs[0]?.errors).toEqual([
      {
        step: 'archive',
        invoiceId: invoiceId(1),
        error: 'ArchiveError',
        message: 'S3 PutObject failed (InternalError)',
      },
    ]);
    expect(h.notifier.texts()).toHaveLength(1);
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(1)]).toMatchObject({
      statusName: 'PAID',
      notifiedStatus: 'PAID',
    });

    h.archive.failFor.clear();
    h.notifier.posts.length = 0;
    const retried = await runPoll(h.deps());

    expect(retried.ok).toBe(true);
    expect(h.notifier.texts()).toEqual([expect.stringContaining('is now FORGIVEN (was PAID)')]);
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(1)]).toMatchObject({
      notifiedStatus: 'FORGIVEN',
      archived: { statusName: 'FORGIVEN' },
    });
  });

  it('records the archive but not the notification when Slack failed, and notifies without re-archiving next run', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'FAILED', updated: T2 }, 'v2');
    h.notifier.failWhen = () => true;

    const failed = await runPoll(h.deps());
    h.notifier.failWhen = undefined;
    h.archive.calls.length = 0;
    const retried = await runPoll(h.deps());

    expect(failed.orgs[0]?.errors.map((e) => e.step)).toEqual(['notify']);
    expect(retried.orgs[0]).toMatchObject({ archived: 0, identical: 0, notified: 1 });
    expect(h.archive.calls).toEqual([]);
    expect(h.notifier.texts()).toEqual([
      expect.stringMatching(/^Payment failed: .* is now FAILED \(was CLOSED\)/),
    ]);
  });

  it("does not let one organisation's failure stop the others, and reports it", async () => {
    const h = createHarness([ORG_A, ORG_B]);
    h.atlas.set(ORG_A, [makeInvoice(ORG_A, 1, 'PAID', T1)]);
    h.atlas.set(ORG_B, [makeInvoice(ORG_B, 1, 'PAID', T1)]);
    h.atlas.failList.add(ORG_A);

    const report = await runPoll(h.deps());

    expect(report.ok).toBe(false);
    expect(report.totals).toMatchObject({ organisations: 2, failedOrganisations: 1 });
    expect(report.orgs.map((o) => [o.orgId, o.errors.map((e) => e.step)])).toEqual([
      [ORG_A, ['list']],
      [ORG_B, []],
    ]);
    expect(h.stateStore.objects.has(ORG_B)).toBe(true);
    expect(h.stateStore.objects.has(ORG_A)).toBe(false);
  });

  it('reports a failed save and leaves the work for the next run', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    h.stateStore.failWrites = 1;

    const failed = await runPoll(h.deps());
    const retried = await runPoll(h.deps());

    expect(failed.orgs[0]?.errors.map((e) => e.step)).toEqual(['save']);
    expect(retried.orgs[0]).toMatchObject({ identical: 1, notified: 1, saved: true });
    expect(h.notifier.texts()).toHaveLength(2);
  });

  it('polls organisations with bounded concurrency', async () => {
    const orgs = ['1', '2', '3', '4', '5'].map((d) => d.repeat(24));
    const h = createHarness(orgs);
    for (const orgId of orgs) h.atlas.set(orgId, []);

    const report = await runPoll(h.deps({ concurrency: 2 }));

    expect(h.atlas.maxInFlight).toBe(2);
    expect(report.orgs.map((o) => o.orgId)).toEqual(orgs);
  });
});

describe('runPoll: deadline', () => {
  it('starts no invoice work when the deadline is near and saves what completed', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(1), { statusName: 'FORGIVEN', updated: T2 }, 'v2');
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    let budget = 10_000;
    h.archive.archiveCsv = ((original) => async (input) => {
      budget = 1_000;
      return original(input);
    })(h.archive.archiveCsv.bind(h.archive));

    const report = await runPoll(h.deps({ deadline: fixedDeadline(() => budget), reserveMs: 5_000 }));

    expect(report.orgs[0]).toMatchObject({ changed: 2, archived: 1, notified: 1, deferred: 1, saved: true });
    expect(report.orgs[0]?.errors).toEqual([]);
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(1)]?.notifiedStatus).toBe('FORGIVEN');
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(2)]?.notifiedStatus).toBe('CLOSED');

    const next = await runPoll(h.deps());
    expect(next.orgs[0]).toMatchObject({ changed: 1, notified: 1, deferred: 0 });
  });
});

describe('runPoll: racing runs', () => {
  it('re-reads after a lost save, merges both runs\u2019 work and saves once more', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(1), { statusName: 'FORGIVEN', updated: T2 }, 'v2');
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    // The other run handled invoice 1 and saved between our read and our write.
    h.stateStore.beforeWrite = () => {
      const theirs = h.stateStore.state(ORG_A);
      const entry = theirs.invoices[invoiceId(1)] as InvoiceStateEntry;
      h.stateStore.put({
        ...theirs,
        lastPollAt: 'theirs',
        invoices: {
          ...theirs.invoices,
          [invoiceId(1)]: {
            ...entry,
            statusName: 'FORGIVEN',
            updated: T3,
            notifiedStatus: 'FORGIVEN',
            archived: {
              ...(entry.archived as NonNullable<InvoiceStateEntry['archived']>),
              statusName: 'FORGIVEN',
              updated: T3,
            },
          },
        },
      });
    };

    const report = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({ conflicts: 1, saved: true });
    const state = h.stateStore.state(ORG_A);
    expect(state.invoices[invoiceId(1)]).toMatchObject({ updated: T3, archived: { updated: T3 } });
    expect(state.invoices[invoiceId(2)]).toMatchObject({
      notifiedStatus: 'PAID',
      archived: { statusName: 'PAID' },
    });
    expect(state.lastPollAt).toBe('2024-07-02T12:00:00.000Z');
  });

  it('does the work a newer state still lacks after a conflict', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    // Someone rewrote the state without invoice 3's archive; this run's merge must notice and archive it.
    h.stateStore.beforeWrite = () => {
      const theirs = h.stateStore.state(ORG_A);
      const { archived: _gone, ...entry } = theirs.invoices[invoiceId(3)] as InvoiceStateEntry;
      h.stateStore.put({ ...theirs, invoices: { ...theirs.invoices, [invoiceId(3)]: entry } });
    };

    const report = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({ conflicts: 1, saved: true, changed: 2 });
    expect(h.archive.calls).toEqual([invoiceId(2), invoiceId(3)]);
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(3)]?.archived).toEqual({
      statusName: 'PENDING',
      updated: T1,
      sha256: sha256(csvFor(ORG_A, invoiceId(3), 'v1')),
      key: `${ORG_A}/2024-03/${invoiceId(3)}.csv`,
      spend: true,
    });
  });

  it('gives up after a bounded number of lost saves and reports it', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    const originalWrite = h.stateStore.writeState.bind(h.stateStore);
    h.stateStore.writeState = async (state, etag) => {
      h.stateStore.put(h.stateStore.state(ORG_A));
      return originalWrite(state, etag);
    };

    const report = await runPoll(h.deps({ maxSaveRounds: 3 }));

    expect(report.orgs[0]).toMatchObject({ conflicts: 3, saved: false });
    expect(report.orgs[0]?.errors).toEqual([
      expect.objectContaining({ step: 'save', error: 'StateConflictError' }),
    ]);
  });
});

describe('runPoll: bounded by the deadline', () => {
  it('passes the deadline\u2019s signal to every state read, save and re-read after a conflict', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    h.stateStore.beforeWrite = () => {
      h.stateStore.put(h.stateStore.state(ORG_A));
    };
    h.stateStore.signals.length = 0;
    const deadline = createDeadline(60_000);

    const report = await runPoll(h.deps({ deadline }));

    expect(report.orgs[0]).toMatchObject({ conflicts: 1, saved: true });
    expect(h.stateStore.signals).toEqual([
      { method: 'readState', signal: deadline.signal },
      { method: 'writeState', signal: deadline.signal },
      { method: 'readState', signal: deadline.signal },
      { method: 'writeState', signal: deadline.signal },
    ]);
  });

  it('reports a save cut off by the deadline as the deadline\u2019s, and the next run records the work', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    const controller = new AbortController();
    const deadline: Deadline = { at: 0, signal: controller.signal, remaining: () => 60_000 };
    const originalWrite = h.stateStore.writeState.bind(h.stateStore);
    h.stateStore.writeState = async () => {
      controller.abort();
      throw new Error('This operation was aborted');
    };

    const cut = await runPoll(h.deps({ deadline }));
    h.stateStore.writeState = originalWrite;
    const next = await runPoll(h.deps());

    expect(cut.orgs[0]?.errors).toEqual([
      { step: 'save', error: 'DeadlineError', message: 'deadline passed during save' },
    ]);
    expect(next.orgs[0]).toMatchObject({ notified: 1, saved: true });
    // At most one repeat of the message the cut-off run posted, and none after the save.
    expect(h.notifier.texts().filter((t) => t.includes('is now PAID'))).toHaveLength(2);
    expect((await runPoll(h.deps())).orgs[0]).toMatchObject({ changed: 0, notified: 0 });
  });
});

describe('runPoll: invoices Atlas lists that cannot be recorded', () => {
  const invalid: [string, Partial<InvoiceMetadata>, string][] = [
    [
      'an amount beyond exact integers',
      { amountBilledCents: 2 ** 60 },
      'invoice.amountBilledCents must be an integer',
    ],
    ['no updated', { updated: undefined }, 'invoice.updated must be a string'],
    ['an unreadable updated', { updated: 'recently' }, 'invoice.updated is not a readable timestamp'],
    ['a bad billing period', { startDate: '2024-13-45' }, 'invoice.startDate is not a readable timestamp'],
    [
      'an unsafe credit',
      { creditsCents: Number.MAX_SAFE_INTEGER + 1 },
      'invoice.creditsCents must be an integer',
    ],
  ];

  it.each(invalid)(
    'skips an invoice with %s on a first run, logs and counts it, and stores it nowhere',
    async (_case, change, problem) => {
      const log = recordingLogger();
      const { lines } = log;
      const h = createHarness();
      const bad = { ...makeInvoice(ORG_A, 2, 'PAID', T1), ...change } as InvoiceMetadata;
      h.atlas.set(ORG_A, [makeInvoice(ORG_A, 1, 'PAID', T1), bad]);

      const report = await runPoll(h.deps({ log }));

      expect(report.ok).toBe(true);
      expect(report.orgs[0]).toMatchObject({ invoicesSeen: 1, invalidInvoices: 1 });
      expect(report.totals.invalidInvoices).toBe(1);
      expect(Object.keys(h.stateStore.state(ORG_A).invoices)).toEqual([invoiceId(1)]);
      expect(h.archive.calls).toEqual([invoiceId(1)]);
      expect([...h.indexStore.entries.keys()]).toEqual([invoiceId(1)]);
      expect(h.notifier.texts()).toEqual(['Now watching the Atlas invoices of Org aaaa: 1 invoice.']);
      expect(lines.map((line) => JSON.parse(line))).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: 'Atlas listed an invoice that cannot be recorded; skipped',
          invoiceId: invoiceId(2),
          problem,
        }),
      );
    },
  );

  it('skips an invoice without a valid id, and keeps polling the organisation afterwards', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [
      makeInvoice(ORG_A, 1, 'PAID', T1),
      { ...makeInvoice(ORG_A, 2, 'PAID', T1), id: 'nope' },
    ]);

    await runPoll(h.deps());
    h.atlas.update(ORG_A, invoiceId(1), { statusName: 'FORGIVEN', updated: T2 }, 'v2');
    const next = await runPoll(h.deps());

    expect(next.orgs[0]).toMatchObject({ invalidInvoices: 1, notified: 1, errors: [] });
    expect(Object.keys(h.stateStore.state(ORG_A).invoices)).toEqual([invoiceId(1)]);
  });

  it('keeps the last good record of an invoice that turns invalid, and does not announce it', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2, amountPaidCents: 2 ** 60 });

    const report = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({ invalidInvoices: 1, changed: 0, notified: 0 });
    expect(h.stateStore.state(ORG_A).invoices[invoiceId(2)]).toMatchObject({
      statusName: 'CLOSED',
      updated: T1,
    });
  });
});

describe('runPoll: what the report says was seen', () => {
  it('counts new invoices, status changes with their move, and updated-only re-archives', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: T2 }, 'v2');
    h.atlas.update(ORG_A, invoiceId(3), { updated: T2 }, 'v2');
    h.atlas.set(ORG_A, [...(h.atlas.invoices.get(ORG_A) ?? []), makeInvoice(ORG_A, 4, 'PENDING', T2)]);

    const report = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({
      newInvoices: 1,
      statusChanges: [{ invoiceId: invoiceId(2), from: 'CLOSED', to: 'PAID' }],
      updatedOnly: 1,
      changed: 3,
      archived: 3,
      notified: 2,
    });
    expect(report.totals).toMatchObject({ newInvoices: 1, statusChanges: 1, updatedOnly: 1 });
  });

  it('counts every invoice of a first run as new and none as changed status', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [makeInvoice(ORG_A, 1, 'PAID', T1), makeInvoice(ORG_A, 2, 'FAILED', T1)]);

    const report = await runPoll(h.deps());

    expect(report.orgs[0]).toMatchObject({ newInvoices: 2, statusChanges: [], updatedOnly: 0 });
  });

  it('does not count a notification retried for an unchanged invoice as a new change', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'FAILED', updated: T2 }, 'v2');
    h.notifier.failWhen = () => true;
    await runPoll(h.deps());
    h.notifier.failWhen = undefined;

    const retried = await runPoll(h.deps());

    expect(retried.orgs[0]).toMatchObject({
      changed: 1,
      notified: 1,
      newInvoices: 0,
      statusChanges: [],
      updatedOnly: 0,
    });
  });
});

describe('runPoll: failedSince', () => {
  it('records when an invoice was first seen FAILED, keeps it while FAILED and clears it once paid', async () => {
    const h = await watchedOrg();
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'FAILED', updated: T2 }, 'v2');
    await runPoll(h.deps());
    const first = h.stateStore.state(ORG_A).invoices[invoiceId(2)];
    h.atlas.update(ORG_A, invoiceId(2), { updated: T3, amountPaidCents: 500 }, 'v3');
    await runPoll(h.deps());
    const still = h.stateStore.state(ORG_A).invoices[invoiceId(2)];
    h.atlas.update(ORG_A, invoiceId(2), { statusName: 'PAID', updated: '2024-07-04T00:00:00Z' }, 'v4');
    await runPoll(h.deps());
    const paid = h.stateStore.state(ORG_A).invoices[invoiceId(2)];

    expect(first).toMatchObject({ statusName: 'FAILED', failedSince: T2 });
    expect(still).toMatchObject({ statusName: 'FAILED', updated: T3, failedSince: T2 });
    expect(paid?.statusName).toBe('PAID');
    expect(paid).not.toHaveProperty('failedSince');
  });

  it('records failedSince for invoices already FAILED on a first run', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [makeInvoice(ORG_A, 1, 'FAILED', T1), makeInvoice(ORG_A, 2, 'PAID', T1)]);

    await runPoll(h.deps());

    const { invoices } = h.stateStore.state(ORG_A);
    expect(invoices[invoiceId(1)]?.failedSince).toBe(T1);
    expect(invoices[invoiceId(2)]).not.toHaveProperty('failedSince');
  });
});
