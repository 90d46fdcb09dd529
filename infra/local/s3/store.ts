import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from '../aws/checksums';

/**
 * The S3 stand-in's storage. Object bytes live in immutable blob files under `{dir}/blobs` (one per PutObject, one
 * per uploaded part: a completed multipart object is the list of its parts' files, so completing is O(parts) and
 * never copies bytes). Bucket and key metadata is held in memory and written through to small JSON files under
 * `{dir}/buckets`, so a kept directory reopens with its objects. Every mutation of one key must run inside
 * `withKeyLock` for that key: that is what serialises conditional writes.
 */

export type VersioningStatus = 'Enabled' | 'Suspended';
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface ObjectChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64, with `-N` appended for a composite multipart checksum. */
  readonly value: string;
  readonly type: ChecksumType;
}

export interface Segment {
  /** File name under `{dir}/blobs`. */
  readonly file: string;
  readonly size: number;
}

/** What a client sets on an object besides its bytes. */
export interface ObjectAttributes {
  readonly contentType?: string;
  readonly contentDisposition?: string;
  readonly cacheControl?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  readonly expires?: string;
  /** User metadata, lower-case names without the `x-amz-meta-` prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly serverSideEncryption?: string;
  readonly sseKmsKeyId?: string;
  readonly storageClass?: string;
}

export interface ObjectVersion {
  /** `null` for the null version (unversioned or versioning-suspended writes). */
  readonly versionId: string;
  readonly deleteMarker: boolean;
  /** Epoch milliseconds. */
  readonly lastModified: number;
  readonly size: number;
  /** Quoted, as S3 sends it. */
  readonly etag: string;
  readonly segments: readonly Segment[];
  readonly attributes: ObjectAttributes;
  readonly checksum?: ObjectChecksum;
  /** Set for objects made by CompleteMultipartUpload. */
  readonly partsCount?: number;
}

export interface UploadedPart {
  readonly partNumber: number;
  readonly file: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
  /** Base64 checksum of the part in the upload's algorithm. */
  readonly checksum?: string;
}

export interface MultipartUpload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly initiated: number;
  readonly attributes: ObjectAttributes;
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  readonly checksumType?: ChecksumType;
  readonly parts: Map<number, UploadedPart>;
}

export interface BucketState {
  readonly name: string;
  readonly created: number;
  versioning: VersioningStatus | undefined;
  /** Versions per key, oldest first; the last one is current (possibly a delete marker). */
  readonly keys: Map<string, ObjectVersion[]>;
  readonly uploads: Map<string, MultipartUpload>;
  sortedKeys: string[] | undefined;
}

export const NULL_VERSION = 'null';

