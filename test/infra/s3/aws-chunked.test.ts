import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder } from '../../../infra/local/s3/body';

/** Feed `body` in pieces of `pieceSize` bytes; resolve with the decoded bytes and the decoder. */
async function decode(body: Buffer, pieceSize = 1000) {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += pieceSize) pieces.push(body.subarray(i, i + pieceSize));
  const decoder = new AwsChunkedDecoder();
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    decoder,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return { bytes: Buffer.concat(out), decoder };
}

// As the SDK sends a stream with a trailing checksum: a full chunk, a short last chunk, the empty chunk, a trailer.
const DATA = Buffer.alloc(9000, 7);
const TRAILER = 'x-amz-checksum-crc32:AAAAAA==';
const BODY = Buffer.from(
  `2328\r\n${DATA.toString('latin1')}\r\n5;ext=1\r\nhello\r\n0\r\n${TRAILER}\r\n\r\n`,
  'latin1',
);

describe('AwsChunkedDecoder', () => {
  it('emits only the payload and collects the trailing checksum', async () => {
    const { bytes, decoder } = await decode(BODY);

    expect(bytes.equals(Buffer.concat([DATA, Buffer.from('hello')]))).toBe(true);
    expect([...decoder.trailers]).toEqual([['x-amz-checksum-crc32', 'AAAAAA==']]);
  });

  it('decodes the same bytes when they arrive one at a time', async () => {
    const { bytes, decoder } = await decode(BODY, 1);

    expect(bytes.length).toBe(9005);
    expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
  });

  it('refuses a non-final chunk shorter than 8 KiB, as S3 does', async () => {
    await expect(decode(Buffer.from('5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n'))).rejects.toMatchObject({
      code: 'InvalidChunkSizeError',
    });
  });

  it('refuses a body that ends before its last chunk', async () => {
    await expect(decode(Buffer.from('a\r\nhello'))).rejects.toMatchObject({ code: 'IncompleteBody' });
  });

  it('refuses a chunk longer than its declared size', async () => {
    await expect(decode(Buffer.from('3\r\nhello\r\n0\r\n\r\n'))).rejects.toMatchObject({
      code: 'IncompleteBody',
    });
  });

  it('refuses bytes after the final chunk and a malformed size line', async () => {
    await expect(decode(Buffer.from('0\r\n\r\nextra'))).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(decode(Buffer.from('zz\r\nhello\r\n0\r\n\r\n'))).rejects.toMatchObject({
      code: 'InvalidRequest',
    });
  });
});
