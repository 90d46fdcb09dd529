import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { Sha256 } from '@aws-sdk/checksums/sha';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  LOCAL_AWS_CREDENTIALS,
  LOCAL_AWS_REGION,
  type S3StandIn,
  startS3StandIn,
} from '../../../infra/local/s3';

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
/** CRC32 as S3 carries it (big-endian, base64), from Node's zlib: not the implementation the stand-in uses. */
const crc32Base64 = (data: Uint8Array) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
};

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
    expect(out.ChecksumCRC32).toBe(crc32Base64(body));
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
    expect(s3.counts()).toEqual({ CreateMultipartUpload: 1, UploadPart: 3, CompleteMultipartUpload: 1 });
    expect((await s3.getObjectBytes(VERSIONED, 'org/2024-06/big.csv')).equals(body)).toBe(true);
    expect(s3.headObject(VERSIONED, 'org/2024-06/big.csv')).toMatchObject({
      etag: expectedEtag,
      partsCount: 3,
      contentType: 'text/csv',
      size: body.length,
    });
    expect((await getBytes(client, VERSIONED, 'org/2024-06/big.csv')).equals(body)).toBe(true);
  });

  it('keeps user metadata and the content type, and echoes server-side encryption', async () => {
    const put = await client.send(
      new PutObjectCommand({
        Bucket: VERSIONED,
        Key: 'meta/invoice.csv',
        Body: 'a,b\n1,2\n',
        ContentType: 'text/csv; charset=utf-8',
        ServerSideEncryption: 'aws:kms',
        Metadata: { status: 'PAID', updated: '2024-06-01T00:00:00Z', sha256: 'abc123' },
      }),
    );

    const head = await client.send(new HeadObjectCommand({ Bucket: VERSIONED, Key: 'meta/invoice.csv' }));

    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(head).toMatchObject({
      ContentType: 'text/csv; charset=utf-8',
      ServerSideEncryption: 'aws:kms',
      ContentLength: 8,
      VersionId: put.VersionId,
      Metadata: { status: 'PAID', updated: '2024-06-01T00:00:00Z', sha256: 'abc123' },
    });
  });

  it('signs and stores keys whose characters need escaping', async () => {
    const keys = ["odd/a b+c=d&e!'()*~%#?.csv", 'odd/Zürich – 東京 🧾.csv', 'odd/double//slash.csv'];

    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: key, Body: key }));

    for (const key of keys) expect((await getBytes(client, PLAIN, key)).toString()).toBe(key);
    expect(s3.listKeys(PLAIN, 'odd/')).toEqual([...keys].sort());
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

  it('answers 501 NotImplemented for operations it does not serve, and stores nothing for them', async () => {
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'kept.txt', Body: 'kept' }));
    s3.resetRequests();

    for (const command of [
      new ListObjectsV2Command({ Bucket: PLAIN }),
      new DeleteObjectCommand({ Bucket: PLAIN, Key: 'kept.txt' }),
      new CopyObjectCommand({ Bucket: VERSIONED, Key: 'copy.txt', CopySource: `${PLAIN}/kept.txt` }),
    ]) {
      await expect(noRetry.send(command as never)).rejects.toMatchObject({
        name: 'NotImplemented',
        $metadata: { httpStatusCode: 501 },
      });
    }
    expect(s3.requests.map((r) => [r.operation, r.status])).toEqual([
      ['Unsupported', 501],
      ['Unsupported', 501],
      ['CopyObject', 501],
    ]);
    expect(s3.listKeys(PLAIN, 'co')).toEqual([]);
    expect(s3.listKeys(VERSIONED, 'co')).toEqual([]);
    expect((await s3.getObjectBytes(PLAIN, 'kept.txt')).toString()).toBe('kept');
  });

  it('copies an object within its bucket only while the source still has the ETag asked for', async () => {
    const put = await client.send(
      new PutObjectCommand({
        Bucket: PLAIN,
        Key: 'src/state.json',
        Body: '{"v":1',
        ContentType: 'application/json',
      }),
    );
    const copy = (key: string, etag: string | undefined) =>
      noRetry.send(
        new CopyObjectCommand({
          Bucket: PLAIN,
          Key: key,
          CopySource: `${PLAIN}/src/state.json`,
          ...(etag === undefined ? {} : { CopySourceIfMatch: etag }),
          ServerSideEncryption: 'AES256',
        }),
      );

    const copied = await copy('aside/state.json', put.ETag);
    await expect(copy('aside/stale.json', '"0123456789abcdef0123456789abcdef"')).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    await expect(
      noRetry.send(
        new CopyObjectCommand({ Bucket: PLAIN, Key: 'x', CopySource: `${PLAIN}/src/missing.json` }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });

    expect(copied.CopyObjectResult?.ETag).toBe(put.ETag);
    expect((await s3.getObjectBytes(PLAIN, 'aside/state.json')).toString()).toBe('{"v":1');
    expect(s3.headObject(PLAIN, 'aside/state.json')?.contentType).toBe('application/json');
    expect(s3.listKeys(PLAIN, 'aside/')).toEqual(['aside/state.json']);
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

  it('lets exactly one of two concurrent writers with the same IfMatch win; the other gets 412', async () => {
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

    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
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

    const put = noRetry.send(
      new PutObjectCommand({
        Bucket: PLAIN,
        Key: 'state/early.bin',
        Body: pattern(3 * MiB, 5),
        IfNoneMatch: '*',
      }),
    );

    await expect(put).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(lastRequest('PutObject')).toMatchObject({ status: 412, bytesIn: 0 });
  });
});

describe('S3 stand-in: multipart uploads step by step', () => {
  const KEY = 'mpu/steps.bin';

  it('forgets an aborted upload and its parts', async () => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: PLAIN, Key: KEY }));
    const one = await client.send(
      new UploadPartCommand({ Bucket: PLAIN, Key: KEY, UploadId, PartNumber: 1, Body: pattern(5 * MiB) }),
    );

    await client.send(new AbortMultipartUploadCommand({ Bucket: PLAIN, Key: KEY, UploadId }));

    await expect(
      noRetry.send(new UploadPartCommand({ Bucket: PLAIN, Key: KEY, UploadId, PartNumber: 2, Body: 'x' })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } });
    await expect(
      noRetry.send(
        new CompleteMultipartUploadCommand({
          Bucket: PLAIN,
          Key: KEY,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    expect(s3.headObject(PLAIN, KEY)).toBeUndefined();
  });

  it('refuses a part under 5 MiB that is not the last (EntityTooSmall), an unknown ETag and a wrong order', async () => {
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
    await expect(
      complete([
        { PartNumber: 2, ETag: two.ETag },
        { PartNumber: 1, ETag: one.ETag },
      ]),
    ).rejects.toMatchObject({ name: 'InvalidPartOrder' });
    await expect(complete([{ PartNumber: 2, ETag: two.ETag }])).resolves.toMatchObject({
      ETag: `"${md5(md5(Buffer.from('last'))).toString('hex')}-1"`,
    });
    expect((await s3.getObjectBytes(PLAIN, KEY)).toString()).toBe('last');
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

    expect(v1.VersionId).not.toBe(v2.VersionId);
    expect((await getBytes(client, VERSIONED, 'versions/x.csv', v1.VersionId)).toString()).toBe('one');
    expect((await getBytes(client, VERSIONED, 'versions/x.csv')).toString()).toBe('two');
    expect((await s3.getObjectBytes(VERSIONED, 'versions/x.csv', v1.VersionId)).toString()).toBe('one');
    expect(s3.listVersions(VERSIONED, 'versions/x.csv').map((v) => v.versionId)).toEqual([
      v2.VersionId,
      v1.VersionId,
    ]);
  });

  it('replaces objects in an unversioned bucket', async () => {
    await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'replace.txt', Body: 'old' }));
    const second = await client.send(
      new PutObjectCommand({ Bucket: PLAIN, Key: 'replace.txt', Body: 'new' }),
    );

    expect(second.VersionId).toBeUndefined();
    expect(s3.listVersions(PLAIN, 'replace.txt')).toHaveLength(1);
    expect((await getBytes(client, PLAIN, 'replace.txt')).toString()).toBe('new');
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

  const presign = (options: { expiresIn?: number; disposition?: string } = {}) =>
    getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: VERSIONED,
        Key: KEY,
        ResponseContentDisposition: options.disposition ?? 'attachment; filename="atlas-invoice-2024-05.csv"',
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

    const response = await fetch(await presign({ disposition, expiresIn: 60 }));

    expect(response.status).toBe(200);
    expect(Buffer.from(response.headers.get('content-disposition') ?? '', 'latin1').toString('utf8')).toBe(
      disposition,
    );
  });

  it('refuses a tampered signature, the signature reused for another key, and a rewritten parameter', async () => {
    const tampered = new URL(await presign());
    const signature = tampered.searchParams.get('X-Amz-Signature') as string;
    tampered.searchParams.set(
      'X-Amz-Signature',
      `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`,
    );
    const otherKey = new URL(await presign());
    otherKey.pathname = otherKey.pathname.replace('.csv', '.json');
    const rewritten = new URL(await presign());
    rewritten.searchParams.set('response-content-disposition', 'inline');

    for (const url of [tampered, otherKey, rewritten]) {
      const response = await fetch(url);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
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

  it('refuses a header-signed request from a clock more than 15 minutes off', async () => {
    // Its own client: the SDK corrects its clock from a skew error, and would carry that into other tests.
    const skewed = new S3Client({ ...s3.clientConfig(), maxAttempts: 1 });
    clockOffsetMs = 16 * 60_000;

    await expect(skewed.send(new GetObjectCommand({ Bucket: VERSIONED, Key: KEY }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    expect(lastRequest('GetObject')).toMatchObject({ status: 403, errorCode: 'RequestTimeTooSkewed' });
    skewed.destroy();
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
      wrongSecret.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'forged.txt', Body: 'x' })),
    ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    await expect(
      unknownKey.send(new GetObjectCommand({ Bucket: VERSIONED, Key: KEY })),
    ).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
      $metadata: { httpStatusCode: 403 },
    });
    expect(s3.headObject(VERSIONED, 'forged.txt')).toBeUndefined();
    wrongSecret.destroy();
    unknownKey.destroy();
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

  it('answers an injected error with the code the test names', async () => {
    s3.failNext({ operation: 'GetObject', status: 409, code: 'ConditionalRequestConflict' });

    await expect(
      noRetry.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'fast/x.csv' })),
    ).rejects.toMatchObject({
      name: 'ConditionalRequestConflict',
      $metadata: { httpStatusCode: 409 },
    });
  });

  it('records operation, key, status and body bytes', async () => {
    s3.resetRequests();

    await whenRequired.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'log/x.txt', Body: 'twelve bytes' }));
    await getBytes(client, PLAIN, 'log/x.txt');

    expect(s3.requests).toMatchObject([
      { operation: 'PutObject', bucket: PLAIN, key: 'log/x.txt', status: 200, bytesIn: 12, auth: 'header' },
      { operation: 'GetObject', bucket: PLAIN, key: 'log/x.txt', status: 200, errorCode: undefined },
    ]);
    expect(s3.counts()).toEqual({ PutObject: 1, GetObject: 1 });
  });
});

