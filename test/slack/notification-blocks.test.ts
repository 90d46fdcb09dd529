import { describe, expect, it } from 'vitest';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import type { CsvSummary } from '../../lib/invoices/types';
import { type Block, DOWNLOAD_LINK_ACTION_ID } from '../../lib/slack/invoice-blocks';
import { SLACK_LIMITS } from '../../lib/slack/mrkdwn';
import {
  buildStatusChangeMessage,
  buildWatchingMessage,
  type SlackMessage,
} from '../../lib/slack/notification-blocks';

const ORG = '5f0000000000000000000001';
const INV = '6a0000000000000000000002';
const HOSTILE = '<!channel> Tom & Jerry > <@U123|x> `code` *bold*';
const LONG = `${'Ωmega ☃ 東京 '.repeat(600)}<!here>`;

function invoice(overrides: Partial<InvoiceMetadata> = {}): InvoiceMetadata {
  return {
    id: INV,
    orgId: ORG,
    statusName: 'CLOSED',
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    updated: '2024-07-02T00:00:00Z',
    subtotalCents: 120_000,
    salesTaxCents: 5_000,
    startingBalanceCents: 0,
    creditsCents: 0,
    amountBilledCents: 125_000,
    amountPaidCents: 25_000,
    ...overrides,
  };
}

function summary(name: string): CsvSummary {
  const lines = (prefix: string) =>
    Array.from({ length: 5 }, (_, i) => ({ name: `${prefix} ${i} ${name}`, cents: 10_000 - i * 100 }));
  return {
    organizationName: name,
    lineItemCount: 40,
    totalCents: 125_000,
    projects: lines('Project'),
    projectCount: 12,
    skus: lines('SKU'),
    skuCount: 9,
    malformedRows: 0,
  };
}

/** Every mrkdwn/plain_text string in a message, with the kind of object holding it. */
function texts(message: SlackMessage): { kind: string; text: string }[] {
  const out: { kind: string; text: string }[] = [{ kind: 'fallback', text: message.text }];
  const visit = (value: unknown, kind: string) => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, kind);
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if ((record.type === 'mrkdwn' || record.type === 'plain_text') && typeof record.text === 'string') {
        out.push({ kind: `${kind}:${record.type}`, text: record.text });
      }
      for (const [key, child] of Object.entries(record)) visit(child, key === 'fields' ? 'field' : kind);
    }
  };
  for (const block of message.blocks) visit(block, String(block.type));
  return out;
}

/** Slack's documented Block Kit limits, checked the way Slack would refuse a message. */
function limitViolations(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (message.blocks.length > SLACK_LIMITS.blocksPerMessage) problems.push('too many blocks');
  if (message.text.length > SLACK_LIMITS.fallbackText) problems.push('fallback text too long');
  for (const block of message.blocks as Block[]) {
    const text = (block.text as { text?: string } | undefined)?.text ?? '';
    if (block.type === 'header' && text.length > SLACK_LIMITS.headerText) problems.push('header too long');
    if (block.type === 'section' && text.length > SLACK_LIMITS.sectionText) problems.push('section too long');
    const fields = (block.fields as { text: string }[] | undefined) ?? [];
    if (fields.length > SLACK_LIMITS.fieldsPerSection) problems.push('too many fields');
    if (fields.some((f) => f.text.length > SLACK_LIMITS.fieldText)) problems.push('field too long');
    for (const element of (block.elements as Record<string, unknown>[] | undefined) ?? []) {
      const label = (element.text as { text?: string } | undefined)?.text ?? '';
      if (element.type === 'button' && label.length > SLACK_LIMITS.buttonText)
        problems.push('button too long');
      if (typeof element.value === 'string' && element.value.length > 2000) problems.push('value too long');
      if (block.type === 'context' && typeof element.text === 'string' && element.text.length > 3000) {
        problems.push('context too long');
      }
    }
  }
  return problems;
}

