import { describe, expect, it } from 'vitest';
import { cleanDetail, createScrubber, httpFailure, parseErrorBody } from '../../lib/atlas/api-errors';
import { retryWait } from '../../lib/atlas/request';

describe('retryWait', () => {
  it('prefers Retry-After in seconds or as an HTTP date', () => {
    expect(retryWait({ 'retry-after': '2', 'ratelimit-reset': '9' })).toBe(2000);
    expect(
      retryWait({ 'retry-after': 'Thu, 01 Jan 2037 00:00:10 GMT' }, Date.parse('2037-01-01T00:00:00Z')),
    ).toBe(10_000);
  });

  it('falls back to RateLimit-Reset, also inside a combined RateLimit header', () => {
    expect(retryWait({ 'ratelimit-reset': '3' })).toBe(3000);
    expect(retryWait({ ratelimit: 'limit=100, remaining=0, reset=4' })).toBe(4000);
  });

  it('waits for one token of the refill when only RateLimit-Remaining says the bucket is empty', () => {
    expect(retryWait({ 'ratelimit-limit': '100', 'ratelimit-remaining': '0' })).toBe(1000);
  });

  it('leaves the wait to plain backoff when no header says anything', () => {
    expect(retryWait({})).toBeUndefined();
    expect(retryWait({ 'ratelimit-remaining': '12', 'retry-after': 'soon' })).toBeUndefined();
  });
});

describe('parseErrorBody', () => {
  it("reads Atlas's error JSON", () => {
    expect(
      parseErrorBody(
        '{"detail":"No organization.","error":404,"errorCode":"ORG_NOT_FOUND","reason":"Not Found"}',
      ),
    ).toEqual({ errorCode: 'ORG_NOT_FOUND', detail: 'No organization.' });
  });

  it("reads OAuth's error JSON", () => {
    expect(parseErrorBody('{"error":"invalid_client","error_description":"Bad client."}')).toEqual({
      errorCode: 'invalid_client',
      detail: 'Bad client.',
    });
  });

  it('tolerates bodies that are not JSON or not objects', () => {
    expect(parseErrorBody('<html>502 Bad Gateway</html>')).toEqual({
      errorCode: undefined,
      detail: '<html>502 Bad Gateway</html>',
    });
    expect(parseErrorBody('')).toEqual({ errorCode: undefined, detail: undefined });
    expect(parseErrorBody('[1,2]')).toEqual({ errorCode: undefined, detail: undefined });
  });
});

describe('cleanDetail', () => {
  it('removes secrets and control characters and keeps at most 300 characters', () => {
    const scrub = createScrubber(() => ['hunter22']);
    const detail = cleanDetail(`token hunter22\u001b[31m${'x'.repeat(1000)}`, scrub) ?? '';
    expect(detail).not.toContain('hunter22');
    expect(detail).not.toContain('\u001b');
    expect(detail.length).toBeLessThanOrEqual(300);
  });
});

describe('httpFailure', () => {
  const context = {
    method: 'GET',
    path: '/api/atlas/v2/orgs/aaaaaaaaaaaaaaaaaaaaaaaa/invoices',
    orgId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
    apiVersion: '2023-01-01',
    accept: 'application/vnd.atlas.2023-01-01+json',
    credentialsKind: 'api-key' as const,
  };

  it('carries status, errorCode, detail, method and path', () => {
    const error = httpFailure(500, { errorCode: 'UNEXPECTED_ERROR', detail: 'oops' }, context, 4);
    expect(error).toMatchObject({
      status: 500,
      errorCode: 'UNEXPECTED_ERROR',
      detail: 'oops',
      method: 'GET',
      path: context.path,
    });
    expect(error.message).toContain('after 4 attempts');
  });

  it('names the API key variables for a 401 with an API key', () => {
    const error = httpFailure(401, { errorCode: undefined, detail: undefined }, context, 1);
    expect(error.message).toContain('ATLAS_PUBLIC_KEY');
  });

  it('points at the IP access list when Atlas says so', () => {
    const error = httpFailure(
      403,
      { errorCode: 'IP_ADDRESS_NOT_ON_ACCESS_LIST', detail: undefined },
      context,
      1,
    );
    expect(error.message).toContain('access list');
  });
});