describe('S3 stand-in: request bodies the SDK does not send by default', () => {
  /** Sign a raw PUT with the SDK's own signer and send it as it is, so its body can be anything. */
  async function rawPut(
    key: string,
    wire: Buffer,
    headers: Record<string, string>,
    payloadHash: string,
  ): Promise<{ status: number; text: string }> {
    const url = new URL(`${s3.url}/${PLAIN}/${key}`);
    const signer = new SignatureV4({
      service: 's3',
      region: LOCAL_AWS_REGION,
      credentials: LOCAL_AWS_CREDENTIALS,
      sha256: Sha256,
      uriEscapePath: false,
    });
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      headers: { ...headers, host: url.host, 'x-amz-content-sha256': payloadHash },
    });
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'PUT', headers: { ...signed.headers, 'content-length': String(wire.length) } },
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

  const chunked = (data: Buffer, trailer: string) =>
    Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from(`\r\n0\r\n${trailer}\r\n\r\n`),
    ]);
  const trailerHeaders = (data: Buffer) => ({
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(data.length),
    'x-amz-trailer': 'x-amz-checksum-crc32',
  });

  it('refuses an aws-chunked body whose trailing CRC32 does not match (BadDigest) and stores nothing', async () => {
    const data = pattern(9_000, 8);
    const wire = chunked(data, `x-amz-checksum-crc32:${crc32Base64(Buffer.from('different'))}`);

    const response = await rawPut(
      'trailer-bad.bin',
      wire,
      trailerHeaders(data),
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    );

    expect(response.status).toBe(400);
    expect(response.text).toContain('<Code>BadDigest</Code>');
    expect(s3.headObject(PLAIN, 'trailer-bad.bin')).toBeUndefined();
  });

  it('stores an aws-chunked body whose trailing CRC32 matches, and keeps that checksum', async () => {
    const data = pattern(9_000, 9);
    const wire = chunked(data, `x-amz-checksum-crc32:${crc32Base64(data)}`);

    const response = await rawPut(
      'trailer-good.bin',
      wire,
      trailerHeaders(data),
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    );

    expect(response.status).toBe(200);
    expect(s3.headObject(PLAIN, 'trailer-good.bin')?.checksum).toEqual({
      algorithm: 'CRC32',
      value: crc32Base64(data),
    });
  });

  it('accepts a header-signed UNSIGNED-PAYLOAD body', async () => {
    const response = await rawPut('unsigned.txt', Buffer.from('not hashed'), {}, 'UNSIGNED-PAYLOAD');

    expect(response.status).toBe(200);
    expect((await s3.getObjectBytes(PLAIN, 'unsigned.txt')).toString()).toBe('not hashed');
  });

  it('refuses a plain body whose x-amz-content-sha256 does not match', async () => {
    const goodbye = createHash('sha256').update('goodbye').digest('hex');

    const response = await rawPut('sha-bad.txt', Buffer.from('hello'), {}, goodbye);

    expect(response.status).toBe(400);
    expect(response.text).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    expect(s3.headObject(PLAIN, 'sha-bad.txt')).toBeUndefined();
  });

  it('answers 501 for signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), which no JavaScript SDK sends', async () => {
    const data = Buffer.from('hello');
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' };

    const response = await rawPut(
      'signed-chunks.bin',
      chunked(data, ''),
      headers,
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    );

    expect(response.status).toBe(501);
    expect(response.text).toContain('<Code>NotImplemented</Code>');
  });
});

describe('S3 stand-in: storage directory', () => {
  it('reopens a kept directory with its buckets, versions and bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3-stand-in-test-'));
    try {
      const first = await startS3StandIn({ dir, buckets: [{ name: 'kept-bucket', versioning: true }] });
      await first.putObject('kept-bucket', 'k.txt', 'one');
      await first.putObject('kept-bucket', 'k.txt', 'two', { contentType: 'text/plain' });
      await first.close();

      const second = await startS3StandIn({ dir });
      const versions = second.listVersions('kept-bucket', 'k.txt');
      const bytes = await second.getObjectBytes('kept-bucket', 'k.txt');
      await second.close();

      expect(versions.map((v) => v.contentType)).toEqual(['text/plain', undefined]);
      expect(bytes.toString()).toBe('two');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
