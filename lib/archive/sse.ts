/** `ServerSideEncryption` values this project writes with. */
export type ArchiveEncryption = 'AES256' | 'aws:kms';

export interface ServerSideEncryptionOptions {
  /** Default AES256 (SSE-S3). */
  readonly serverSideEncryption?: ArchiveEncryption;
  /** With `aws:kms`: the key id or ARN; the bucket's default KMS key when absent. */
  readonly kmsKeyId?: string;
}

/** The `ServerSideEncryption` (and KMS key) parameters of every PUT and copy into the archive bucket. */
export function sseParams(options: ServerSideEncryptionOptions): {
  ServerSideEncryption: ArchiveEncryption;
  SSEKMSKeyId?: string;
} {
  const serverSideEncryption = options.serverSideEncryption ?? 'AES256';
  if (serverSideEncryption === 'aws:kms' && options.kmsKeyId !== undefined) {
    return { ServerSideEncryption: serverSideEncryption, SSEKMSKeyId: options.kmsKeyId };
  }
  return { ServerSideEncryption: serverSideEncryption };
}
