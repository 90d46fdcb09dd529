import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3StandIn, startS3StandIn } from '../../infra/local/s3';
import { S3_TIMEOUTS, withS3Timeouts } from '../../lib/archive/s3-client';
import { type StallingProxy, startStallingProxy } from '../poll/stalling-proxy';

const BUCKET = 'archive';

let s3: S3StandIn;
let proxy: StallingProxy;

beforeAll(async () => {
  s3 = await startS3StandIn({ buckets: [BUCKET] });
  proxy = await startStallingProxy(s3.url);
});
afterAll(async () => {
  await proxy.close();
  await s3.close();
});

describe('withS3Timeouts', () => {
  it('bounds connection, request and idle time, and makes a breached request timeout an error', () => {
    const config = withS3Timeouts({ forcePathStyle: true });

    expect(config).toEqual({
      forcePathStyle: true,
      requestHandler: { ...S3_TIMEOUTS, throwOnRequestTimeout: true },
    });
  });

  it('fails a request that S3 accepts and never answers with a TimeoutError, retries included', async () => {
    const timeouts = { connectionTimeout: 1_000, requestTimeout: 150, socketTimeout: 1_000 };
    const client = new S3Client(withS3Timeouts({ ...s3.clientConfig(), endpoint: proxy.url }, timeouts));
    proxy.stall({ method: 'HEAD', path: /^\/archive\/never-answered$/, times: 10 });

    try {
      const attempt = client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'never-answered' }));

      await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
      // The SDK's standard retry tried again after each timeout: every attempt was bounded.
      expect(proxy.stalled.map((r) => r.method)).toEqual(['HEAD', 'HEAD', 'HEAD']);
    } finally {
      client.destroy();
    }
  });
});
