import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../infra/local/atlas-sandbox/csv';
import { AppError } from '../../lib/errors';
import { MAX_TEXT_LENGTH, OTHER_COST_LINE_NAME } from '../../lib/invoices/cost-tally';
import {
  type CsvInspection,
  type CsvInspectorOptions,
  createCsvInspector,
  inspectCsv,
  plainDollarsToCents,
} from '../../lib/invoices/csv-summary';
import { parseDollarsToCents } from '../../lib/invoices/money';
import type { CostLine } from '../../lib/invoices/types';

const SAMPLE = `Invoice Number,666acb8787ba43606905dcae,
Billing Period,"June 1, 2024 - July 1, 2024",
Organization Name,Test 2,
Organization ID,666acb8787ba43606905dcac,

Date,Usage Date,Description,Note,Organization Name,Organization ID,Project,Project ID,SKU,Region,Cluster,Replica Set,Config Server,Application,Unit,Unit Price,Quantity,Discount Percent,Amount
`;

/** Atlas's 19 columns, as the sandbox writes them. */
const COLUMNS = CSV_COLUMNS;
type Column = (typeof COLUMNS)[number];

interface Item {
  readonly project: string;
  readonly projectId: string;
  readonly sku: string;
  /** As printed in the Amount column. */
  readonly amount: string;
  readonly description?: string;
  readonly note?: string;
}

const PREAMBLE = [
  ['Invoice Number', '666acb8787ba43606905dcae', ''],
  ['Billing Period', 'June 1, 2024 - July 1, 2024', ''],
  ['Organization Name', 'Test 2', ''],
  ['Organization ID', '666acb8787ba43606905dcac', ''],
];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',');
}

function itemValues(item: Item, day = 1): Record<Column, string> {
  const date = `06/${String(day).padStart(2, '0')}/2024`;
  return {
    Date: date,
    'Usage Date': date,
    Description: item.description ?? `${item.sku} usage`,
    Note: item.note ?? '',
    'Organization Name': 'Test 2',
    'Organization ID': '666acb8787ba43606905dcac',
    Project: item.project,
    'Project ID': item.projectId,
    SKU: item.sku,
    Region: 'US_EAST_1',
    Cluster: 'Cluster0',
    'Replica Set': 'atlas-abc-shard-0',
    'Config Server': '',
    Application: '',
    Unit: 'hours',
    'Unit Price': '0.08',
    Quantity: '24',
    'Discount Percent': '0',
    Amount: item.amount,
  };
}

/** An invoice CSV as Atlas lays it out; amounts are written raw (the caller quotes them when needed). */
function buildCsv(
  items: readonly Item[],
  options: { eol?: string; bom?: boolean; columns?: readonly string[]; preamble?: boolean } = {},
): string {
  const eol = options.eol ?? '\n';
  const columns = options.columns ?? COLUMNS;
  const lines: string[] = [];
  if (options.preamble !== false) lines.push(...PREAMBLE.map(csvLine), '');
  lines.push(csvLine(columns));
  items.forEach((item, index) => {
    const values = itemValues(item, (index % 28) + 1) as Record<string, string>;
    lines.push(
      columns
        .map((column) => (column === 'Amount' ? item.amount : csvField(values[column] ?? 'extra')))
        .join(','),
    );
  });
  return `${options.bom ? '\ufeff' : ''}${lines.join(eol)}${eol}`;
}

