import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checksumBase64 } from '../../../infra/local/aws/checksums';
import {
  canonicalHeaderLines,
  canonicalQueryString,
  chunkStringToSign,
  createCanonicalRequest,
  createStringToSign,
  deriveSigningKey,
  formatAmzDate,
  parseQuery,
  sha256Hex,
  signHex,
} from '../../../infra/local/aws/sigv4';
import { LOCAL_AWS_CREDENTIALS, type S3StandIn, startS3StandIn } from '../../../infra/local/s3';

const VERSIONED = 'archive-bucket';
const PLAIN = 'plain-bucket';
const MiB = 1024 * 1024;

let s3: S3StandIn;
let client: S3Client;
let whenRequired: S3Client;
let noRetry: S3Client;
/** Added to the real time to give the stand-in's clock; tests that move it put it back. */
let clockOffsetMs = 0;

beforeAll(async () => {
  s3 = await startS3StandIn({
    buckets: [{ name: VERSIONED, versioning: true }, PLAIN],
    clock: () => Date.now() + clockOffsetMs,
  });
  client = new S3Client(s3.clientConfig());
  whenRequired = new S3Client({ ...s3.clientConfig(), requestChecksumCalculation: 'WHEN_REQUIRED' });
  noRetry = new S3Client({ ...s3.clientConfig(), maxAttempts: 1 });
});

afterAll(async () => {
  for (const c of [client, whenRequired, noRetry]) c.destroy();
  await s3.close();
});

afterEach(() => {
  clockOffsetMs = 0;
  s3.clearFaults();
});

/** Deterministic bytes that are not all alike, so a misplaced chunk would show. */
function pattern(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** A stream of `data` in 64 KiB pieces, as a file or network source delivers it. */
function streamOf(data: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += 64 * 1024) pieces.push(data.subarray(i, i + 64 * 1024));
  return Readable.from(pieces);
}

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest();

