import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AtlasSandbox, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import type { AtlasClientOptions } from '../../lib/atlas/client';
import { AtlasApiError, DeadlineError } from '../../lib/errors';
import { recordingLogger } from '../support/fakes';
import { apiKey, serviceAccount, useAtlasClients } from './support';

let sandbox: AtlasSandbox;
let orgId: string;

beforeEach(async () => {
  sandbox = await startAtlasSandbox({ orgs: [{ name: 'Org', invoices: 3 }] });
  orgId = sandbox.orgIds()[0] ?? '';
});

afterEach(async () => {
  await sandbox.close();
});

const atlasClient = useAtlasClients(() => sandbox);
const client = (options: Partial<AtlasClientOptions> = {}) =>
  atlasClient({ credentials: apiKey(), ...options });

/** Warm the digest nonce so later request counts only show the calls under test. */
async function warm(atlas: ReturnType<typeof client>) {
  await atlas.getPendingInvoices(orgId);
  sandbox.resetRequests();
}

const LIST = /\/invoices$/;

describe('rate limiting (429)', () => {
  it('waits at least Retry-After, then succeeds', async () => {
    const log = recordingLogger();
    const { records } = log;
    const atlas = client({ log });
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, status: 429, retryAfterSeconds: 1 });

    const invoices = await atlas.listInvoices(orgId);

    expect(invoices).toHaveLength(3);
    expect(sandbox.requests.map((r) => r.status)).toEqual([429, 200]);
    const retry = records.find((r) => r.message === 'atlas call retrying');
    expect(retry).toMatchObject({ status: 429, errorCode: 'RATE_LIMITED', attempt: 1 });
    expect(retry?.waitMs).toBeGreaterThanOrEqual(1000);
  });

  it("answers the sandbox's own token bucket the same way", async () => {
    const log = recordingLogger();
    const { records } = log;
    const atlas = client({ log });
    await warm(atlas);
    sandbox.setRateLimitTokens(orgId, 0);

    await atlas.getPendingInvoices(orgId);

    expect(sandbox.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(records.find((r) => r.message === 'atlas call retrying')?.waitMs).toBeGreaterThanOrEqual(1000);
  });

  it('fails with the 429 at once when Retry-After is longer than it will wait', async () => {
    const atlas = client({ maxRetryAfterMs: 5_000 });
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, status: 429, retryAfterSeconds: 3600 });

    const error = await atlas.listInvoices(orgId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ status: 429, errorCode: 'RATE_LIMITED' });
    expect((error as Error).message).toContain(`rate limit reached for organisation ${orgId}`);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('reports a rate limit that outlasts the retries', async () => {
    const atlas = client();
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, status: 429, times: Infinity, retryAfterSeconds: 0 });

    const error = await atlas.listInvoices(orgId).catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 429 });
    expect((error as Error).message).toContain('after 3 attempts');
    expect(sandbox.requests).toHaveLength(3);
  });
});

describe('server errors and network failures', () => {
  it('retries a 500 and succeeds', async () => {
    const atlas = client();
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, status: 500 });

    expect(await atlas.listInvoices(orgId)).toHaveLength(3);
    expect(sandbox.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('gives up after the configured number of attempts on a persistent 500', async () => {
    const atlas = client({ retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } });
    await warm(atlas);
    sandbox.injectFault({
      match: { path: LIST },
      status: 500,
      times: Infinity,
      errorCode: 'UNEXPECTED_ERROR',
    });

    const error = await atlas.listInvoices(orgId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ status: 500, errorCode: 'UNEXPECTED_ERROR', method: 'GET' });
    expect((error as Error).message).toContain('after 4 attempts');
    expect(sandbox.requests).toHaveLength(4);
  });

  it('does not retry a 404', async () => {
    const atlas = client();
    await warm(atlas);

    await expect(atlas.getInvoice(orgId, 'eeeeeeeeeeeeeeeeeeeeeeee')).rejects.toThrow(AtlasApiError);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('retries a reset connection', async () => {
    const atlas = client();
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, resetConnection: true });

    expect(await atlas.listInvoices(orgId)).toHaveLength(3);
    expect(sandbox.requests).toHaveLength(2);
  });

  it('times out on a server that never answers, a bounded number of times', async () => {
    const atlas = client({
      timeouts: { headersMs: 150 },
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, hang: true, times: Infinity });

    const error = await atlas.listInvoices(orgId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ errorCode: 'UND_ERR_HEADERS_TIMEOUT', status: undefined });
    expect((error as Error).message).toContain('no response headers in time');
    expect(sandbox.requests).toHaveLength(2);
  });

  it('tolerates a non-JSON error body and keeps only a short piece of it', async () => {
    const atlas = client({ retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    await warm(atlas);
    const html = `<html><body>${'Bad gateway '.repeat(200)}</body></html>`;
    sandbox.injectFault({ match: { path: LIST }, status: 502, body: html });

    const error = await atlas.listInvoices(orgId).catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 502, errorCode: undefined });
    expect((error as AtlasApiError).detail?.length).toBeLessThanOrEqual(300);
    expect((error as Error).message.length).toBeLessThan(600);
  });
});

describe('deadlines', () => {
  it('stops waiting for a retry when the signal aborts, with a DeadlineError carrying the last error', async () => {
    const atlas = client();
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, status: 503, retryAfterSeconds: 60 });

    const error = await atlas
      .listInvoices(orgId, { signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).cause).toBeInstanceOf(AtlasApiError);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('fails at once with the last error when the next wait would pass the deadline', async () => {
    const atlas = client();
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, status: 429, retryAfterSeconds: 30 });
    const controller = new AbortController();

    const error = await atlas
      .listInvoices(orgId, { signal: controller.signal, deadline: { remaining: () => 5_000 } })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ status: 429 });
    expect(controller.signal.aborted).toBe(false);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('aborts a request in flight with a DeadlineError', async () => {
    const atlas = client();
    await warm(atlas);
    sandbox.injectFault({ match: { path: LIST }, hang: true });

    await expect(atlas.listInvoices(orgId, { signal: AbortSignal.timeout(100) })).rejects.toThrow(
      DeadlineError,
    );
  });

  it('refuses to start when the signal has already aborted', async () => {
    const atlas = client({ credentials: serviceAccount() });

    await expect(atlas.getPendingInvoices(orgId, { signal: AbortSignal.abort() })).rejects.toThrow(
      DeadlineError,
    );
    expect(sandbox.requests).toHaveLength(0);
  });

  it('retries the token exchange itself after a 500', async () => {
    const atlas = client({ credentials: serviceAccount() });
    sandbox.injectFault({ match: { path: '/api/oauth/token' }, status: 500 });

    expect(await atlas.getPendingInvoices(orgId)).toHaveLength(1);
    expect(sandbox.requests.map((r) => [r.path.endsWith('/token'), r.status])).toEqual([
      [true, 500],
      [true, 200],
      [false, 200],
    ]);
  });
});
