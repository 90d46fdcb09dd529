import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { type S3StandIn, type S3StandInOptions, startS3StandIn } from '../../infra/local/s3';

/**
 * An S3 stand-in on 127.0.0.1 and an SDK client over it for the tests of one file: started before them, the client
 * destroyed and the stand-in stopped after them. Read `s3` and `client` inside tests and hooks.
 */
export function useS3StandIn(options: S3StandInOptions): {
  readonly s3: S3StandIn;
  readonly client: S3Client;
} {
  let started: { s3: S3StandIn; client: S3Client } | undefined;
  beforeAll(async () => {
    const s3 = await startS3StandIn(options);
    started = { s3, client: new S3Client(s3.clientConfig()) };
  });
  afterAll(async () => {
    started?.client.destroy();
    await started?.s3.close();
  });
  const get = () => {
    if (started === undefined) throw new Error('the S3 stand-in is read before it started');
    return started;
  };
  return {
    get s3() {
      return get().s3;
    },
    get client() {
      return get().client;
    },
  };
}