async function getBytes(c: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const out = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

function lastRequest(operation: string) {
  return [...s3.requests].reverse().find((r) => r.operation === operation);
}

describe('S3 stand-in: objects through the real SDK', () => {
  it('round-trips a streamed PutObject sent aws-chunked with a trailing CRC32 (SDK defaults)', async () => {
    const body = pattern(300_000);

    await client.send(
      new PutObjectCommand({
        Bucket: PLAIN,
        Key: 'chunked/data.bin',
        Body: streamOf(body),
        ContentLength: body.length,
      }),
    );
    const out = await client.send(
      new GetObjectCommand({ Bucket: PLAIN, Key: 'chunked/data.bin', ChecksumMode: 'ENABLED' }),
    );
    const read = Buffer.from(
      await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );

    expect(lastRequest('PutObject')).toMatchObject({ status: 200, awsChunked: true });
    expect(read.equals(body)).toBe(true);
    expect((await s3.getObjectBytes(PLAIN, 'chunked/data.bin')).equals(body)).toBe(true);
    expect(out.ChecksumCRC32).toBe(checksumBase64('CRC32', body));
    expect(out.ETag).toBe(`"${md5(body).toString('hex')}"`);
  });

  it('round-trips a streamed PutObject with requestChecksumCalculation WHEN_REQUIRED (plain body)', async () => {
    const body = pattern(100_000, 2);

    await whenRequired.send(
      new PutObjectCommand({
        Bucket: PLAIN,
        Key: 'plain/data.bin',
        Body: streamOf(body),
        ContentLength: body.length,
      }),
    );

    expect(lastRequest('PutObject')).toMatchObject({ status: 200, awsChunked: false });
    expect((await getBytes(whenRequired, PLAIN, 'plain/data.bin')).equals(body)).toBe(true);
    expect(s3.headObject(PLAIN, 'plain/data.bin')?.checksum).toBeUndefined();
  });

  it('stores a lib-storage Upload of an 11 MiB stream byte-identical, with the multipart ETag', async () => {
    const body = pattern(11 * MiB, 3);
    const parts = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB, 10 * MiB), body.subarray(10 * MiB)];
    const expectedEtag = `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-3"`;
    s3.resetRequests();

    const result = await new Upload({
      client,
      params: {
        Bucket: VERSIONED,
        Key: 'org/2024-06/big.csv',
        Body: streamOf(body),
        ContentType: 'text/csv',
      },
    }).done();

    expect(result.ETag).toBe(expectedEtag);
    expect(s3.counts()).toMatchObject({
      CreateMultipartUpload: 1,
      UploadPart: 3,
      CompleteMultipartUpload: 1,
    });
    expect((await s3.getObjectBytes(VERSIONED, 'org/2024-06/big.csv')).equals(body)).toBe(true);
    expect(s3.headObject(VERSIONED, 'org/2024-06/big.csv')).toMatchObject({
      etag: expectedEtag,
      partsCount: 3,
      contentType: 'text/csv',
      size: body.length,
    });
    expect((await getBytes(client, VERSIONED, 'org/2024-06/big.csv')).equals(body)).toBe(true);
  });

  it('keeps user metadata and content headers, and echoes server-side encryption', async () => {
    const put = await client.send(
      new PutObjectCommand({
        Bucket: VERSIONED,
        Key: 'meta/invoice.csv',
        Body: 'a,b\n1,2\n',
        ContentType: 'text/csv; charset=utf-8',
        ContentDisposition: 'attachment; filename="invoice.csv"',
        CacheControl: 'no-store',
        ServerSideEncryption: 'AES256',
        Metadata: { status: 'PAID', updated: '2024-06-01T00:00:00Z', sha256: 'abc123' },
      }),
    );

    const head = await client.send(new HeadObjectCommand({ Bucket: VERSIONED, Key: 'meta/invoice.csv' }));

    expect(put.ServerSideEncryption).toBe('AES256');
    expect(head).toMatchObject({
      ContentType: 'text/csv; charset=utf-8',
      ContentDisposition: 'attachment; filename="invoice.csv"',
      CacheControl: 'no-store',
      ServerSideEncryption: 'AES256',
      ContentLength: 8,
      VersionId: put.VersionId,
      Metadata: { status: 'PAID', updated: '2024-06-01T00:00:00Z', sha256: 'abc123' },
    });
  });

  it('signs, stores and lists keys whose characters need escaping', async () => {
    const keys = ["odd/a b+c=d&e!'()*~%#?.csv", 'odd/Zürich – 東京 🧾.csv', 'odd/double//slash.csv'];

    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: key }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: PLAIN, Prefix: 'odd/' }));

    for (const key of keys) expect((await getBytes(client, PLAIN, key)).toString()).toBe(key);
    expect(listed.Contents?.map((c) => c.Key)).toEqual([...keys].sort());
  });

  it('serves a Range request with 206 and the requested bytes', async () => {
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'range.txt', Body: '0123456789' }));

    const out = await client.send(
      new GetObjectCommand({ Bucket: PLAIN, Key: 'range.txt', Range: 'bytes=2-5' }),
    );

    expect(out.ContentRange).toBe('bytes 2-5/10');
    expect(await out.Body?.transformToString()).toBe('2345');
  });

  it('answers NoSuchKey, NotFound (HEAD) and NoSuchBucket like S3', async () => {
    await expect(client.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'missing' }))).rejects.toMatchObject({
      name: 'NoSuchKey',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(client.send(new HeadObjectCommand({ Bucket: PLAIN, Key: 'missing' }))).rejects.toMatchObject(
      {
        name: 'NotFound',
        $metadata: { httpStatusCode: 404 },
      },
    );
    await expect(
      client.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' })),
    ).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
  });

  it('refuses a body that does not match its Content-MD5 and stores nothing', async () => {
    const wrong = md5(Buffer.from('something else')).toString('base64');

    await expect(
      noRetry.send(
        new PutObjectCommand({ Bucket: PLAIN, Key: 'md5/bad.txt', Body: 'hello', ContentMD5: wrong }),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
    expect(s3.headObject(PLAIN, 'md5/bad.txt')).toBeUndefined();
  });

  it('copies an object with its metadata', async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: PLAIN,
        Key: 'copy/source.txt',
        Body: 'copy me',
        Metadata: { origin: 'source' },
      }),
    );

    await client.send(
      new CopyObjectCommand({
        Bucket: PLAIN,
        Key: 'copy/target.txt',
        CopySource: `${PLAIN}/copy/source.txt`,
      }),
    );

    expect((await s3.getObjectBytes(PLAIN, 'copy/target.txt')).toString()).toBe('copy me');
    expect(s3.headObject(PLAIN, 'copy/target.txt')?.metadata).toEqual({ origin: 'source' });
  });
});

