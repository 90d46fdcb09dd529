import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { StateConflictError } from '../errors';
import type { OrgState } from '../invoices/types';
import { encodeJson, stateCodec } from './codecs';
import { quarantineKey, stateKey } from './keys';
import type { StateQuarantine, StateReader, StateWriter, StoredState } from './ports';
import { isConditionalWriteConflict, isNotFound, toArchiveError } from './s3-errors';
import { type JsonStoreOptions, putJsonTextIfUnchanged, readJsonObject } from './s3-objects';
import { sseParams } from './sse';

export type StateStoreOptions = JsonStoreOptions;

export type StateStore = StateReader & StateWriter & StateQuarantine;

/**
 * One JSON object per organisation at `stateKey(prefix, orgId)`, read and written through one codec (`stateCodec`):
 * reads validate the object, so a corrupt or foreign object fails with a CorruptObjectError naming the key instead of
 * a crash deep inside the poll, and writes refuse (ArchiveError) anything a read would refuse. Writes are conditional
 * (`IfMatch: etag`, or `IfNoneMatch: '*'` for the first write): two runs can never silently overwrite each other; the
 * loser gets StateConflictError and must re-read and re-decide.
 *
 * `watchingSince` is the empty string while the organisation's "now watching" message has not been delivered yet.
 */
export function createStateStore(options: StateStoreOptions): StateStore {
  const { s3, bucket, prefix } = options;
  return {
    async readState(orgId: string, signal?: AbortSignal): Promise<StoredState | undefined> {
      const read = await readJsonObject(options, stateKey(prefix, orgId), stateCodec(orgId), signal);
      return read && { state: read.value, etag: read.etag };
    },

    async writeState(state: OrgState, etag: string | undefined, signal?: AbortSignal): Promise<string> {
      const key = stateKey(prefix, state.orgId);
      return putJsonTextIfUnchanged(
        options,
        key,
        encodeJson(stateCodec(state.orgId), key, state),
        etag,
        signal,
      );
    },

    async quarantineState(orgId: string, etag: string, at: Date, signal?: AbortSignal): Promise<string> {
      const source = stateKey(prefix, orgId);
      const target = quarantineKey(prefix, orgId, at);
      try {
        await s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: target,
            CopySource: `${bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
            CopySourceIfMatch: etag,
            ...sseParams(options),
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        // The state is no longer the version found unreadable (another run replaced or removed it): re-read.
        if (isConditionalWriteConflict(error) || isNotFound(error))
          throw new StateConflictError(source, { cause: error });
        throw toArchiveError('CopyObject', target, error);
      }
      return target;
    },
  };
}
