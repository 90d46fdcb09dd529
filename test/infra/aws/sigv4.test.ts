import { describe, expect, it } from 'vitest';
import {
  canonicalQueryString,
  canonicalUri,
  chunkStringToSign,
  deriveSigningKey,
  parseAmzDate,
  parseQuery,
  type SigV4Request,
  type SigV4VerifyOptions,
  sha256Hex,
  signHex,
  uriEncode,
  verifySigV4,
} from '../../../infra/local/aws/sigv4';

// The examples from AWS's "Signature Calculations for the Authorization Header" and "Query String Authentication"
// pages for S3 (examplebucket, 2013-05-24), and the get-vanilla case of the SigV4 test suite.
const EXAMPLE_KEY = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const S3_OPTIONS: SigV4VerifyOptions = {
  service: 's3',
  region: 'us-east-1',
  credentials: [EXAMPLE_KEY],
  now: Date.UTC(2013, 4, 24, 0, 5, 0),
  escapePath: false,
};

function authorization(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
}

function getObjectExample(
  signature = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
): SigV4Request {
  return {
    method: 'GET',
    rawPath: '/test.txt',
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

function presignedExample(overrides: Record<string, string> = {}): SigV4Request {
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
    rawPath: '/test.txt',
    query: Object.entries(params),
    rawHeaders: ['Host', 'examplebucket.s3.amazonaws.com'],
  };
}

describe('verifySigV4 against AWS documented examples', () => {
  it('accepts the S3 GetObject example with a Range header', () => {
    const result = verifySigV4(getObjectExample(), S3_OPTIONS);

    expect(result.ok).toBe(true);
  });

  it('accepts the S3 PutObject example whose key needs escaping ($ as %24)', () => {
    const request: SigV4Request = {
      method: 'PUT',
      rawPath: '/test%24file.text',
      query: [],
      rawHeaders: [
        'Host',
        'examplebucket.s3.amazonaws.com',
        'Date',
        'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-date',
        '20130524T000000Z',
        'x-amz-storage-class',
        'REDUCED_REDUNDANCY',
        'x-amz-content-sha256',
        sha256Hex('Welcome to Amazon S3.'),
        'Authorization',
        authorization(
          'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
          '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
        ),
      ],
    };

    expect(verifySigV4(request, S3_OPTIONS).ok).toBe(true);
  });

  it('accepts the ListObjects example, sorting query parameters', () => {
    const request: SigV4Request = {
      method: 'GET',
      rawPath: '/',
      query: [
        ['prefix', 'J'],
        ['max-keys', '2'],
      ],
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

    expect(verifySigV4(request, S3_OPTIONS).ok).toBe(true);
  });

  it('accepts the presigned URL example within its lifetime', () => {
    expect(verifySigV4(presignedExample(), S3_OPTIONS).ok).toBe(true);
  });

  it('accepts the SigV4 test suite get-vanilla request, and its ../.. twin after path normalisation', () => {
    const options: SigV4VerifyOptions = {
      service: 'service',
      region: 'us-east-1',
      credentials: [
        { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      ],
      now: Date.UTC(2015, 7, 30, 12, 36, 0),
      escapePath: true,
      payloadHash: EMPTY,
    };
    const request = (rawPath: string): SigV4Request => ({
      method: 'GET',
      rawPath,
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

    expect(verifySigV4(request('/'), options).ok).toBe(true);
    expect(verifySigV4(request('/example1/example2/../..'), options).ok).toBe(true);
  });

  it('chains the streaming example chunk signatures from the seed signature', () => {
    const key = deriveSigningKey(EXAMPLE_KEY.secretAccessKey, '20130524', 'us-east-1', 's3');
    const scope = '20130524/us-east-1/s3/aws4_request';
    const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';

    const first = signHex(
      key,
      chunkStringToSign('20130524T000000Z', scope, seed, sha256Hex(Buffer.alloc(65536, 'a'))),
    );
    const second = signHex(
      key,
      chunkStringToSign('20130524T000000Z', scope, first, sha256Hex(Buffer.alloc(1024, 'a'))),
    );
    const last = signHex(key, chunkStringToSign('20130524T000000Z', scope, second, sha256Hex('')));

    expect([first, second, last]).toEqual([
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ]);
  });
});

describe('verifySigV4 failures', () => {
  it('refuses a signature that differs in one character, and says what it signed', () => {
    const result = verifySigV4(
      getObjectExample('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb42'),
      S3_OPTIONS,
    );

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.reason).toBe('mismatch');
    expect(result.failure.details.CanonicalRequest).toContain('/test.txt');
    expect(JSON.stringify(result.failure)).not.toContain(EXAMPLE_KEY.secretAccessKey);
  });

  it('refuses the right signature over a changed path', () => {
    const request = { ...getObjectExample(), rawPath: '/test2.txt' };

    const result = verifySigV4(request, S3_OPTIONS);

    expect(result.ok ? 'ok' : result.failure.reason).toBe('mismatch');
  });

  it('refuses an unknown access key', () => {
    const result = verifySigV4(getObjectExample(), {
      ...S3_OPTIONS,
      credentials: [{ ...EXAMPLE_KEY, accessKeyId: 'OTHER' }],
    });

    expect(result.ok ? 'ok' : result.failure.reason).toBe('unknown-key');
  });

  it('refuses a header-signed request more than 15 minutes from the server clock', () => {
    const result = verifySigV4(getObjectExample(), { ...S3_OPTIONS, now: Date.UTC(2013, 4, 24, 0, 15, 1) });

    expect(result.ok ? 'ok' : result.failure.reason).toBe('skewed');
  });

  it('refuses a presigned URL one second after X-Amz-Date + X-Amz-Expires', () => {
    const result = verifySigV4(presignedExample(), { ...S3_OPTIONS, now: Date.UTC(2013, 4, 25, 0, 0, 1) });

    expect(result.ok ? 'ok' : result.failure).toMatchObject({
      reason: 'expired',
      message: 'Request has expired',
    });
  });

  it('refuses a presigned URL whose expiry was edited (the signature covers it)', () => {
    const result = verifySigV4(presignedExample({ 'X-Amz-Expires': '604800' }), S3_OPTIONS);

    expect(result.ok ? 'ok' : result.failure.reason).toBe('mismatch');
  });

  it('refuses a presigned URL valid for more than a week', () => {
    const result = verifySigV4(presignedExample({ 'X-Amz-Expires': '604801' }), S3_OPTIONS);

    expect(result.ok ? 'ok' : result.failure.reason).toBe('malformed');
  });

  it('refuses a credential scoped to another region', () => {
    const result = verifySigV4(getObjectExample(), { ...S3_OPTIONS, region: 'eu-west-1' });

    expect(result.ok ? 'ok' : result.failure.reason).toBe('wrong-region');
  });

  it('refuses an x-amz-* header that was not signed', () => {
    const request = getObjectExample();
    const withExtra = { ...request, rawHeaders: [...request.rawHeaders, 'x-amz-meta-extra', 'sneaky'] };

    const result = verifySigV4(withExtra, S3_OPTIONS);

    expect(result.ok ? 'ok' : result.failure.reason).toBe('unsigned-headers');
  });

  it('reports a request without credentials as missing', () => {
    const result = verifySigV4(
      { method: 'GET', rawPath: '/', query: [], rawHeaders: ['Host', 'x'] },
      S3_OPTIONS,
    );

    expect(result.ok ? 'ok' : result.failure.reason).toBe('missing');
  });
});

describe('canonicalisation helpers', () => {
  it('encodes everything but RFC 3986 unreserved characters', () => {
    expect(uriEncode("a b/c~d_e.f-g!'()*ä")).toBe('a%20b%2Fc~d_e.f-g%21%27%28%29%2A%C3%A4');
  });

  it('sorts by encoded name then value and leaves out X-Amz-Signature', () => {
    const pairs = parseQuery('b=2&a=z&a=y&uploads&X-Amz-Signature=abc&c=%20');

    expect(canonicalQueryString(pairs)).toBe('a=y&a=z&b=2&c=%20&uploads=');
  });

  it('signs S3 paths as sent and encodes other services’ paths a second time', () => {
    expect(canonicalUri('/bucket/a%20b', false)).toBe('/bucket/a%20b');
    expect(canonicalUri('/a%20b/./c/', true)).toBe('/a%2520b/c/');
  });

  it('parses X-Amz-Date and rejects impossible dates', () => {
    expect(parseAmzDate('20130524T000000Z')).toBe(Date.UTC(2013, 4, 24));
    expect(parseAmzDate('20130230T000000Z')).toBeNaN();
    expect(parseAmzDate('2013-05-24')).toBeNaN();
  });
});
