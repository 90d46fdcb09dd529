import { describe, expect, it } from 'vitest';
import type { InputProblem } from '../../lib/command/parse';
import * as replies from '../../lib/command/replies';
import { INVOICE_STATUSES, type InvoiceMetadata } from '../../lib/invoices/invoice';
import type { CsvSummary } from '../../lib/invoices/types';
import * as notifications from '../../lib/slack/notification-blocks';
import { atlasInvoice, indexEntry, NOW, ORG_A, stateEntry } from '../command/fixtures';
import { limitViolations, type SlackPayload, strayControls } from './block-kit-checks';

// Every reply and notification builder, called with representative and hostile inputs: no mrkdwn it produces holds a
// `<`, `>` or bare `&` other than this project's own Slack tokens (dates and links it builds on purpose), and every
// payload stays within Block Kit's limits. A builder added without a case here fails the first test.
const HOSTILE = '<!channel> Tom & Jerry > <@U123|x> <https://evil.example|click> `code` *bold* <invoice id>';
const LONG = `${'Ωmega ☃ 東京 <!here> '.repeat(200)}`;
const NAMES = ['Acme Corp', HOSTILE, LONG];
const STATUSES = [...INVOICE_STATUSES, 'DISPUTED', '<!here>'];
const COMMANDS = ['/invoice', '/bills', '/<!channel>'];
const LINK = {
  url: `https://bucket.s3.amazonaws.com/k.csv?X-Amz-Signature=${'a'.repeat(64)}`,
  expiresAt: NOW + 900_000,
};

function summary(name: string): CsvSummary {
  const lines = Array.from({ length: 5 }, (_, i) => ({ name: `${name} ${i}`, cents: 10_000 - i }));
  return {
    ...indexEntry().summary,
    organizationName: name,
    projects: lines,
    skus: lines,
    projectCount: 9,
    skuCount: 9,
  };
}

function invoice(statusName: string, overrides: Partial<InvoiceMetadata> = {}): InvoiceMetadata {
  return {
    id: '6a0000000000000000000002',
    orgId: ORG_A,
    statusName,
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    updated: '2024-07-02T00:00:00Z',
    subtotalCents: 120_000,
    salesTaxCents: 5_000,
    startingBalanceCents: 1_000,
    creditsCents: 2_000,
    amountBilledCents: 124_000,
    amountPaidCents: 25_000,
    ...overrides,
  };
}

const problems = (excerpt: string): InputProblem[] => [
  { kind: 'too-long', length: 500 },
  { kind: 'not-ascii', excerpt },
  { kind: 'malformed-id', excerpt },
  { kind: 'malformed-org-id', excerpt },
  { kind: 'unknown-subcommand', excerpt },
  ...['invoice', 'latest', 'list', 'pending', 'help', HOSTILE].map(
    (usage): InputProblem => ({ kind: 'extra-words', usage, excerpt }),
  ),
  { kind: 'bad-count', excerpt },
];

const rows = (name: string) =>
  STATUSES.map((statusName, i) => ({
    orgId: ORG_A,
    orgName: name,
    invoiceId: i.toString(16).padStart(24, '0'),
    entry: stateEntry({ statusName, ...(i % 2 === 0 ? { archived: undefined } : {}) }),
  }));

/** Organisations of a spend answer: every name above, one without a name, and more than the ten listed. */
const spendOrgs = () => [
  ...NAMES.map((orgName) => ({ orgId: ORG_A, orgName })),
  ...Array.from({ length: 10 }, () => ({ orgId: ORG_A, orgName: undefined })),
];

