import { describe, expect, it } from 'vitest';
import { validateBlocks } from '../../../infra/local/slack/block-kit';

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const plain = (text: string) => ({ type: 'plain_text', text });

describe('validateBlocks', () => {
  it('accepts a typical invoice message', () => {
    const blocks = [
      { type: 'header', text: plain('Invoice PAID') },
      { type: 'section', text: mrkdwn('*Acme*'), fields: [mrkdwn('*Amount*\n$1'), mrkdwn('*Status*\nPAID')] },
      { type: 'context', elements: [mrkdwn('updated')] },
      { type: 'divider' },
      {
        type: 'actions',
        block_id: 'invoice-actions',
        elements: [
          {
            type: 'button',
            text: plain('Download'),
            url: 'https://x',
            action_id: 'download',
            style: 'primary',
          },
        ],
      },
    ];

    expect(validateBlocks(blocks)).toEqual([]);
  });

  it('reports each limit with a json-pointer to the offending value', () => {
    const blocks = [
      { type: 'header', text: plain('h'.repeat(151)) },
      { type: 'header', text: mrkdwn('not plain') },
      { type: 'section', fields: Array.from({ length: 11 }, () => mrkdwn('f')) },
      { type: 'section', fields: [mrkdwn('f'.repeat(2001))] },
      { type: 'section' },
      {
        type: 'actions',
        elements: [{ type: 'button', text: plain('b'.repeat(76)), action_id: 'a'.repeat(256) }],
      },
      { type: 'image', image_url: 'https://x/y.png' },
      { type: 'section', text: mrkdwn('') },
      { type: 'divider', block_id: 'same' },
      { type: 'divider', block_id: 'same' },
      { type: 'carousel' },
    ];

    expect(validateBlocks(blocks)).toEqual([
      'must be less than 151 characters [json-pointer:/blocks/0/text/text]',
      'must be a valid enum value [json-pointer:/blocks/1/text/type]',
      'no more than 10 items allowed [json-pointer:/blocks/2/fields]',
      'must be less than 2001 characters [json-pointer:/blocks/3/fields/0/text]',
      'must provide either text or fields [json-pointer:/blocks/4]',
      'must be less than 256 characters [json-pointer:/blocks/5/elements/0/action_id]',
      'must be less than 76 characters [json-pointer:/blocks/5/elements/0/text/text]',
      'must provide a string [json-pointer:/blocks/6/alt_text]',
      'must be more than 0 characters [json-pointer:/blocks/7/text/text]',
      'duplicate block_id [json-pointer:/blocks/9/block_id]',
      'must be a valid enum value [json-pointer:/blocks/10/type]',
    ]);
  });

  it('allows 50 blocks and refuses 51', () => {
    const divider = { type: 'divider' };

    expect(validateBlocks(Array.from({ length: 50 }, () => divider))).toEqual([]);
    expect(validateBlocks(Array.from({ length: 51 }, () => divider))).toEqual([
      'no more than 50 items allowed [json-pointer:/blocks]',
    ]);
  });

  it('refuses a blocks value that is not an array', () => {
    expect(validateBlocks({ type: 'divider' })).toEqual(['must provide an array [json-pointer:/blocks]']);
  });
});
