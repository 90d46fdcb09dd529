import { describe, expect, it } from 'vitest';
import {
  basicAuthorization,
  createDigestAuthenticator,
  createServiceAccountAuthenticator,
  createTokenCache,
} from '../../lib/atlas/auth';
import { DeadlineError } from '../../lib/errors';

const challenge = (nonce: string, stale = false) => ({
  'www-authenticate': `Digest realm="MMS Public API", domain="", nonce="${nonce}", algorithm=MD5, qop="auth", stale=${stale}`,
});

describe('createTokenCache', () => {
  it('shares one in-flight exchange between concurrent callers', async () => {
    let exchanges = 0;
    let release: (value: { token: string; expiresInSeconds: number }) => void = () => {};
    const cache = createTokenCache({
      fetchToken: () => {
        exchanges += 1;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    });

    const waiting = Promise.all([cache.get(), cache.get(), cache.get()]);
    release({ token: 't1', expiresInSeconds: 3600 });

    expect(await waiting).toEqual(['t1', 't1', 't1']);
    expect(exchanges).toBe(1);
  });

  it('reuses the token until 60 seconds before it expires, then exchanges again', async () => {
    let now = 1_000_000;
    let exchanges = 0;
    const cache = createTokenCache({
      now: () => now,
      fetchToken: async () => ({ token: `t${++exchanges}`, expiresInSeconds: 3600 }),
    });

    expect(await cache.get()).toBe('t1');
    now += 3_539_000;
    expect(await cache.get()).toBe('t1');
    now += 2_000;
    expect(await cache.get()).toBe('t2');
  });

  it('drops a refused token only when it is still the cached one', async () => {
    let exchanges = 0;
    const cache = createTokenCache({
      fetchToken: async () => ({ token: `t${++exchanges}`, expiresInSeconds: 3600 }),
    });

    await cache.get();
    cache.invalidate('someone-else');
    expect(await cache.get()).toBe('t1');
    cache.invalidate('t1');
    expect(await cache.get()).toBe('t2');
  });

  it('lets a caller give up at its deadline while the shared exchange continues for the others', async () => {
    let release: (value: { token: string; expiresInSeconds: number }) => void = () => {};
    const cache = createTokenCache({
      fetchToken: () =>
        new Promise((resolve) => {
          release = resolve;
        }),
    });
    const controller = new AbortController();

    const impatient = cache.get(controller.signal);
    const patient = cache.get();
    controller.abort();
    release({ token: 't1', expiresInSeconds: 3600 });

    await expect(impatient).rejects.toThrow(DeadlineError);
    expect(await patient).toBe('t1');
  });

  it('does not cache a failed exchange', async () => {
    let calls = 0;
    const cache = createTokenCache({
      fetchToken: async () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return { token: 't2', expiresInSeconds: 3600 };
      },
    });

    await expect(cache.get()).rejects.toThrow('boom');
    expect(await cache.get()).toBe('t2');
  });
});

describe('createServiceAccountAuthenticator', () => {
  it('answers a 401 once with a fresh token, then gives up', async () => {
    let exchanges = 0;
    const cache = createTokenCache({
      fetchToken: async () => ({ token: `t${++exchanges}`, expiresInSeconds: 3600 }),
    });
    const auth = createServiceAccountAuthenticator(
      { kind: 'service-account', clientId: 'id', clientSecret: 's3cr3t!' },
      cache,
    );
    const session = auth.begin();

    expect(await session.authorize('GET', '/x', undefined)).toBe('Bearer t1');
    expect(session.unauthorized({})).toBe(true);
    expect(await session.authorize('GET', '/x', undefined)).toBe('Bearer t2');
    expect(session.unauthorized({})).toBe(false);
    expect(auth.secrets()).toEqual(['s3cr3t!', 't2']);
  });

  it('builds Basic from the raw strings without URL-encoding', () => {
    expect(basicAuthorization('mdb_sa_id_1', 'a:b/c+d')).toBe(
      `Basic ${Buffer.from('mdb_sa_id_1:a:b/c+d').toString('base64')}`,
    );
  });
});

describe('createDigestAuthenticator', () => {
  const key = { kind: 'api-key', publicKey: 'pub', privateKey: 'private-key' } as const;

  it('sends the first request without credentials and answers the challenge once', async () => {
    const auth = createDigestAuthenticator(key);
    const session = auth.begin();

    expect(await session.authorize('GET', '/a', undefined)).toBeUndefined();
    expect(session.unauthorized(challenge('n1'))).toBe(true);
    expect(await session.authorize('GET', '/a', undefined)).toMatch(/nonce="n1".*nc=00000001/);
    expect(session.unauthorized(challenge('n2'))).toBe(false);
  });

  it('reuses the nonce with an incrementing count across calls', async () => {
    const auth = createDigestAuthenticator(key);
    const first = auth.begin();
    await first.authorize('GET', '/a', undefined);
    first.unauthorized(challenge('n1'));
    await first.authorize('GET', '/a', undefined);

    const second = await auth.begin().authorize('GET', '/b', undefined);
    const third = await auth.begin().authorize('GET', '/c', undefined);

    expect(second).toMatch(/nonce="n1".*nc=00000002/);
    expect(third).toMatch(/nonce="n1".*nc=00000003/);
  });

  it('re-answers a refused cached nonce and a stale one without calling it a credentials failure', async () => {
    const auth = createDigestAuthenticator(key);
    const warmUp = auth.begin();
    await warmUp.authorize('GET', '/a', undefined);
    warmUp.unauthorized(challenge('n1'));

    const session = auth.begin();
    await session.authorize('GET', '/a', undefined);
    expect(session.unauthorized(challenge('n2'))).toBe(true);
    await session.authorize('GET', '/a', undefined);
    expect(session.unauthorized(challenge('n3', true))).toBe(true);
    await session.authorize('GET', '/a', undefined);
    expect(session.unauthorized(challenge('n4'))).toBe(false);
  });

  it('never lists anything but the private key as its secret', () => {
    expect(createDigestAuthenticator(key).secrets()).toEqual(['private-key']);
  });
});
