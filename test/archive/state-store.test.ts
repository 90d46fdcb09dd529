import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { stateKey } from '../../lib/archive/keys';
import { createStateStore } from '../../lib/archive/state-store';
import { ArchiveError, StateConflictError } from '../../lib/errors';
import type { OrgState } from '../../lib/invoices/types';

const BUCKET = 'archive';
const ORG = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const INVOICE = 'bbbbbbbbbbbbbbbbbbbbbbbb';

let s3: S3StandIn;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] });
  client = new S3Client(s3.clientConfig());
});
afterAll(async () => {
  client.destroy();
  await s3.close();
});
beforeEach(() => s3.resetRequests());

function state(lastPollAt: string, orgId = ORG): OrgState {
  return {
    version: 1,
    orgId,
    orgName: 'Acme & <Co>',
    watchingSince: '2024-07-01T00:00:00Z',
    lastPollAt,
    invoices: {
      [INVOICE]: {
        statusName: 'PAID',
        updated: '2024-07-01T00:00:00Z',
        startDate: '2024-06-01T00:00:00Z',
        endDate: '2024-07-01T00:00:00Z',
        amountBilledCents: 100,
        amountPaidCents: 100,
        archived: { statusName: 'PAID', updated: '2024-07-01T00:00:00Z', sha256: 'a'.repeat(64), key: 'k' },
        notifiedStatus: 'PAID',
      },
    },
  };
}

describe('state store', () => {
  it('reads undefined for an organisation never polled', async () => {
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix: 'fresh/' });

    await expect(store.readState(ORG)).resolves.toBeUndefined();
  });

  it('creates with IfNoneMatch, then replaces with IfMatch, encrypted, and reads back with the ETag', async () => {
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix: 'roundtrip/' });

    const first = await store.writeState(state('one'), undefined);
    const second = await store.writeState(state('two'), first);
    const read = await store.readState(ORG);

    expect(read).toEqual({ state: state('two'), etag: second });
    const stored = s3.headObject(BUCKET, stateKey('roundtrip/', ORG));
    expect(stored).toMatchObject({
      serverSideEncryption: 'AES256',
      contentType: 'application/json; charset=utf-8',
    });
  });

  it('refuses a first write when another run created the state already', async () => {
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix: 'race-create/' });
    await store.writeState(state('theirs'), undefined);

    await expect(store.writeState(state('ours'), undefined)).rejects.toThrow(StateConflictError);
    expect((await store.readState(ORG))?.state.lastPollAt).toBe('theirs');
  });

  it('refuses a write based on a version another run replaced', async () => {
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix: 'race-update/' });
    const base = await store.writeState(state('base'), undefined);
    await store.writeState(state('theirs'), base);

    const attempt = store.writeState(state('ours'), base);

    await expect(attempt).rejects.toThrow(StateConflictError);
    await expect(attempt).rejects.toMatchObject({ key: stateKey('race-update/', ORG) });
    expect((await store.readState(ORG))?.state.lastPollAt).toBe('theirs');
    expect(s3.requests.filter((r) => r.operation === 'PutObject').map((r) => r.status)).toEqual([
      200, 200, 412,
    ]);
  });

  it('treats a 409 ConditionalRequestConflict (a concurrent conditional write) as a lost race', async () => {
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix: 'race-409/' });
    const base = await store.writeState(state('base'), undefined);
    s3.failNext({ operation: 'PutObject', status: 409, code: 'ConditionalRequestConflict' });

    await expect(store.writeState(state('ours'), base)).rejects.toThrow(StateConflictError);
  });

  it('writes with aws:kms when asked', async () => {
    const store = createStateStore({
      s3: client,
      bucket: BUCKET,
      prefix: 'kms/',
      serverSideEncryption: 'aws:kms',
    });

    await store.writeState(state('one'), undefined);

    expect(s3.headObject(BUCKET, stateKey('kms/', ORG))?.serverSideEncryption).toBe('aws:kms');
  });

  it('fails clearly, naming the key, for an object that is not JSON', async () => {
    await s3.putObject(BUCKET, stateKey('corrupt/', ORG), '{"version":1,');
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix: 'corrupt/' });

    const attempt = store.readState(ORG);

    await expect(attempt).rejects.toThrow(ArchiveError);
    await expect(attempt).rejects.toThrow(`corrupt/state/${ORG}.json is not valid JSON`);
  });

  it.each([
    ['a wrong version', { ...state('x'), version: 2 }, 'state.version must be 1'],
    [
      'another organisation',
      state('x', 'cccccccccccccccccccccccc'),
      'state.orgId names another organisation',
    ],
    ['a bad invoice key', { ...state('x'), invoices: { nope: {} } }, 'not an invoice id'],
    [
      'a malformed entry',
      { ...state('x'), invoices: { [INVOICE]: { statusName: 'PAID' } } },
      `state.invoices.${INVOICE}.updated must be a string`,
    ],
    [
      'a bad archive hash',
      {
        ...state('x'),
        invoices: {
          [INVOICE]: {
            ...state('x').invoices[INVOICE],
            archived: { statusName: 'P', updated: 'u', sha256: 'zz', key: 'k' },
          },
        },
      },
      'archived.sha256 is malformed',
    ],
  ])('fails clearly for a state object with %s', async (_case, body, problem) => {
    const prefix = `shape-${Math.random().toString(36).slice(2)}/`;
    await s3.putObject(BUCKET, stateKey(prefix, ORG), JSON.stringify(body));
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix });

    const attempt = store.readState(ORG);

    await expect(attempt).rejects.toThrow(ArchiveError);
    await expect(attempt).rejects.toThrow(`state object ${prefix}state/${ORG}.json is not valid: `);
    await expect(attempt).rejects.toThrow(problem);
  });

  it('turns an S3 failure into an ArchiveError naming the operation and key', async () => {
    s3.failNext({ operation: 'GetObject', status: 403, code: 'AccessDenied' });
    const store = createStateStore({ s3: client, bucket: BUCKET, prefix: 'denied/' });

    const attempt = store.readState(ORG);

    await expect(attempt).rejects.toMatchObject({
      name: 'ArchiveError',
      operation: 'GetObject',
      key: `denied/state/${ORG}.json`,
      message: `S3 GetObject of denied/state/${ORG}.json failed (AccessDenied, HTTP 403)`,
    });
  });
});
