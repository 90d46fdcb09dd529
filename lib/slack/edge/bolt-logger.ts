import { describeError } from '../../errors';
import type { Logger } from '../../log';
import { type BoltLogger, LogLevel } from './bolt';

const MESSAGE_MAX = 300;

/**
 * Bolt's logger interface over ours, so Bolt's lines are JSON, redacted and levelled like the rest. Bolt's debug
 * output is dropped whatever the level: it prints whole request bodies (response_url, the legacy verification token).
 * Long messages are cut; Error arguments are summarised with describeError, never printed with their stack.
 */
export function createBoltLogger(log: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const emit = (method: 'info' | 'warn' | 'error', args: unknown[]) => {
    const text = args
      .filter((arg) => !(arg instanceof Error))
      .map((arg) => (typeof arg === 'string' ? arg : String(arg)))
      .join(' ');
    const error = args.find((arg): arg is Error => arg instanceof Error);
    const message = text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX - 1)}…` : text;
    log[method](
      `bolt: ${message || (error?.name ?? 'event')}`,
      error ? { error: describeError(error) } : undefined,
    );
  };
  return {
    debug: () => {},
    info: (...args: unknown[]) => emit('info', args),
    warn: (...args: unknown[]) => emit('warn', args),
    error: (...args: unknown[]) => emit('error', args),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
