import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import { silentLogger } from '../../lib/log';
import { type PollDeps, runPoll } from '../../lib/poll/run-poll';
import { NO_DEADLINE } from '../../lib/retry';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import {
  FakeArchive,
  FakeAtlas,
  FakeIndexStore,
  FakeNotifier,
  FakeSpendStore,
  FakeStateStore,
  fakeChartRenderer,
} from '../support/fakes';

/** The poll's use case over the fakes of test/support, and the invoices it sees. */
export const ORG_A = 'aaaaaaaaaaaaaaaaaaaaaaaa';
export const ORG_B = 'bbbbbbbbbbbbbbbbbbbbbbbb';

export function invoiceId(n: number): string {
  return `${String(n).padStart(24, '0')}`.replace(/^0/, 'c');
}

export function makeInvoice(
  orgId: string,
  n: number,
  statusName: string,
  updated: string,
  overrides: Partial<InvoiceMetadata> = {},
): InvoiceMetadata {
  const month = String(n).padStart(2, '0');
  const next = String(n + 1).padStart(2, '0');
  return {
    id: invoiceId(n),
    orgId,
    statusName,
    startDate: `2024-${month}-01T00:00:00Z`,
    endDate: n === 12 ? '2025-01-01T00:00:00Z' : `2024-${next}-01T00:00:00Z`,
    updated,
    amountBilledCents: 1000 * n,
    amountPaidCents: statusName === 'PAID' ? 1000 * n : 0,
    subtotalCents: 1000 * n,
    ...overrides,
  };
}

export interface Harness {
  atlas: FakeAtlas;
  archive: FakeArchive;
  stateStore: FakeStateStore;
  indexStore: FakeIndexStore;
  spendStore: FakeSpendStore;
  notifier: FakeNotifier;
  charts: ReturnType<typeof fakeChartRenderer>;
  deps(overrides?: Partial<PollDeps>): PollDeps;
}

export function createHarness(orgIds: readonly string[] = [ORG_A]): Harness {
  const harness = {
    atlas: new FakeAtlas(),
    archive: new FakeArchive(),
    stateStore: new FakeStateStore(),
    indexStore: new FakeIndexStore(),
    spendStore: new FakeSpendStore(),
    notifier: new FakeNotifier(),
    charts: fakeChartRenderer(),
    deps(overrides: Partial<PollDeps> = {}): PollDeps {
      return {
        atlas: harness.atlas,
        archive: harness.archive,
        stateStore: harness.stateStore,
        indexStore: harness.indexStore,
        spendStore: harness.spendStore,
        spend: DEFAULT_SPEND_SETTINGS,
        renderChart: harness.charts.render,
        notifier: harness.notifier,
        log: silentLogger,
        now: () => new Date('2024-07-02T12:00:00Z'),
        deadline: NO_DEADLINE,
        orgIds,
        concurrency: 2,
        topN: 5,
        ...overrides,
      };
    },
  };
  return harness;
}

/**
 * Organisations with history (invoice 1 PAID, 2 CLOSED, 3 PENDING, all updated 2024-07-01), already polled once:
 * state saved, "now watching" sent; the records of that first run are then cleared.
 */
export async function watchedOrg(orgIds: readonly string[] = [ORG_A]): Promise<Harness> {
  const h = createHarness(orgIds);
  for (const orgId of orgIds) {
    h.atlas.set(orgId, [
      makeInvoice(orgId, 1, 'PAID', WATCHED_AT),
      makeInvoice(orgId, 2, 'CLOSED', WATCHED_AT),
      makeInvoice(orgId, 3, 'PENDING', WATCHED_AT),
    ]);
  }
  await runPoll(h.deps());
  h.notifier.posts.length = 0;
  h.atlas.csvCalls.length = 0;
  h.archive.calls.length = 0;
  h.archive.writes = 0;
  return h;
}

const WATCHED_AT = '2024-07-01T00:00:00Z';
