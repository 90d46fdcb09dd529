import { S3Client } from '@aws-sdk/client-s3';
import { type S3StandIn, type S3StandInOptions, startS3StandIn } from '../../infra/local/s3';

/** An S3 stand-in on 127.0.0.1 and an SDK client over it; `close` destroys the client and stops the stand-in. */
export async function startS3WithClient(
  options: S3StandInOptions,
): Promise<{ readonly s3: S3StandIn; readonly client: S3Client; close(): Promise<void> }> {
  const s3 = await startS3StandIn(options);
  const client = new S3Client(s3.clientConfig());
  return {
    s3,
    client,
    async close() {
      client.destroy();
      await s3.close();
    },
  };
}
