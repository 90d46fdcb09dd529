import { describe, expect, it } from 'vitest';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import type { CsvSummary } from '../../lib/invoices/types';
import { DOWNLOAD_LINK_ACTION_ID } from '../../lib/slack/invoice-blocks';
import {
  buildStatusChangeMessage,
  buildWatchingMessage,
  type SlackMessage,
  type StatusChangeInput,
} from '../../lib/slack/notification-blocks';
import { limitViolations, strayControls } from './block-kit-checks';

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

/** A status change of Acme's invoice from CLOSED; `invoiceOverrides` and `input` replace the defaults. */
function statusChange(
  invoiceOverrides: Partial<InvoiceMetadata> = {},
  input: Partial<StatusChangeInput> = {},
): SlackMessage {
  return buildStatusChangeMessage({
    orgId: ORG,
    orgName: 'Acme',
    invoice: invoice(invoiceOverrides),
    fromStatus: 'CLOSED',
    summary: undefined,
    ...input,
  });
}

describe('buildStatusChangeMessage', () => {
  it('leads with the amount owed, then the period and the change, the arithmetic, top costs, button and ids', () => {
    const message = statusChange({}, { fromStatus: 'PENDING', summary: summary('Acme') });

    expect(texts(message).slice(1, 3)).toEqual([
      { kind: 'header:plain_text', text: 'Atlas invoice closed: Acme' },
      {
        kind: 'section:mrkdwn',
        text: '*$1,000.00 owed* · June 1 – June 30, 2024 · PENDING → *CLOSED* (final, not charged yet)',
      },
    ]);
    const all = texts(message)
      .map((t) => t.text)
      .join('\n');
    expect(all).toContain(
      'Owed $1,000.00 = billed $1,250.00 − paid $250.00 · billed = subtotal $1,200.00 + tax $50.00',
    );
    expect(all).toContain('Top projects');
    expect(all).toContain('Top SKUs');
    expect(all.split(INV)).toHaveLength(2);
    expect(message.text).toBe(
      'Atlas invoice of Acme (June 1 – June 30, 2024) is now CLOSED (was PENDING): $1,000.00 owed.',
    );
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

  it('marks FAILED as urgent, with the dates of suspension and lock counted from the failure, and where to pay', () => {
    const failedSince = '2024-07-02T06:00:00.000Z';
    const suspendAt = Date.UTC(2024, 7, 1, 6) / 1000;
    const lockAt = Date.UTC(2024, 7, 31, 6) / 1000;
    const message = statusChange({ statusName: 'FAILED' }, { failedSince });

    const header = message.blocks[0] as { type: string; text: { text: string } };
    expect(header.type).toBe('header');
    expect(header.text.text).toBe(':rotating_light: Payment failed: Acme');
    const [lead, warning] = texts(message)
      .filter((t) => t.kind === 'section:mrkdwn')
      .map((t) => t.text);
    expect(lead).toBe(
      `*$1,000.00 owed*, suspended on <!date^${suspendAt}^{date_short_pretty}|Aug 1, 2024> unless paid · June 1 – June 30, 2024 · CLOSED → *FAILED*`,
    );
    expect(warning).toContain(`after 60 days *locked* (<!date^${lockAt}^{date_short_pretty}|Aug 31, 2024>)`);
    expect(warning).toContain(
      `<https://cloud.mongodb.com/v2#/org/${ORG}/billing/overview|Pay it or update the payment method in Atlas>`,
    );
    expect(message.text).toBe(
      'Payment failed: the Atlas invoice of Acme (June 1 – June 30, 2024) is now FAILED (was CLOSED): $1,000.00 owed, suspended on Aug 1, 2024 unless paid.',
    );
  });

  it('counts a failure from the invoice’s last update when the poller gives no first-seen time', () => {
    const message = statusChange({ statusName: 'FAILED', updated: '2024-07-02T00:00:00Z' });

    expect(message.text).toContain('suspended on Aug 1, 2024 unless paid');
  });

  it('links the billing page of the configured Atlas only when it is Atlas itself', () => {
    const at = (atlasBaseUrl: string) =>
      JSON.stringify(statusChange({ statusName: 'FAILED' }, { atlasBaseUrl }).blocks);

    expect(at('https://cloud.mongodbgov.com')).toContain(
      `<https://cloud.mongodbgov.com/v2#/org/${ORG}/billing/overview|`,
    );
    expect(at('http://127.0.0.1:4010')).toContain(
      `<https://cloud.mongodb.com/v2#/org/${ORG}/billing/overview|`,
    );
  });

  it('says a forgiven invoice owes nothing and how much was forgiven', () => {
    const message = statusChange({ statusName: 'FORGIVEN', amountPaidCents: 0 }, { fromStatus: 'FAILED' });

    const all = JSON.stringify(message);
    expect(all).toContain('*$1,250.00 forgiven, nothing owed*');
    expect(all).not.toMatch(/\$[\d,.]+ owed|Owed \$/);
    expect(message.text).toContain('is now FORGIVEN (was FAILED): $1,250.00 forgiven, nothing owed.');
  });

  it('leads a paid invoice with what was paid and shows no zero amounts', () => {
    const message = statusChange({ statusName: 'PAID', amountPaidCents: 125_000 });

    const all = texts(message).map((t) => t.text);
    expect(all).toContain('*$1,250.00 paid* · June 1 – June 30, 2024 · CLOSED → *PAID*');
    expect(all).toContain('Paid $1,250.00 in full · billed = subtotal $1,200.00 + tax $50.00');
    expect(all.join('\n')).not.toContain('$0.00');
  });

  it('does not mark other statuses as urgent', () => {
    const message = statusChange({ statusName: 'PAID', amountPaidCents: 125_000 });

    expect(JSON.stringify(message)).not.toContain('rotating_light');
    expect(JSON.stringify(message)).not.toContain('suspended');
  });

  it('names a new invoice as a change from "new" and falls back to the organisation id', () => {
    const message = statusChange({ statusName: 'PENDING' }, { orgName: undefined, fromStatus: undefined });

    expect(JSON.stringify(message.blocks)).toContain('new → *PENDING*');
    expect(message.text).toContain(ORG);
  });

  it('escapes hostile organisation, project and SKU names and stays within Block Kit limits', () => {
    for (const name of [HOSTILE, LONG]) {
      const message = statusChange(
        { statusName: 'FAILED' },
        { orgName: name, fromStatus: '<!everyone>', summary: summary(name) },
      );

      expect(limitViolations(message)).toEqual([]);
      expect(strayControls(message)).toEqual([]);
    }
  });

  it('keeps non-ASCII names intact', () => {
    const message = statusChange(
      {},
      { orgName: 'Zürich 東京 🚀', fromStatus: 'PENDING', summary: summary('Zürich 東京 🚀') },
    );

    expect(message.text).toContain('Zürich 東京 🚀');
    expect(JSON.stringify(message.blocks)).toContain('Project 0 Zürich 東京 🚀');
  });

  it('shows an unknown future status as Atlas sent it, escaped', () => {
    const message = statusChange({ statusName: 'DISPUTED<x>' });

    expect(JSON.stringify(message.blocks)).toContain('CLOSED → *DISPUTED&lt;x&gt;*');
    expect(JSON.stringify(message.blocks)).toContain(
      'the status is new to this app, so check Atlas for what is owed',
    );
    expect(strayControls(message)).toEqual([]);
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
    expect(all).toContain(
      `March 1 – March 31, 2024: $99.00 owed, suspended on <!date^${Date.UTC(2024, 7, 1) / 1000}^{date_short_pretty}|Aug 1, 2024> unless paid (\`a00000000000000000000003\`)`,
    );
    expect(all).toMatch(/suspended.*locked/s);
    expect(all).toContain(`<https://cloud.mongodb.com/v2#/org/${ORG}/billing/overview|Pay it or update`);
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
    expect(strayControls(message)).toEqual([]);
    expect(JSON.stringify(message)).toContain('…and 30 more');
  });
});
