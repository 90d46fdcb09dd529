import { afterEach, describe, expect, it } from 'vitest';
import {
  type AtlasSandbox,
  CSV_COLUMNS,
  createDemoSandboxOptions,
  DEMO_ORG_ID,
  DEMO_ORG_NAME,
  type GeneratedCsvSpec,
  generateCsvChunks,
  generatedCsvSize,
  startAtlasSandbox,
} from '../../../infra/local/atlas-sandbox';
import { parseCsv, sha256Of, textOf } from '../support';

const FIXED_NOW = Date.parse('2024-06-15T10:00:00Z');
let sandbox: AtlasSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

function centsOf(amount: string): number {
  const negative = amount.startsWith('-');
  const [whole = '0', fraction = '00'] = amount.replace('-', '').split('.');
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  return negative ? -cents : cents;
}

describe('invoice CSV layout', () => {
  it("follows Atlas's layout: four key/value rows with a trailing comma, a blank line, the 19-column header", async () => {
    sandbox = await startAtlasSandbox(createDemoSandboxOptions({ clock: () => FIXED_NOW }));
    const invoice = sandbox.listInvoices(DEMO_ORG_ID)[3];

    const text = sandbox.csvText(DEMO_ORG_ID, invoice?.id ?? '');
    const lines = text.split('\n');

    expect(lines[0]).toBe(`Invoice Number,${invoice?.id},`);
    expect(lines[1]).toBe('Billing Period,"March 1, 2024 - April 1, 2024",');
    expect(lines[2]).toBe('Organization Name,"Ünïcode & <Co> ""Demo""",');
    expect(lines[3]).toBe(`Organization ID,${DEMO_ORG_ID},`);
    expect(lines[4]).toBe('');
    expect(lines[5]).toBe(CSV_COLUMNS.join(','));
    expect(text.endsWith('\n')).toBe(true);
  });

  it('has one row per JSON line item, with the same project, SKU and amount, summing to the subtotal', async () => {
    sandbox = await startAtlasSandbox(createDemoSandboxOptions({ clock: () => FIXED_NOW }));
    const meta = sandbox.listInvoices(DEMO_ORG_ID).find((i) => i.statusName === 'PAID');
    const invoice = sandbox.getInvoice(DEMO_ORG_ID, meta?.id ?? '');

    const rows = parseCsv(sandbox.csvText(DEMO_ORG_ID, invoice.id)).slice(6);
    const items = invoice.lineItems ?? [];

    expect(rows).toHaveLength(items.length);
    rows.forEach((row, i) => {
      const item = items[i];
      expect(row).toHaveLength(19);
      expect(row[0]).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
      expect(row[1]).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
      expect(row[4]).toBe(DEMO_ORG_NAME);
      expect(row[5]).toBe(DEMO_ORG_ID);
      expect(row[6]).toBe(item?.groupName ?? '');
      expect(row[7]).toBe(item?.groupId ?? '');
      expect(row[8]).toBe(item?.sku);
      expect(centsOf(row[18] ?? '')).toBe(item?.totalPriceCents);
    });
    const total = rows.reduce((sum, row) => sum + centsOf(row[18] ?? ''), 0);
    expect(total).toBe(invoice.subtotalCents);
    expect(
      (invoice.subtotalCents ?? 0) + (invoice.salesTaxCents ?? 0) - (invoice.startingBalanceCents ?? 0),
    ).toBe(invoice.amountBilledCents);
  });

  it('quotes fields with commas and quotes and keeps non-ASCII project names intact', async () => {
    sandbox = await startAtlasSandbox(createDemoSandboxOptions({ clock: () => FIXED_NOW }));
    const id = sandbox.listInvoices(DEMO_ORG_ID)[4]?.id ?? '';

    const text = sandbox.csvText(DEMO_ORG_ID, id);
    const projects = new Set(
      parseCsv(text)
        .slice(6)
        .map((row) => row[6]),
    );

    expect(text).toContain('"Production, ""EU"""');
    expect(projects).toContain('日本語プロジェクト');
    expect(projects).toContain('<!channel> staging & QA');
    expect(text).toContain('"AWS Data Transfer (Internet), ""egress"""');
  });

  it('includes an organisation-wide credit as a negative row without a project', async () => {
    sandbox = await startAtlasSandbox(createDemoSandboxOptions({ clock: () => FIXED_NOW }));
    const withCredit = sandbox.listInvoices(DEMO_ORG_ID).find((i) => (i.creditsCents ?? 0) > 0);

    const credit = parseCsv(sandbox.csvText(DEMO_ORG_ID, withCredit?.id ?? '')).find(
      (row) => row[8] === 'CREDIT',
    );

    expect(credit?.[6]).toBe('');
    expect(centsOf(credit?.[18] ?? '')).toBe(-(withCredit?.creditsCents ?? 0));
  });
});

describe('generated CSVs', () => {
  const spec: GeneratedCsvSpec = {
    invoiceId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
    orgId: 'bbbbbbbbbbbbbbbbbbbbbbbb',
    orgName: 'Ünïcode & <Co> "Big"',
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    bytes: 0,
    projects: [{ id: 'cccccccccccccccccccccccc', name: 'Prod, "EU"' }],
    seed: 7,
  };

  it.each([1_000, 65_537, 1_234_567])('has exactly the requested %i bytes', async (bytes) => {
    const result = await sha256Of(generateCsvChunks({ ...spec, bytes }));

    expect(result.bytes).toBe(bytes);
    expect(generatedCsvSize({ ...spec, bytes })).toBe(bytes);
  });

  it('never goes below the preamble plus one row', () => {
    expect(generatedCsvSize({ ...spec, bytes: 1 })).toBeGreaterThan(300);
  });

  it('is the same bytes every time, and different for another seed', async () => {
    const first = await sha256Of(generateCsvChunks({ ...spec, bytes: 300_000 }));
    const again = await sha256Of(generateCsvChunks({ ...spec, bytes: 300_000 }));
    const other = await sha256Of(generateCsvChunks({ ...spec, bytes: 300_000, seed: 8 }));

    expect(again.hex).toBe(first.hex);
    expect(other.hex).not.toBe(first.hex);
  });

  it("keeps Atlas's layout with 19 fields per row, including quoted multi-line notes", async () => {
    const text = await textOf(generateCsvChunks({ ...spec, bytes: 200_000 }));
    const rows = parseCsv(text);

    expect(rows[0]).toEqual(['Invoice Number', spec.invoiceId, '']);
    expect(rows[5]).toEqual([...CSV_COLUMNS]);
    for (const row of rows.slice(6)) expect(row).toHaveLength(19);
    expect(rows.slice(6).some((row) => row[3]?.includes('\n'))).toBe(true);
  });

  it('is served by the sandbox with its Content-Length and the same bytes as csvStream', async () => {
    sandbox = await startAtlasSandbox({ orgs: [{ name: 'Org', invoices: 1 }] });
    const orgId = sandbox.orgIds()[0] ?? '';
    const invoiceId = sandbox.listInvoices(orgId)[0]?.id ?? '';

    const served = sandbox.setCsvSize(orgId, invoiceId, 100_000);
    const viaSandbox = await sha256Of(sandbox.csvStream(orgId, invoiceId));
    const viaGenerator = await sha256Of(generateCsvChunks(served ?? spec));

    expect(viaSandbox).toEqual(viaGenerator);
    expect(viaSandbox.bytes).toBe(100_000);
    expect(() => sandbox?.csvText(orgId, invoiceId)).toThrow(/csvStream/);
  });
});
