import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { spendChartKey } from '../archive/keys';
import type { PresignedLink } from '../archive/ports';
import { isNotFound, toArchiveError } from '../archive/s3-errors';

/** A link Slack can fetch the month's spend chart from, for an image block of an answer read at once. */
export interface SpendChartLinks {
  /**
   * A presigned GET of the chart PNG the poller stored for `orgId` and `month` (`YYYY-MM`), or undefined when there is
   * none. One HEAD request (an image block whose URL does not load makes Slack refuse the whole answer, so a link is
   * only given for a chart that exists); the signing itself makes no request. Throws ArchiveError when S3 fails.
   */
  linkChart(orgId: string, month: string, signal?: AbortSignal): Promise<PresignedLink | undefined>;
}

export interface SpendChartLinkOptions {
  /** Only the client's configuration and credentials sign; the HEAD goes through it too. */
  readonly s3: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  /** Link lifetime in seconds (PRESIGN_TTL_SECONDS): Slack fetches the image when the answer is shown. */
  readonly ttlSeconds: number;
  /** Epoch milliseconds, the signing time. */
  readonly now: () => number;
}

export function createSpendChartLinks(options: SpendChartLinkOptions): SpendChartLinks {
  const { s3, bucket, prefix, ttlSeconds, now } = options;
  return {
    async linkChart(orgId, month, signal) {
      const key = spendChartKey(prefix, orgId, month);
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw toArchiveError('HeadObject', key, error);
      }
      // SigV4 dates have one-second precision: the link expires `ttlSeconds` after the whole second it was signed in.
      const signedAt = Math.floor(now() / 1000) * 1000;
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentType: 'image/png' }),
        { expiresIn: ttlSeconds, signingDate: new Date(signedAt) },
      );
      return { url, expiresAt: signedAt + ttlSeconds * 1000 };
    },
  };
}
