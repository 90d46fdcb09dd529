import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { createCsvLinkPresigner } from '../../lib/archive/presign';

const NOW = Date.UTC(2024, 6, 10, 12, 0, 0, 750);
const KEY = 'atlas-invoices/aaaaaaaaaaaaaaaaaaaaaaa1/2024-06/1111111111111111111111a1.csv';
const FILE = 'atlas-invoice-2024-06-1111111111111111111111a1.csv';

// Port 9 on loopback: nothing listens, and presigning must not try.
const offline = new S3Client({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  forcePathStyle: true,
  credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example-secret-key' },
});

describe('createCsvLinkPresigner (offline)', () => {
  it('signs a GET that downloads as a CSV attachment, expiring ttl seconds after the signing second', async () => {
    const presigner = createCsvLinkPresigner({
      s3: offline,
      bucket: 'archive',
      ttlSeconds: 900,
      now: () => NOW,
    });
    const link = await presigner.presignCsv(KEY, FILE);
    const url = new URL(link.url);
    expect(url.origin + url.pathname).toBe(`http://127.0.0.1:9/archive/${KEY}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20240710T120000Z');
    expect(url.searchParams.get('response-content-disposition')).toBe(`attachment; filename="${FILE}"`);
    expect(url.searchParams.get('response-content-type')).toBe('text/csv');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[a-f0-9]{64}$/);
    expect(link.expiresAt).toBe(Date.UTC(2024, 6, 10, 12, 15, 0));
    expect(link.url).not.toContain('example-secret-key');
  });

  it.each([0, 604_801, 1.5])('refuses a lifetime of %s seconds', (ttlSeconds) => {
    expect(() => createCsvLinkPresigner({ s3: offline, bucket: 'archive', ttlSeconds })).toThrow(RangeError);
  });

  it('refuses a file name that could break the Content-Disposition header', async () => {
    const presigner = createCsvLinkPresigner({ s3: offline, bucket: 'archive', ttlSeconds: 60 });
    await expect(presigner.presignCsv(KEY, 'a";b.csv')).rejects.toThrow(TypeError);
  });
});

describe('createCsvLinkPresigner against the S3 stand-in (which verifies SigV4 and expiry)', () => {
  const BYTES = 'Invoice Number,1111111111111111111111a1,\nOrganization Name,"Ünïcode & <Co>",\n';
  let s3: S3StandIn;
  let serverNow = Date.now();

  beforeAll(async () => {
    s3 = await startS3StandIn({ buckets: ['archive'], clock: () => serverNow });
    await s3.putObject('archive', KEY, BYTES, { contentType: 'application/octet-stream' });
  });

  afterAll(async () => {
    await s3?.close();
  });

  function presigner(signedAt: number) {
    return createCsvLinkPresigner({
      s3: new S3Client(s3.clientConfig()),
      bucket: 'archive',
      ttlSeconds: 900,
      now: () => signedAt,
    });
  }

  it('downloads the stored bytes as a named CSV', async () => {
    serverNow = Date.now();
    const link = await presigner(serverNow).presignCsv(KEY, FILE);
    const response = await fetch(link.url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(await s3.getObjectBytes('archive', KEY));
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${FILE}"`);
    expect(response.headers.get('content-type')).toBe('text/csv');
  });

  it('still works just before expiry and is refused with 403 just after', async () => {
    const signedAt = Date.now();
    const link = await presigner(signedAt).presignCsv(KEY, FILE);
    serverNow = link.expiresAt - 1_000;
    expect((await fetch(link.url)).status).toBe(200);
    serverNow = link.expiresAt + 1_000;
    const expired = await fetch(link.url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('AccessDenied');
  });

  it('refuses a tampered signature, another key and a rewritten file name with 403', async () => {
    serverNow = Date.now();
    const { url } = await presigner(serverNow).presignCsv(KEY, FILE);
    const tampered = new URL(url);
    const signature = tampered.searchParams.get('X-Amz-Signature') ?? '';
    tampered.searchParams.set(
      'X-Amz-Signature',
      `${signature.startsWith('f') ? 'e' : 'f'}${signature.slice(1)}`,
    );
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace('.csv', '-x.csv');
    const renamed = new URL(url);
    renamed.searchParams.set('response-content-disposition', 'attachment; filename="evil.html"');
    for (const candidate of [tampered, otherKey, renamed]) {
      const response = await fetch(candidate);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('SignatureDoesNotMatch');
    }
  });
});