describe('S3 stand-in: conditional writes', () => {
  it('refuses IfNoneMatch "*" on an existing key with 412 and keeps the first object', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/a.json', Body: '{"v":1}', IfNoneMatch: '*' }),
    );

    const second = client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/a.json', Body: '{"v":2}', IfNoneMatch: '*' }),
    );

    await expect(second).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    expect((await s3.getObjectBytes(VERSIONED, 'state/a.json')).toString()).toBe('{"v":1}');
    expect(s3.listVersions(VERSIONED, 'state/a.json')).toHaveLength(1);
  });

  it('refuses IfMatch with a stale ETag (412) and IfMatch on a missing key (404)', async () => {
    const first = await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/b.json', Body: '1' }),
    );
    await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/b.json', Body: '2', IfMatch: first.ETag }),
    );

    const stale = client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/b.json', Body: '3', IfMatch: first.ETag }),
    );
    const missing = client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/none.json', Body: '1', IfMatch: first.ETag }),
    );

    await expect(stale).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    await expect(missing).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    expect((await s3.getObjectBytes(VERSIONED, 'state/b.json')).toString()).toBe('2');
  });

  it('lets exactly one of two concurrent writers with the same IfMatch win', async () => {
    const base = await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/race.json', Body: 'base' }),
    );

    const results = await Promise.allSettled(
      ['writer-one', 'writer-two'].map((body) =>
        noRetry.send(
          new PutObjectCommand({ Bucket: VERSIONED, Key: 'state/race.json', Body: body, IfMatch: base.ETag }),
        ),
      ),
    );

    const won = results.flatMap((r, i) =>
      r.status === 'fulfilled' ? [i === 0 ? 'writer-one' : 'writer-two'] : [],
    );
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect((await s3.getObjectBytes(VERSIONED, 'state/race.json')).toString()).toBe(won[0]);
    expect(s3.listVersions(VERSIONED, 'state/race.json')).toHaveLength(2);
  });

  it('lets exactly one of two concurrent IfNoneMatch "*" creators win', async () => {
    const results = await Promise.allSettled(
      ['first', 'second'].map((body) =>
        noRetry.send(
          new PutObjectCommand({ Bucket: PLAIN, Key: 'state/new.json', Body: body, IfNoneMatch: '*' }),
        ),
      ),
    );

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  });

  it('applies IfNoneMatch to CompleteMultipartUpload too', async () => {
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'mpu/exists.bin', Body: 'already here' }));

    const upload = new Upload({
      client: noRetry,
      params: { Bucket: PLAIN, Key: 'mpu/exists.bin', Body: streamOf(pattern(6 * MiB, 4)), IfNoneMatch: '*' },
    });

    await expect(upload.done()).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect((await s3.getObjectBytes(PLAIN, 'mpu/exists.bin')).toString()).toBe('already here');
  });

  it('refuses a doomed large upload before its body is sent (Expect: 100-continue)', async () => {
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'state/early.bin', Body: 'x' }));
    const big = pattern(3 * MiB, 5);

    const put = noRetry.send(
      new PutObjectCommand({ Bucket: PLAIN, Key: 'state/early.bin', Body: big, IfNoneMatch: '*' }),
    );

    await expect(put).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(lastRequest('PutObject')).toMatchObject({ status: 412, bytesIn: 0 });
  });
});

describe('S3 stand-in: conditional reads', () => {
  it('answers 304 for a matching If-None-Match and 412 for a stale If-Match', async () => {
    const put = await client.send(
      new PutObjectCommand({ Bucket: PLAIN, Key: 'cond/read.txt', Body: 'cached' }),
    );

    await expect(
      noRetry.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'cond/read.txt', IfNoneMatch: put.ETag })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 304 } });
    await expect(
      noRetry.send(
        new GetObjectCommand({ Bucket: PLAIN, Key: 'cond/read.txt', IfMatch: '"0123456789abcdef"' }),
      ),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect((await getBytes(client, PLAIN, 'cond/read.txt')).toString()).toBe('cached');
  });
});

