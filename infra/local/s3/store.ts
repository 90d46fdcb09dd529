import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from './body';

/**
 * The S3 stand-in's storage. Object bytes live in immutable blob files under `{dir}/blobs` (one per PutObject, one
 * per uploaded part: a completed multipart object is the list of its parts' files, so completing never copies
 * bytes). Bucket and key metadata is held in memory and written through to small JSON files under `{dir}/buckets`,
 * so a kept directory reopens with its objects. Every write of one key runs inside `withKeyLock` for that key: that
 * is what serialises conditional writes.
 */

export interface Segment {
  /** File name under `{dir}/blobs`. */
  readonly file: string;
  readonly size: number;
}

/** What a client sets on an object besides its bytes. */
export interface ObjectAttributes {
  readonly contentType?: string;
  /** User metadata, lower-case names without the `x-amz-meta-` prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly serverSideEncryption?: string;
}

export interface ObjectVersion {
  /** `null` in a bucket without versioning, as S3 names the null version. */
  readonly versionId: string;
  /** Epoch milliseconds. */
  readonly lastModified: number;
  readonly size: number;
  /** Quoted, as S3 sends it. */
  readonly etag: string;
  readonly segments: readonly Segment[];
  readonly attributes: ObjectAttributes;
  /** The full-object checksum a PutObject was verified with, base64. */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly value: string };
  /** Set for objects made by CompleteMultipartUpload. */
  readonly partsCount?: number;
}

export interface UploadedPart extends Segment {
  /** Quoted MD5 hex of the part. */
  readonly etag: string;
}

export interface MultipartUpload {
  readonly key: string;
  readonly attributes: ObjectAttributes;
  readonly parts: Map<number, UploadedPart>;
}

export interface BucketState {
  readonly name: string;
  readonly versioned: boolean;
  /** Versions per key, oldest first; the last one is current. */
  readonly keys: Map<string, ObjectVersion[]>;
  /** Uploads in progress, by upload id; not persisted (a restart forgets them, their parts are swept). */
  readonly uploads: Map<string, MultipartUpload>;
}

export class ObjectStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly locks = new Map<string, Promise<void>>();
  /** Blob files being read, so a version replaced mid-download is deleted only once the download ends. */
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

  /** Create a bucket unless it exists; `versioned` applies to a new bucket or turns versioning on. */
  async createBucket(name: string, versioned: boolean): Promise<void> {
    const existing = this.buckets.get(name);
    if (existing && (existing.versioned || !versioned)) return;
    this.buckets.set(name, { name, versioned, keys: existing?.keys ?? new Map(), uploads: new Map() });
    await mkdir(join(this.dir, 'buckets', name, 'keys'), { recursive: true });
    await writeJson(
      join(this.dir, 'buckets', name, 'bucket.json'),
      { name, versioning: versioned ? 'Enabled' : undefined },
      this.tempPath(),
    );
  }

  /** The current version of a key. */
  current(bucket: BucketState, key: string): ObjectVersion | undefined {
    return bucket.keys.get(key)?.at(-1);
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

  /** Move a fully received temp file (or write `data`) into the blob store; returns its blob file name. */
  async addBlob(source: { tempPath: string } | { data: Uint8Array }): Promise<string> {
    const file = randomUUID();
    if ('data' in source) await writeFile(this.blobPath(file), source.data);
    else await rename(source.tempPath, this.blobPath(file));
    return file;
  }

  /**
   * Add a new current version (caller holds the key lock). With versioning it gets a fresh version id and the
   * earlier versions stay; without, it replaces the key's object, whose bytes are deleted.
   */
  async putVersion(
    bucket: BucketState,
    key: string,
    version: Omit<ObjectVersion, 'versionId'>,
  ): Promise<ObjectVersion> {
    const stored: ObjectVersion = {
      ...version,
      versionId: bucket.versioned ? randomBytes(24).toString('base64url') : 'null',
    };
    const replaced = bucket.versioned ? [] : (bucket.keys.get(key) ?? []);
    bucket.keys.set(key, [...(bucket.versioned ? (bucket.keys.get(key) ?? []) : []), stored]);
    await writeJson(this.keyFile(bucket.name, key), { key, versions: bucket.keys.get(key) }, this.tempPath());
    this.discard(replaced.flatMap((v) => v.segments.map((s) => s.file)));
    return stored;
  }

  /** Stream bytes `[0, size)` of an object across its segments, from disk. */
  read(segments: readonly Segment[]): Readable {
    const files = segments.map((s) => s.file);
    for (const file of files) this.readers.set(file, (this.readers.get(file) ?? 0) + 1);
    const paths = files.map((file) => this.blobPath(file));
    const stream = Readable.from(
      (async function* () {
        for (const path of paths) yield* createReadStream(path, { highWaterMark: 256 * 1024 });
      })(),
      { objectMode: false },
    );
    stream.once('close', () => {
      for (const file of files) {
        const count = (this.readers.get(file) ?? 1) - 1;
        if (count > 0) this.readers.set(file, count);
        else this.readers.delete(file);
        if (count <= 0 && this.doomed.delete(file)) this.discard([file]);
      }
    });
    return stream;
  }

  blobPath(file: string): string {
    return join(this.dir, 'blobs', file);
  }

  /** Delete blob files nothing refers to any more (a replaced object, an aborted upload's parts). */
  discard(files: readonly string[]): void {
    for (const file of files) {
      if ((this.readers.get(file) ?? 0) > 0) this.doomed.add(file);
      else void unlink(this.blobPath(file)).catch(() => {});
    }
  }

  private keyFile(bucket: string, key: string): string {
    const name = `${createHash('sha256').update(key).digest('hex')}.json`;
    return join(this.dir, 'buckets', bucket, 'keys', name);
  }

  /** Load kept buckets and keys; blob files no version refers to (an interrupted upload's parts) are swept. */
  private async load(): Promise<void> {
    const referenced = new Set<string>();
    for (const name of await readdir(join(this.dir, 'buckets'))) {
      const base = join(this.dir, 'buckets', name);
      const meta = await readFile(join(base, 'bucket.json'), 'utf8').then(
        (text) => JSON.parse(text) as { versioning?: string },
        () => undefined,
      );
      // A bucket directory without its description is one whose creation was interrupted.
      if (!meta) continue;
      const bucket: BucketState = {
        name,
        versioned: meta.versioning === 'Enabled',
        keys: new Map(),
        uploads: new Map(),
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
      this.buckets.set(name, bucket);
    }
    for (const file of await readdir(join(this.dir, 'blobs'))) {
      if (!referenced.has(file)) await rm(this.blobPath(file), { force: true });
    }
  }
}

async function writeJson(path: string, value: unknown, tempPath: string): Promise<void> {
  await writeFile(tempPath, JSON.stringify(value));
  await rename(tempPath, path);
}
