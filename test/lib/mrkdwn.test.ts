import { describe, expect, it } from 'vitest';
import {
  code,
  escapeAndTruncate,
  escapeMrkdwn,
  plainText,
  slackDate,
  slackDay,
  slackLink,
  truncateEscaped,
} from '../../lib/slack/mrkdwn';

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

describe('the Slack tokens this project writes', () => {
  const at = Date.UTC(2024, 6, 10, 12, 15, 30);

  it('formats dates for Slack to render in the reader’s time zone, with a UTC fallback', () => {
    expect(slackDate(at)).toBe(`<!date^${at / 1000}^{date_short_pretty} at {time}|2024-07-10 12:15 UTC>`);
    expect(slackDate(Number.NaN)).toBe('an unknown time');
  });

  it('formats a day on its own for deadlines', () => {
    expect(slackDay(at)).toBe(`<!date^${at / 1000}^{date_short_pretty}|Jul 10, 2024>`);
    expect(slackDay(Number.NaN)).toBe('an unknown day');
  });

  it('links an https URL under an escaped label, and gives only the label for anything else', () => {
    expect(slackLink('https://cloud.mongodb.com/v2#/org/x/billing/overview', 'Pay <now> | later')).toBe(
      '<https://cloud.mongodb.com/v2#/org/x/billing/overview|Pay &lt;now&gt; ¦ later>',
    );
    expect(slackLink('javascript:alert(1)', 'Pay')).toBe('Pay');
    expect(slackLink('https://evil.example/a>|<!channel', 'Pay')).toBe('Pay');
  });
});
