import { beforeEach, describe, expect, it } from 'vitest';
import { quarantineKey, stateKey } from '../../lib/archive/keys';
import { createStateStore } from '../../lib/archive/state-store';
import { ArchiveError, CorruptObjectError, StateConflictError } from '../../lib/errors';
import type { OrgState } from '../../lib/invoices/types';
import { useS3StandIn } from '../support/s3';

const BUCKET = 'archive';
const ORG = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const INVOICE = 'bbbbbbbbbbbbbbbbbbbbbbbb';

const archive = useS3StandIn({ buckets: [{ name: BUCKET, versioning: true }] });
beforeEach(() => archive.s3.resetRequests());

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
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'fresh/' });

    await expect(store.readState(ORG)).resolves.toBeUndefined();
  });

  it('creates with IfNoneMatch, then replaces with IfMatch, encrypted, and reads back with the ETag', async () => {
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'roundtrip/' });

    const first = await store.writeState(state('one'), undefined);
    const second = await store.writeState(state('two'), first);
    const read = await store.readState(ORG);

    expect(read).toEqual({ state: state('two'), etag: second });
    const stored = archive.s3.headObject(BUCKET, stateKey('roundtrip/', ORG));
    expect(stored).toMatchObject({
      serverSideEncryption: 'AES256',
      contentType: 'application/json; charset=utf-8',
    });
  });

  it("round-trips the spend watch's fired alert keys and the spend mark of an archive", async () => {
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'spend/' });
    const base = state('one');
    const entry = base.invoices[INVOICE];
    if (entry?.archived === undefined) throw new Error('the fixture has an archive');
    const withSpend: OrgState = {
      ...base,
      invoices: { [INVOICE]: { ...entry, archived: { ...entry.archived, spend: true } } },
      spend: { fired: [`budget:${ORG}:50:2024-07`, `spike:${ORG}:2024-07-03`] },
    };

    await store.writeState(withSpend, undefined);

    expect((await store.readState(ORG))?.state).toEqual(withSpend);
  });

  it('refuses a first write when another run created the state already', async () => {
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'race-create/' });
    await store.writeState(state('theirs'), undefined);

    await expect(store.writeState(state('ours'), undefined)).rejects.toThrow(StateConflictError);
    expect((await store.readState(ORG))?.state.lastPollAt).toBe('theirs');
  });

  it('refuses a write based on a version another run replaced', async () => {
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'race-update/' });
    const base = await store.writeState(state('base'), undefined);
    await store.writeState(state('theirs'), base);

    const attempt = store.writeState(state('ours'), base);

    await expect(attempt).rejects.toThrow(StateConflictError);
    await expect(attempt).rejects.toMatchObject({ key: stateKey('race-update/', ORG) });
    expect((await store.readState(ORG))?.state.lastPollAt).toBe('theirs');
    expect(archive.s3.requests.filter((r) => r.operation === 'PutObject').map((r) => r.status)).toEqual([
      200, 200, 412,
    ]);
  });

  it('treats a 409 ConditionalRequestConflict (a concurrent conditional write) as a lost race', async () => {
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'race-409/' });
    const base = await store.writeState(state('base'), undefined);
    archive.s3.failNext({ operation: 'PutObject', status: 409, code: 'ConditionalRequestConflict' });

    await expect(store.writeState(state('ours'), base)).rejects.toThrow(StateConflictError);
  });

  it('writes with aws:kms when asked', async () => {
    const store = createStateStore({
      s3: archive.client,
      bucket: BUCKET,
      prefix: 'kms/',
      serverSideEncryption: 'aws:kms',
    });

    await store.writeState(state('one'), undefined);

    expect(archive.s3.headObject(BUCKET, stateKey('kms/', ORG))?.serverSideEncryption).toBe('aws:kms');
  });

  it('fails clearly, naming the key, for an object that is not JSON', async () => {
    await archive.s3.putObject(BUCKET, stateKey('corrupt/', ORG), '{"version":1,');
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'corrupt/' });

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
    [
      'a spend mark that is not true',
      {
        ...state('x'),
        invoices: {
          [INVOICE]: {
            ...state('x').invoices[INVOICE],
            archived: { ...state('x').invoices[INVOICE]?.archived, spend: 'yes' },
          },
        },
      },
      'archived.spend must be true when present',
    ],
    [
      'fired keys that are not a list',
      { ...state('x'), spend: { fired: 'all' } },
      'state.spend.fired must be an array',
    ],
    [
      'a fired key that is not text',
      { ...state('x'), spend: { fired: [42] } },
      'state.spend.fired holds something that is not an alert key',
    ],
  ])('fails clearly for a state object with %s', async (_case, body, problem) => {
    const prefix = `shape-${Math.random().toString(36).slice(2)}/`;
    await archive.s3.putObject(BUCKET, stateKey(prefix, ORG), JSON.stringify(body));
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix });

    const attempt = store.readState(ORG);

    await expect(attempt).rejects.toThrow(ArchiveError);
    await expect(attempt).rejects.toThrow(`state object ${prefix}state/${ORG}.json is not valid: `);
    await expect(attempt).rejects.toThrow(problem);
  });

  it('turns an S3 failure into an ArchiveError naming the operation and key', async () => {
    archive.s3.failNext({ operation: 'GetObject', status: 403, code: 'AccessDenied' });
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'denied/' });

    const attempt = store.readState(ORG);

    await expect(attempt).rejects.toMatchObject({
      name: 'ArchiveError',
      operation: 'GetObject',
      key: `denied/state/${ORG}.json`,
      message: `S3 GetObject of denied/state/${ORG}.json failed (AccessDenied, HTTP 403)`,
    });
  });

  it.each([
    [
      'an amount beyond exact integers',
      { amountBilledCents: Number.MAX_SAFE_INTEGER + 2 },
      `state.invoices.${INVOICE}.amountBilledCents must be an integer`,
    ],
    ['no updated', { updated: undefined }, `state.invoices.${INVOICE}.updated must be a string`],
    [
      'an unreadable billing period',
      { startDate: 'sometime in June' },
      `state.invoices.${INVOICE}.startDate is not a readable timestamp`,
    ],
    ['an empty status', { statusName: ' ' }, `state.invoices.${INVOICE}.statusName must not be empty`],
  ])(
    'refuses to write a state that its read would refuse (%s), and writes nothing',
    async (_case, change, problem) => {
      const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'refused/' });
      const valid = state('x');
      const entry = { ...valid.invoices[INVOICE], ...change } as OrgState['invoices'][string];

      const attempt = store.writeState({ ...valid, invoices: { [INVOICE]: entry } }, undefined);

      await expect(attempt).rejects.toThrow(ArchiveError);
      await expect(attempt).rejects.toThrow(
        `refusing to write state object refused/state/${ORG}.json: ${problem}`,
      );
      expect(archive.s3.requests).toEqual([]);
      await expect(store.readState(ORG)).resolves.toBeUndefined();
    },
  );

  it('keeps failedSince through a write and a read', async () => {
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'failed-since/' });
    const valid = state('x');
    const entry = { ...valid.invoices[INVOICE], statusName: 'FAILED', failedSince: '2024-07-01T00:00:00Z' };
    const failed = { ...valid, invoices: { [INVOICE]: entry } } as OrgState;

    await store.writeState(failed, undefined);

    expect((await store.readState(ORG))?.state.invoices[INVOICE]?.failedSince).toBe('2024-07-01T00:00:00Z');
  });

  it('reports an unreadable object as corrupt, naming the version read', async () => {
    await archive.s3.putObject(BUCKET, stateKey('corrupt-etag/', ORG), '{"version":2}');
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'corrupt-etag/' });

    const attempt = store.readState(ORG);

    await expect(attempt).rejects.toThrow(CorruptObjectError);
    await expect(attempt).rejects.toMatchObject({
      key: stateKey('corrupt-etag/', ORG),
      etag: archive.s3.headObject(BUCKET, stateKey('corrupt-etag/', ORG))?.etag,
    });
  });

  it('moves an unreadable state aside byte for byte, encrypted, and lets a write on its ETag replace it', async () => {
    const prefix = 'quarantine/';
    const body = '{"version":1,"orgId":"hand-edited",';
    await archive.s3.putObject(BUCKET, stateKey(prefix, ORG), body);
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix });
    const etag = archive.s3.headObject(BUCKET, stateKey(prefix, ORG))?.etag ?? '';
    const at = new Date('2024-07-02T12:34:56.789Z');

    const movedTo = await store.quarantineState(ORG, etag, at);
    await store.writeState(state('rebaselined'), etag);

    expect(movedTo).toBe(`${prefix}state/quarantine/${ORG}-20240702T123456Z.json`);
    expect(movedTo).toBe(quarantineKey(prefix, ORG, at));
    expect((await archive.s3.getObjectBytes(BUCKET, movedTo)).toString()).toBe(body);
    expect(archive.s3.headObject(BUCKET, movedTo)?.serverSideEncryption).toBe('AES256');
    expect((await store.readState(ORG))?.state.lastPollAt).toBe('rebaselined');
  });

  it('refuses to move a state that is no longer there, as a conflict', async () => {
    const store = createStateStore({ s3: archive.client, bucket: BUCKET, prefix: 'quarantine-gone/' });

    await expect(store.quarantineState(ORG, '"gone"', new Date())).rejects.toThrow(StateConflictError);
  });
});