/** No control sequence survives in mrkdwn: `<`, `>` only as entities, `&` only starting one. */
function unescaped(message: SlackMessage): string[] {
  return texts(message)
    .filter(({ kind }) => !kind.endsWith('plain_text'))
    .map(({ text }) => text)
    .filter((text) => /[<>]|&(?!amp;|lt;|gt;)/.test(text));
}

describe('buildStatusChangeMessage', () => {
  it('shows organisation, period, old → new status, amounts with the owed arithmetic, and a download pointer', () => {
    const message = buildStatusChangeMessage({
      orgId: ORG,
      orgName: 'Acme',
      invoice: invoice(),
      fromStatus: 'PENDING',
      summary: summary('Acme'),
    });

    const all = texts(message)
      .map((t) => t.text)
      .join('\n');
    expect(all).toContain('Acme');
    expect(all).toContain('June 1 – June 30, 2024');
    expect(all).toContain('PENDING → *CLOSED*');
    expect(all).toContain('*Billed*\n$1,250.00');
    expect(all).toContain('*Paid*\n$250.00');
    expect(all).toContain('Owed $1,000.00 = billed $1,250.00 − paid $250.00');
    expect(all).toContain('Top projects');
    expect(all).toContain('Top SKUs');
    expect(all).toContain(`/invoice ${INV}`);
    expect(message.text).toContain('owed $1,000.00');
    expect(message.blocks).toContainEqual({
      type: 'actions',
      elements: [
        expect.objectContaining({
          type: 'button',
          action_id: DOWNLOAD_LINK_ACTION_ID,
          value: `${ORG}:${INV}`,
        }),
      ],
    });
  });

  it('marks FAILED as urgent and says when the organisation is suspended and locked', () => {
    const message = buildStatusChangeMessage({
      orgId: ORG,
      orgName: 'Acme',
      invoice: invoice({ statusName: 'FAILED' }),
      fromStatus: 'CLOSED',
      summary: undefined,
    });

    const header = message.blocks[0] as { type: string; text: { text: string } };
    expect(header.type).toBe('header');
    expect(header.text.text).toMatch(/^:rotating_light: Payment failed/);
    const all = texts(message)
      .map((t) => t.text)
      .join('\n');
    expect(all).toMatch(/30 days\*.*\*suspended\*/);
    expect(all).toMatch(/60 days\*.*\*locked\*/);
    expect(message.text).toMatch(/^Payment failed/);
  });

  it('does not mark other statuses as urgent', () => {
    const message = buildStatusChangeMessage({
      orgId: ORG,
      orgName: 'Acme',
      invoice: invoice({ statusName: 'PAID', amountPaidCents: 125_000 }),
      fromStatus: 'CLOSED',
      summary: undefined,
    });

    expect(JSON.stringify(message)).not.toContain('rotating_light');
    expect(JSON.stringify(message)).not.toContain('suspended');
  });

  it('names a new invoice as a change from "new" and falls back to the organisation id', () => {
    const message = buildStatusChangeMessage({
      orgId: ORG,
      orgName: undefined,
      invoice: invoice({ statusName: 'PENDING' }),
      fromStatus: undefined,
      summary: undefined,
    });

    expect(JSON.stringify(message.blocks)).toContain('new → *PENDING*');
    expect(message.text).toContain(ORG);
  });

  it('escapes hostile organisation, project and SKU names and stays within Block Kit limits', () => {
    for (const name of [HOSTILE, LONG]) {
      const message = buildStatusChangeMessage({
        orgId: ORG,
        orgName: name,
        invoice: invoice({ statusName: 'FAILED' }),
        fromStatus: '<!everyone>',
        summary: summary(name),
      });

      expect(limitViolations(message)).toEqual([]);
      expect(unescaped(message)).toEqual([]);
      const parsed = texts(message).filter(({ kind }) => !kind.endsWith('plain_text'));
      expect(parsed.some(({ text }) => text.includes('<!'))).toBe(false);
    }
  });

  it('keeps non-ASCII names intact', () => {
    const message = buildStatusChangeMessage({
      orgId: ORG,
      orgName: 'Zürich 東京 🚀',
      invoice: invoice(),
      fromStatus: 'PENDING',
      summary: summary('Zürich 東京 🚀'),
    });

    expect(message.text).toContain('Zürich 東京 🚀');
    expect(JSON.stringify(message.blocks)).toContain('Project 0 Zürich 東京 🚀');
  });

  it('shows an unknown future status as Atlas sent it, escaped', () => {
    const message = buildStatusChangeMessage({
      orgId: ORG,
      orgName: 'Acme',
      invoice: invoice({ statusName: 'DISPUTED<x>' }),
      fromStatus: 'CLOSED',
      summary: undefined,
    });

    expect(JSON.stringify(message.blocks)).toContain('CLOSED → *DISPUTED&lt;x&gt;*');
    expect(unescaped(message)).toEqual([]);
  });
});

