import { describe, expect, it } from 'vitest';
import { ArchiveError } from '../../lib/errors';
import type { OrgState } from '../../lib/invoices/types';
import { runPoll } from '../../lib/poll/run-poll';
import { budgetKey, forecastKey } from '../../lib/spend/alerts';
import { decodeSpendRecord, encodeSpendRecord } from '../../lib/spend/spend-record';
import { seriesOf } from '../spend/support';
import { recordingLogger } from '../support/fakes';
import { createHarness, type Harness, invoiceId, makeInvoice, ORG_A } from './harness';

/**
 * The spend steps of the poll with in-memory ports: what is written, alerted and recorded, and what is left for the
 * next poll. The handler-level behaviour (real servers) is in spend-watch.test.ts.
 */
const T1 = '2024-07-01T00:00:00Z';
const T2 = '2024-07-05T00:00:00Z';
const NOW = () => new Date('2024-07-20T12:00:00Z');
const JUNE = invoiceId(6);
const JULY = invoiceId(7);
/** July's usage: $100 a day on days 1-5; the poll of July 20 counts them all as complete ($500). */
const JULY_USAGE = seriesOf('2024-07-01', [10_000, 10_000, 10_000, 10_000, 10_000], { days: 31 });
const JUNE_USAGE = seriesOf(
  '2024-06-01',
  Array.from({ length: 30 }, () => 10_000),
);
/** 50% of it is reached by July's five days. */
const BUDGET = { budgets: [{ orgId: ORG_A, cents: 100_000 }], alertPercents: [50, 80, 100] };

/** June PAID and July PENDING, with their usage series as the inspector would read them. */
function harness(): Harness {
  const h = createHarness();
  h.atlas.set(ORG_A, [makeInvoice(ORG_A, 6, 'PAID', T1), makeInvoice(ORG_A, 7, 'PENDING', T1)]);
  h.archive.usage.set(JUNE, JUNE_USAGE);
  h.archive.usage.set(JULY, JULY_USAGE);
  return h;
}

const spend = (settings: Partial<typeof BUDGET> = {}) => ({
  budgets: [],
  alertPercents: [50, 80, 100],
  spikePercent: 50,
  spikeMinCents: 10_000,
  ...settings,
});

describe('spend records', () => {
  it('writes each archived month once, with the invoice version it was read from', async () => {
    const h = harness();

    const first = await runPoll(h.deps({ now: NOW, spend: spend() }));
    const again = await runPoll(h.deps({ now: NOW, spend: spend() }));

    expect(first.totals.spendRecords).toBe(2);
    expect(again.totals).toMatchObject({ changed: 0, spendRecords: 0 });
    const july = decodeSpendRecord(h.spendStore.records.get(`${ORG_A}/2024-07`)?.text ?? '');
    expect(july).toMatchObject({ orgId: ORG_A, invoiceId: JULY, updated: T1, final: false });
    expect(july.series.dailyCents).toEqual(JULY_USAGE.dailyCents);
    expect(decodeSpendRecord(h.spendStore.records.get(`${ORG_A}/2024-06`)?.text ?? '').final).toBe(true);
    expect(Object.values(h.stateStore.state(ORG_A).invoices).map((e) => e.archived?.spend)).toEqual([
      true,
      true,
    ]);
  });

  it('rewrites a month whose invoice closed with the same bytes (final changes), and not on a later status change', async () => {
    const h = harness();
    await runPoll(h.deps({ now: NOW, spend: spend() }));
    h.atlas.update(ORG_A, JULY, { statusName: 'CLOSED', updated: T2 });

    const closed = await runPoll(h.deps({ now: NOW, spend: spend() }));
    h.atlas.update(ORG_A, JULY, { statusName: 'PAID', updated: '2024-08-05T00:00:00Z' });
    const paid = await runPoll(h.deps({ now: NOW, spend: spend() }));

    expect(closed.totals).toMatchObject({ identical: 1, spendRecords: 1 });
    expect(decodeSpendRecord(h.spendStore.records.get(`${ORG_A}/2024-07`)?.text ?? '')).toMatchObject({
      final: true,
      updated: T2,
    });
    expect(paid.totals).toMatchObject({ identical: 1, spendRecords: 0 });
  });

  it('keeps a record another poll wrote from a newer invoice version, and replaces an older one', async () => {
    const h = harness();
    const newer = { orgId: ORG_A, invoiceId: JULY, updated: T2, final: false, series: JULY_USAGE };
    h.spendStore.records.set(`${ORG_A}/2024-07`, { text: encodeSpendRecord(newer), etag: '"other-run"' });
    const older = {
      orgId: ORG_A,
      invoiceId: JUNE,
      updated: '2024-06-01T00:00:00Z',
      final: false,
      series: JUNE_USAGE,
    };
    h.spendStore.records.set(`${ORG_A}/2024-06`, { text: encodeSpendRecord(older), etag: '"older"' });

    const report = await runPoll(h.deps({ now: NOW, spend: spend() }));

    expect(report.totals).toMatchObject({ errors: 0, spendRecords: 1 });
    expect(h.spendStore.records.get(`${ORG_A}/2024-07`)?.etag).toBe('"other-run"');
    expect(decodeSpendRecord(h.spendStore.records.get(`${ORG_A}/2024-06`)?.text ?? '')).toMatchObject({
      invoiceId: JUNE,
      updated: T1,
      final: true,
    });
  });

  it('reads every CSV archived before the spend watch existed once more, to write its month', async () => {
    const h = harness();
    await runPoll(h.deps({ now: NOW, spend: spend() }));
    const saved = h.stateStore.state(ORG_A);
    const legacy: OrgState = {
      ...saved,
      invoices: Object.fromEntries(
        Object.entries(saved.invoices).map(([id, entry]) => {
          const { spend: _mark, ...archived } = entry.archived ?? {
            statusName: '',
            updated: '',
            sha256: '',
            key: '',
          };
          return [id, { ...entry, archived }];
        }),
      ),
    };
    h.stateStore.put(legacy);
    h.spendStore.records.clear();
    h.atlas.csvCalls.length = 0;

    const upgrade = await runPoll(h.deps({ now: NOW, spend: spend() }));
    const after = await runPoll(h.deps({ now: NOW, spend: spend() }));

    expect(upgrade.totals).toMatchObject({ archived: 0, identical: 2, spendRecords: 2, notified: 0 });
    expect(h.atlas.csvCalls).toEqual([JUNE, JULY]);
    expect([...h.spendStore.records.keys()].sort()).toEqual([`${ORG_A}/2024-06`, `${ORG_A}/2024-07`]);
    expect(after.totals.changed).toBe(0);
  });

  it('leaves the invoice to the next run when its record cannot be written', async () => {
    const h = harness();
    const write = h.spendStore.writeSpend.bind(h.spendStore);
    let failures = 1;
    h.spendStore.writeSpend = async (record, month, etag) => {
      if (month === '2024-06' && failures-- > 0)
        throw new ArchiveError('S3 PutObject failed (InternalError)', 'PutObject', 'spend');
      return write(record, month, etag);
    };

    const failed = await runPoll(h.deps({ now: NOW, spend: spend() }));
    const next = await runPoll(h.deps({ now: NOW, spend: spend() }));

    expect(failed.orgs[0]?.errors).toEqual([
      expect.objectContaining({ step: 'spend', invoiceId: JUNE, error: 'ArchiveError' }),
    ]);
    expect(h.stateStore.state(ORG_A).invoices[JUNE]?.notifiedStatus).toBe('PAID');
    expect(next.totals).toMatchObject({ changed: 1, identical: 1, spendRecords: 1, errors: 0 });
  });
});

