import { describe, expect, it } from 'vitest';
import { generateCsvChunks } from '../../infra/local/atlas-sandbox';
import { inspectCsv } from '../../lib/invoices/csv-summary';
import {
  decodeSpendRecord,
  encodeSpendRecord,
  MAX_LINES,
  type SpendRecord,
  SpendRecordError,
  spendRecordKey,
  spendRecordKeyOf,
} from '../../lib/spend/spend-record';
import type { UsageSeries } from '../../lib/spend/usage-series';
import { loadSandboxHistory } from './sandbox-history';
import { seriesOf } from './support';

const ORG = '5f0000000000000000005eed';
const INVOICE = '666acb8787ba43606905dcae';

/** A valid encoded record as a JSON object, to break one field at a time. */
function validJson(): Record<string, unknown> {
  const record: SpendRecord = {
    orgId: ORG,
    invoiceId: INVOICE,
    final: false,
    series: seriesOf('2024-06-01', [100, 200], { days: 30 }),
  };
  return JSON.parse(encodeSpendRecord(record)) as Record<string, unknown>;
}

function refusal(change: (json: Record<string, unknown>) => void): string {
  const json = validJson();
  change(json);
  try {
    decodeSpendRecord(JSON.stringify(json));
  } catch (error) {
    if (error instanceof SpendRecordError) return error.problem;
    throw error;
  }
  return 'accepted';
}

describe('the spend record codec', () => {
  it('round-trips a real sandbox series exactly', async () => {
    const { pending } = await loadSandboxHistory(2);
    const record: SpendRecord = { orgId: ORG, invoiceId: INVOICE, final: false, series: pending };

    const decoded = decodeSpendRecord(encodeSpendRecord(record));

    expect(decoded).toEqual(record);
  });

  it('stays well under 64 KB for a large organisation (300 projects with long names, 10 pinned)', async () => {
    const projects = Array.from({ length: 300 }, (_, i) => ({
      id: i.toString(16).padStart(24, '0'),
      name: `Project ${i} ${'ü'.repeat(240)}`,
    }));
    const spec = {
      invoiceId: INVOICE,
      orgId: ORG,
      orgName: 'Large Org',
      startDate: '2024-12-01T00:00:00Z',
      endDate: '2025-01-01T00:00:00Z',
      bytes: 8_000_000,
      projects,
      seed: 7,
    };
    async function* chunks() {
      yield* generateCsvChunks(spec);
    }
    const { usage } = await inspectCsv(chunks(), {
      pinnedProjectIds: projects.slice(100, 110).map((p) => p.id),
    });

    const text = encodeSpendRecord({ orgId: ORG, final: true, series: usage as UsageSeries });

    expect(usage?.projects.lines).toHaveLength(18);
    expect(usage?.projects.otherCount).toBe(282);
    expect(Buffer.byteLength(text)).toBeLessThan(32 * 1024);
    expect(decodeSpendRecord(text).series).toEqual(usage);
  });

  it('refuses what it would not write', () => {
    expect(refusal(() => {})).toBe('accepted');
    expect(refusal((j) => (j.v = 2))).toMatch(/unknown version/);
    expect(refusal((j) => (j.org = 'ORG'))).toMatch(/org must be 24 hex/);
    expect(refusal((j) => (j.invoice = 42))).toMatch(/invoice must be 24 hex/);
    expect(refusal((j) => (j.start = '2023-02-29'))).toMatch(/start must be a YYYY-MM-DD date/);
    expect(refusal((j) => (j.days = 63))).toMatch(/days must be an integer from 1 to 62/);
    expect(refusal((j) => (j.last = 31))).toMatch(/last must be an integer/);
    expect(refusal((j) => (j.total = (j.total as number[]).slice(1)))).toMatch(/total must hold 30 days/);
    expect(refusal((j) => ((j.total as number[])[0] = 2 ** 53))).toMatch(/safe integer/);
    expect(refusal((j) => ((j.total as number[])[0] = 1.5))).toMatch(/safe integer/);
    expect(refusal((j) => ((j.total as number[])[0] = 101))).toMatch(
      /projects do not add up to the total of day 1/,
    );
    expect(refusal((j) => (j.undated = [1]))).toMatch(/undated must be an array of 2/);
    expect(
      refusal((j) => {
        const [lines] = j.skus as [unknown[][]];
        (lines[0] as unknown[])[0] = 'x'.repeat(300);
      }),
    ).toMatch(/must be text of at most 256/);
    expect(
      refusal((j) => {
        const [lines] = j.skus as [unknown[][]];
        lines.push(...Array.from({ length: MAX_LINES }, (_, i) => [`s${i}`, new Array(30).fill(0)]));
      }),
    ).toMatch(/more than 200 lines/);
    expect(refusal((j) => ((j.clusters as unknown[])[2] = 3))).toMatch(
      /counts folded lines without their days/,
    );
    expect(refusal((j) => (j.final = 'yes'))).toMatch(/final must be true or false/);
    expect(() => decodeSpendRecord('{')).toThrow(SpendRecordError);
    expect(() => decodeSpendRecord('[]')).toThrow('spend record refused: record must be an object');
  });

  it('will not encode a record it could not read back', () => {
    const series = seriesOf('2024-06-01', [100], { days: 30 });
    const broken = { ...series, dailyCents: [...series.dailyCents, 5] };

    expect(() => encodeSpendRecord({ orgId: ORG, final: false, series: broken })).toThrow(SpendRecordError);
    expect(() => encodeSpendRecord({ orgId: 'acme', final: false, series })).toThrow(SpendRecordError);
  });

  it('keys records by organisation and month', () => {
    const record: SpendRecord = {
      orgId: ORG,
      final: false,
      series: seriesOf('2024-12-01', [1], { days: 31 }),
    };

    expect(spendRecordKey('atlas-invoices/', ORG, '2024-12')).toBe(
      `atlas-invoices/spend/${ORG}/2024-12.json`,
    );
    expect(spendRecordKeyOf('', record)).toBe(`spend/${ORG}/2024-12.json`);
    expect(() => spendRecordKey('', '../etc', '2024-12')).toThrow(SpendRecordError);
    expect(() => spendRecordKey('', ORG, '2024-13')).toThrow(SpendRecordError);
  });
});
