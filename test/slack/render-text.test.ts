import { describe, expect, it } from 'vitest';
import { mrkdwnToText, renderMessage } from '../../lib/slack/render-text';

const ESC = '\u001b';

describe('renderMessage', () => {
  it('renders header, two-column fields, context, divider, buttons and images', () => {
    const output = renderMessage(
      {
        text: 'fallback',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: 'Invoice PAID' } },
          {
            type: 'section',
            text: { type: 'mrkdwn', text: '*Acme* for _June 2024_' },
            fields: [
              { type: 'mrkdwn', text: '*Amount*\n$12.34' },
              { type: 'mrkdwn', text: '*Status*\nPAID' },
              { type: 'mrkdwn', text: '*Period*\nJune' },
            ],
          },
          {
            type: 'context',
            elements: [
              { type: 'mrkdwn', text: 'Invoice `665f1f0e`' },
              { type: 'plain_text', text: 'updated' },
            ],
          },
          { type: 'divider' },
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                text: { type: 'plain_text', text: 'Download CSV' },
                url: 'https://example.com/x.csv',
              },
              { type: 'button', text: { type: 'plain_text', text: 'Refresh link' }, action_id: 'refresh' },
            ],
          },
          { type: 'image', image_url: 'https://example.com/chart.png', alt_text: 'cost chart' },
        ],
      },
      { width: 40 },
    );

    expect(output.split('\n')).toEqual([
      'Invoice PAID',
      '════════════',
      'Acme for June 2024',
      'Amount   Status',
      '$12.34   PAID',
      'Period',
      'June',
      'Invoice 665f1f0e  ·  updated',
      '─'.repeat(40),
      '[ Download CSV ] (https://example.com/x.csv)  [ Refresh link ]',
      '[image: cost chart]',
    ]);
  });

  it('shows an image block that refers to an uploaded file by its alt text and title', () => {
    const output = renderMessage({
      text: 'Spend so far',
      blocks: [
        {
          type: 'image',
          slack_file: { id: 'F0ABCDEF12' },
          alt_text: 'Spend chart for Acme, March 2025. Month to date: $4,228.32.',
          title: { type: 'plain_text', text: 'March 2025' },
        },
      ],
    });

    expect(output).toBe('[image: Spend chart for Acme, March 2025. Month to date: $4,228.32.] March 2025');
  });

  it('renders only the text when there are no blocks', () => {
    expect(renderMessage({ text: 'Now watching *Acme*' })).toBe('Now watching Acme');
  });

  it('keeps escaped hostile names literal while real mentions and links are rendered', () => {
    const orgName = '&lt;!channel&gt; &amp; Sons &lt;https://evil.example|click&gt;';

    const output = mrkdwnToText(
      `<!channel> Invoice for ${orgName}: <https://example.com/a?b=1&amp;c=2|Download>`,
    );

    expect(output).toBe(
      '@channel Invoice for <!channel> & Sons <https://evil.example|click>: Download (https://example.com/a?b=1&c=2)',
    );
  });

  it('drops terminal control sequences and bidi overrides from message text', () => {
    const hostile = `Org${ESC}[2J${ESC}]0;pwned\u0007 \u202Egnp.exe\u202C name\r`;

    const output = renderMessage(
      {
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: hostile } },
          { type: 'header', text: { type: 'plain_text', text: hostile } },
        ],
      },
      { color: true },
    );

    expect(output).not.toContain(`${ESC}[2J`);
    expect(output).not.toContain(`${ESC}]0`);
    for (const control of ['\u0007', '\r', '\u202e', '\u202c']) expect(output).not.toContain(control);
    expect(output).toContain('Org[2J]0;pwned gnp.exe name');
  });

  it('styles with ANSI only when colour is on', () => {
    const text = '*Total* is _due_ ~never~';

    expect(mrkdwnToText(text)).toBe('Total is due never');
    expect(mrkdwnToText(text, { color: true })).toBe(
      `${ESC}[1mTotal${ESC}[22m is ${ESC}[3mdue${ESC}[23m ${ESC}[9mnever${ESC}[29m`,
    );
  });

  it('leaves snake_case, multiplication and lone asterisks alone', () => {
    expect(mrkdwnToText('cluster_name_prod costs 2*3 * 4 and file_a_b.csv')).toBe(
      'cluster_name_prod costs 2*3 * 4 and file_a_b.csv',
    );
  });

  it('wraps text at the width by words when asked, as a phone shows it, and fields within their column', () => {
    const output = renderMessage(
      {
        text: 'fallback',
        blocks: [
          {
            type: 'section',
            text: { type: 'mrkdwn', text: '*$3,567.04 owed*, suspended on Aug 1, 2024 unless paid' },
          },
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: '*Top projects*\n• Production — $2,500.00' },
              { type: 'mrkdwn', text: '*Top SKUs*\n• ATLAS_AWS_INSTANCE_M30 — $2,000.00' },
            ],
          },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'Owed $3,567.04, nothing paid yet' }] },
        ],
      },
      { width: 30, wrap: true },
    );

    expect(output.split('\n')).toEqual([
      '$3,567.04 owed, suspended on',
      'Aug 1, 2024 unless paid',
      'Top projects    Top SKUs',
      '• Production    • ATLAS_AWS_INSTANCE_M30',
      '  — $2,500.00     — $2,000.00',
      'Owed $3,567.04, nothing paid',
      'yet',
    ]);
    expect(renderMessage({ text: 'a b c d e f' }, { width: 20, wrap: true })).toBe('a b c d e f');
  });

  it('renders user, channel and date tokens by their labels', () => {
    expect(mrkdwnToText('<@U123|ana> in <#C42|billing> on <!date^1700000000^{date}|Nov 14>')).toBe(
      '@ana in #billing on Nov 14',
    );
  });
});