describe('spend alerts', () => {
  it('alerts once when the budget is reached, with the chart uploaded once for every alert of the poll', async () => {
    const h = harness();

    const first = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));
    const firstChart = h.spendStore.charts.get(`${ORG_A}/2024-07`);
    h.atlas.update(ORG_A, JULY, { updated: T2 }, 'v2');
    const next = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));

    expect(first.totals.spendAlerts).toBe(2);
    expect(next.totals.spendAlerts).toBe(0);
    expect(h.notifier.texts().map((t) => t.slice(0, 22))).toEqual([
      'Now watching the Atlas',
      'Budget 50% reached for',
      'Forecast over budget f',
    ]);
    expect(h.notifier.uploads).toHaveLength(1);
    expect(h.notifier.uploads[0]?.image).toMatchObject({
      filename: 'spend-2024-07.png',
      title: 'Org aaaa: spend, July 2024',
    });
    const images = h.notifier.posts
      .slice(1)
      .map((p) => p.message.blocks.find((b) => b.type === 'image')?.slack_file);
    expect(images).toEqual([{ id: 'F0FAKE0001' }, { id: 'F0FAKE0001' }]);
    expect(h.stateStore.state(ORG_A).spend?.fired).toEqual(
      [budgetKey(ORG_A, 50, '2024-07'), forecastKey(ORG_A, '2024-07')].sort(),
    );
    expect(firstChart).toEqual(h.notifier.uploads[0]?.image.bytes);
    // The CSV changed on the second poll: its chart is drawn and stored again, and not uploaded (no alert).
    expect(h.charts.drawn).toHaveLength(2);
    expect(h.spendStore.charts.get(`${ORG_A}/2024-07`)).not.toEqual(firstChart);
    expect(h.charts.drawn[0]).toMatchObject({
      title: 'Org aaaa',
      year: 2024,
      month: 7,
      budgetCents: 100_000,
    });
  });

  it('posts the alert without a picture, and says why, when the chart cannot be drawn', async () => {
    const h = harness();
    const log = recordingLogger();
    const lines = log.records;

    const report = await runPoll(
      h.deps({
        now: NOW,
        spend: spend(BUDGET),
        log,
        renderChart: async () => {
          throw new RangeError('bad chart input');
        },
      }),
    );

    expect(report.ok).toBe(true);
    expect(report.totals.spendAlerts).toBe(2);
    expect(h.notifier.uploads).toEqual([]);
    expect(JSON.stringify(h.notifier.posts.map((p) => p.message.blocks))).not.toContain('"image"');
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'spend chart could not be drawn: alerts go without it',
      }),
    );
  });

  it('keeps the invoice for the next poll when the chart cannot be stored, without repeating the alerts', async () => {
    const h = harness();
    let failures = 1;
    const writeChart = h.spendStore.writeChart.bind(h.spendStore);
    h.spendStore.writeChart = async (orgId, month, png) => {
      if (failures-- > 0) throw new ArchiveError('S3 PutObject failed (SlowDown)', 'PutObject', 'chart');
      return writeChart(orgId, month, png);
    };

    const failed = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));
    h.atlas.csvCalls.length = 0;
    const next = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));

    expect(failed.orgs[0]?.errors).toEqual([expect.objectContaining({ step: 'spend', invoiceId: JULY })]);
    expect(failed.totals.spendAlerts).toBe(2);
    expect(h.stateStore.state(ORG_A).invoices[JULY]?.archived?.spend).toBe(true);
    expect(h.atlas.csvCalls).toEqual([JULY]);
    expect(next.totals).toMatchObject({ spendAlerts: 0, errors: 0 });
    expect(h.spendStore.charts.has(`${ORG_A}/2024-07`)).toBe(true);
  });

  it('posts nothing when the CSV carries no usage date, and logs why', async () => {
    const h = createHarness();
    h.atlas.set(ORG_A, [makeInvoice(ORG_A, 7, 'PENDING', T1)]);
    h.archive.usage.set(
      JULY,
      seriesOf('2024-07-01', [], { days: 31, lastUsageDay: 0, undatedCents: 40_000 }),
    );
    const log = recordingLogger();
    const lines = log.records;

    const report = await runPoll(
      h.deps({ now: NOW, log, spend: spend({ budgets: [{ orgId: ORG_A, cents: 10_000_000 }] }) }),
    );

    expect(report.totals).toMatchObject({ spendRecords: 1, spendAlerts: 0 });
    expect(h.notifier.texts()).toEqual([expect.stringMatching(/^Now watching /)]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'spend watch: not enough data for a forecast yet',
        orgId: ORG_A,
        reason: 'no-usage-dates',
        detail: 'The line items carry no usage date in this billing period.',
        monthToDateCents: 40_000,
      }),
    );
  });

  it('settles the alerts due at a state reset without sending them again', async () => {
    const h = harness();
    h.stateStore.corrupt(ORG_A, '{"version":');

    const report = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));

    expect(report.totals).toMatchObject({ stateResets: 1, spendAlerts: 0 });
    expect(h.notifier.texts()).toEqual([
      expect.stringMatching(/^The saved invoice state of Org aaaa could not be read/),
    ]);
    expect(h.stateStore.state(ORG_A).spend?.fired).toEqual(
      [budgetKey(ORG_A, 50, '2024-07'), forecastKey(ORG_A, '2024-07')].sort(),
    );
  });

  it('leaves the spend watch to the next run when only the save’s reserve is left', async () => {
    const h = harness();
    let remaining = 60_000;
    let shortOnTime = true;
    const archiveCsv = h.archive.archiveCsv.bind(h.archive);
    h.archive.archiveCsv = async (input) => {
      if (input.invoice.id === JULY && shortOnTime) remaining = 1_000;
      return archiveCsv(input);
    };
    const deadline = {
      at: Number.POSITIVE_INFINITY,
      signal: new AbortController().signal,
      remaining: () => remaining,
    };

    const short = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET), deadline, reserveMs: 5_000 }));
    remaining = 60_000;
    shortOnTime = false;
    const next = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET), deadline, reserveMs: 5_000 }));

    expect(short.orgs[0]).toMatchObject({
      deferred: 1,
      spendRecords: 2,
      spendAlerts: 0,
      saved: true,
      errors: [],
    });
    // The first run's message waited too (no time for new work); the next run sends it, reads July again and alerts.
    expect(next.orgs[0]).toMatchObject({ identical: 1, notified: 1, spendAlerts: 2, deferred: 0 });
    expect(h.stateStore.state(ORG_A).invoices[JULY]?.archived?.spend).toBe(true);
  });

  it('re-decides an alert whose post failed in the next poll, and sends it once', async () => {
    const h = harness();
    h.notifier.failWhen = (_org, message) => message.text.startsWith('Budget');

    const failed = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));
    h.notifier.failWhen = undefined;
    const next = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));
    const after = await runPoll(h.deps({ now: NOW, spend: spend(BUDGET) }));

    expect(failed.orgs[0]?.errors).toEqual([expect.objectContaining({ step: 'notify', invoiceId: JULY })]);
    expect(h.stateStore.state(ORG_A).spend?.fired).toContain(budgetKey(ORG_A, 50, '2024-07'));
    expect([failed, next, after].map((r) => r.totals.spendAlerts)).toEqual([1, 1, 0]);
    expect(h.notifier.texts().filter((t) => t.startsWith('Budget 50%'))).toHaveLength(1);
    expect(h.notifier.texts().filter((t) => t.startsWith('Forecast over budget'))).toHaveLength(1);
  });
});
