import { describe, expect, it } from 'vitest';
import {
  archivedInvoiceReply,
  helpReply,
  type InvoiceRow,
  invoiceListReply,
  pendingReply,
  type SlackReply,
} from '../../lib/command/replies';
import { limitViolations } from '../slack/block-kit-checks';
import { indexEntry, NOW, ORG_A, replyText, stateEntry } from './fixtures';

function expectWithinBlockKitLimits(reply: SlackReply): void {
  expect(limitViolations(reply)).toEqual([]);
}

const HOSTILE = `<!channel> & <@U123> ${'Ünïcode 🧾 '.repeat(40)}`;

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

  it('escapes the <invoice id> placeholder, which Slack would read as a link and hide', () => {
    const reply = helpReply('/invoice', 'ephemeral');

    expect(replyText(reply)).toContain('`/invoice &lt;invoice id&gt;`: status, amounts');
    expect(reply.text).toBe(
      '/invoice &lt;invoice id&gt; | latest [org id] | pending | spend [org id] | list [n] | help',
    );
    expect(replyText(reply)).not.toContain('<invoice id>');
  });
});
