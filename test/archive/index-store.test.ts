import { describe, expect, it } from 'vitest';
import { createIndexStore } from '../../lib/archive/index-store';
import { indexKey } from '../../lib/archive/keys';
import { ArchiveError } from '../../lib/errors';
import type { InvoiceIndexEntry } from '../../lib/invoices/types';
import { fakeSummary } from '../support/fakes';
import { useS3StandIn } from '../support/s3';

const BUCKET = 'archive';
const INVOICE = 'bbbbbbbbbbbbbbbbbbbbbbbb';

const archive = useS3StandIn({ buckets: [BUCKET] });

const ENTRY: InvoiceIndexEntry = {
  version: 1,
  invoiceId: INVOICE,
  orgId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  orgName: 'Ünïcode & <Co>',
  statusName: 'CLOSED',
  startDate: '2024-06-01T00:00:00Z',
  endDate: '2024-07-01T00:00:00Z',
  updated: '2024-07-02T00:00:00Z',
  amounts: {
    subtotalCents: 1000,
    creditsCents: 0,
    salesTaxCents: 80,
    startingBalanceCents: 0,
    amountBilledCents: 1080,
    amountPaidCents: 0,
  },
  summary: fakeSummary('Ünïcode & <Co>'),
  csv: { key: 'k.csv', sha256: 'e'.repeat(64), bytes: 123 },
  archivedAt: '2024-07-02T12:00:00.000Z',
};

describe('index store', () => {
  it('writes an encrypted JSON entry and reads it back', async () => {
    const store = createIndexStore({ s3: archive.client, bucket: BUCKET, prefix: 'a/' });

    await store.writeIndex(ENTRY);

    await expect(store.readIndex(INVOICE)).resolves.toEqual(ENTRY);
    expect(archive.s3.headObject(BUCKET, indexKey('a/', INVOICE))).toMatchObject({
      serverSideEncryption: 'AES256',
      contentType: 'application/json; charset=utf-8',
    });
  });

  it('replaces the entry when the invoice is archived again', async () => {
    const store = createIndexStore({ s3: archive.client, bucket: BUCKET, prefix: 'b/' });
    await store.writeIndex(ENTRY);

    await store.writeIndex({ ...ENTRY, statusName: 'PAID' });

    expect((await store.readIndex(INVOICE))?.statusName).toBe('PAID');
  });

  it('reads undefined for an invoice never archived', async () => {
    const store = createIndexStore({ s3: archive.client, bucket: BUCKET, prefix: 'c/' });

    await expect(store.readIndex(INVOICE)).resolves.toBeUndefined();
  });

  it.each([
    [
      'another invoice',
      { ...ENTRY, invoiceId: 'dddddddddddddddddddddddd' },
      'index.invoiceId names another invoice',
    ],
    ['missing amounts', { ...ENTRY, amounts: { ...ENTRY.amounts, amountPaidCents: '0' } }, 'amountPaidCents'],
    [
      'a bad project line',
      { ...ENTRY, summary: { ...ENTRY.summary, projects: [{ cents: 1 }] } },
      'projects[0].name',
    ],
    ['a bad hash', { ...ENTRY, csv: { ...ENTRY.csv, sha256: 'x' } }, 'index.csv.sha256 is malformed'],
    ['an array', [], 'index must be an object'],
  ])('fails clearly, naming the key, for an entry with %s', async (_case, body, problem) => {
    const prefix = `bad-${Math.random().toString(36).slice(2)}/`;
    await archive.s3.putObject(BUCKET, indexKey(prefix, INVOICE), JSON.stringify(body));
    const store = createIndexStore({ s3: archive.client, bucket: BUCKET, prefix });

    const attempt = store.readIndex(INVOICE);

    await expect(attempt).rejects.toThrow(ArchiveError);
    await expect(attempt).rejects.toThrow(`index object ${prefix}index/${INVOICE}.json is not valid`);
    await expect(attempt).rejects.toThrow(problem);
  });

  it('keeps the archived object\u2019s ETag through a write and a read', async () => {
    const store = createIndexStore({ s3: archive.client, bucket: BUCKET, prefix: 'etag/' });
    const entry = { ...ENTRY, csv: { ...ENTRY.csv, etag: '"0123456789abcdef0123456789abcdef-3"' } };

    await store.writeIndex(entry);

    await expect(store.readIndex(INVOICE)).resolves.toEqual(entry);
  });

  it.each([
    [
      'an unreadable updated',
      { ...ENTRY, updated: 'yesterday' },
      'index.updated is not a readable timestamp',
    ],
    [
      'an amount beyond exact integers',
      { ...ENTRY, amounts: { ...ENTRY.amounts, subtotalCents: 2 ** 60 } },
      'index.amounts.subtotalCents must be an integer',
    ],
  ])(
    'refuses to write an entry its read would refuse (%s), and writes nothing',
    async (_case, entry, problem) => {
      const prefix = `refused-${Math.random().toString(36).slice(2)}/`;
      const store = createIndexStore({ s3: archive.client, bucket: BUCKET, prefix });

      const attempt = store.writeIndex(entry);

      await expect(attempt).rejects.toThrow(ArchiveError);
      await expect(attempt).rejects.toThrow(
        `refusing to write index object ${prefix}index/${INVOICE}.json: ${problem}`,
      );
      expect(archive.s3.listKeys(BUCKET, prefix)).toEqual([]);
    },
  );
});
