import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AtlasSandbox, DEMO_SERVICE_ACCOUNT, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { type ArchiveCsvResult, type CsvArchive, createCsvArchive } from '../../lib/archive/csv-archive';
import { createIndexStore } from '../../lib/archive/index-store';
import { csvKey } from '../../lib/archive/keys';
import { type AtlasClient, createAtlasClient } from '../../lib/atlas/client';
import type { CsvDownload } from '../../lib/atlas/types';
import { ArchiveError, DeadlineError } from '../../lib/errors';
import { type CsvInspectorOptions, createCsvInspector } from '../../lib/invoices/csv-summary';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import type { InvoiceIndexEntry } from '../../lib/invoices/types';
import { seriesTotalCents } from '../../lib/spend/usage-series';
import { type StallingProxy, startStallingProxy } from '../poll/stalling-proxy';
import { sha256 } from '../support/fakes';

const BUCKET = 'archive';
const ORG = '65f0c0ffee00de0000000042';
const PART = 5 * 1024 * 1024;

let s3: S3StandIn;
let client: S3Client;
let sandbox: AtlasSandbox;
let atlas: AtlasClient;
let invoices: InvoiceMetadata[];

beforeAll(async () => {
  [s3, sandbox] = await Promise.all([
    startS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] }),
    startAtlasSandbox({ orgs: [{ id: ORG, name: 'Acme & <Co> Ünïcode', invoices: 4 }], rateLimit: false }),
  ]);
  client = new S3Client(s3.clientConfig());
  atlas = createAtlasClient({
    baseUrl: sandbox.url,
    credentials: { kind: 'service-account', ...DEMO_SERVICE_ACCOUNT },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  });
  invoices = sandbox.listInvoices(ORG);
});
afterAll(async () => {
  client.destroy();
  await atlas.close();
  await Promise.all([s3.close(), sandbox.close()]);
});
beforeEach(() => {
  s3.resetRequests();
  s3.clearFaults();
  sandbox.clearFaults();
});

function archiveWith(
  prefix: string,
  extra: Partial<Parameters<typeof createCsvArchive>[0]> = {},
): CsvArchive {
  return createCsvArchive({
    s3: client,
    bucket: BUCKET,
    prefix,
    createInspector: createCsvInspector,
    partSize: PART,
    ...extra,
  });
}

function nth(i: number): InvoiceMetadata {
  const invoice = invoices[i];
  if (invoice === undefined) throw new Error('sandbox has too few invoices');
  return invoice;
}

function download(invoice: InvoiceMetadata) {
  return () => atlas.getInvoiceCsv(ORG, invoice.id);
}

/** Archives the CSV the sandbox serves now for `invoice`, with `previous` as the state recorded for it (none: new). */
function archiveNow(archive: CsvArchive, invoice: InvoiceMetadata, previous?: RecordedState) {
  return archive.archiveCsv({ orgId: ORG, invoice, previous, openCsv: download(invoice), topN: 3 });
}

type RecordedState = Parameters<CsvArchive['archiveCsv']>[0]['previous'];

/** The state an archive of `recorded` leaves: its status and updated as listed, the stored CSV's hash and key. */
function recordedState(recorded: InvoiceMetadata, csv: { sha256: string; key: string }): RecordedState {
  return { statusName: recorded.statusName, updated: recorded.updated, sha256: csv.sha256, key: csv.key };
}

/** The index entry the poll writes after archiving `invoice` as `result` (amounts left at zero). */
function indexEntryFor(
  invoice: InvoiceMetadata,
  result: Pick<ArchiveCsvResult, 'csv' | 'summary'>,
): InvoiceIndexEntry {
  return {
    version: 1,
    invoiceId: invoice.id,
    orgId: ORG,
    statusName: invoice.statusName,
    startDate: invoice.startDate,
    endDate: invoice.endDate,
    updated: invoice.updated,
    amounts: {
      subtotalCents: 0,
      creditsCents: 0,
      salesTaxCents: 0,
      startingBalanceCents: 0,
      amountBilledCents: 0,
      amountPaidCents: 0,
    },
    summary: result.summary,
    csv: result.csv,
    archivedAt: '2024-07-02T12:00:00.000Z',
  };
}

async function expectedBytes(invoice: InvoiceMetadata): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of sandbox.csvStream(ORG, invoice.id)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const writes = () =>
  s3.requests
    .filter((r) =>
      ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload'].includes(r.operation),
    )
    .map((r) => r.operation);

