import { describe, expect, it } from 'vitest';
import {
  archivedInvoiceReply,
  helpReply,
  type InvoiceRow,
  invoiceListReply,
  pendingReply,
  type SlackReply,
  slackDate,
} from '../../lib/command/replies';
import { SLACK_LIMITS } from '../../lib/slack/mrkdwn';
import { indexEntry, NOW, ORG_A, replyText, stateEntry } from './fixtures';

const HOSTILE = `<!channel> & <@U123> ${'Ünïcode 🧾 '.repeat(40)}`;

interface LooseBlock {
  readonly type: string;
  readonly text?: { readonly text: string };
  readonly fields?: ReadonlyArray<{ readonly text: string }>;
  readonly elements?: ReadonlyArray<{
    readonly text: string | { readonly text: string };
    readonly url?: string;
  }>;
}

const textOf = (value: string | { readonly text: string }): string =>
  typeof value === 'string' ? value : value.text;

/** Fails when a reply breaks one of Block Kit's documented limits. */
function expectWithinBlockKitLimits(reply: SlackReply): void {
  const blocks = (reply.blocks ?? []) as unknown as readonly LooseBlock[];
  expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
  expect(reply.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  for (const block of blocks) {
    if (block.type === 'header') expect(block.text?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (block.type === 'section' && block.text) {
      expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
    if (block.fields) {
      expect(block.fields.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldsPerSection);
      for (const field of block.fields) expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    }
    for (const element of block.elements ?? []) {
      const limit = block.type === 'actions' ? SLACK_LIMITS.buttonText : SLACK_LIMITS.sectionText;
      expect(textOf(element.text).length).toBeLessThanOrEqual(limit);
      if (element.url !== undefined) expect(element.url.length).toBeLessThanOrEqual(3000);
    }
  }
}

function rows(n: number): InvoiceRow[] {
  return Array.from({ length: n }, (_, i) => ({
    orgId: ORG_A,
    orgName: HOSTILE,
    invoiceId: i.toString(16).padStart(24, '0'),
    entry: stateEntry({ statusName: `WEIRD_${'X'.repeat(80)}` }),
  }));
}

describe('reply builders', () => {
  it('keeps a full invoice with hostile names escaped and within Block Kit limits', () => {
    const entry = indexEntry({
      orgName: HOSTILE,
      summary: {
        ...indexEntry().summary,
        projects: Array.from({ length: 5 }, (_, i) => ({ name: `${HOSTILE}${i}`, cents: 100 * i })),
        skus: Array.from({ length: 5 }, (_, i) => ({ name: `${HOSTILE}${i}`, cents: 10 * i })),
      },
    });
    const reply = archivedInvoiceReply({
      entry,
      link: { url: `https://example.test/${'a'.repeat(1500)}`, expiresAt: NOW + 900_000 },
      fileName: 'atlas-invoice-2024-06-x.csv',
      now: NOW,
      visibility: 'in_channel',
    });
    expectWithinBlockKitLimits(reply);
    const all = replyText(reply);
    expect(all).not.toMatch(/<!channel>|<@U123>/);
    expect(all).toContain('&lt;!channel&gt; &amp; &lt;@U123&gt;');
    expect(reply.response_type).toBe('in_channel');
  });

  it('splits a long list into several sections within the limits', () => {
    const reply = invoiceListReply({
      title: 'Latest 20 Atlas invoices',
      rows: rows(20),
      empty: 'none',
      notes: [],
      visibility: 'ephemeral',
      command: '/invoice',
    });
    expectWithinBlockKitLimits(reply);
    const sections = (reply.blocks ?? []).filter((b) => b.type === 'section');
    expect(sections.length).toBeGreaterThan(1);
    expect(replyText(reply)).not.toContain('<!channel>');
    for (const row of rows(20)) expect(replyText(reply)).toContain(row.invoiceId);
  });

  it('keeps pending answers within the limits', () => {
    const reply = pendingReply({
      current: rows(20),
      awaiting: rows(20),
      notes: ['1 organisation not polled yet.'],
      visibility: 'ephemeral',
      command: '/invoice',
    });
    expectWithinBlockKitLimits(reply);
  });

  it('writes help for the command name Slack sent, falling back to /invoice for an odd name', () => {
    expect(replyText(helpReply('/bills', 'ephemeral'))).toContain('`/bills list [n]`');
    expect(replyText(helpReply('/<!channel>', 'ephemeral'))).toContain('`/invoice list [n]`');
  });

  it('formats dates for Slack to render in the reader’s time zone, with a UTC fallback', () => {
    expect(slackDate(Date.UTC(2024, 6, 10, 12, 15, 30))).toBe(
      `<!date^${Date.UTC(2024, 6, 10, 12, 15, 30) / 1000}^{date_short_pretty} at {time}|2024-07-10 12:15 UTC>`,
    );
    expect(slackDate(Number.NaN)).toBe('an unknown time');
  });
});