export class ObjectStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly locks = new Map<string, Promise<void>>();
  /** Blob files being read, so a version deleted mid-download is unlinked only after the download ends. */
  private readonly readers = new Map<string, number>();
  private readonly doomed = new Set<string>();

  private constructor(readonly dir: string) {}

  /** Open (creating if needed) a store in `dir`, loading what a previous run kept there. */
  static async open(dir: string): Promise<ObjectStore> {
    const store = new ObjectStore(dir);
    await rm(join(dir, 'tmp'), { recursive: true, force: true });
    await Promise.all(['blobs', 'tmp', 'buckets'].map((d) => mkdir(join(dir, d), { recursive: true })));
    await store.load();
    return store;
  }

  bucket(name: string): BucketState | undefined {
    return this.buckets.get(name);
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  /** False when the bucket already existed. */
  async createBucket(name: string, now: number): Promise<boolean> {
    if (this.buckets.has(name)) return false;
    const bucket: BucketState = {
      name,
      created: now,
      versioning: undefined,
      keys: new Map(),
      uploads: new Map(),
      sortedKeys: undefined,
    };
    this.buckets.set(name, bucket);
    await mkdir(join(this.dir, 'buckets', name, 'keys'), { recursive: true });
    await this.persistBucket(bucket);
    return true;
  }

  async deleteBucket(name: string): Promise<void> {
    this.buckets.delete(name);
    await rm(join(this.dir, 'buckets', name), { recursive: true, force: true });
  }

  async setVersioning(bucket: BucketState, status: VersioningStatus): Promise<void> {
    bucket.versioning = status;
    await this.persistBucket(bucket);
  }

  /** Keys of the bucket in S3's listing order (UTF-8 byte order), including keys whose current version is a delete marker. */
  sortedKeys(bucket: BucketState): readonly string[] {
    if (!bucket.sortedKeys) bucket.sortedKeys = [...bucket.keys.keys()].sort(compareUtf8);
    return bucket.sortedKeys;
  }

  versions(bucket: BucketState, key: string): readonly ObjectVersion[] {
    return bucket.keys.get(key) ?? [];
  }

  /** The current version, which may be a delete marker. */
  current(bucket: BucketState, key: string): ObjectVersion | undefined {
    const versions = bucket.keys.get(key);
    return versions?.[versions.length - 1];
  }

  /** Run `fn` with exclusive access to one key; calls for the same key run one after another in arrival order. */
  async withKeyLock<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}\u0000${key}`;
    const previous = this.locks.get(id) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.locks.set(id, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  /** A fresh path under `{dir}/tmp` for a body being received. */
  tempPath(): string {
    return join(this.dir, 'tmp', randomUUID());
  }

  /** Move a fully received temp file into the blob store; returns its blob file name. */
  async adoptTemp(tempPath: string): Promise<string> {
    const file = randomUUID();
    await rename(tempPath, this.blobPath(file));
    return file;
  }

  /** A new blob holding `data`, for helpers that seed objects without HTTP. */
  async writeBlob(data: Uint8Array): Promise<string> {
    const file = randomUUID();
    await writeFile(this.blobPath(file), data);
    return file;
  }

  /** Hard-link (or copy) a blob so a copied object owns its own file. */
  async cloneBlob(file: string): Promise<string> {
    const clone = randomUUID();
    try {
      await link(this.blobPath(file), this.blobPath(clone));
    } catch {
      await copyFile(this.blobPath(file), this.blobPath(clone));
    }
    return clone;
  }

  /**
   * Add a new current version (caller holds the key lock). With versioning enabled it gets a fresh version id and
   * the earlier versions stay; otherwise it replaces the null version, whose bytes are deleted.
   */
  async putVersion(
    bucket: BucketState,
    key: string,
    version: Omit<ObjectVersion, 'versionId'>,
  ): Promise<ObjectVersion> {
    const versionId = bucket.versioning === 'Enabled' ? newVersionId() : NULL_VERSION;
    const stored: ObjectVersion = { ...version, versionId };
    const existing = bucket.keys.get(key) ?? [];
    const replaced = versionId === NULL_VERSION ? existing.filter((v) => v.versionId === NULL_VERSION) : [];
    this.setVersions(bucket, key, [...existing.filter((v) => !replaced.includes(v)), stored]);
    await this.persistKey(bucket, key);
    this.discardSegments(replaced);
    return stored;
  }

  /**
   * DeleteObject without a version id (caller holds the key lock): a delete marker when versioning is enabled
   * (or suspended, replacing the null version), otherwise the object is gone.
   */
  async deleteCurrent(bucket: BucketState, key: string, now: number): Promise<ObjectVersion | undefined> {
    const existing = bucket.keys.get(key) ?? [];
    const replaced =
      bucket.versioning === 'Enabled' ? [] : existing.filter((v) => v.versionId === NULL_VERSION);
    let marker: ObjectVersion | undefined;
    const kept = existing.filter((v) => !replaced.includes(v));
    if (bucket.versioning !== undefined) {
      marker = {
        versionId: bucket.versioning === 'Enabled' ? newVersionId() : NULL_VERSION,
        deleteMarker: true,
        lastModified: now,
        size: 0,
        etag: '',
        segments: [],
        attributes: { metadata: {} },
      };
      kept.push(marker);
    }
    this.setVersions(bucket, key, kept);
    await this.persistKey(bucket, key);
    this.discardSegments(replaced);
    return marker;
  }

  /** Permanently remove one version (caller holds the key lock); returns it, or undefined when it did not exist. */
  async deleteVersion(
    bucket: BucketState,
    key: string,
    versionId: string,
  ): Promise<ObjectVersion | undefined> {
    const existing = bucket.keys.get(key) ?? [];
    const removed = existing.find((v) => v.versionId === versionId);
    if (!removed) return undefined;
    this.setVersions(
      bucket,
      key,
      existing.filter((v) => v !== removed),
    );
    await this.persistKey(bucket, key);
    this.discardSegments([removed]);
    return removed;
  }

  /** Stream bytes `[start, end)` of an object across its segments, from disk. */
  readRange(segments: readonly Segment[], start: number, end: number): Readable {
    const files = segments.map((s) => s.file);
    for (const file of files) this.readers.set(file, (this.readers.get(file) ?? 0) + 1);
    const blobPath = (file: string) => this.blobPath(file);
    async function* chunks(): AsyncGenerator<Buffer> {
      let offset = 0;
      for (const segment of segments) {
        const from = Math.max(start, offset) - offset;
        const to = Math.min(end, offset + segment.size) - offset;
        offset += segment.size;
        if (to <= from) continue;
        yield* createReadStream(blobPath(segment.file), {
          start: from,
          end: to - 1,
          highWaterMark: 256 * 1024,
        });
      }
    }
    const stream = Readable.from(chunks(), { objectMode: false });
    stream.once('close', () => {
      for (const file of files) this.release(file);
    });
    return stream;
  }

  blobPath(file: string): string {
    return join(this.dir, 'blobs', file);
  }

  /** Delete blob files no version refers to any more (a replaced null version, an aborted upload's parts). */
  discardFiles(files: readonly string[]): void {
    for (const file of files) {
      if ((this.readers.get(file) ?? 0) > 0) this.doomed.add(file);
      else void unlink(this.blobPath(file)).catch(() => {});
    }
  }

  private discardSegments(versions: readonly ObjectVersion[]): void {
    this.discardFiles(versions.flatMap((v) => v.segments.map((s) => s.file)));
  }

  private release(file: string): void {
    const count = (this.readers.get(file) ?? 1) - 1;
    if (count > 0) {
      this.readers.set(file, count);
      return;
    }
    this.readers.delete(file);
    if (this.doomed.delete(file)) void unlink(this.blobPath(file)).catch(() => {});
  }

  private setVersions(bucket: BucketState, key: string, versions: ObjectVersion[]): void {
    const had = bucket.keys.has(key);
    if (versions.length === 0) bucket.keys.delete(key);
    else bucket.keys.set(key, versions);
    if (had !== versions.length > 0) bucket.sortedKeys = undefined;
  }

  private keyFile(bucket: string, key: string): string {
    return join(
      this.dir,
      'buckets',
      bucket,
      'keys',
      `${createHash('sha256').update(key).digest('hex')}.json`,
    );
  }

  private async persistKey(bucket: BucketState, key: string): Promise<void> {
    const path = this.keyFile(bucket.name, key);
    const versions = bucket.keys.get(key);
    if (!versions) {
      await rm(path, { force: true });
      return;
    }
    await writeJsonAtomically(path, { key, versions }, this.tempPath());
  }

  private async persistBucket(bucket: BucketState): Promise<void> {
    await writeJsonAtomically(
      join(this.dir, 'buckets', bucket.name, 'bucket.json'),
      { name: bucket.name, created: bucket.created, versioning: bucket.versioning },
      this.tempPath(),
    );
  }

  private async load(): Promise<void> {
    const referenced = new Set<string>();
    for (const name of await readdir(join(this.dir, 'buckets'))) {
      const base = join(this.dir, 'buckets', name);
      let meta: { name: string; created: number; versioning?: VersioningStatus };
      try {
        meta = JSON.parse(await readFile(join(base, 'bucket.json'), 'utf8'));
      } catch {
        continue;
      }
      const bucket: BucketState = {
        name: meta.name,
        created: meta.created,
        versioning: meta.versioning,
        keys: new Map(),
        uploads: new Map(),
        sortedKeys: undefined,
      };
      await mkdir(join(base, 'keys'), { recursive: true });
      for (const file of await readdir(join(base, 'keys'))) {
        const record = JSON.parse(await readFile(join(base, 'keys', file), 'utf8')) as {
          key: string;
          versions: ObjectVersion[];
        };
        bucket.keys.set(record.key, record.versions);
        for (const version of record.versions) for (const s of version.segments) referenced.add(s.file);
      }
      this.buckets.set(bucket.name, bucket);
    }
    for (const file of await readdir(join(this.dir, 'blobs'))) {
      if (!referenced.has(file)) await rm(join(this.dir, 'blobs', file), { force: true });
    }
  }
}

async function writeJsonAtomically(path: string, value: unknown, tempPath: string): Promise<void> {
  await writeFile(tempPath, JSON.stringify(value));
  await rename(tempPath, path);
}

/** 32 URL-safe characters, like S3's opaque version ids. */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Order strings by Unicode code point, which is UTF-8 byte order (S3's listing order). Plain `<` compares UTF-16
 * code units and would put U+E000..U+FFFF after astral characters.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixUp(x) - fixUp(y);
  }
  return a.length - b.length;
}

function fixUp(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