describe('the usage series', () => {
  it('is read in the same pass over the invoice’s own period, budgeted projects pinned, identical bytes included', async () => {
    const invoice = nth(3);
    const asked: CsvInspectorOptions[] = [];
    const archive = archiveWith('usage/', {
      createInspector: (options) => {
        asked.push(options);
        return createCsvInspector(options);
      },
    });
    const pinned = ['5f00000000000000000000b1'];
    const archiveOnce = (previous?: RecordedState) =>
      archive.archiveCsv({
        orgId: ORG,
        invoice,
        previous,
        openCsv: download(invoice),
        topN: 3,
        pinnedProjectIds: pinned,
      });

    const first = await archiveOnce();
    const again = await archiveOnce(recordedState(invoice, first.csv));

    const period = { start: invoice.startDate, end: invoice.endDate };
    expect(asked).toEqual([
      { topN: 3, period, pinnedProjectIds: pinned },
      { topN: 3, period, pinnedProjectIds: pinned },
    ]);
    expect(first.usage).toMatchObject({
      start: invoice.startDate.slice(0, 10),
      days: (Date.parse(invoice.endDate) - Date.parse(invoice.startDate)) / 86_400_000,
    });
    expect(seriesTotalCents(first.usage as NonNullable<typeof first.usage>)).toBe(first.summary.totalCents);
    expect(again.outcome).toBe('identical');
    expect(again.usage).toEqual(first.usage);
  });
});

describe('archiving a CSV that fits in one part', () => {
  it('stores the bytes as Atlas sent them, with content type, encryption and invoice/org/sha256 metadata', async () => {
    const invoice = nth(0);
    const archive = archiveWith('one/');

    const result = await archiveNow(archive, invoice);

    const key = csvKey('one/', ORG, invoice.startDate, invoice.id);
    const expected = await expectedBytes(invoice);
    expect(await s3.getObjectBytes(BUCKET, key)).toEqual(expected);
    expect(result).toMatchObject({
      outcome: 'archived',
      csv: { key, sha256: sha256(expected), bytes: expected.length },
      summary: { organizationName: 'Acme & <Co> Ünïcode' },
    });
    expect(result.summary.projects.length).toBeLessThanOrEqual(3);
    expect(s3.headObject(BUCKET, key)).toMatchObject({
      contentType: 'text/csv; charset=utf-8',
      serverSideEncryption: 'AES256',
    });
    // Only facts that stay true for these bytes: the status moves on without the CSV being rewritten.
    expect(s3.headObject(BUCKET, key)?.metadata).toEqual({
      'invoice-id': invoice.id,
      'org-id': ORG,
      sha256: sha256(expected),
    });
    expect(writes()).toEqual(['PutObject']);
  });

  it('writes nothing, and asks S3 nothing, when the bytes equal the hash the state recorded', async () => {
    const invoice = nth(1);
    const archive = archiveWith('same/');
    const first = await archiveNow(archive, invoice);
    s3.resetRequests();

    const again = await archiveNow(
      archive,
      { ...invoice, statusName: 'PAID' },
      recordedState(invoice, first.csv),
    );

    // Nothing was asked of S3, so the stored object's ETag is not known this time.
    const { etag: _unknown, ...csv } = first.csv;
    expect(first.csv.etag).toBe(s3.headObject(BUCKET, first.csv.key)?.etag);
    expect(again).toEqual({ ...first, csv, outcome: 'identical' });
    expect(s3.requests).toEqual([]);
    expect(s3.listVersions(BUCKET, first.csv.key)).toHaveLength(1);
  });

  it('finds the stored hash with a HeadObject when the state has none (first run, or a crash before the save)', async () => {
    const invoice = nth(2);
    const archive = archiveWith('head/');
    const first = await archiveNow(archive, invoice);
    s3.resetRequests();

    const stale = { statusName: 'PENDING', updated: 'older', sha256: 'd'.repeat(64), key: first.csv.key };
    const withStaleState = await archiveNow(archive, invoice, stale);
    const withoutState = await archiveNow(archive, invoice);

    expect(withStaleState.outcome).toBe('identical');
    expect(withoutState.outcome).toBe('identical');
    expect(s3.requests.map((r) => r.operation)).toEqual(['HeadObject', 'HeadObject']);
  });

  it('writes a new version when the bytes changed', async () => {
    const pending = invoices.find((i) => i.statusName === 'PENDING') ?? nth(0);
    const archive = archiveWith('changed/');
    const first = await archiveNow(archive, pending);
    const touched = sandbox.touch(ORG, pending.id);

    const second = await archiveNow(archive, touched, recordedState(pending, first.csv));

    expect(second.outcome).toBe('archived');
    expect(second.csv.sha256).not.toBe(first.csv.sha256);
    expect(await s3.getObjectBytes(BUCKET, second.csv.key)).toEqual(await expectedBytes(touched));
    expect(s3.listVersions(BUCKET, second.csv.key)).toHaveLength(2);
    expect(s3.headObject(BUCKET, second.csv.key)?.metadata.sha256).toBe(second.csv.sha256);
  });

  it('encrypts with aws:kms when configured', async () => {
    const invoice = nth(0);
    const archive = archiveWith('kms/', { serverSideEncryption: 'aws:kms', kmsKeyId: 'alias/invoices' });

    const result = await archiveNow(archive, invoice);

    expect(s3.headObject(BUCKET, result.csv.key)?.serverSideEncryption).toBe('aws:kms');
  });
});

