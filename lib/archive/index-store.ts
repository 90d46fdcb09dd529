import type { InvoiceIndexEntry } from '../invoices/types';
import { encodeJson, indexCodec } from './codecs';
import { indexKey } from './keys';
import type { IndexReader, IndexWriter } from './ports';
import { type JsonStoreOptions, putJsonText, readJsonObject } from './s3-objects';

export type IndexStoreOptions = JsonStoreOptions;

export type IndexStore = IndexReader & IndexWriter;

/**
 * One JSON object per invoice at `indexKey(prefix, invoiceId)`: what `/invoice <id>` needs in one GET. The poller
 * writes it (unconditionally: the newest archive wins, and each write describes a complete archived CSV) after the
 * CSV; both directions go through one codec (`indexCodec`), so readers get a validated entry or a CorruptObjectError
 * naming the key, and a write a reader would refuse fails with an ArchiveError before anything is stored.
 */
export function createIndexStore(options: IndexStoreOptions): IndexStore {
  const { prefix } = options;
  return {
    async readIndex(invoiceId: string, signal?: AbortSignal): Promise<InvoiceIndexEntry | undefined> {
      const read = await readJsonObject(options, indexKey(prefix, invoiceId), indexCodec(invoiceId), signal);
      return read?.value;
    },

    async writeIndex(entry: InvoiceIndexEntry, signal?: AbortSignal): Promise<void> {
      const key = indexKey(prefix, entry.invoiceId);
      await putJsonText(options, key, encodeJson(indexCodec(entry.invoiceId), key, entry), { signal });
    },
  };
}
