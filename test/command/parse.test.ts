import { describe, expect, it } from 'vitest';
import { COMMAND_LIMITS, excerpt, parseCommandText } from '../../lib/command/parse';

const ID = '65a1f0c2e4b0a1b2c3d4e5f6';

describe('parseCommandText', () => {
  it('reads an empty text as help', () => {
    expect(parseCommandText('')).toEqual({ kind: 'help', visibility: 'ephemeral' });
    expect(parseCommandText(undefined)).toEqual({ kind: 'help', visibility: 'ephemeral' });
    expect(parseCommandText('   ')).toEqual({ kind: 'help', visibility: 'ephemeral' });
  });

  it('reads an invoice id, lower-casing it', () => {
    expect(parseCommandText(` ${ID.toUpperCase()} `)).toEqual({
      kind: 'invoice',
      invoiceId: ID,
      visibility: 'ephemeral',
    });
  });

  it('makes the answer public only when the word public is present, wherever it is', () => {
    expect(parseCommandText(`public ${ID}`)).toEqual({
      kind: 'invoice',
      invoiceId: ID,
      visibility: 'in_channel',
    });
    expect(parseCommandText(`${ID} PUBLIC`)).toMatchObject({ kind: 'invoice', visibility: 'in_channel' });
    expect(parseCommandText('list public')).toMatchObject({ kind: 'list', visibility: 'in_channel' });
    expect(parseCommandText('public')).toEqual({ kind: 'help', visibility: 'in_channel' });
  });

  it('reads the subcommands case-insensitively', () => {
    expect(parseCommandText('HELP')).toEqual({ kind: 'help', visibility: 'ephemeral' });
    expect(parseCommandText('Pending')).toEqual({ kind: 'pending', visibility: 'ephemeral' });
    expect(parseCommandText('latest')).toEqual({ kind: 'latest', orgId: undefined, visibility: 'ephemeral' });
    expect(parseCommandText(`latest ${ID}`)).toEqual({ kind: 'latest', orgId: ID, visibility: 'ephemeral' });
  });

  it('reads spend with or without an organisation id, lower-casing the id', () => {
    expect(parseCommandText('spend')).toEqual({ kind: 'spend', orgId: undefined, visibility: 'ephemeral' });
    expect(parseCommandText(`Spend ${ID.toUpperCase()} public`)).toEqual({
      kind: 'spend',
      orgId: ID,
      visibility: 'in_channel',
    });
  });

  it('refuses spend with a malformed organisation id or more words', () => {
    expect(parseCommandText('spend acme')).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'malformed-org-id', excerpt: 'acme' },
    });
    expect(parseCommandText(`spend ${ID} now`)).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'extra-words', usage: 'spend', excerpt: 'now' },
    });
  });

  it('defaults list to 5 and accepts 1 to 20', () => {
    expect(parseCommandText('list')).toMatchObject({ kind: 'list', count: COMMAND_LIMITS.defaultListCount });
    expect(parseCommandText('list 1')).toMatchObject({ kind: 'list', count: 1 });
    expect(parseCommandText('list 20')).toMatchObject({ kind: 'list', count: 20 });
  });

  it.each(['0', '21', '-3', '2.5', 'ten', '0x10', '999999'])('refuses the list count %s', (count) => {
    expect(parseCommandText(`list ${count}`)).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'bad-count', excerpt: count },
    });
  });

  it.each([
    ['65a1f0c2e4b0a1b2c3d4e5f', 'one character short'],
    ['65a1f0c2e4b0a1b2c3d4e5f6a', 'one character long'],
    ['65a1f0c2e4b0a1b2c3d4e5fz', 'a letter past f'],
    ['inv_123456', 'an invoice number of another system'],
  ])('calls %s a malformed id (%s)', (text) => {
    expect(parseCommandText(text)).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'malformed-id', excerpt: text },
    });
  });

  it('calls an unknown word an unknown subcommand', () => {
    expect(parseCommandText('status')).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'unknown-subcommand', excerpt: 'status' },
    });
  });

  it('refuses extra words after a complete command', () => {
    expect(parseCommandText(`${ID} please`)).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'extra-words', usage: 'invoice', excerpt: 'please' },
    });
    expect(parseCommandText('pending now')).toMatchObject({
      problem: { kind: 'extra-words', usage: 'pending' },
    });
    expect(parseCommandText('list 5 6')).toMatchObject({ problem: { kind: 'extra-words', usage: 'list' } });
    expect(parseCommandText(`latest ${ID} x`)).toMatchObject({
      problem: { kind: 'extra-words', usage: 'latest' },
    });
    expect(parseCommandText('help me')).toMatchObject({ problem: { kind: 'extra-words', usage: 'help' } });
  });

  it('refuses a malformed organisation id for latest', () => {
    expect(parseCommandText('latest acme')).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'malformed-org-id', excerpt: 'acme' },
    });
  });

  it('refuses non-ASCII text, echoing only a short excerpt', () => {
    const lookalike = '65a1f0c2e4b0a1b2c3d4e5fб'; // Cyrillic letter at the end
    expect(parseCommandText(lookalike)).toMatchObject({
      kind: 'invalid',
      problem: { kind: 'not-ascii', excerpt: lookalike },
    });
    const emoji = `list ${'🧾'.repeat(40)}`;
    const parsed = parseCommandText(emoji);
    expect(parsed).toMatchObject({ kind: 'invalid', problem: { kind: 'not-ascii' } });
    if (parsed.kind !== 'invalid' || parsed.problem.kind !== 'not-ascii') throw new Error('unexpected parse');
    expect(Array.from(parsed.problem.excerpt)).toHaveLength(COMMAND_LIMITS.excerptLength);
  });

  it('refuses very long text without reading it', () => {
    const text = `${ID} ${'x'.repeat(COMMAND_LIMITS.maxTextLength)}`;
    expect(parseCommandText(text)).toEqual({
      kind: 'invalid',
      visibility: 'ephemeral',
      problem: { kind: 'too-long', length: text.length },
    });
  });
});

describe('excerpt', () => {
  it('keeps short text and cuts long text by code points', () => {
    expect(excerpt('short')).toBe('short');
    const cut = excerpt('é'.repeat(100));
    expect(cut.endsWith('…')).toBe(true);
    expect(Array.from(cut)).toHaveLength(COMMAND_LIMITS.excerptLength);
  });
});