describe('archiving a CSV larger than one part', () => {
  const SIZE = 2 * PART + 123_457;

  it('streams it as a multipart upload, byte for byte', async () => {
    const invoice = nth(3);
    sandbox.setCsvSize(ORG, invoice.id, SIZE);
    const archive = archiveWith('big/');

    const result = await archiveNow(archive, invoice);

    const stored = await s3.getObjectBytes(BUCKET, result.csv.key);
    expect(stored.length).toBe(SIZE);
    expect(stored.equals(await expectedBytes(invoice))).toBe(true);
    expect(result.csv).toEqual({
      key: result.csv.key,
      sha256: sha256(stored),
      bytes: SIZE,
      etag: s3.headObject(BUCKET, result.csv.key)?.etag,
    });
    expect(writes()).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    expect(s3.headObject(BUCKET, result.csv.key)).toMatchObject({
      partsCount: 3,
      serverSideEncryption: 'AES256',
    });
    expect(s3.headObject(BUCKET, result.csv.key)?.metadata).toEqual({
      'invoice-id': invoice.id,
      'org-id': ORG,
    });
  });

  it('aborts the multipart upload before its final part when the bytes are unchanged', async () => {
    const invoice = nth(3);
    sandbox.setCsvSize(ORG, invoice.id, SIZE);
    const archive = archiveWith('big-same/');
    const first = await archiveNow(archive, invoice);
    s3.resetRequests();

    const again = await archiveNow(archive, invoice, recordedState(invoice, first.csv));

    expect(again.outcome).toBe('identical');
    const operations = s3.requests.map((r) => r.operation);
    expect(operations).toContain('AbortMultipartUpload');
    expect(operations).not.toContain('CompleteMultipartUpload');
    expect(operations.filter((op) => op === 'UploadPart').length).toBeLessThan(3);
    expect(s3.listVersions(BUCKET, first.csv.key)).toHaveLength(1);
  });

  it('trusts the index entry for a multipart object whose metadata could not carry the hash', async () => {
    const invoice = nth(3);
    sandbox.setCsvSize(ORG, invoice.id, SIZE);
    const index = createIndexStore({ s3: client, bucket: BUCKET, prefix: 'big-index/' });
    const archive = archiveWith('big-index/', { index });
    const first = await archiveNow(archive, invoice);
    // Without the index to vouch for it, a multipart object's unknown hash means writing again.
    const withoutIndex = await archiveWith('big-index/').archiveCsv({
      orgId: ORG,
      invoice,
      previous: undefined,
      openCsv: download(invoice),
      topN: 3,
    });
    expect(withoutIndex.outcome).toBe('archived');
    await index.writeIndex(indexEntryFor(invoice, first));
    s3.resetRequests();

    const again = await archiveNow(archive, invoice);

    expect(again.outcome).toBe('identical');
    expect(s3.requests.map((r) => r.operation)).not.toContain('CompleteMultipartUpload');
  });
});

