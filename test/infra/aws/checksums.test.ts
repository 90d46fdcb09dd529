import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  algorithmOfHeader,
  CHECKSUM_ALGORITHMS,
  checksumBase64,
  checksumHeaderName,
  createChecksum,
} from '../../../infra/local/aws/checksums';

const CHECK_INPUT = Buffer.from('123456789');

describe('checksums', () => {
  it('matches the published check values for "123456789"', () => {
    const hex = (algorithm: 'CRC32' | 'CRC32C' | 'CRC64NVME') =>
      Buffer.from(checksumBase64(algorithm, CHECK_INPUT), 'base64').toString('hex');

    expect(hex('CRC32')).toBe('cbf43926');
    expect(hex('CRC32C')).toBe('e3069283');
    expect(hex('CRC64NVME')).toBe('ae8b14860a799888');
  });

  it('computes SHA-1 and SHA-256 as node:crypto does', () => {
    expect(checksumBase64('SHA256', CHECK_INPUT)).toBe(
      createHash('sha256').update(CHECK_INPUT).digest('base64'),
    );
    expect(checksumBase64('SHA1', CHECK_INPUT)).toBe(createHash('sha1').update(CHECK_INPUT).digest('base64'));
  });

  it.each(CHECKSUM_ALGORITHMS)('gives the same %s however the input is split', (algorithm) => {
    const data = Buffer.from(Array.from({ length: 10_007 }, (_, i) => (i * 31 + 7) & 0xff));
    const incremental = createChecksum(algorithm);
    for (const size of [1, 3, 8, 9, 17, 4096]) {
      incremental.update(data.subarray(0, size));
      incremental.update(data.subarray(size, size * 2));
    }
    const pieces = [1, 3, 8, 9, 17, 4096].flatMap((size) => [
      data.subarray(0, size),
      data.subarray(size, size * 2),
    ]);

    expect(incremental.digest().toString('base64')).toBe(checksumBase64(algorithm, Buffer.concat(pieces)));
  });

  it('maps header names to algorithms and back', () => {
    expect(checksumHeaderName('CRC32C')).toBe('x-amz-checksum-crc32c');
    expect(algorithmOfHeader('X-Amz-Checksum-Crc64nvme')).toBe('CRC64NVME');
    expect(algorithmOfHeader('x-amz-checksum-mode')).toBeUndefined();
  });
});
