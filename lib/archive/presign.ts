import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { CsvLinkPresigner, PresignedLink } from './ports';

export interface CsvLinkPresignerOptions {
  /** Only the client's configuration and credentials are used: presigning makes no request. */
  readonly s3: S3Client;
  readonly bucket: string;
  /** Link lifetime in seconds (S3 accepts 1 to 604,800). */
  readonly ttlSeconds: number;
  /** Epoch milliseconds; the signing time. Default `Date.now`. */
  readonly now?: () => number;
}

/** SigV4 query signing allows at most seven days. */
const MAX_TTL_SECONDS = 604_800;

/**
 * Presigned GETs of archived CSVs. The link downloads as `fileName` (`Content-Disposition: attachment`) with
 * `Content-Type: text/csv`, whatever metadata the object carries. A link signed with temporary credentials (a Lambda
 * role) stops working when those credentials expire, even if `ttlSeconds` has not passed.
 * Throws a RangeError for a TTL outside S3's limits and a TypeError for a file name that could break the header.
 */
export function createCsvLinkPresigner(options: CsvLinkPresignerOptions): CsvLinkPresigner {
  const { s3, bucket, ttlSeconds } = options;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be a whole number from 1 to ${MAX_TTL_SECONDS}`);
  }
  return {
    async presignCsv(key: string, fileName: string): Promise<PresignedLink> {
      if (!/^[\w.-]{1,200}$/.test(fileName)) {
        throw new TypeError('fileName must be 1 to 200 letters, digits, dots, dashes or underscores');
      }
      // SigV4 dates have one-second precision: the link expires `ttlSeconds` after the whole second it was signed in.
      const signedAt = Math.floor(now() / 1000) * 1000;
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ResponseContentDisposition: `attachment; filename="${fileName}"`,
        ResponseContentType: 'text/csv',
      });
      const url = await getSignedUrl(s3, command, {
        expiresIn: ttlSeconds,
        signingDate: new Date(signedAt),
      });
      return { url, expiresAt: signedAt + ttlSeconds * 1000 };
    },
  };
}
