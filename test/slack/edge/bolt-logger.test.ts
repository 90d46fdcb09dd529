import { describe, expect, it } from 'vitest';
import { createBoltLogger } from '../../../lib/slack/edge/bolt-logger';
import { recordingLogger } from '../../support/fakes';

describe('createBoltLogger', () => {
  it('drops Bolt debug output, which prints whole request bodies', () => {
    const log = recordingLogger();
    createBoltLogger(log).debug('AWS event: {"body":"token=xyz&response_url=https://hooks.slack.com/x"}');
    expect(log.lines).toEqual([]);
  });

  it('writes other levels as our JSON lines, errors summarised and long text cut', () => {
    const log = recordingLogger({ redact: ['xoxb-secret-token'] });
    const bolt = createBoltLogger(log);
    bolt.warn('x'.repeat(1000));
    bolt.error('failed with xoxb-secret-token', new TypeError('boom'));
    const [warn, error] = log.lines.map((l) => JSON.parse(l));
    expect(warn.level).toBe('warn');
    expect(warn.message.length).toBeLessThanOrEqual(310);
    expect(error).toMatchObject({
      level: 'error',
      message: 'bolt: failed with [redacted]',
      error: { name: 'TypeError', message: 'boom' },
    });
    expect(error.error.stack).toBeUndefined();
  });

  it('remembers the level Bolt sets', () => {
    const bolt = createBoltLogger(recordingLogger());
    bolt.setLevel('debug' as Parameters<typeof bolt.setLevel>[0]);
    expect(bolt.getLevel()).toBe('debug');
  });
});
