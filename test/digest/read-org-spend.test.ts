import { describe, expect, it } from 'vitest';
import { pendingMonthOf, readOrgSpend } from '../../lib/digest/read-org-spend';
import { ArchiveError } from '../../lib/errors';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import type { SpendRecord } from '../../lib/spend/spend-record';
import { ORG_A, orgState, stateEntry } from '../command/fixtures';
import { seriesOf } from '../spend/support';
import { FakeSpendStore, FakeStateStore, recordingLogger } from '../support/fakes';

const NOW = Date.parse('2026-11-20T10:00:00Z');

const record = (start: string, days: number, daily: number, filled: number, final = false): SpendRecord => ({
  orgId: ORG_A,
  final,
  series: seriesOf(start, Array(filled).fill(daily), { days }),
});

const pendingFrom = (startDate: string) =>
  stateEntry({ statusName: 'PENDING', startDate, endDate: startDate, archived: undefined });

function deps(
  records: ConstructorParameters<typeof FakeSpendStore>[0],
  states = [orgState(ORG_A, {}, 'Acme')],
) {
  return {
    state: new FakeStateStore(states),
    spend: new FakeSpendStore(records),
    settings: DEFAULT_SPEND_SETTINGS,
    log: recordingLogger(),
  };
}

describe('the month of a read', () => {
  it('finds the month of the newest pending invoice, ignoring other statuses', () => {
    const state = orgState(ORG_A, {
      ['1'.repeat(24)]: pendingFrom('2026-10-01T00:00:00Z'),
      ['2'.repeat(24)]: pendingFrom('2026-11-01T00:00:00Z'),
      ['3'.repeat(24)]: stateEntry({ statusName: 'CLOSED', startDate: '2026-12-01T00:00:00Z' }),
    });

    expect(pendingMonthOf(state)).toBe('2026-11');
    expect(pendingMonthOf(orgState(ORG_A, {}))).toBeUndefined();
    expect(pendingMonthOf(undefined)).toBeUndefined();
  });
});

describe('readOrgSpend', () => {
  it('turns this month and last month into the overview, named as the state names the organisation', async () => {
    const d = deps({
      [`${ORG_A}/2026-11`]: record('2026-11-01', 30, 10_000, 18),
      [`${ORG_A}/2026-10`]: record('2026-10-01', 31, 9_000, 31, true),
    });

    const spend = await readOrgSpend(d, ORG_A, NOW);

    expect(spend.kind).toBe('found');
    if (spend.kind !== 'found') return;
    expect(spend.month).toBe('2026-11');
    expect(spend.overview.orgName).toBe('Acme');
    expect(spend.overview.forecast.monthToDateCents).toBe(180_000);
    expect(spend.overview.forecast.previousTotalCents).toBe(279_000);
    expect(spend.overview.forecast.kind === 'forecast' && spend.overview.forecast.forecastCents).toBe(
      300_000,
    );
  });

  it('calibrates the range on the backtest of the final months before, as the poller does', async () => {
    const final = (month: string, days: number) => record(`${month}-01`, days, 9_000, days, true);
    const d = deps({
      [`${ORG_A}/2026-11`]: record('2026-11-01', 30, 10_000, 18),
      [`${ORG_A}/2026-10`]: final('2026-10', 31),
      [`${ORG_A}/2026-09`]: final('2026-09', 30),
      [`${ORG_A}/2026-08`]: final('2026-08', 31),
      [`${ORG_A}/2026-07`]: final('2026-07', 31),
      [`${ORG_A}/2026-06`]: final('2026-06', 30),
    });

    const spend = await readOrgSpend(d, ORG_A, NOW);

    expect(spend.kind === 'found' && spend.overview.forecast.kind === 'forecast').toBe(true);
    if (spend.kind !== 'found' || spend.overview.forecast.kind !== 'forecast') return;
    expect(spend.overview.forecast.range).toMatchObject({ basis: 'backtest', months: 4 });
    expect(d.spend.reads).not.toContain(`${ORG_A}/2026-06`);
  });

  it('takes the history months from the invoices the state lists', async () => {
    const d = deps({ [`${ORG_A}/2026-11`]: record('2026-11-01', 30, 10_000, 18) }, [
      orgState(ORG_A, {
        ['1'.repeat(24)]: pendingFrom('2026-11-01T00:00:00Z'),
        ['2'.repeat(24)]: stateEntry({ statusName: 'PAID', startDate: '2026-05-01T00:00:00Z' }),
      }),
    ]);

    await readOrgSpend(d, ORG_A, NOW);

    expect(d.spend.reads).toEqual(
      ['2026-11', '2026-10', '2026-09', '2026-08', '2026-07', '2026-05'].map((m) => `${ORG_A}/${m}`),
    );
  });

  it('still answers when last month cannot be read, without the comparison, and logs it', async () => {
    const d = deps({
      [`${ORG_A}/2026-11`]: record('2026-11-01', 30, 10_000, 18),
      [`${ORG_A}/2026-10`]: new ArchiveError('S3 GetObject failed (SlowDown, HTTP 503)', 'GetObject', 'k'),
    });

    const spend = await readOrgSpend(d, ORG_A, NOW);

    expect(spend.kind === 'found' && spend.overview.forecast.previousTotalCents).toBeUndefined();
    expect(d.log.lines.join('\n')).toContain('an earlier spend record could not be read');
  });

  it('still answers without the state, with no name, and logs it', async () => {
    const d = deps({ [`${ORG_A}/2026-11`]: record('2026-11-01', 30, 10_000, 18) });
    d.state.readState = async () => {
      throw new ArchiveError('S3 GetObject failed', 'GetObject', 'state');
    };

    const spend = await readOrgSpend(d, ORG_A, NOW);

    expect(spend.kind).toBe('found');
    expect(spend.kind === 'found' && spend.overview.orgName).toBeUndefined();
    expect(d.log.lines.join('\n')).toContain('reading an organisation state failed');
  });

  it('reports a month the poller has not recorded, and one whose record cannot be read', async () => {
    const missing = await readOrgSpend(deps({}), ORG_A, NOW);
    const unreadable = await readOrgSpend(
      deps({ [`${ORG_A}/2026-11`]: new ArchiveError('refused', 'GetObject', 'k') }),
      ORG_A,
      NOW,
    );

    expect([missing.kind, missing.month]).toEqual(['missing', '2026-11']);
    expect([unreadable.kind, unreadable.month]).toEqual(['unreadable', '2026-11']);
  });

  it('reads the pending invoice’s month when it is not the current one, in a second round', async () => {
    const d = deps(
      {
        [`${ORG_A}/2026-11`]: record('2026-11-01', 30, 10_000, 30),
        [`${ORG_A}/2026-10`]: record('2026-10-01', 31, 9_000, 31, true),
      },
      [orgState(ORG_A, { ['1'.repeat(24)]: pendingFrom('2026-11-01T00:00:00Z') })],
    );

    const spend = await readOrgSpend(d, ORG_A, Date.parse('2026-12-01T06:00:00Z'));

    expect(d.spend.reads).toEqual(
      ['2026-12', '2026-11', '2026-10', '2026-09', '2026-08', '2026-07'].map((m) => `${ORG_A}/${m}`),
    );
    expect(spend.month).toBe('2026-11');
    expect(spend.kind === 'found' && spend.overview.forecast.previousTotalCents).toBe(279_000);
  });
});