/** Totals and ranking worked out here, from the test's own rows, the simple way. */
function expectedTotals(items: readonly Item[]) {
  const projects = new Map<string, CostLine & { cents: number }>();
  const skus = new Map<string, CostLine & { cents: number }>();
  let total = 0;
  for (const item of items) {
    const cents = parseDollarsToCents(item.amount.replace(/^"|"$/g, '')) as number;
    total += cents;
    const projectKey = item.projectId || `name:${item.project}`;
    const project = projects.get(projectKey) ?? {
      name: item.project,
      ...(item.projectId ? { id: item.projectId } : {}),
      cents: 0,
    };
    project.cents += cents;
    projects.set(projectKey, project);
    const sku = skus.get(item.sku) ?? { name: item.sku, cents: 0 };
    sku.cents += cents;
    skus.set(item.sku, sku);
  }
  const ranked = (lines: Iterable<CostLine>) =>
    [...lines].sort((a, b) => b.cents - a.cents || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { total, projects: ranked(projects.values()), skus: ranked(skus.values()) };
}

async function* chunksOf(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let k = 0; offset < bytes.length; k++) {
    const size = sizes.length === 0 ? bytes.length : (sizes[k % sizes.length] as number);
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

function inspectText(text: string, sizes: readonly number[] = [], options?: CsvInspectorOptions) {
  return inspectCsv(chunksOf(Buffer.from(text), sizes), options);
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const PROJECTS = [
  { project: 'Production', projectId: '666acb8787ba43606905dc01' },
  { project: 'Staging', projectId: '666acb8787ba43606905dc02' },
  { project: 'Analytics, EU', projectId: '666acb8787ba43606905dc03' },
  { project: 'The "Lab"', projectId: '666acb8787ba43606905dc04' },
];
const SKUS = [
  'ATLAS_AWS_INSTANCE_M30',
  'ATLAS_AWS_INSTANCE_M10',
  'ATLAS_AWS_DATA_TRANSFER_SAME_REGION',
  'ATLAS_BACKUP_SNAPSHOT_STORAGE',
  'ATLAS_SUPPORT',
  'ATLAS_AWS_STORAGE_PROVISIONED',
];

/** A realistic month: every project uses a few SKUs every few days, with uneven amounts and a credit. */
function realisticItems(): Item[] {
  const random = seededRandom(42);
  const items: Item[] = [];
  for (let day = 0; day < 30; day++) {
    PROJECTS.forEach((project, p) => {
      SKUS.forEach((sku, s) => {
        if ((day + p + s) % 3 !== 0) return;
        const cents = Math.floor(random() * 5000 * (p + 1) * (s + 1));
        items.push({ ...project, sku, amount: (cents / 100).toFixed(2) });
      });
    });
  }
  items.push({ ...(PROJECTS[0] as Item), sku: 'CREDIT', amount: '-125.50', description: 'Credit, "promo"' });
  return items;
}

describe('inspectCsv', () => {
  it('reads the header values of the sample invoice and finds no line items', async () => {
    const inspection = await inspectText(SAMPLE);

    expect(inspection.summary).toEqual({
      invoiceNumber: '666acb8787ba43606905dcae',
      billingPeriod: 'June 1, 2024 - July 1, 2024',
      organizationName: 'Test 2',
      organizationId: '666acb8787ba43606905dcac',
      lineItemCount: 0,
      totalCents: 0,
      projects: [],
      projectCount: 0,
      skus: [],
      skuCount: 0,
      malformedRows: 0,
    });
    expect(inspection.bytes).toBe(Buffer.byteLength(SAMPLE));
    expect(inspection.sha256).toBe(sha256(Buffer.from(SAMPLE)));
  });

  it('totals and ranks projects and SKUs of a realistic invoice', async () => {
    const items = realisticItems();
    const expected = expectedTotals(items);

    const { summary } = await inspectText(buildCsv(items), [], { topN: 3 });

    expect(summary.lineItemCount).toBe(items.length);
    expect(summary.totalCents).toBe(expected.total);
    expect(summary.projects).toEqual(expected.projects.slice(0, 3));
    expect(summary.projectCount).toBe(PROJECTS.length);
    expect(summary.skus).toEqual(expected.skus.slice(0, 3));
    expect(summary.skuCount).toBe(SKUS.length + 1);
    expect(summary.malformedRows).toBe(0);
  });

  it('lists five projects and SKUs by default', async () => {
    const { summary } = await inspectText(buildCsv(realisticItems()));

    expect(summary.projects).toHaveLength(4);
    expect(summary.skus).toHaveLength(5);
  });

  it('reads names holding commas, quotes and line breaks', async () => {
    const items: Item[] = [
      {
        project: 'Ops, "Core"\nTeam',
        projectId: '',
        sku: 'SKU "A", v2',
        amount: '10.00',
        note: 'multi\r\nline',
      },
      { project: 'Ops, "Core"\nTeam', projectId: '', sku: 'SKU "A", v2', amount: '2.50' },
    ];

    const { summary } = await inspectText(buildCsv(items));

    expect(summary.projects).toEqual([{ name: 'Ops, "Core"\nTeam', cents: 1250 }]);
    expect(summary.skus).toEqual([{ name: 'SKU "A", v2', cents: 1250 }]);
    expect(summary.lineItemCount).toBe(2);
  });

  it('gives the same inspection for non-ASCII input whether fed whole, byte by byte or in random chunks', async () => {
    const items: Item[] = [
      { project: 'Équipe été', projectId: '', sku: 'ATLAS_日本語', amount: '12.34' },
      { project: 'プロジェクト 😀', projectId: '666acb8787ba43606905dc09', sku: 'SKU 🎉', amount: '0.99' },
      { project: 'Équipe été', projectId: '', sku: 'SKU 🎉', amount: '100' },
    ];
    const text = buildCsv(items).replace('Test 2', 'Société générale 🏦');
    const random = seededRandom(3);

    const whole = await inspectText(text);

    expect(whole.summary.organizationName).toBe('Société générale 🏦');
    expect(whole.summary.projects).toEqual([
      { name: 'Équipe été', cents: 11234 },
      { name: 'プロジェクト 😀', id: '666acb8787ba43606905dc09', cents: 99 },
    ]);
    expect(whole.summary.skus).toEqual([
      { name: 'SKU 🎉', cents: 10099 },
      { name: 'ATLAS_日本語', cents: 1234 },
    ]);
    expect(await inspectText(text, [1])).toEqual(whole);
    for (let round = 0; round < 10; round++) {
      const sizes = Array.from({ length: 40 }, () => 1 + Math.floor(random() * 13));
      expect(await inspectText(text, sizes)).toEqual(whole);
    }
  });

  it('summarises CRLF and LF files alike', async () => {
    const items = realisticItems().slice(0, 20);

    const lf = await inspectText(buildCsv(items));
    const crlf = await inspectText(buildCsv(items, { eol: '\r\n' }));

    expect(crlf.summary).toEqual(lf.summary);
  });

  it('reads the header values after a UTF-8 BOM and hashes the BOM with the rest', async () => {
    const text = buildCsv(realisticItems().slice(0, 5), { bom: true });

    const inspection = await inspectText(text, [2]);

    expect(inspection.summary.invoiceNumber).toBe('666acb8787ba43606905dcae');
    expect(inspection.summary.lineItemCount).toBe(5);
    expect(inspection.sha256).toBe(sha256(Buffer.from(text)));
  });

  it('reads amounts with many decimals, credits and thousands separators to the cent', async () => {
    const amounts: [string, number][] = [
      ['12.34', 1234],
      ['1.23456', 123],
      ['0.005', 1],
      ['0.004', 0],
      ['2.675', 268],
      ['-100.00', -10000],
      ['-0.015', -2],
      ['"1,234.56"', 123456],
      ['"-1,234,567.891"', -123456789],
      ['$3', 300],
      ['.5', 50],
      ['-0', 0],
      [' 7.10 ', 710],
    ];
    const items = amounts.map(([amount], index) => ({
      project: 'P',
      projectId: '',
      sku: `S${index}`,
      amount,
    }));

    const { summary } = await inspectText(buildCsv(items), [], { topN: amounts.length });

    const byName = new Map(summary.skus.map((line) => [line.name, line.cents]));
    amounts.forEach(([amount, cents], index) => {
      expect(byName.get(`S${index}`), amount).toBe(cents);
    });
    expect(summary.totalCents).toBe(amounts.reduce((sum, [, cents]) => sum + cents, 0));
    expect(summary.malformedRows).toBe(0);
  });

  it('counts malformed rows apart from the line items', async () => {
    const good = realisticItems().slice(0, 4);
    const text = [
      buildCsv(good).trimEnd(),
      '06/01/2024,too,few,columns',
      csvLine(Object.values(itemValues({ ...(good[0] as Item), amount: 'twelve' }))),
      csvLine(Object.values(itemValues({ ...(good[0] as Item), amount: '' }))),
      csvLine(Object.values(itemValues({ ...(good[0] as Item), amount: '1.2.3' }))),
      `${csvLine(Object.values(itemValues(good[1] as Item)))},extra`,
      '"broken"quote,a,b',
      '',
      '"never closed,1,2',
    ].join('\n');

    const { summary } = await inspectText(text);

    expect(summary.lineItemCount).toBe(4);
    expect(summary.totalCents).toBe(expectedTotals(good).total);
    expect(summary.malformedRows).toBe(7);
  });

  it('counts a row over the size limit as malformed without keeping it', async () => {
    const items = realisticItems().slice(0, 3);
    const huge = { ...(items[0] as Item), description: 'x'.repeat(5000) };
    const text = buildCsv([...items, huge]);

    const { summary } = await inspectText(text, [1000], { maxRowBytes: 2048 });

    expect(summary.lineItemCount).toBe(3);
    expect(summary.malformedRows).toBe(1);
  });

  it('finds columns by name when they are reordered or extra ones are added', async () => {
    const items = realisticItems().slice(0, 30);
    const columns = ['Amount', 'Extra Tag', ...COLUMNS.filter((c) => c !== 'Amount').reverse(), 'Another'];
    const expected = expectedTotals(items);

    const { summary } = await inspectText(buildCsv(items, { columns }), [], { topN: 10 });

    expect(summary.totalCents).toBe(expected.total);
    expect(summary.projects).toEqual(expected.projects);
    expect(summary.skus).toEqual(expected.skus);
  });

  it('counts every row as malformed when the header is missing', async () => {
    const items = realisticItems().slice(0, 6);
    const text = buildCsv(items).replace(`${COLUMNS.join(',')}\n`, '');

    const { summary } = await inspectText(text);

    expect(summary.invoiceNumber).toBe('666acb8787ba43606905dcae');
    expect(summary.lineItemCount).toBe(0);
    expect(summary.totalCents).toBe(0);
    expect(summary.malformedRows).toBe(6);
  });

  it('ignores unknown key/value rows before a header', async () => {
    const text = buildCsv(realisticItems().slice(0, 2)).replace('\n\n', '\nCurrency,USD,\n\n');

    const { summary } = await inspectText(text);

    expect(summary.malformedRows).toBe(0);
    expect(summary.lineItemCount).toBe(2);
  });

  it('reads only the four known key/value rows, whatever other keys say', async () => {
    const text = SAMPLE.replace('\n\n', '\n__proto__,polluted,\nconstructor,x,\nInvoice Number,second,\n\n');

    const { summary } = await inspectText(text);

    expect(Object.keys(summary).sort()).toEqual(
      [
        'invoiceNumber',
        'billingPeriod',
        'organizationName',
        'organizationId',
        'lineItemCount',
        'totalCents',
        'projects',
        'projectCount',
        'skus',
        'skuCount',
        'malformedRows',
      ].sort(),
    );
    expect(summary.invoiceNumber).toBe('666acb8787ba43606905dcae');
  });

  it('keys projects by id, keeping the first name seen, and by name when there is no id', async () => {
    const items: Item[] = [
      { project: 'Old name', projectId: '666acb8787ba43606905dc01', sku: 'A', amount: '1.00' },
      { project: 'New name', projectId: '666acb8787ba43606905dc01', sku: 'A', amount: '2.00' },
      { project: 'No id', projectId: '', sku: 'A', amount: '0.50' },
      { project: 'No id', projectId: '', sku: 'A', amount: '0.25' },
    ];

    const { summary } = await inspectText(buildCsv(items));

    expect(summary.projects).toEqual([
      { name: 'Old name', id: '666acb8787ba43606905dc01', cents: 300 },
      { name: 'No id', cents: 75 },
    ]);
  });

  it('folds projects and SKUs past maxDistinct into one "(other)" line', async () => {
    const items: Item[] = Array.from({ length: 6 }, (_, i) => ({
      project: `Project ${i}`,
      projectId: `666acb8787ba43606905dc1${i}`,
      sku: `SKU_${i}`,
      amount: `${i + 1}.00`,
    }));

    const { summary } = await inspectText(buildCsv(items), [], { maxDistinct: 2, topN: 10 });

    expect(summary.projectCount).toBe(3);
    expect(summary.projects).toEqual([
      { name: OTHER_COST_LINE_NAME, cents: 1800 },
      { name: 'Project 1', id: '666acb8787ba43606905dc11', cents: 200 },
      { name: 'Project 0', id: '666acb8787ba43606905dc10', cents: 100 },
    ]);
    expect(summary.skuCount).toBe(3);
    expect(summary.skus[0]).toEqual({ name: OTHER_COST_LINE_NAME, cents: 1800 });
    expect(summary.totalCents).toBe(2100);
  });

  it('cuts very long names so no single value holds much memory', async () => {
    const items: Item[] = [{ project: 'p'.repeat(5000), projectId: '', sku: 's'.repeat(300), amount: '1' }];

    const { summary } = await inspectText(buildCsv(items));

    expect(summary.projects[0]?.name).toBe('p'.repeat(MAX_TEXT_LENGTH));
    expect(summary.skus[0]?.name).toBe('s'.repeat(MAX_TEXT_LENGTH));
  });

  it('summarises a large generated CSV with the totals the generator counted', async () => {
    const expected = {
      rows: 0,
      total: 0,
      projects: new Map<string, number>(),
      skus: new Map<string, number>(),
      hash: createHash('sha256'),
      bytes: 0,
    };
    async function* generate(targetBytes: number): AsyncGenerator<Uint8Array> {
      const random = seededRandom(99);
      let lines: string[] = [...PREAMBLE.map(csvLine), '', COLUMNS.join(',')];
      const emit = () => {
        const chunk = Buffer.from(`${lines.join('\n')}\n`);
        expected.hash.update(chunk);
        expected.bytes += chunk.length;
        lines = [];
        return chunk;
      };
      while (expected.bytes < targetBytes) {
        for (let k = 0; k < 300; k++) {
          const p = Math.floor(random() * 60);
          const project = { project: `Project ${p}`, projectId: `66${String(p).padStart(22, '0')}` };
          const sku = SKUS[Math.floor(random() * SKUS.length)] as string;
          const cents = Math.floor(random() * 200_000) - 20_000;
          const sign = cents < 0 ? '-' : '';
          const abs = Math.abs(cents);
          const amount = `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
          lines.push(csvLine(Object.values(itemValues({ ...project, sku, amount }, (k % 28) + 1))));
          expected.rows++;
          expected.total += cents;
          expected.projects.set(project.projectId, (expected.projects.get(project.projectId) ?? 0) + cents);
          expected.skus.set(sku, (expected.skus.get(sku) ?? 0) + cents);
        }
        yield emit();
      }
    }

    const inspection = await inspectCsv(generate(24 * 1024 * 1024), { topN: 100 });

    expect(inspection.bytes).toBe(expected.bytes);
    expect(inspection.bytes).toBeGreaterThan(24 * 1024 * 1024);
    expect(inspection.sha256).toBe(expected.hash.digest('hex'));
    expect(inspection.summary.lineItemCount).toBe(expected.rows);
    expect(inspection.summary.totalCents).toBe(expected.total);
    expect(inspection.summary.malformedRows).toBe(0);
    expect(new Map(inspection.summary.projects.map((line) => [line.id, line.cents]))).toEqual(
      expected.projects,
    );
    expect(new Map(inspection.summary.skus.map((line) => [line.name, line.cents]))).toEqual(expected.skus);
  });

  it('rejects with the error of its source', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(SAMPLE);
      throw new Error('connection reset');
    }

    await expect(inspectCsv(failing())).rejects.toThrow('connection reset');
  });

  it('refuses a source of strings', async () => {
    async function* strings(): AsyncGenerator<string> {
      yield 'a,b\n';
    }

    await expect(inspectCsv(strings() as unknown as AsyncIterable<Uint8Array>)).rejects.toThrow(TypeError);
  });

  it('refuses invalid options', async () => {
    await expect(inspectText(SAMPLE, [], { topN: -1 })).rejects.toThrow(RangeError);
    await expect(inspectText(SAMPLE, [], { maxDistinct: 0 })).rejects.toThrow(RangeError);
  });
});

describe('createCsvInspector', () => {
  function collector(): { sink: Writable; bytes: () => Buffer } {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    return { sink, bytes: () => Buffer.concat(chunks) };
  }

  it('passes every byte through unchanged and hashes them as node:crypto does', async () => {
    const input = Buffer.from(buildCsv(realisticItems(), { eol: '\r\n', bom: true }));
    const random = seededRandom(5);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < input.length; ) {
      const size = 1 + Math.floor(random() * 4000);
      chunks.push(input.subarray(offset, offset + size));
      offset += size;
    }
    const inspector = createCsvInspector();
    const { sink, bytes } = collector();

    await pipeline(Readable.from(chunks), inspector.stream, sink);
    const inspection: CsvInspection = await inspector.result();

    expect(bytes().equals(input)).toBe(true);
    expect(inspection.bytes).toBe(input.length);
    expect(inspection.sha256).toBe(sha256(input));
    expect(inspection.summary).toEqual((await inspectCsv(chunksOf(input, []))).summary);
  });

  it('stops accepting writes while the reader is not reading', () => {
    const inspector = createCsvInspector();
    const chunk = Buffer.from(`${SAMPLE}${'x,'.repeat(8 * 1024)}\n`);
    let accepted = 0;

    while (accepted < 100 && inspector.stream.write(chunk)) accepted++;

    expect(accepted).toBeLessThan(100);
    inspector.stream.destroy();
  });

  it('rejects the result with the error that broke the stream', async () => {
    const source = new Readable({ read() {} });
    const inspector = createCsvInspector();
    const { sink } = collector();
    const piping = pipeline(source, inspector.stream, sink);

    source.push(Buffer.from(SAMPLE));
    source.destroy(new Error('upstream reset'));

    await expect(piping).rejects.toThrow('upstream reset');
    await expect(inspector.result()).rejects.toThrow('upstream reset');
  });

  it('rejects the result when the stream is destroyed before its end', async () => {
    const inspector = createCsvInspector();
    inspector.stream.write(Buffer.from(SAMPLE));

    inspector.stream.destroy();

    await expect(inspector.result()).rejects.toThrow(AppError);
  });

  it('resolves only once the input has ended', async () => {
    const inspector = createCsvInspector();
    const { sink } = collector();
    inspector.stream.pipe(sink);
    let settled = false;
    void inspector.result().then(() => {
      settled = true;
    });

    inspector.stream.write(Buffer.from(SAMPLE));
    await new Promise((resolve) => setImmediate(resolve));
    const settledBeforeEnd = settled;
    inspector.stream.end(Buffer.from('06/01/2024,x\n'));
    const inspection = await inspector.result();

    expect(settledBeforeEnd).toBe(false);
    expect(inspection.summary.malformedRows).toBe(1);
  });
});

describe('plainDollarsToCents', () => {
  it('agrees with parseDollarsToCents on every plain amount it accepts', () => {
    const random = seededRandom(11);
    let accepted = 0;
    for (let round = 0; round < 5000; round++) {
      const whole = Array.from({ length: Math.floor(random() * 19) }, () => Math.floor(random() * 10)).join(
        '',
      );
      const fraction = Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 10)).join(
        '',
      );
      const text = `${random() < 0.3 ? '-' : ''}${whole}${random() < 0.8 ? `.${fraction}` : ''}`;
      const bytes = Buffer.from(`x,${text},y`);

      const fast = plainDollarsToCents(bytes, 2, 2 + text.length);

      if (fast !== undefined) {
        accepted++;
        expect(fast, text).toBe(parseDollarsToCents(text));
      }
    }
    expect(accepted).toBeGreaterThan(2500);
  });

  it('leaves every other form to parseDollarsToCents', () => {
    for (const text of [
      '',
      '-',
      '.',
      '1.',
      '1,234.00',
      '$3',
      ' 1',
      '1e3',
      '--1',
      '1.2.3',
      '1234567890123456.00',
    ]) {
      expect(plainDollarsToCents(Buffer.from(text), 0, text.length), text).toBeUndefined();
    }
  });
});
