import { describe, expect, it } from 'vitest';
import { shouldUseColor } from '../../../infra/local/slack/color';

describe('shouldUseColor', () => {
  it('follows the TTY unless NO_COLOR or FORCE_COLOR says otherwise', () => {
    expect(shouldUseColor({ isTTY: true }, {})).toBe(true);
    expect(shouldUseColor({ isTTY: false }, {})).toBe(false);
    expect(shouldUseColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldUseColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });
});
