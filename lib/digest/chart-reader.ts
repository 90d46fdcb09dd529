import { GetObjectCommand } from '@aws-sdk/client-s3';
import { spendChartKey } from '../archive/keys';
import { isNotFound, toArchiveError } from '../archive/s3-errors';
import type { S3Sender } from '../archive/s3-objects';
import { ArchiveError } from '../errors';

/** The chart PNGs the poller stores next to each month's spend record (`spendChartKey`). */
export interface SpendChartReader {
  /** The stored PNG of `orgId`'s `month` (`YYYY-MM`), or undefined when there is none. Throws ArchiveError. */
  readChart(orgId: string, month: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
}

export function createSpendChartReader(options: {
  readonly s3: S3Sender;
  readonly bucket: string;
  readonly prefix: string;
}): SpendChartReader {
  const { s3, bucket, prefix } = options;
  return {
    async readChart(orgId, month, signal) {
      const key = spendChartKey(prefix, orgId, month);
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        if (out.Body === undefined) {
          throw new ArchiveError(`S3 GetObject of ${key} returned no body`, 'GetObject', key);
        }
        return await out.Body.transformToByteArray();
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw toArchiveError('GetObject', key, error);
      }
    },
  };
}
