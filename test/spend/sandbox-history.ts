import { startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import type { OrgSeed } from '../../infra/local/atlas-sandbox/store';
import { inspectCsv } from '../../lib/invoices/csv-summary';
import type { UsageSeries } from '../../lib/spend/usage-series';

/**
 * The spend history the tests and the backtest bench share: an Atlas sandbox organisation with daily line items
 * (the sandbox's spend pattern: weekends cheaper, cluster launches, one-day spikes; see `dailyUsageItems`), every
 * invoice CSV read through the real inspector.
 */
export const HISTORY_NOW = Date.parse('2026-11-20T10:00:00Z');
export const HISTORY_ORG_ID = '5f0000000000000000005eed';

export function historyOrg(invoices: number): OrgSeed {
  return {
    id: HISTORY_ORG_ID,
    name: 'Spend History <Org> & "Co"',
    lineItems: 'daily',
    projects: ['Production', 'Staging', 'Analytics', 'Search'],
    invoices,
  };
}

export interface SandboxHistory {
  /** Final months, oldest first. */
  readonly months: readonly UsageSeries[];
  /** The current month as the pending invoice's CSV has it on `HISTORY_NOW`. */
  readonly pending: UsageSeries;
  /** The raw CSV of the pending invoice. */
  readonly pendingCsv: string;
}

/** `invoices` months (the newest PENDING) streamed from a sandbox on 127.0.0.1, closed again before returning. */
export async function loadSandboxHistory(invoices = 16): Promise<SandboxHistory> {
  const sandbox = await startAtlasSandbox({ clock: () => HISTORY_NOW, orgs: [historyOrg(invoices)] });
  try {
    const listed = sandbox.listInvoices(HISTORY_ORG_ID).reverse();
    const series: UsageSeries[] = [];
    for (const invoice of listed) {
      const inspection = await inspectCsv(sandbox.csvStream(HISTORY_ORG_ID, invoice.id), {
        period: { start: invoice.startDate, end: invoice.endDate },
      });
      if (inspection.usage === undefined) throw new Error(`no usage series for ${invoice.id}`);
      series.push(inspection.usage);
    }
    const pending = listed.at(-1);
    if (pending?.statusName !== 'PENDING') throw new Error('the newest sandbox invoice should be PENDING');
    return {
      months: series.slice(0, -1),
      pending: series.at(-1) as UsageSeries,
      pendingCsv: sandbox.csvText(HISTORY_ORG_ID, pending.id),
    };
  } finally {
    await sandbox.close();
  }
}
