import { describe, expect, it } from 'vitest';
import { code, escapeAndTruncate, escapeMrkdwn, plainText, truncateEscaped } from '../../lib/slack/mrkdwn';

describe('escapeMrkdwn', () => {
  it('neutralises mentions, links and entities', () => {
    expect(escapeMrkdwn('<!channel> & <https://x|y> > 1')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://x|y&gt; &gt; 1',
    );
  });

  it('drops control and bidi-override characters but keeps non-ASCII text', () => {
    expect(escapeMrkdwn('Ünï\u0000cøde\u202e 日本')).toBe('Ünïcøde 日本');
  });
});

describe('truncation', () => {
  it('never cuts inside an entity', () => {
    const out = escapeAndTruncate('aaaa&&&&', 9);

    expect(out.length).toBeLessThanOrEqual(9);
    expect(out).toBe('aaaa…');
  });

  it('never splits a surrogate pair', () => {
    const out = truncateEscaped('ab😀😀😀', 4);

    expect(out).toBe('ab…');
    expect(plainText('ab😀😀😀', 4)).toBe('ab…');
  });

  it('leaves short text alone', () => {
    expect(escapeAndTruncate('short', 10)).toBe('short');
  });
});

describe('code', () => {
  it('cannot be broken out of with backticks', () => {
    expect(code('a`b<c')).toBe('`aˋb&lt;c`');
  });
});
