import { Sha256 } from '@aws-sdk/checksums/sha';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  parseQuery,
  type ReceivedRequest,
  type SigV4Options,
  verifySigV4,
} from '../../../infra/local/aws/sigv4';

// The examples from AWS's "Signature Calculations for the Authorization Header" and "Query String Authentication"
// pages for S3 (examplebucket, 2013-05-24), and the get-vanilla case of the SigV4 test suite: signatures computed by
// AWS, not by the signer the verifier uses.
const EXAMPLE_KEY = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const S3_OPTIONS: SigV4Options = {
  service: 's3',
  region: 'us-east-1',
  credentials: [EXAMPLE_KEY],
  now: Date.UTC(2013, 4, 24, 0, 5, 0),
  uriEscapePath: false,
};

function authorization(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
}

function getObjectExample(
  signature = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
): ReceivedRequest {
  return {
    method: 'GET',
    path: '/test.txt',
    query: [],
    rawHeaders: [
      'Host',
      'examplebucket.s3.amazonaws.com',
      'Range',
      'bytes=0-9',
      'x-amz-content-sha256',
      EMPTY,
      'x-amz-date',
      '20130524T000000Z',
      'Authorization',
      authorization('host;range;x-amz-content-sha256;x-amz-date', signature),
    ],
  };
}

function presignedExample(overrides: Record<string, string> = {}): ReceivedRequest {
  const params: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
    'X-Amz-Date': '20130524T000000Z',
    'X-Amz-Expires': '86400',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    ...overrides,
  };
  return {
    method: 'GET',
    path: '/test.txt',
    query: Object.entries(params),
    rawHeaders: ['Host', 'examplebucket.s3.amazonaws.com'],
  };
}

const outcome = async (request: ReceivedRequest, options: SigV4Options = S3_OPTIONS) => {
  const result = await verifySigV4(request, options);
  return result.ok ? result.kind : result.failure;
};

describe('verifySigV4 against AWS documented examples', () => {
  it('accepts the S3 GetObject example with a Range header', async () => {
    expect(await outcome(getObjectExample())).toBe('header');
  });

  it('accepts the ListObjects example, sorting query parameters', async () => {
    const request: ReceivedRequest = {
      method: 'GET',
      path: '/',
      query: parseQuery('prefix=J&max-keys=2'),
      rawHeaders: [
        'Host',
        'examplebucket.s3.amazonaws.com',
        'x-amz-date',
        '20130524T000000Z',
        'x-amz-content-sha256',
        EMPTY,
        'Authorization',
        authorization(
          'host;x-amz-content-sha256;x-amz-date',
          '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
        ),
      ],
    };

    expect(await outcome(request)).toBe('header');
  });

  it('accepts the presigned URL example within its lifetime', async () => {
    expect(await outcome(presignedExample())).toBe('query');
  });

  it('accepts the SigV4 test suite get-vanilla request, and its ../.. twin after path normalisation', async () => {
    const options: SigV4Options = {
      service: 'service',
      region: 'us-east-1',
      credentials: [
        { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      ],
      now: Date.UTC(2015, 7, 30, 12, 36, 0),
      uriEscapePath: true,
    };
    const request = (path: string): ReceivedRequest => ({
      method: 'GET',
      path,
      query: [],
      rawHeaders: [
        'Host',
        'example.amazonaws.com',
        'X-Amz-Date',
        '20150830T123600Z',
        'Authorization',
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      ],
    });

    expect(await outcome(request('/'), options)).toBe('header');
    expect(await outcome(request('/example1/example2/../..'), options)).toBe('header');
  });
});

describe('verifySigV4 failures', () => {
  it('refuses a signature that differs in one character', async () => {
    const result = await verifySigV4(
      getObjectExample('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb42'),
      S3_OPTIONS,
    );

    expect(result).toMatchObject({ ok: false, failure: 'mismatch' });
    expect(JSON.stringify(result)).not.toContain(EXAMPLE_KEY.secretAccessKey);
  });

  it('refuses the right signature over a changed path, or signed with another secret key', async () => {
    const otherSecret = { ...S3_OPTIONS, credentials: [{ ...EXAMPLE_KEY, secretAccessKey: 'other' }] };

    expect(await outcome({ ...getObjectExample(), path: '/test2.txt' })).toBe('mismatch');
    expect(await outcome(getObjectExample(), otherSecret)).toBe('mismatch');
  });

  it('refuses an unknown access key', async () => {
    const options = { ...S3_OPTIONS, credentials: [{ ...EXAMPLE_KEY, accessKeyId: 'OTHER' }] };

    expect(await outcome(getObjectExample(), options)).toBe('unknown-key');
  });

  it('refuses a header-signed request more than 15 minutes from the server clock', async () => {
    expect(await outcome(getObjectExample(), { ...S3_OPTIONS, now: Date.UTC(2013, 4, 24, 0, 15, 1) })).toBe(
      'skewed',
    );
  });

  it('refuses a presigned URL one second after X-Amz-Date + X-Amz-Expires', async () => {
    const result = await verifySigV4(presignedExample(), {
      ...S3_OPTIONS,
      now: Date.UTC(2013, 4, 25, 0, 0, 1),
    });

    expect(result).toEqual({ ok: false, failure: 'expired', message: 'Request has expired' });
  });

  it('refuses a presigned URL whose expiry or query was edited (the signature covers them)', async () => {
    const added = presignedExample();
    const withParam = { ...added, query: [...added.query, ['response-content-type', 'text/html'] as const] };

    expect(await outcome(presignedExample({ 'X-Amz-Expires': '604800' }))).toBe('mismatch');
    expect(await outcome(withParam)).toBe('mismatch');
  });

  it('refuses a presigned URL valid for more than a week, and a request without credentials', async () => {
    expect(await outcome(presignedExample({ 'X-Amz-Expires': '604801' }))).toBe('malformed');
    expect(await outcome({ method: 'GET', path: '/', query: [], rawHeaders: ['Host', 'x'] })).toBe('missing');
  });
});

describe('verifySigV4 for a JSON service (body covered by x-amz-content-sha256)', () => {
  const KEY = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };
  const OPTIONS: SigV4Options = {
    service: 'secretsmanager',
    region: 'us-east-1',
    credentials: [KEY],
    now: Date.UTC(2024, 0, 1, 12),
    uriEscapePath: true,
  };

  async function signedPost(body: string): Promise<ReceivedRequest> {
    const signer = new SignatureV4({
      service: 'secretsmanager',
      region: 'us-east-1',
      credentials: KEY,
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/',
        headers: { host: '127.0.0.1:4000', 'x-amz-target': 'secretsmanager.GetSecretValue' },
        body,
      },
      { signingDate: new Date(OPTIONS.now) },
    );
    return {
      method: 'POST',
      path: '/',
      query: [],
      rawHeaders: Object.entries(signed.headers).flat(),
      body: Buffer.from(body),
    };
  }

  it('accepts what the SDK signer signed, and refuses the same signature over a changed body', async () => {
    const request = await signedPost('{"SecretId":"a"}');

    expect(await outcome(request, OPTIONS)).toBe('header');
    expect(await outcome({ ...request, body: Buffer.from('{"SecretId":"b"}') }, OPTIONS)).toBe('mismatch');
  });
});
