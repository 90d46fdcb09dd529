import { describe, expect, it } from 'vitest';
import { spendChartKey } from '../../lib/archive/keys';
import { createSpendStore } from '../../lib/archive/spend-store';
import { CorruptObjectError, StateConflictError } from '../../lib/errors';
import { type SpendRecord, SpendRecordError, spendRecordKey } from '../../lib/spend/spend-record';
import { seriesOf } from '../spend/support';
import { useS3StandIn } from '../support/s3';

const BUCKET = 'archive';
const ORG = '5f0000000000000000005eed';
const INVOICE = '666acb8787ba43606905dcae';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

const archive = useS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] });

function record(daily: readonly number[]): SpendRecord {
  return {
    orgId: ORG,
    invoiceId: INVOICE,
    final: false,
    series: seriesOf('2024-12-01', daily, { days: 31 }),
  };
}

describe('spend store', () => {
  it('reads undefined for a month never recorded', async () => {
    const store = createSpendStore({ s3: archive.client, bucket: BUCKET, prefix: 'fresh/' });

    await expect(store.readSpend(ORG, '2024-12')).resolves.toBeUndefined();
  });

  it('creates with IfNoneMatch, replaces with IfMatch, and reads back the record and its ETag', async () => {
    const store = createSpendStore({ s3: archive.client, bucket: BUCKET, prefix: 'roundtrip/' });

    const first = await store.writeSpend(record([1_000]), '2024-12', undefined);
    const second = await store.writeSpend(record([1_000, 2_500]), '2024-12', first);
    const read = await store.readSpend(ORG, '2024-12');

    expect(read?.etag).toBe(second);
    expect(read?.record.series.dailyCents.slice(0, 3)).toEqual([1_000, 2_500, 0]);
    expect(read?.record.invoiceId).toBe(INVOICE);
    const key = spendRecordKey('roundtrip/', ORG, '2024-12');
    expect(key).toBe(`roundtrip/spend/${ORG}/2024-12.json`);
    expect(archive.s3.listVersions(BUCKET, key)).toHaveLength(2);
    expect(archive.s3.headObject(BUCKET, key)?.serverSideEncryption).toBe('AES256');
  });

  it('keeps the invoice version a record was read from, and refuses one that is not a timestamp', async () => {
    const store = createSpendStore({ s3: archive.client, bucket: BUCKET, prefix: 'updated/' });

    await store.writeSpend({ ...record([1_000]), updated: '2024-12-05T08:00:00Z' }, '2024-12', undefined);

    expect((await store.readSpend(ORG, '2024-12'))?.record.updated).toBe('2024-12-05T08:00:00Z');
    await expect(
      store.writeSpend({ ...record([1_000]), updated: 'yesterday' }, '2024-12', undefined),
    ).rejects.toThrow('spend record refused: updated must be a timestamp');
  });

  it('refuses a stale write as a conflict and keeps the newer record', async () => {
    const store = createSpendStore({ s3: archive.client, bucket: BUCKET, prefix: 'race/' });
    const first = await store.writeSpend(record([100]), '2024-12', undefined);
    await store.writeSpend(record([100, 200]), '2024-12', first);

    await expect(store.writeSpend(record([999]), '2024-12', first)).rejects.toThrow(StateConflictError);
    await expect(store.writeSpend(record([999]), '2024-12', undefined)).rejects.toThrow(StateConflictError);
    expect((await store.readSpend(ORG, '2024-12'))?.record.series.dailyCents[1]).toBe(200);
  });

  it('sends nothing for a record its own read would refuse', async () => {
    const store = createSpendStore({ s3: archive.client, bucket: BUCKET, prefix: 'refused/' });
    const unsafe = record([Number.MAX_SAFE_INTEGER + 2]);

    await expect(store.writeSpend(unsafe, '2024-12', undefined)).rejects.toThrow(SpendRecordError);
    expect(archive.s3.listKeys(BUCKET, 'refused/')).toEqual([]);
  });

  it('reports a hand-edited record as corrupt, naming its key', async () => {
    const key = spendRecordKey('corrupt/', ORG, '2024-12');
    await archive.s3.putObject(BUCKET, key, '{"v":1,"org":"not-an-id"}');
    const store = createSpendStore({ s3: archive.client, bucket: BUCKET, prefix: 'corrupt/' });

    const read = store.readSpend(ORG, '2024-12');

    await expect(read).rejects.toThrow(CorruptObjectError);
    await expect(read).rejects.toMatchObject({ key });
  });

  it('stores the chart as a PNG next to the record', async () => {
    const store = createSpendStore({ s3: archive.client, bucket: BUCKET, prefix: 'chart/' });

    const key = await store.writeChart(ORG, '2024-12', PNG);

    expect(key).toBe(`chart/spend/${ORG}/2024-12.png`);
    expect(key).toBe(spendChartKey('chart/', ORG, '2024-12'));
    expect([...(await archive.s3.getObjectBytes(BUCKET, key))]).toEqual([...PNG]);
    expect(archive.s3.headObject(BUCKET, key)?.contentType).toBe('image/png');
  });
});
