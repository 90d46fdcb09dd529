import type { CommandDeps } from '../../lib/command/use-case';
import type { SlackAccess } from '../../lib/config';
import type { Invoice } from '../../lib/invoices/invoice';
import type { InvoiceIndexEntry, InvoiceStateEntry, OrgState } from '../../lib/invoices/types';
import type { Logger } from '../../lib/log';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import {
  FakeAtlas,
  FakeChartLinks,
  FakeIndexStore,
  FakePresigner,
  FakeSpendStore,
  FakeStateStore,
} from '../support/fakes';

/** What the slash-command tests read and answer about; the ports' fakes are in test/support/fakes.ts. */
export const ORG_A = 'aaaaaaaaaaaaaaaaaaaaaaa1';
export const ORG_B = 'bbbbbbbbbbbbbbbbbbbbbbb2';
export const INVOICE_1 = '1111111111111111111111a1';
export const INVOICE_2 = '2222222222222222222222b2';
export const TEAM = 'T0ALLOWED';
export const CHANNEL = 'C0ALLOWED';
export const USER = 'U0ALLOWED';
export const NOW = Date.UTC(2024, 6, 10, 12, 0, 0);

export const openAccess: SlackAccess = {
  teamIds: new Set([TEAM]),
  channelIds: undefined,
  userIds: undefined,
};

export function indexEntry(overrides: Partial<InvoiceIndexEntry> = {}): InvoiceIndexEntry {
  const invoiceId = overrides.invoiceId ?? INVOICE_1;
  const orgId = overrides.orgId ?? ORG_A;
  return {
    version: 1,
    invoiceId,
    orgId,
    orgName: 'Acme & <Sons>',
    statusName: 'PAID',
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    updated: '2024-07-02T08:00:00Z',
    amounts: {
      subtotalCents: 123_456,
      creditsCents: 1_000,
      salesTaxCents: 9_876,
      startingBalanceCents: 2_000,
      amountBilledCents: 131_332,
      amountPaidCents: 100_000,
    },
    summary: {
      invoiceNumber: invoiceId,
      organizationName: 'Acme & <Sons>',
      organizationId: orgId,
      lineItemCount: 42,
      totalCents: 123_456,
      projects: [
        { name: 'Prod <!channel>', id: 'cccccccccccccccccccccccc', cents: 100_000 },
        { name: 'Staging', id: 'dddddddddddddddddddddddd', cents: 23_456 },
      ],
      projectCount: 2,
      skus: [
        { name: 'ATLAS_AWS_INSTANCE_M30', cents: 90_000 },
        { name: 'ATLAS_DATA_TRANSFER', cents: 33_456 },
      ],
      skuCount: 7,
      malformedRows: 0,
    },
    csv: { key: `atlas-invoices/${orgId}/2024-06/${invoiceId}.csv`, sha256: 'a'.repeat(64), bytes: 4_096 },
    archivedAt: '2024-07-02T09:00:00Z',
    ...overrides,
  };
}

export function stateEntry(overrides: Partial<InvoiceStateEntry> = {}): InvoiceStateEntry {
  return {
    statusName: 'PAID',
    updated: '2024-07-02T08:00:00Z',
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    amountBilledCents: 10_000,
    amountPaidCents: 10_000,
    archived: { statusName: 'PAID', updated: '2024-07-02T08:00:00Z', sha256: 'b'.repeat(64), key: 'k' },
    notifiedStatus: 'PAID',
    ...overrides,
  };
}

export function orgState(
  orgId: string,
  invoices: Record<string, InvoiceStateEntry>,
  orgName?: string,
): OrgState {
  return {
    version: 1,
    orgId,
    ...(orgName === undefined ? {} : { orgName }),
    watchingSince: '2024-01-01T00:00:00Z',
    lastPollAt: new Date(NOW - 20 * 60_000).toISOString(),
    invoices,
  };
}

export function atlasInvoice(overrides: Partial<Invoice> = {}): Invoice {
  return {
    id: INVOICE_2,
    orgId: ORG_B,
    statusName: 'CLOSED',
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    updated: '2024-07-01T05:00:00Z',
    subtotalCents: 5_000,
    salesTaxCents: 500,
    startingBalanceCents: 0,
    amountBilledCents: 5_500,
    amountPaidCents: 0,
    creditsCents: 0,
    lineItems: [
      {
        sku: 'ATLAS_AWS_INSTANCE_M10',
        groupId: 'eeeeeeeeeeeeeeeeeeeeeeee',
        groupName: 'Web & API',
        totalPriceCents: 4_000,
      },
      {
        sku: 'ATLAS_DATA_TRANSFER',
        groupId: 'eeeeeeeeeeeeeeeeeeeeeeee',
        groupName: 'Web & API',
        totalPriceCents: 1_000,
      },
    ],
    ...overrides,
  };
}

/** All the text a reply shows: fallback text plus every string inside its blocks. */
export function replyText(reply: { text: string; blocks?: readonly unknown[] }): string {
  const parts: string[] = [reply.text];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(reply.blocks ?? []);
  return parts.join('\n');
}

// Slack's official example from "Verifying requests from Slack".
export const SLACK_VECTOR = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
} as const;

/**
 * The use case's deps over the fakes of test/support: one archived invoice (`indexEntry()`), no state, ORG_A configured,
 * open access, the clock at NOW, a 100 ms Atlas deadline, and `log`; `overrides` replace any of them.
 */
export function commandDeps<L extends Logger>(
  log: L,
  overrides: Partial<CommandDeps> = {},
): CommandDeps & { log: L } {
  return {
    index: new FakeIndexStore([indexEntry()]),
    state: new FakeStateStore(),
    presigner: new FakePresigner(900, () => NOW),
    spend: new FakeSpendStore(),
    charts: new FakeChartLinks([], () => NOW),
    spendSettings: DEFAULT_SPEND_SETTINGS,
    atlas: new FakeAtlas(),
    orgIds: [ORG_A],
    access: openAccess,
    now: () => NOW,
    log,
    atlasDeadlineMs: 100,
    ...overrides,
  } as CommandDeps & { log: L };
}