describe('archive failures', () => {
  it('turns an S3 write failure into an ArchiveError and stores nothing', async () => {
    const invoice = nth(0);
    s3.failNext({ operation: 'PutObject', status: 500, times: 10 });
    const archive = archiveWith('fail-put/');

    const attempt = archiveNow(archive, invoice);

    await expect(attempt).rejects.toThrow(ArchiveError);
    await expect(attempt).rejects.toMatchObject({
      operation: 'Upload',
      message: expect.stringContaining('InternalError'),
    });
    expect(s3.listKeys(BUCKET, 'fail-put/')).toEqual([]);
  });

  it('stores nothing when the download breaks off', async () => {
    const invoice = nth(1);
    sandbox.injectFault({ match: { path: '/csv' }, abortAfterBytes: 100 });
    const archive = archiveWith('broken/');

    const attempt = archiveNow(archive, invoice);

    await expect(attempt).rejects.toThrow(ArchiveError);
    await expect(attempt).rejects.toThrow(/transfer broke off/);
    expect(s3.listKeys(BUCKET, 'broken/')).toEqual([]);
  });

  it('aborts a multipart upload whose download breaks off mid-way', async () => {
    const invoice = nth(3);
    sandbox.setCsvSize(ORG, invoice.id, 3 * PART);
    sandbox.injectFault({ match: { path: '/csv' }, abortAfterBytes: PART + 1000 });
    const archive = archiveWith('broken-big/');

    const attempt = archiveNow(archive, invoice);

    await expect(attempt).rejects.toThrow(ArchiveError);
    const operations = s3.requests.map((r) => r.operation);
    expect(operations).toContain('AbortMultipartUpload');
    expect(operations).not.toContain('CompleteMultipartUpload');
    expect(s3.listKeys(BUCKET, 'broken-big/')).toEqual([]);
  });

  it('stops with a DeadlineError when the signal aborts mid-stream', async () => {
    const invoice = nth(0);
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    body.push('Invoice Number,x,\n');
    const open = async (): Promise<CsvDownload> => {
      setImmediate(() => controller.abort());
      return { body, contentLength: undefined };
    };
    const archive = archiveWith('deadline/');

    const attempt = archive.archiveCsv({
      orgId: ORG,
      invoice,
      previous: undefined,
      openCsv: open,
      topN: 3,
      signal: controller.signal,
    });

    await expect(attempt).rejects.toThrow(DeadlineError);
    expect(body.destroyed).toBe(true);
    expect(s3.listKeys(BUCKET, 'deadline/')).toEqual([]);
  });
});

describe('an S3 request that is never answered', () => {
  let proxy: StallingProxy;
  let proxied: S3Client;

  beforeAll(async () => {
    proxy = await startStallingProxy(s3.url);
    proxied = new S3Client({ ...s3.clientConfig(), endpoint: proxy.url });
  });
  afterAll(async () => {
    proxied.destroy();
    await proxy.close();
  });

  function archiveThroughProxy(prefix: string, invoice: InvoiceMetadata, signal: AbortSignal) {
    const archive = createCsvArchive({
      s3: proxied,
      bucket: BUCKET,
      prefix,
      createInspector: createCsvInspector,
      partSize: PART,
    });
    return archive.archiveCsv({
      orgId: ORG,
      invoice,
      previous: undefined,
      openCsv: download(invoice),
      topN: 3,
      signal,
    });
  }

  it('cancels a single-part upload in flight when the deadline passes, and stores nothing', async () => {
    const invoice = nth(0);
    proxy.stall({ method: 'PUT', path: /^\/archive\/stall-put\// });
    const deadline = new AbortController();
    const attempt = archiveThroughProxy('stall-put/', invoice, deadline.signal);
    attempt.catch(() => {});
    await proxy.whenStalled(1);

    deadline.abort();

    await expect(attempt).rejects.toThrow(DeadlineError);
    expect(s3.listKeys(BUCKET, 'stall-put/')).toEqual([]);
  });

  it('aborts a multipart upload whose part stalls at the deadline before it settles, leaving no parts behind', async () => {
    const invoice = nth(3);
    sandbox.setCsvSize(ORG, invoice.id, 2 * PART + 4321);
    proxy.stall({
      method: 'PUT',
      path: /^\/archive\/stall-part\//,
      query: { name: 'partNumber', value: '2' },
    });
    const deadline = new AbortController();
    const stalledBefore = proxy.stalled.length;
    const attempt = archiveThroughProxy('stall-part/', invoice, deadline.signal);
    attempt.catch(() => {});
    await proxy.whenStalled(stalledBefore + 1);

    deadline.abort();
    await expect(attempt).rejects.toThrow(DeadlineError);
    const abortsWhenSettled = s3.requests.filter(
      (r) => r.operation === 'AbortMultipartUpload' && r.status === 204,
    );

    expect(abortsWhenSettled).toHaveLength(1);
    expect(s3.openUploads(BUCKET, 'stall-part/')).toEqual([]);
    expect(s3.listKeys(BUCKET, 'stall-part/')).toEqual([]);
  });

  it('does not trust an index entry that describes another version of the object', async () => {
    const invoice = nth(3);
    sandbox.setCsvSize(ORG, invoice.id, 2 * PART + 99);
    const index = createIndexStore({ s3: client, bucket: BUCKET, prefix: 'big-replaced/' });
    const archive = archiveWith('big-replaced/', { index });
    const first = await archiveNow(archive, invoice);
    // Same key, size and hash, but the ETag of a version the object no longer is.
    await index.writeIndex(
      indexEntryFor(invoice, {
        ...first,
        csv: { ...first.csv, etag: '"00000000000000000000000000000000-3"' },
      }),
    );

    const again = await archiveNow(archive, invoice);

    expect(again.outcome).toBe('archived');
    expect(s3.listVersions(BUCKET, first.csv.key)).toHaveLength(2);
  });
});
