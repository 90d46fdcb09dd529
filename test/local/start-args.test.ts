import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_INTERVAL_SECONDS,
  DEFAULT_PORT,
  parseStartArgs,
} from '../../infra/local/start-args';
import { ValidationError } from '../../lib/errors';

describe('parseStartArgs', () => {
  it('defaults to a long-running local run', () => {
    expect(parseStartArgs([])).toEqual({
      once: false,
      intervalSeconds: DEFAULT_INTERVAL_SECONDS,
      port: DEFAULT_PORT,
      fresh: false,
      dataDir: DEFAULT_DATA_DIR,
      sign: undefined,
      digest: false,
      verbose: false,
      help: false,
    });
  });

  it('reads every option', () => {
    const args = parseStartArgs([
      '--once',
      '--interval',
      '5',
      '--port=0',
      '--fresh',
      '--data-dir',
      '/tmp/x',
      '--digest',
      '--verbose',
    ]);

    expect(args).toMatchObject({
      once: true,
      intervalSeconds: 5,
      port: 0,
      fresh: true,
      dataDir: '/tmp/x',
      digest: true,
      verbose: true,
    });
  });

  it('takes the text to sign, trimmed', () => {
    expect(parseStartArgs(['--sign', '  latest ']).sign).toBe('latest');
  });

  it('refuses unknown options, bad numbers and unusable text by naming the flag', () => {
    expect(() => parseStartArgs(['--onse'])).toThrow(ValidationError);
    expect(() => parseStartArgs(['--interval', '0'])).toThrow(/--interval/);
    expect(() => parseStartArgs(['--interval', '1.5'])).toThrow(/--interval/);
    expect(() => parseStartArgs(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseStartArgs(['--sign', ' '])).toThrow(/--sign/);
    expect(() => parseStartArgs(['--sign', 'a\u001b[2Jb'])).toThrow(/--sign/);
    expect(() => parseStartArgs(['--sign', 'x', '--once'])).toThrow(/--sign/);
    expect(() => parseStartArgs(['--sign', 'spend', '--digest'])).toThrow(/--digest/);
    expect(() => parseStartArgs(['extra'])).toThrow(ValidationError);
  });
});
