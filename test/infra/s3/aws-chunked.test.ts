import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { checksumBase64 } from '../../../infra/local/aws/checksums';
import { deriveSigningKey } from '../../../infra/local/aws/sigv4';
import { AwsChunkedDecoder, type AwsChunkedOptions } from '../../../infra/local/s3/aws-chunked';

// AWS's "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks" example:
// 65,536 + 1,024 bytes of 'a' in two signed chunks and a signed empty chunk, 66,824 bytes on the wire.
const SIGNING: NonNullable<AwsChunkedOptions['signing']> = {
  signingKey: deriveSigningKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1', 's3'),
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  signedTrailer: false,
};

function awsExampleBody(): Buffer {
  return Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from(
      '\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n',
    ),
    Buffer.alloc(1024, 'a'),
    Buffer.from(
      '\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
    ),
  ]);
}

/** Feed `body` in pieces of `pieceSize` bytes; resolve with the decoded bytes and the decoder. */
async function decode(body: Buffer, options: AwsChunkedOptions, pieceSize = 1000) {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += pieceSize) pieces.push(body.subarray(i, i + pieceSize));
  const decoder = new AwsChunkedDecoder(options);
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

describe('AwsChunkedDecoder', () => {
  it('decodes and verifies AWS’s signed streaming example', async () => {
    const body = awsExampleBody();

    const { bytes } = await decode(body, { signing: SIGNING });

    expect(body.length).toBe(66824);
    expect(bytes.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  it('decodes the same bytes when they arrive one at a time', async () => {
    const { bytes } = await decode(awsExampleBody(), { signing: SIGNING }, 1);

    expect(bytes.length).toBe(66560);
  });

  it('refuses a body whose data was changed after signing', async () => {
    const body = awsExampleBody();
    body[200] = 'b'.charCodeAt(0);

    await expect(decode(body, { signing: SIGNING })).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('refuses chunks signed with another seed', async () => {
    const signing = { ...SIGNING, seedSignature: SIGNING.seedSignature.replace(/^4/, '5') };

    await expect(decode(awsExampleBody(), { signing })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  it('collects the trailing checksum of an unsigned-trailer body as the SDK sends it', async () => {
    const data = Buffer.alloc(9000, 7);
    const checksum = checksumBase64('CRC32', Buffer.concat([data, Buffer.from('hello')]));
    const body = Buffer.from(
      `2328\r\n${data.toString('latin1')}\r\n5\r\nhello\r\n0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`,
      'latin1',
    );

    const { bytes, decoder } = await decode(body, {});

    expect(bytes.length).toBe(9005);
    expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe(checksum);
  });

  it('refuses a non-final chunk shorter than 8 KiB, as S3 does', async () => {
    const body = Buffer.from('5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n');

    await expect(decode(body, {})).rejects.toMatchObject({ code: 'InvalidChunkSizeError' });
  });

  it('accepts short chunks when the minimum is switched off', async () => {
    const { bytes } = await decode(Buffer.from('5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n'), { minChunkSize: 0 });

    expect(bytes.toString()).toBe('helloworld');
  });

  it('refuses a body that ends before its last chunk', async () => {
    await expect(decode(Buffer.from('a\r\nhello'), {})).rejects.toMatchObject({ code: 'IncompleteBody' });
  });

  it('refuses a chunk longer than its declared size', async () => {
    await expect(decode(Buffer.from('3\r\nhello\r\n0\r\n\r\n'), {})).rejects.toMatchObject({
      code: 'IncompleteBody',
    });
  });
});
