import { createIndexStore, type IndexStore } from './index-store';
import type { S3Sender } from './s3-objects';
import { createSpendStore, type SpendStore } from './spend-store';
import { createStateStore, type StateStore } from './state-store';

/** The bucket's JSON stores (state, index, spend records) under one prefix. Building them makes no request. */
export interface ArchiveStores {
  readonly state: StateStore;
  readonly index: IndexStore;
  readonly spend: SpendStore;
}

export function createArchiveStores(
  s3: S3Sender,
  archive: { readonly bucket: string; readonly prefix: string },
): ArchiveStores {
  const options = { s3, bucket: archive.bucket, prefix: archive.prefix };
  return {
    state: createStateStore(options),
    index: createIndexStore(options),
    spend: createSpendStore(options),
  };
}
