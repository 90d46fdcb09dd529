import { describe, expect, it } from 'vitest';
import { AtlasApiError } from '../../lib/errors';
import { createLogger } from '../../lib/log';

describe('createLogger', () => {
  it('writes one JSON line per record with child fields and serialised errors', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), now: () => new Date(0) }).child({ orgId: 'o1' });

    log.error('list failed', {
      error: new AtlasApiError('boom', {
        status: 503,
        method: 'GET',
        path: '/api/atlas/v2/orgs/o1/invoices',
      }),
    });

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'error',
      message: 'list failed',
      orgId: 'o1',
      error: { name: 'AtlasApiError', message: 'boom', status: 503, path: '/api/atlas/v2/orgs/o1/invoices' },
    });
  });

  it('drops records below the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });

    log.info('quiet');
    log.warn('loud');

    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['loud']);
  });

  it('redacts secret values wherever they appear, including JSON-escaped forms', () => {
    const lines: string[] = [];
    const secret = 'xoxb-secret"token';
    const log = createLogger({ write: (l) => lines.push(l), redact: [secret, 'abc'] });

    log.info(`token is ${secret}`, { nested: { header: `Bearer ${secret}` }, short: 'abc' });

    expect(lines[0]).not.toContain('secret');
    expect(lines[0]).toContain('[redacted]');
    expect(JSON.parse(lines[0] ?? '').short).toBe('abc');
  });
});