describe('S3 stand-in: multipart uploads step by step', () => {
  const KEY = 'mpu/steps.bin';

  it('lists uploaded parts, and forgets them all on abort', async () => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: PLAIN, Key: KEY }));
    await client.send(
      new UploadPartCommand({ Bucket: PLAIN, Key: KEY, UploadId, PartNumber: 1, Body: pattern(5 * MiB) }),
    );
    await client.send(
      new UploadPartCommand({ Bucket: PLAIN, Key: KEY, UploadId, PartNumber: 2, Body: 'tail' }),
    );

    const listed = await client.send(new ListPartsCommand({ Bucket: PLAIN, Key: KEY, UploadId }));
    await client.send(new AbortMultipartUploadCommand({ Bucket: PLAIN, Key: KEY, UploadId }));

    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 5 * MiB],
      [2, 4],
    ]);
    await expect(
      noRetry.send(new UploadPartCommand({ Bucket: PLAIN, Key: KEY, UploadId, PartNumber: 3, Body: 'x' })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } });
    expect(s3.headObject(PLAIN, KEY)).toBeUndefined();
  });

  it('refuses a part under 5 MiB that is not the last (EntityTooSmall) and an unknown ETag (InvalidPart)', async () => {
    const { UploadId } = await whenRequired.send(
      new CreateMultipartUploadCommand({ Bucket: PLAIN, Key: KEY }),
    );
    const one = await whenRequired.send(
      new UploadPartCommand({ Bucket: PLAIN, Key: KEY, UploadId, PartNumber: 1, Body: 'small' }),
    );
    const two = await whenRequired.send(
      new UploadPartCommand({ Bucket: PLAIN, Key: KEY, UploadId, PartNumber: 2, Body: 'last' }),
    );
    const complete = (parts: Array<{ PartNumber: number; ETag: string | undefined }>) =>
      noRetry.send(
        new CompleteMultipartUploadCommand({
          Bucket: PLAIN,
          Key: KEY,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );

    await expect(
      complete([
        { PartNumber: 1, ETag: one.ETag },
        { PartNumber: 2, ETag: two.ETag },
      ]),
    ).rejects.toMatchObject({ name: 'EntityTooSmall' });
    await expect(complete([{ PartNumber: 2, ETag: one.ETag }])).rejects.toMatchObject({
      name: 'InvalidPart',
    });
    await expect(complete([{ PartNumber: 2, ETag: two.ETag }])).resolves.toMatchObject({
      ETag: expect.stringMatching(/-1"$/),
    });
    expect((await s3.getObjectBytes(PLAIN, KEY)).toString()).toBe('last');
  });
});

describe('S3 stand-in: multipart checksums', () => {
  it('checks a FULL_OBJECT CRC32 on completion and serves it for GetObject to validate', async () => {
    const key = 'mpu/full-object.bin';
    const body = pattern(6 * MiB, 9);
    const parts = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB)];
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: PLAIN,
        Key: key,
        ChecksumAlgorithm: 'CRC32',
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    const uploaded: Array<{ PartNumber: number; ETag?: string; ChecksumCRC32?: string }> = [];
    for (const [index, part] of parts.entries()) {
      const out = await client.send(
        new UploadPartCommand({
          Bucket: PLAIN,
          Key: key,
          UploadId,
          PartNumber: index + 1,
          Body: part,
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      uploaded.push({ PartNumber: index + 1, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
    }
    const complete = (checksum: string) =>
      noRetry.send(
        new CompleteMultipartUploadCommand({
          Bucket: PLAIN,
          Key: key,
          UploadId,
          ChecksumType: 'FULL_OBJECT',
          ChecksumCRC32: checksum,
          MultipartUpload: { Parts: uploaded },
        }),
      );

    await expect(complete(checksumBase64('CRC32', Buffer.from('wrong')))).rejects.toMatchObject({
      name: 'BadDigest',
    });
    const done = await complete(checksumBase64('CRC32', body));
    const read = await client.send(
      new GetObjectCommand({ Bucket: PLAIN, Key: key, ChecksumMode: 'ENABLED' }),
    );
    const bytes = Buffer.from(
      await (read.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );

    expect(done).toMatchObject({ ChecksumCRC32: checksumBase64('CRC32', body), ChecksumType: 'FULL_OBJECT' });
    expect(read.ChecksumCRC32).toBe(checksumBase64('CRC32', body));
    expect(bytes.equals(body)).toBe(true);
  });

  it('gives a composite checksum of the part checksums for lib-storage uploads', async () => {
    const body = pattern(6 * MiB, 10);
    const partChecksums = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB)].map((p) =>
      Buffer.from(checksumBase64('CRC32', p), 'base64'),
    );

    await new Upload({
      client,
      params: { Bucket: PLAIN, Key: 'mpu/composite.bin', Body: streamOf(body) },
    }).done();

    expect(s3.headObject(PLAIN, 'mpu/composite.bin')?.checksum).toEqual({
      algorithm: 'CRC32',
      value: `${checksumBase64('CRC32', Buffer.concat(partChecksums))}-2`,
      type: 'COMPOSITE',
    });
  });
});

describe('S3 stand-in: temporary credentials', () => {
  it('requires the session token of a key that has one, in headers and presigned URLs', async () => {
    const temporary = {
      accessKeyId: 'ASIATEMPORARY0000000',
      secretAccessKey: 'temporary-secret',
      sessionToken: 'token-1',
    };
    const standIn = await startS3StandIn({ credentials: [temporary], buckets: ['token-bucket'] });
    const good = new S3Client({ ...standIn.clientConfig(), credentials: temporary, maxAttempts: 1 });
    const wrong = new S3Client({
      ...standIn.clientConfig(),
      credentials: { ...temporary, sessionToken: 'token-2' },
      maxAttempts: 1,
    });
    try {
      await good.send(new PutObjectCommand({ Bucket: 'token-bucket', Key: 'k', Body: 'v' }));
      const url = await getSignedUrl(good, new GetObjectCommand({ Bucket: 'token-bucket', Key: 'k' }), {
        expiresIn: 60,
      });

      expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe('token-1');
      expect(await (await fetch(url)).text()).toBe('v');
      await expect(
        wrong.send(new GetObjectCommand({ Bucket: 'token-bucket', Key: 'k' })),
      ).rejects.toMatchObject({
        name: 'InvalidToken',
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      good.destroy();
      wrong.destroy();
      await standIn.close();
    }
  });
});

describe('S3 stand-in: versioning', () => {
  it('keeps earlier versions readable and lists them newest first', async () => {
    const v1 = await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'versions/x.csv', Body: 'one' }),
    );
    const v2 = await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'versions/x.csv', Body: 'two' }),
    );

    const listed = await client.send(
      new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: 'versions/' }),
    );

    expect(v1.VersionId).not.toBe(v2.VersionId);
    expect((await getBytes(client, VERSIONED, 'versions/x.csv', v1.VersionId)).toString()).toBe('one');
    expect((await getBytes(client, VERSIONED, 'versions/x.csv')).toString()).toBe('two');
    expect(listed.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [v2.VersionId, true],
      [v1.VersionId, false],
    ]);
    expect(s3.listVersions(VERSIONED, 'versions/x.csv').map((v) => v.versionId)).toEqual([
      v2.VersionId,
      v1.VersionId,
    ]);
  });

  it('hides a deleted key behind a delete marker and keeps its versions', async () => {
    const v1 = await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: 'versions/gone.txt', Body: 'kept' }),
    );

    const deleted = await client.send(
      new DeleteObjectCommand({ Bucket: VERSIONED, Key: 'versions/gone.txt' }),
    );

    expect(deleted.DeleteMarker).toBe(true);
    await expect(
      client.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'versions/gone.txt' })),
    ).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect((await getBytes(client, VERSIONED, 'versions/gone.txt', v1.VersionId)).toString()).toBe('kept');
    expect(s3.listKeys(VERSIONED, 'versions/gone')).toEqual([]);
  });

  it('replaces objects in an unversioned bucket', async () => {
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'replace.txt', Body: 'old' }));
    const second = await client.send(
      new PutObjectCommand({ Bucket: PLAIN, Key: 'replace.txt', Body: 'new' }),
    );

    expect(second.VersionId).toBeUndefined();
    expect(s3.listVersions(PLAIN, 'replace.txt')).toHaveLength(1);
  });
});