/** Each builder's outputs over the inputs above, by the builder's exported name. */
const CASES: Record<string, () => SlackPayload[]> = {
  helpReply: () => COMMANDS.map((c) => replies.helpReply(c, 'in_channel')),
  refusalReply: () => [replies.refusalReply()],
  problemReply: () =>
    COMMANDS.flatMap((c) =>
      [...problems('frobnicate'), ...problems(HOSTILE)].map((p) => replies.problemReply(c, p)),
    ),
  archivedInvoiceReply: () =>
    NAMES.flatMap((name) =>
      STATUSES.map((statusName) =>
        replies.archivedInvoiceReply({
          entry: indexEntry({ orgName: name, statusName, summary: summary(name) }),
          link: LINK,
          fileName: 'atlas-invoice-2024-06-1111111111111111111111a1.csv',
          now: NOW,
          visibility: 'ephemeral',
          atlasBaseUrl: 'https://cloud.mongodb.com',
        }),
      ),
    ),
  atlasInvoiceReply: () =>
    NAMES.flatMap((name) =>
      STATUSES.map((statusName) =>
        replies.atlasInvoiceReply({
          invoiceId: '2222222222222222222222b2',
          orgId: ORG_A,
          orgName: name,
          invoice: atlasInvoice({ statusName }),
          summary: summary(name),
          nextPollAt: NOW + 600_000,
          visibility: 'ephemeral',
          command: '/<!channel>',
          now: NOW,
          atlasBaseUrl: 'http://127.0.0.1:4010',
        }),
      ),
    ),
  atlasSlowReply: () => [
    replies.atlasSlowReply(HOSTILE, NOW),
    replies.atlasSlowReply('1'.repeat(24), undefined),
  ],
  atlasUnavailableReply: () => [replies.atlasUnavailableReply(HOSTILE, NOW)],
  unknownInvoiceReply: () => COMMANDS.map((c) => replies.unknownInvoiceReply(HOSTILE, 2, c)),
  unwatchedOrgReply: () => [replies.unwatchedOrgReply(HOSTILE)],
  archiveUnavailableReply: () => [replies.archiveUnavailableReply()],
  internalErrorReply: () => [replies.internalErrorReply()],
  invoiceListReply: () =>
    NAMES.flatMap((name) =>
      COMMANDS.map((command) =>
        replies.invoiceListReply({
          title: 'Latest Atlas invoices',
          rows: rows(name),
          empty: 'No invoice is recorded yet.',
          notes: ['1 organisation not polled yet.'],
          visibility: 'ephemeral',
          command,
        }),
      ),
    ),
  pendingReply: () =>
    NAMES.map((name) =>
      replies.pendingReply({
        current: rows(name),
        awaiting: [],
        notes: [],
        visibility: 'ephemeral',
        command: '/x',
      }),
    ),
  downloadLinkReply: () =>
    NAMES.flatMap((name) =>
      STATUSES.map((statusName) =>
        replies.downloadLinkReply({
          entry: indexEntry({ orgName: name, statusName }),
          link: LINK,
          fileName: 'f.csv',
          now: NOW,
        }),
      ),
    ),
  spendNotRecordedReply: () =>
    COMMANDS.flatMap((command) =>
      [undefined, NOW + 600_000].map((nextPollAt) =>
        replies.spendNotRecordedReply({ orgs: spendOrgs(), nextPollAt, command }),
      ),
    ),
  spendUnreadableReply: () => [replies.spendUnreadableReply(spendOrgs())],
  staleButtonReply: () => [replies.staleButtonReply()],
  notArchivedButtonReply: () => [replies.notArchivedButtonReply(HOSTILE)],
  buttonErrorReply: () => [replies.buttonErrorReply(replies.refusalReply())],
  buildStatusChangeMessage: () =>
    NAMES.flatMap((name) =>
      STATUSES.flatMap((statusName) =>
        [undefined, 'PENDING', HOSTILE].map((fromStatus) =>
          notifications.buildStatusChangeMessage({
            orgId: ORG_A,
            orgName: name,
            invoice: invoice(statusName),
            fromStatus,
            summary: summary(name),
            failedSince: '2024-07-02T06:00:00Z',
            atlasBaseUrl: 'https://cloud.mongodb.com',
          }),
        ),
      ),
    ),
  buildWatchingMessage: () =>
    NAMES.map((name) =>
      notifications.buildWatchingMessage({
        orgId: ORG_A,
        orgName: name,
        invoices: STATUSES.flatMap((statusName, i) =>
          Array.from({ length: 3 }, (_, j) => invoice(statusName, { id: `${i}${j}`.padStart(24, 'b') })),
        ),
        archivedCount: 3,
      }),
    ),
};

describe('every reply and notification builder', () => {
  it('has cases here', () => {
    const builders = [
      ...Object.entries(replies).filter(
        ([name, value]) => typeof value === 'function' && name.endsWith('Reply'),
      ),
      ...Object.entries(notifications).filter(
        ([name, value]) => typeof value === 'function' && name.startsWith('build'),
      ),
    ].map(([name]) => name);

    expect(Object.keys(CASES).sort()).toEqual(builders.sort());
  });

  it.each(Object.keys(CASES))('%s writes no Slack control characters but its own tokens', (name) => {
    const payloads = CASES[name]?.() ?? [];

    expect(payloads.length).toBeGreaterThan(0);
    for (const payload of payloads) expect(strayControls(payload)).toEqual([]);
  });

  it.each(Object.keys(CASES))('%s stays within Block Kit limits', (name) => {
    for (const payload of CASES[name]?.() ?? []) expect(limitViolations(payload)).toEqual([]);
  });

  it('still writes its own tokens: dates and the billing link of a failed payment', () => {
    const [failed] = (CASES.buildStatusChangeMessage?.() ?? []).filter((m) =>
      m.text.startsWith('Payment failed'),
    );
    const all = JSON.stringify(failed);

    expect(all).toContain('<!date^');
    expect(all).toContain(`<https://cloud.mongodb.com/v2#/org/${ORG_A}/billing/overview|`);
  });
});
