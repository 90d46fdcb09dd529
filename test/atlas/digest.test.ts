import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseAuthParams, parseDigestChallenge } from '../../lib/atlas/digest';

const ATLAS_CHALLENGE =
  'Digest realm="MMS Public API", domain="", nonce="X/h1jUTdGbbuA3Qx4d/5/1fIM66bXAUl", algorithm=MD5, qop="auth", stale=false';

// RFC 7616 section 3.9.1: the worked example for MD5 and SHA-256.
const RFC_CHALLENGE = {
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  qop: ['auth', 'auth-int'],
  stale: false,
} as const;
const RFC_ANSWER = {
  username: 'Mufasa',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  nc: 1,
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

function responseOf(header: string): string | undefined {
  return parseAuthParams(header.replace(/^Digest /, '')).get('response');
}

describe('parseDigestChallenge', () => {
  it('reads the challenge exactly as Atlas sends it', () => {
    expect(parseDigestChallenge(ATLAS_CHALLENGE)).toEqual({
      realm: 'MMS Public API',
      nonce: 'X/h1jUTdGbbuA3Qx4d/5/1fIM66bXAUl',
      opaque: undefined,
      algorithm: 'MD5',
      qop: ['auth'],
      stale: false,
    });
  });

  it('reads stale=true, SHA-256 and a Digest challenge among several headers', () => {
    const challenge = parseDigestChallenge([
      'Bearer realm="x"',
      'Digest realm="MMS Public API", nonce="n\\"1", algorithm=SHA-256, qop="auth", stale=true',
    ]);
    expect(challenge).toMatchObject({ nonce: 'n"1', algorithm: 'SHA-256', stale: true });
  });

  it('returns undefined without a Digest challenge or for an algorithm it cannot answer', () => {
    expect(parseDigestChallenge(undefined)).toBeUndefined();
    expect(parseDigestChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="x", nonce="y", algorithm=SHA-512-256')).toBeUndefined();
  });
});

describe('digestAuthorization', () => {
  it('matches the MD5 example of RFC 7616', () => {
    const header = digestAuthorization({ ...RFC_ANSWER, challenge: { ...RFC_CHALLENGE, algorithm: 'MD5' } });
    expect(responseOf(header)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('matches the SHA-256 example of RFC 7616', () => {
    const header = digestAuthorization({
      ...RFC_ANSWER,
      challenge: { ...RFC_CHALLENGE, algorithm: 'SHA-256' },
    });
    expect(responseOf(header)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('sends qop=auth, an 8-digit hex nonce count, the cnonce and the opaque value', () => {
    const header = digestAuthorization({
      ...RFC_ANSWER,
      nc: 26,
      challenge: { ...RFC_CHALLENGE, algorithm: 'MD5' },
    });
    const params = parseAuthParams(header.replace(/^Digest /, ''));
    expect(params.get('qop')).toBe('auth');
    expect(params.get('nc')).toBe('0000001a');
    expect(params.get('cnonce')).toBe(RFC_ANSWER.cnonce);
    expect(params.get('opaque')).toBe(RFC_CHALLENGE.opaque);
    expect(params.get('uri')).toBe('/dir/index.html');
    expect(header).not.toContain('Circle of Life');
  });
});