describe('buildWatchingMessage', () => {
  const history = [
    invoice({ id: 'a00000000000000000000001', statusName: 'PAID', startDate: '2024-01-01T00:00:00Z' }),
    invoice({ id: 'a00000000000000000000002', statusName: 'PAID', startDate: '2024-02-01T00:00:00Z' }),
    invoice({
      id: 'a00000000000000000000003',
      statusName: 'FAILED',
      startDate: '2024-03-01T00:00:00Z',
      endDate: '2024-04-01T00:00:00Z',
      amountBilledCents: 9_900,
      amountPaidCents: 0,
    }),
    invoice({
      id: 'a00000000000000000000004',
      statusName: 'PENDING',
      startDate: '2024-04-01T00:00:00Z',
      endDate: '2024-05-01T00:00:00Z',
      amountBilledCents: 4_321,
      amountPaidCents: 0,
    }),
  ];

  it('summarises counts by status, the pending amount and calls out FAILED invoices in one message', () => {
    const message = buildWatchingMessage({
      orgId: ORG,
      orgName: 'Acme',
      invoices: history,
      archivedCount: 4,
    });

    const all = texts(message)
      .map((t) => t.text)
      .join('\n');
    expect(all).toContain('Now watching Atlas invoices: Acme');
    expect(all).toContain('Found *4* invoices');
    expect(all).toContain('• PAID: 2');
    expect(all).toContain('• FAILED: 1');
    expect(all).toContain('• PENDING: 1');
    expect(all).toContain('*Current pending amount:* $43.21 (April 1 – April 30, 2024)');
    expect(all).toContain(':rotating_light: *1 invoice has a failed payment* (owed $99.00)');
    expect(all).toContain('March 1 – March 31, 2024: owed $99.00 (`a00000000000000000000003`)');
    expect(all).toMatch(/suspended.*locked/s);
    expect(message.text).toBe(
      'Now watching the Atlas invoices of Acme: 4 invoices, $43.21 pending, 1 with a FAILED payment.',
    );
  });

  it('says nothing about failures when there are none', () => {
    const message = buildWatchingMessage({
      orgId: ORG,
      orgName: 'Acme',
      invoices: history.filter((i) => i.statusName !== 'FAILED'),
      archivedCount: 3,
    });

    expect(JSON.stringify(message)).not.toContain('failed payment');
  });

  it('stays within limits with many failed invoices and a hostile name', () => {
    const failed = Array.from({ length: 40 }, (_, i) =>
      invoice({ id: `b${String(i).padStart(23, '0')}`, statusName: 'FAILED' }),
    );

    const message = buildWatchingMessage({
      orgId: ORG,
      orgName: HOSTILE,
      invoices: failed,
      archivedCount: 0,
    });

    expect(limitViolations(message)).toEqual([]);
    expect(unescaped(message)).toEqual([]);
    expect(JSON.stringify(message)).toContain('…and 30 more');
  });
});
