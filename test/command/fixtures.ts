import type { CsvLinkPresigner, IndexReader, StateReader, StoredState } from '../../lib/archive/ports';
import type { SpendReader, StoredSpend } from '../../lib/archive/spend-store';
import type { AtlasInvoiceApi } from '../../lib/atlas/types';
import type { SpendChartLinks } from '../../lib/command/chart-links';
import type { CommandDeps } from '../../lib/command/use-case';
import type { SlackAccess } from '../../lib/config';
import { AtlasApiError } from '../../lib/errors';
import type { Invoice } from '../../lib/invoices/invoice';
import type { InvoiceIndexEntry, InvoiceStateEntry, OrgState } from '../../lib/invoices/types';
import { createLogger, type Logger } from '../../lib/log';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import type { SpendRecord } from '../../lib/spend/spend-record';

/** Shared fakes for the slash-command tests: in-memory ports, no network. */
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

export function fakeIndex(entries: readonly InvoiceIndexEntry[] = []): IndexReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async readIndex(invoiceId) {
      reads.push(invoiceId);
      return entries.find((e) => e.invoiceId === invoiceId);
    },
  };
}

export function fakeState(states: readonly OrgState[] = []): StateReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async readState(orgId): Promise<StoredState | undefined> {
      reads.push(orgId);
      const state = states.find((s) => s.orgId === orgId);
      return state === undefined ? undefined : { state, etag: '"etag"' };
    },
  };
}

/**
 * Spend records by `{orgId}/{YYYY-MM}`; a value that is an Error is thrown by the read (an unreadable record).
 * `reads` lists the keys asked for, in order.
 */
export function fakeSpend(
  records: Record<string, SpendRecord | Error> = {},
): SpendReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async readSpend(orgId, month): Promise<StoredSpend | undefined> {
      const key = `${orgId}/${month}`;
      reads.push(key);
      const found = records[key];
      if (found instanceof Error) throw found;
      return found === undefined ? undefined : { record: found, etag: '"spend-etag"' };
    },
  };
}

/** Charts that exist, as `{orgId}/{YYYY-MM}`; links look like presigned S3 URLs of the chart key. */
export function fakeChartLinks(
  existing: readonly string[] = [],
  now = () => NOW,
): SpendChartLinks & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async linkChart(orgId, month) {
      lookups.push(`${orgId}/${month}`);
      if (!existing.includes(`${orgId}/${month}`)) return undefined;
      return {
        url: `https://bucket.s3.amazonaws.com/atlas-invoices/spend/${orgId}/${month}.png?X-Amz-Signature=abc`,
        expiresAt: now() + 900_000,
      };
    },
  };
}

export function fakePresigner(ttlSeconds = 900, now = () => NOW): CsvLinkPresigner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async presignCsv(key, fileName) {
      calls.push([key, fileName]);
      return {
        url: `https://bucket.s3.amazonaws.com/${key}?X-Amz-Signature=abc&response-content-disposition=${fileName}`,
        expiresAt: now() + ttlSeconds * 1000,
      };
    },
  };
}

export function notFound(orgId: string, invoiceId: string): AtlasApiError {
  return new AtlasApiError(`invoice ${invoiceId} not found`, {
    status: 404,
    errorCode: 'RESOURCE_NOT_FOUND',
    method: 'GET',
    path: `/api/atlas/v2/orgs/${orgId}/invoices/${invoiceId}`,
  });
}

/** An Atlas port whose getInvoice answers per organisation from `byOrg` (a function may delay or throw). */
export function fakeAtlas(
  byOrg: Record<string, (invoiceId: string, signal?: AbortSignal) => Promise<Invoice>>,
): AtlasInvoiceApi & { calls: string[] } {
  const calls: string[] = [];
  const unused = async (): Promise<never> => {
    throw new Error('not used by the slash command');
  };
  return {
    calls,
    listInvoices: unused,
    getPendingInvoices: unused,
    getInvoiceCsv: unused,
    async getInvoice(orgId, invoiceId, options) {
      calls.push(`${orgId}/${invoiceId}`);
      const answer = byOrg[orgId];
      if (answer === undefined) throw notFound(orgId, invoiceId);
      return answer(invoiceId, options?.signal);
    },
  };
}

/** Never settles until its signal aborts (then rejects as the real client does). */
export function hangUntilAborted(signal?: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
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

/** A logger that keeps its lines, to assert what was (and was not) logged. */
export function recordingLogger(redact: readonly string[] = []): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (line) => lines.push(line), redact });
  return Object.assign(log, { lines });
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
 * The use case's deps over the fakes above: one archived invoice (`indexEntry()`), no state, ORG_A configured,
 * open access, the clock at NOW, a 100 ms Atlas deadline, and `log`; `overrides` replace any of them.
 */
export function commandDeps<L extends Logger>(
  log: L,
  overrides: Partial<CommandDeps> = {},
): CommandDeps & { log: L } {
  return {
    index: fakeIndex([indexEntry()]),
    state: fakeState([]),
    presigner: fakePresigner(),
    spend: fakeSpend(),
    charts: fakeChartLinks(),
    spendSettings: DEFAULT_SPEND_SETTINGS,
    atlas: fakeAtlas({}),
    orgIds: [ORG_A],
    access: openAccess,
    now: () => NOW,
    log,
    atlasDeadlineMs: 100,
    ...overrides,
  } as CommandDeps & { log: L };
}