describe('S3 stand-in: presigned URLs and signatures', () => {
  const KEY = 'org/2024-05/665f1f0e0f1a2b3c4d5e6f70.csv';
  const CSV = 'Organization Name,Amount\n"Acme, Inc.",12.34\n';

  beforeAll(async () => {
    await client.send(
      new PutObjectCommand({ Bucket: VERSIONED, Key: KEY, Body: CSV, ContentType: 'text/csv' }),
    );
  });

  const presign = (options: { key?: string; expiresIn?: number } = {}) =>
    getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: VERSIONED,
        Key: options.key ?? KEY,
        ResponseContentDisposition: 'attachment; filename="atlas-invoice-2024-05.csv"',
      }),
      { expiresIn: options.expiresIn ?? 900 },
    );

  it('downloads with fetch and honours ResponseContentDisposition', async () => {
    const response = await fetch(await presign());

    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="atlas-invoice-2024-05.csv"',
    );
    expect(await response.text()).toBe(CSV);
    expect(lastRequest('GetObject')).toMatchObject({ auth: 'query', status: 200 });
  });

  it('sends a non-ASCII ResponseContentDisposition as UTF-8 bytes, as S3 does', async () => {
    const disposition = 'attachment; filename*=UTF-8\'\'Zürich.csv; filename="Zürich.csv"';
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: VERSIONED, Key: KEY, ResponseContentDisposition: disposition }),
      { expiresIn: 60 },
    );

    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(Buffer.from(response.headers.get('content-disposition') ?? '', 'latin1').toString('utf8')).toBe(
      disposition,
    );
  });

  it('refuses a tampered signature with SignatureDoesNotMatch', async () => {
    const url = new URL(await presign());
    const signature = url.searchParams.get('X-Amz-Signature') as string;
    url.searchParams.set(
      'X-Amz-Signature',
      `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`,
    );

    const response = await fetch(url);

    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('refuses the signature reused for another key', async () => {
    const url = new URL(await presign());
    url.pathname = url.pathname.replace('.csv', '.json');

    const response = await fetch(url);

    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('refuses a link after it expired (server clock moved, no sleeping)', async () => {
    const url = await presign({ expiresIn: 60 });
    expect((await fetch(url)).status).toBe(200);
    clockOffsetMs = 61_000;

    const response = await fetch(url);

    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain('Request has expired');
  });

  it('refuses an unsigned request', async () => {
    const response = await fetch(`${s3.url}/${VERSIONED}/${KEY}`);

    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses a client with the wrong secret key, and one with an unknown key id', async () => {
    const wrongSecret = new S3Client({
      ...s3.clientConfig(),
      maxAttempts: 1,
      credentials: { accessKeyId: LOCAL_AWS_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const unknownKey = new S3Client({
      ...s3.clientConfig(),
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'whatever' },
    });

    await expect(
      wrongSecret.send(new GetObjectCommand({ Bucket: VERSIONED, Key: KEY })),
    ).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      unknownKey.send(new GetObjectCommand({ Bucket: VERSIONED, Key: KEY })),
    ).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
      $metadata: { httpStatusCode: 403 },
    });
    wrongSecret.destroy();
    unknownKey.destroy();
  });
});

describe('S3 stand-in: listings', () => {
  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'listing-bucket' }));
    for (const key of ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c', 'd/x/1']) {
      await client.send(new PutObjectCommand({ Bucket: 'listing-bucket', Key: key, Body: key }));
    }
  });

  it('pages ListObjectsV2 with continuation tokens', async () => {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'listing-bucket', MaxKeys: 3, ContinuationToken: token }),
      );
      pages.push((page.Contents ?? []).map((c) => c.Key as string));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    expect(pages).toEqual([['a/1', 'a/2', 'a/3'], ['b/1', 'b/2', 'c'], ['d/x/1']]);
  });

  it('folds keys into common prefixes at the delimiter, each counting once per page', async () => {
    const first = await client.send(
      new ListObjectsV2Command({ Bucket: 'listing-bucket', Delimiter: '/', MaxKeys: 2 }),
    );
    const second = await client.send(
      new ListObjectsV2Command({
        Bucket: 'listing-bucket',
        Delimiter: '/',
        MaxKeys: 2,
        ContinuationToken: first.NextContinuationToken,
      }),
    );

    expect(first.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/']);
    expect(first.KeyCount).toBe(2);
    expect(second.Contents?.map((c) => c.Key)).toEqual(['c']);
    expect(second.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['d/']);
    expect(second.IsTruncated).toBe(false);
  });

  it('filters by prefix', async () => {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'listing-bucket', Prefix: 'b/' }));

    expect(page.Contents?.map((c) => c.Key)).toEqual(['b/1', 'b/2']);
  });
});

