import { createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Readable copies of archived objects: the CSVs, and (with `suffix: '.png'`) the spend charts. The S3 stand-in keeps
 * objects as content-addressed blobs, so after each poll the current version of every key under the prefix ending in
 * the suffix is copied to `{root}/{key}`, the key's own path: what a user would see in the bucket. Only keys whose
 * ETag changed since the last copy are written. Read-only towards the archive.
 */

/** The part of the S3 stand-in the mirror reads. */
export interface MirrorSource {
  listKeys(bucket: string, prefix?: string): string[];
  headObject(bucket: string, key: string): { readonly etag: string } | undefined;
  getObjectStream(bucket: string, key: string): Readable;
}

export interface CsvMirror {
  /** Where the copies are, `{root}`. */
  readonly root: string;
  /** Copies the objects that changed; returns their file paths, in key order. */
  sync(): Promise<string[]>;
  /** Every copy made so far (this run and earlier ones still in the bucket), in key order. */
  files(): string[];
  /** Where the copy of `key` goes; undefined for a key that would leave `root`. */
  pathOf(key: string): string | undefined;
  /**
   * The key whose current object has this ETag (quoted MD5 hex for objects put in one part), written to its copy at
   * once if it was not yet; undefined when no mirrored key holds these bytes. For bytes that arrived by another way
   * (a chart uploaded to Slack) while the poll that stored them is still running.
   */
  copyMatching(etag: string, bytes: Uint8Array): { readonly key: string; readonly path: string } | undefined;
}

export function createCsvMirror(options: {
  readonly source: MirrorSource;
  readonly bucket: string;
  readonly prefix: string;
  readonly root: string;
  /** Which keys are copied. Default `.csv`. */
  readonly suffix?: string;
}): CsvMirror {
  const { source, bucket, prefix } = options;
  const suffix = options.suffix ?? '.csv';
  const root = resolve(options.root);
  const copied = new Map<string, string>();

  const pathOf = (key: string): string | undefined => {
    const path = resolve(root, ...key.split('/'));
    const inside = relative(root, path);
    return inside === '' || inside.startsWith('..') || inside.startsWith(sep) ? undefined : path;
  };
  const mirroredKeys = () =>
    source.listKeys(bucket, prefix).filter((key) => key.endsWith(suffix) && pathOf(key));

  return {
    root,
    async sync() {
      const written: string[] = [];
      for (const key of mirroredKeys()) {
        const etag = source.headObject(bucket, key)?.etag;
        const path = pathOf(key);
        if (etag === undefined || path === undefined || copied.get(key) === etag) continue;
        await mkdir(dirname(path), { recursive: true });
        const temp = `${path}.tmp`;
        await pipeline(source.getObjectStream(bucket, key), createWriteStream(temp));
        await rename(temp, path);
        copied.set(key, etag);
        written.push(path);
      }
      return written;
    },
    files: () => mirroredKeys().flatMap((key) => pathOf(key) ?? []),
    pathOf,
    copyMatching(etag, bytes) {
      const key = mirroredKeys().find((k) => source.headObject(bucket, k)?.etag === etag);
      const path = key === undefined ? undefined : pathOf(key);
      if (key === undefined || path === undefined) return undefined;
      if (copied.get(key) !== etag) {
        mkdirSync(dirname(path), { recursive: true });
        const temp = `${path}.copy.tmp`;
        writeFileSync(temp, bytes);
        renameSync(temp, path);
        copied.set(key, etag);
      }
      return { key, path };
    },
  };
}
