import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * Bounds on every request of the archive's S3 client, in milliseconds. The SDK's default is none: a request S3 (or
 * anything on the way) accepts and never answers would wait until the Lambda is killed. `requestTimeout` counts from
 * the request's start to the response's headers (the SDK only warns unless `throwOnRequestTimeout`); the idle
 * `socketTimeout` also covers a body that stops arriving after the headers. The poll's deadline signal bounds the
 * whole run on top of these.
 */
export const S3_TIMEOUTS = {
  connectionTimeout: 3_000,
  requestTimeout: 30_000,
  socketTimeout: 30_000,
} as const;

/**
 * Makes the archive's S3 client once the validated path-style setting is known (it may come from the secret); region,
 * credentials and AWS_ENDPOINT_URL_S3 come from the SDK's own environment handling.
 */
export type S3ClientFactory = (options: { readonly forcePathStyle: boolean }) => S3Client;

export interface S3Timeouts {
  readonly connectionTimeout: number;
  readonly requestTimeout: number;
  readonly socketTimeout: number;
}

/** `config` with the request handler bounded by `timeouts` (a timed-out request fails with a `TimeoutError`). */
export function withS3Timeouts(config: S3ClientConfig, timeouts: S3Timeouts = S3_TIMEOUTS): S3ClientConfig {
  return { ...config, requestHandler: { ...timeouts, throwOnRequestTimeout: true } };
}