describe('S3 stand-in: fault injection and the request log', () => {
  it('makes the SDK see a 500 InternalError for PutObject under a prefix', async () => {
    s3.failNext({ operation: 'PutObject', keyPrefix: 'faulty/', status: 500 });

    await expect(
      noRetry.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'faulty/x.csv', Body: 'x' })),
    ).rejects.toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(s3.headObject(PLAIN, 'faulty/x.csv')).toBeUndefined();
  });

  it('leaves other keys alone and lets the SDK retry past a 503 SlowDown', async () => {
    s3.failNext({ operation: 'PutObject', keyPrefix: 'slow/', status: 503, times: 1 });
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'fast/x.csv', Body: 'x' }));
    s3.resetRequests();

    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'slow/x.csv', Body: 'x' }));

    expect(s3.requests.map((r) => [r.operation, r.status, r.errorCode])).toEqual([
      ['PutObject', 503, 'SlowDown'],
      ['PutObject', 200, undefined],
    ]);
  });

  it('drops the connection for a resetConnection fault, as a network failure looks', async () => {
    s3.failNext({ operation: 'GetObject', keyPrefix: 'reset/', resetConnection: true });
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'reset/x.txt', Body: 'x' }));

    await expect(noRetry.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'reset/x.txt' }))).rejects.toThrow();
    expect(lastRequest('GetObject')).toMatchObject({ key: 'reset/x.txt', status: 0 });
    expect((await getBytes(client, PLAIN, 'reset/x.txt')).toString()).toBe('x');
  });

  it('records operation, key, status and byte counts', async () => {
    s3.resetRequests();

    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'log/x.txt', Body: 'twelve bytes' }));
    await getBytes(client, PLAIN, 'log/x.txt');

    expect(s3.requests).toMatchObject([
      { operation: 'PutObject', bucket: PLAIN, key: 'log/x.txt', status: 200, bytesIn: 12, auth: 'header' },
      { operation: 'GetObject', bucket: PLAIN, key: 'log/x.txt', status: 200, bytesOut: 12 },
    ]);
    expect(s3.counts()).toEqual({ PutObject: 1, GetObject: 1 });
  });
});

