import { isObjectId } from '../ids';
import type { OrgState } from '../invoices/types';
import { stateKey } from './keys';
import type { StateReader, StateWriter, StoredState } from './ports';
import {
  expectInteger,
  expectMatch,
  expectRecord,
  expectString,
  type JsonStoreOptions,
  optionalString,
  putJsonObject,
  readJsonObject,
  SHA256_HEX,
} from './s3-errors';

export type StateStoreOptions = JsonStoreOptions;

export type StateStore = StateReader & StateWriter;

/**
 * One JSON object per organisation at `stateKey(prefix, orgId)`. Reads validate the object, so a corrupt or foreign
 * object fails with an ArchiveError naming the key instead of a crash deep inside the poll. Writes are conditional
 * (`IfMatch: etag`, or `IfNoneMatch: '*'` for the first write): two runs can never silently overwrite each other; the
 * loser gets StateConflictError and must re-read and re-decide.
 *
 * `watchingSince` is the empty string while the organisation's "now watching" message has not been delivered yet.
 */
export function createStateStore(options: StateStoreOptions): StateStore {
  const { s3, bucket, prefix } = options;
  return {
    async readState(orgId: string, signal?: AbortSignal): Promise<StoredState | undefined> {
      const key = stateKey(prefix, orgId);
      const read = await readJsonObject(options, key, 'state object', (v) => parseOrgState(v, orgId), signal);
      return read && { state: read.value, etag: read.etag };
    },

    async writeState(state: OrgState, etag: string | undefined, signal?: AbortSignal): Promise<string> {
      const key = stateKey(prefix, state.orgId);
      return putJsonObject(s3, bucket, key, state, {
        ...options,
        ...(etag === undefined ? { ifNoneMatch: '*' as const } : { ifMatch: etag }),
        ...(signal !== undefined ? { signal } : {}),
      });
    },
  };
}

/** Validate a parsed state object for `orgId`; throws a TypeError naming the first bad path. */
export function parseOrgState(value: unknown, orgId: string): OrgState {
  const root = expectRecord(value, 'state');
  if (root.version !== 1) throw new TypeError('state.version must be 1');
  if (expectString(root, 'orgId', 'state') !== orgId)
    throw new TypeError('state.orgId names another organisation');
  optionalString(root, 'orgName', 'state');
  expectString(root, 'watchingSince', 'state');
  expectString(root, 'lastPollAt', 'state');
  const invoices = expectRecord(root.invoices, 'state.invoices');
  for (const [invoiceId, raw] of Object.entries(invoices)) {
    if (!isObjectId(invoiceId)) throw new TypeError('state.invoices has a key that is not an invoice id');
    const path = `state.invoices.${invoiceId}`;
    const entry = expectRecord(raw, path);
    for (const field of ['statusName', 'updated', 'startDate', 'endDate']) expectString(entry, field, path);
    expectInteger(entry, 'amountBilledCents', path);
    expectInteger(entry, 'amountPaidCents', path);
    optionalString(entry, 'notifiedStatus', path);
    if (entry.archived !== undefined) {
      const archived = expectRecord(entry.archived, `${path}.archived`);
      expectString(archived, 'statusName', `${path}.archived`);
      expectString(archived, 'updated', `${path}.archived`);
      expectMatch(archived, 'sha256', `${path}.archived`, SHA256_HEX);
      expectString(archived, 'key', `${path}.archived`);
    }
  }
  return root as unknown as OrgState;
}
