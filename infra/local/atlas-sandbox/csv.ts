import { Readable } from 'node:stream';
import { MONTH_NAMES } from '../../../lib/spend/calendar';
import { DAY_MS, type SandboxLineItem, SKU_CATALOGUE } from './model';
import { createRandom, hashSeed } from './random';

/**
 * Invoice CSVs in Atlas's layout (atlas-api.md "The invoice CSV"): four key/value rows each ending in a comma, a
 * blank line, the 19-column header, one row per line item. LF line ends, US dates (MM/DD/YYYY), RFC 4180 quoting.
 */
export const CSV_COLUMNS = [
  'Date',
  'Usage Date',
  'Description',
  'Note',
  'Organization Name',
  'Organization ID',
  'Project',
  'Project ID',
  'SKU',
  'Region',
  'Cluster',
  'Replica Set',
  'Config Server',
  'Application',
  'Unit',
  'Unit Price',
  'Quantity',
  'Discount Percent',
  'Amount',
] as const;

export const CSV_HEADER_LINE = `${CSV_COLUMNS.join(',')}\n`;

/** RFC 4180: quote a field holding a comma, quote, CR or LF, doubling inner quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** `06/01/2024` (UTC). */
export function usDate(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
}

/** `June 1, 2024` (UTC). */
export function longDate(ms: number): string {
  const d = new Date(ms);
  return `${MONTH_NAMES[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}

/** Cents as a plain decimal dollar amount: `1234.50`, `-50.00`. */
export function dollars(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export interface CsvHeaderFields {
  readonly invoiceId: string;
  readonly orgId: string;
  readonly orgName: string;
  /** ISO timestamps of the billing period. */
  readonly startDate: string;
  readonly endDate: string;
}

/** The four key/value rows, the blank line and the column header. */
export function csvPreamble(fields: CsvHeaderFields): string {
  const period = `${longDate(Date.parse(fields.startDate))} - ${longDate(Date.parse(fields.endDate))}`;
  return (
    `Invoice Number,${csvField(fields.invoiceId)},\n` +
    `Billing Period,${csvField(period)},\n` +
    `Organization Name,${csvField(fields.orgName)},\n` +
    `Organization ID,${csvField(fields.orgId)},\n` +
    `\n${CSV_HEADER_LINE}`
  );
}

/** One CSV row per JSON line item: Amount = totalPriceCents, Project = groupName, Project ID = groupId, SKU = sku. */
export function lineItemRow(item: SandboxLineItem, orgId: string, orgName: string): string {
  const json = item.json;
  const start = Date.parse(json.startDate ?? '');
  const end = Date.parse(json.endDate ?? '');
  const fields = [
    Number.isNaN(end) ? '' : usDate(end),
    Number.isNaN(start) ? '' : usDate(start),
    item.description,
    json.note ?? '',
    orgName,
    orgId,
    json.groupName ?? '',
    json.groupId ?? '',
    json.sku ?? '',
    item.region,
    json.clusterName ?? '',
    item.replicaSet,
    '',
    '',
    json.unit ?? '',
    json.unitPriceDollars === undefined ? '' : String(json.unitPriceDollars),
    json.quantity === undefined ? '' : String(json.quantity),
    json.percentDiscount === undefined ? '' : String(json.percentDiscount),
    dollars(json.totalPriceCents ?? 0),
  ];
  return `${fields.map(csvField).join(',')}\n`;
}

/** The CSV of a normal invoice, consistent with its JSON line items (row i is lineItems[i]). */
export function renderInvoiceCsv(fields: CsvHeaderFields, lineItems: readonly SandboxLineItem[]): string {
  let out = csvPreamble(fields);
  for (const item of lineItems) out += lineItemRow(item, fields.orgId, fields.orgName);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Generated CSVs of any size.

/** Everything that determines a generated CSV's bytes: generate it again from the same spec to check a download. */
export interface GeneratedCsvSpec extends CsvHeaderFields {
  /** Requested size; the actual size is `generatedCsvSize(spec)` (the same unless below the minimum). */
  readonly bytes: number;
  readonly projects: readonly { readonly id: string; readonly name: string }[];
  readonly seed: number;
}

const CHUNK_CHARS = 64 * 1024;
const FINAL_SKU = 'ATLAS_AWS_DATA_TRANSFER_SAME_REGION';

function finalRow(spec: GeneratedCsvSpec, padding: number, quotedOrg: string): string {
  const end = Date.parse(spec.endDate);
  const project = spec.projects[0];
  return (
    `${usDate(end)},${usDate(end - DAY_MS)},Padding row,${'x'.repeat(padding)},${quotedOrg},${spec.orgId},` +
    `${csvField(project?.name ?? '')},${project?.id ?? ''},${FINAL_SKU},US_EAST_1,Cluster0,,,,GB,0.01,0,,0.00\n`
  );
}

/** The exact byte length of the generated CSV: `spec.bytes`, or the smallest possible size if that is larger. */
export function generatedCsvSize(spec: GeneratedCsvSpec): number {
  const quotedOrg = csvField(spec.orgName);
  const minimum = Buffer.byteLength(csvPreamble(spec)) + Buffer.byteLength(finalRow(spec, 0, quotedOrg));
  return Math.max(spec.bytes, minimum);
}

/**
 * The generated CSV as ~64 KiB chunks, never more in memory: random but plausible line-item rows (seeded by
 * `spec.seed`), then one padding row whose Note makes the total exactly `generatedCsvSize(spec)` bytes.
 */
export function* generateCsvChunks(spec: GeneratedCsvSpec): Generator<Buffer> {
  const random = createRandom(hashSeed(spec.seed, spec.invoiceId));
  const quotedOrg = csvField(spec.orgName);
  const preamble = csvPreamble(spec);
  const minimalFinal = Buffer.byteLength(finalRow(spec, 0, quotedOrg));
  let remaining = generatedCsvSize(spec) - Buffer.byteLength(preamble);
  const start = Date.parse(spec.startDate);
  const days = Math.max(1, Math.round((Date.parse(spec.endDate) - start) / DAY_MS));
  const dates = Array.from({ length: days }, (_, i) => [
    usDate(start + (i + 1) * DAY_MS),
    usDate(start + i * DAY_MS),
  ]);
  const projects = spec.projects.length > 0 ? spec.projects : [{ id: spec.orgId, name: 'Project 0' }];
  const projectCells = projects.map((p) => `${csvField(p.name)},${p.id}`);
  const skus = SKU_CATALOGUE.filter((e) => e.cluster).map((e) => ({
    head: `${csvField(e.description)},`,
    tail: `${e.sku},${e.region},`,
    unit: `${csvField(e.unit)},${e.unitPriceDollars},`,
    price: e.unitPriceDollars,
  }));
  const orgCells = `${quotedOrg},${spec.orgId},`;

  let chunk = preamble;
  for (let row = 0; ; row++) {
    const [date, usage] = dates[Math.floor(random() * days)] ?? ['', ''];
    const sku = skus[Math.floor(random() * skus.length)];
    const project = projectCells[Math.floor(random() * projectCells.length)];
    if (sku === undefined || project === undefined) break;
    const clusterNumber = Math.floor(random() * 8);
    const quantity = Math.round(random() * 100_000) / 100;
    const cents = Math.round(quantity * sku.price * 100);
    const note = row % 97 === 0 ? '"line 1, with ""quotes""\nline 2"' : '';
    const line =
      `${date},${usage},${sku.head}${note},${orgCells}${project},${sku.tail}Cluster${clusterNumber},` +
      `atlas-cluster${clusterNumber}-shard-0,,,${sku.unit}${quantity},,${dollars(cents)}\n`;
    const size = Buffer.byteLength(line);
    if (remaining - size < minimalFinal) break;
    remaining -= size;
    chunk += line;
    if (chunk.length >= CHUNK_CHARS) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  chunk += finalRow(spec, remaining - minimalFinal, quotedOrg);
  yield Buffer.from(chunk, 'utf8');
}

/** The generated CSV as a stream that respects backpressure. */
export function createGeneratedCsvStream(spec: GeneratedCsvSpec): Readable {
  return Readable.from(generateCsvChunks(spec), { objectMode: false });
}