describe('S3 stand-in: request bodies the SDK does not send by default', () => {
  /** Sign and send a raw request with this module's own SigV4 primitives (checked against AWS's vectors). */
  async function rawPut(
    key: string,
    body: Buffer,
    headers: Record<string, string>,
    payloadHash: string,
    signChunks?: (seed: string, signingKey: Buffer, amzDate: string, scope: string) => Buffer,
  ): Promise<{ status: number; text: string }> {
    const url = new URL(`${s3.url}/${PLAIN}/${key}`);
    const amzDate = formatAmzDate(Date.now());
    const date = amzDate.slice(0, 8);
    const scope = `${date}/${s3.region}/s3/aws4_request`;
    const all: Record<string, string> = {
      ...headers,
      host: url.host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
    };
    const signed = Object.keys(all).sort();
    const rawHeaders = Object.entries(all).flat();
    const canonical = createCanonicalRequest({
      method: 'PUT',
      canonicalUri: url.pathname,
      canonicalQuery: canonicalQueryString(parseQuery(url.search.slice(1))),
      canonicalHeaders: canonicalHeaderLines(rawHeaders, signed),
      signedHeaders: signed,
      payloadHash,
    });
    const signingKey = deriveSigningKey(LOCAL_AWS_CREDENTIALS.secretAccessKey, date, s3.region, 's3');
    const seed = signHex(signingKey, createStringToSign(amzDate, scope, canonical));
    const wire = signChunks ? signChunks(seed, signingKey, amzDate, scope) : body;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: 'PUT',
          headers: {
            ...all,
            'content-length': String(wire.length),
            authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_AWS_CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${seed}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on('error', reject);
      req.end(wire);
    });
  }

  function signedChunks(chunks: Buffer[], tamper = false) {
    return (seed: string, signingKey: Buffer, amzDate: string, scope: string): Buffer => {
      let previous = seed;
      const out: Buffer[] = [];
      for (const chunk of [...chunks, Buffer.alloc(0)]) {
        const signature = signHex(signingKey, chunkStringToSign(amzDate, scope, previous, sha256Hex(chunk)));
        previous = signature;
        const data = tamper && chunk.length > 0 ? Buffer.from(chunk).fill(0, 0, 1) : chunk;
        out.push(
          Buffer.from(`${chunk.length.toString(16)};chunk-signature=${signature}\r\n`),
          data,
          Buffer.from('\r\n'),
        );
      }
      return Buffer.concat(out);
    };
  }

  it('stores a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload after verifying every chunk signature', async () => {
    const data = pattern(20_000, 6);
    const chunks = [data.subarray(0, 10_000), data.subarray(10_000)];

    const response = await rawPut(
      'signed-chunks.bin',
      data,
      { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length) },
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      signedChunks(chunks),
    );

    expect(response.status).toBe(200);
    expect((await s3.getObjectBytes(PLAIN, 'signed-chunks.bin')).equals(data)).toBe(true);
  });

  it('refuses a signed-chunk upload whose data was altered in transit', async () => {
    const data = pattern(20_000, 7);

    const response = await rawPut(
      'signed-chunks-bad.bin',
      data,
      { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length) },
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      signedChunks([data.subarray(0, 10_000), data.subarray(10_000)], true),
    );

    expect(response.status).toBe(403);
    expect(response.text).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(s3.headObject(PLAIN, 'signed-chunks-bad.bin')).toBeUndefined();
  });

  it('refuses an aws-chunked body whose trailing CRC32 does not match (BadDigest)', async () => {
    const data = pattern(9_000, 8);
    const wrong = checksumBase64('CRC32', Buffer.from('different'));
    const wire = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${wrong}\r\n\r\n`),
    ]);

    const response = await rawPut(
      'trailer-bad.bin',
      data,
      {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      () => wire,
    );

    expect(response.status).toBe(400);
    expect(response.text).toContain('<Code>BadDigest</Code>');
    expect(s3.headObject(PLAIN, 'trailer-bad.bin')).toBeUndefined();
  });

  it('accepts a header-signed UNSIGNED-PAYLOAD body', async () => {
    const response = await rawPut('unsigned.txt', Buffer.from('not hashed'), {}, 'UNSIGNED-PAYLOAD');

    expect(response.status).toBe(200);
    expect((await s3.getObjectBytes(PLAIN, 'unsigned.txt')).toString()).toBe('not hashed');
  });

  it('refuses a plain body whose x-amz-content-sha256 does not match', async () => {
    const response = await rawPut('sha-bad.txt', Buffer.from('hello'), {}, sha256Hex('goodbye'));

    expect(response.status).toBe(400);
    expect(response.text).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
  });
});

describe('S3 stand-in: storage directory', () => {
  it('reopens a kept directory with its buckets, versions and bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3-stand-in-test-'));
    try {
      const first = await startS3StandIn({ dir, buckets: [{ name: 'kept-bucket', versioning: true }] });
      await first.putObject('kept-bucket', 'k.txt', 'one');
      await first.putObject('kept-bucket', 'k.txt', 'two');
      await first.close();

      const second = await startS3StandIn({ dir });
      const versions = second.listVersions('kept-bucket', 'k.txt');
      const bytes = await second.getObjectBytes('kept-bucket', 'k.txt');
      await second.close();

      expect(versions).toHaveLength(2);
      expect(bytes.toString()).toBe('two');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
