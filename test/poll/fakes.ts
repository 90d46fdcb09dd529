import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArchiveCsvInput, ArchiveCsvResult, CsvArchive } from '../../lib/archive/csv-archive';
import { csvKey, quarantineKey } from '../../lib/archive/keys';
import type { StoredState } from '../../lib/archive/ports';
import type { SpendStore, StoredSpend } from '../../lib/archive/spend-store';
import type { CsvDownload } from '../../lib/atlas/types';
import {
  ArchiveError,
  AtlasApiError,
  CorruptObjectError,
  SlackDeliveryError,
  StateConflictError,
} from '../../lib/errors';
import type { InvoiceMetadata } from '../../lib/invoices/invoice';
import type { CsvSummary, InvoiceIndexEntry, OrgState } from '../../lib/invoices/types';
import { silentLogger } from '../../lib/log';
import { type PollAtlas, type PollDeps, runPoll } from '../../lib/poll/run-poll';
import { NO_DEADLINE } from '../../lib/retry';
import type { SlackFileUpload } from '../../lib/slack/files';
import type { SlackMessage } from '../../lib/slack/notification-blocks';
import type { Notifier } from '../../lib/slack/notifier';
import type { SpendChartInput } from '../../lib/spend/chart/types';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import { decodeSpendRecord, encodeSpendRecord, type SpendRecord } from '../../lib/spend/spend-record';
import type { UsageSeries } from '../../lib/spend/usage-series';

/** In-memory stand-ins for the poll's ports, each recording what was asked of it. */
export const ORG_A = 'aaaaaaaaaaaaaaaaaaaaaaaa';
export const ORG_B = 'bbbbbbbbbbbbbbbbbbbbbbbb';

export function invoiceId(n: number): string {
  return `${String(n).padStart(24, '0')}`.replace(/^0/, 'c');
}

export function makeInvoice(
  orgId: string,
  n: number,
  statusName: string,
  updated: string,
  overrides: Partial<InvoiceMetadata> = {},
): InvoiceMetadata {
  const month = String(n).padStart(2, '0');
  const next = String(n + 1).padStart(2, '0');
  return {
    id: invoiceId(n),
    orgId,
    statusName,
    startDate: `2024-${month}-01T00:00:00Z`,
    endDate: n === 12 ? '2025-01-01T00:00:00Z' : `2024-${next}-01T00:00:00Z`,
    updated,
    amountBilledCents: 1000 * n,
    amountPaidCents: statusName === 'PAID' ? 1000 * n : 0,
    subtotalCents: 1000 * n,
    ...overrides,
  };
}

export class FakeAtlas implements PollAtlas {
  readonly invoices = new Map<string, InvoiceMetadata[]>();
  readonly csv = new Map<string, string>();
  readonly listCalls: string[] = [];
  readonly csvCalls: string[] = [];
  failList = new Set<string>();
  failCsv = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;

  set(orgId: string, invoices: InvoiceMetadata[]): void {
    this.invoices.set(orgId, invoices);
    for (const invoice of invoices) {
      if (!this.csv.has(invoice.id)) this.csv.set(invoice.id, csvFor(orgId, invoice.id, 'v1'));
    }
  }

  update(orgId: string, id: string, changes: Partial<InvoiceMetadata>, csvVersion?: string): void {
    const list = this.invoices.get(orgId) ?? [];
    this.invoices.set(
      orgId,
      list.map((invoice) => (invoice.id === id ? { ...invoice, ...changes } : invoice)),
    );
    if (csvVersion !== undefined) this.csv.set(id, csvFor(orgId, id, csvVersion));
  }

  async listInvoices(orgId: string): Promise<InvoiceMetadata[]> {
    this.listCalls.push(orgId);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight -= 1;
    if (this.failList.has(orgId)) {
      throw new AtlasApiError('Atlas answered 500', {
        status: 500,
        method: 'GET',
        path: `/orgs/${orgId}/invoices`,
      });
    }
    return [...(this.invoices.get(orgId) ?? [])];
  }

  async getInvoiceCsv(orgId: string, id: string): Promise<CsvDownload> {
    this.csvCalls.push(id);
    if (this.failCsv.has(id)) {
      throw new AtlasApiError('Atlas answered 503', {
        status: 503,
        method: 'GET',
        path: `/orgs/${orgId}/invoices/x/csv`,
      });
    }
    const bytes = Buffer.from(this.csv.get(id) ?? '');
    return { body: Readable.from([bytes]), contentLength: bytes.length };
  }
}

export function csvFor(orgId: string, id: string, version: string): string {
  return `Invoice Number,${id},\nOrganization Name,Org ${orgId.slice(0, 4)},\nversion,${version}\n`;
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export function fakeSummary(orgName: string): CsvSummary {
  return {
    organizationName: orgName,
    lineItemCount: 1,
    totalCents: 100,
    projects: [{ name: 'Project X', id: 'p1', cents: 100 }],
    projectCount: 1,
    skus: [{ name: 'SKU Y', cents: 100 }],
    skuCount: 1,
    malformedRows: 0,
  };
}

/** Content-addressed like the real archive: identical bytes are not written again. */
export class FakeArchive implements CsvArchive {
  readonly objects = new Map<string, { sha256: string; writes: number }>();
  readonly calls: string[] = [];
  writes = 0;
  failFor = new Set<string>();
  /** The usage series the inspector would read from an invoice's CSV, by invoice id (none by default). */
  readonly usage = new Map<string, UsageSeries>();
  constructor(readonly prefix = '') {}

  async archiveCsv(input: ArchiveCsvInput): Promise<ArchiveCsvResult> {
    const { invoice } = input;
    this.calls.push(invoice.id);
    const key = csvKey(this.prefix, input.orgId, invoice.startDate, invoice.id);
    const fromState = input.previous?.key === key ? input.previous.sha256 : undefined;
    const download = await input.openCsv();
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) chunks.push(Buffer.from(chunk));
    const bytes = Buffer.concat(chunks);
    if (this.failFor.has(invoice.id))
      throw new ArchiveError('S3 PutObject failed (InternalError)', 'Upload', key);
    const hash = sha256(bytes);
    const summary = fakeSummary(/Organization Name,([^,]*),/.exec(bytes.toString())?.[1] ?? '');
    const csv = { key, sha256: hash, bytes: bytes.length };
    const usage = this.usage.get(invoice.id);
    if (hash === fromState || hash === this.objects.get(key)?.sha256)
      return { outcome: 'identical', csv, summary, usage };
    this.writes += 1;
    this.objects.set(key, { sha256: hash, writes: (this.objects.get(key)?.writes ?? 0) + 1 });
    return { outcome: 'archived', csv, summary, usage };
  }
}

/** Conditional writes like S3: a stale or missing ETag loses with StateConflictError. */
export class FakeStateStore {
  readonly objects = new Map<string, StoredState>();
  /** State objects that exist but cannot be read (corrupt, or refused by the codec), by organisation. */
  readonly unreadable = new Map<string, { body: string; etag: string }>();
  /** Unreadable objects moved aside: quarantine key → body. */
  readonly quarantined = new Map<string, string>();
  reads = 0;
  writes = 0;
  /** The abort signal each call carried, as `method` → signals (undefined when none was passed). */
  readonly signals: { method: string; signal: AbortSignal | undefined }[] = [];
  private counter = 0;
  /** Runs just before a write is checked, e.g. to let "another run" save first. */
  beforeWrite: ((state: OrgState) => void) | undefined;
  failWrites = 0;

  async readState(orgId: string, signal?: AbortSignal): Promise<StoredState | undefined> {
    this.reads += 1;
    this.signals.push({ method: 'readState', signal });
    const unreadable = this.unreadable.get(orgId);
    if (unreadable !== undefined) {
      const key = `state/${orgId}.json`;
      throw new CorruptObjectError(`${key} is not valid JSON`, key, unreadable.etag);
    }
    const stored = this.objects.get(orgId);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  async writeState(state: OrgState, etag: string | undefined, signal?: AbortSignal): Promise<string> {
    this.signals.push({ method: 'writeState', signal });
    const hook = this.beforeWrite;
    this.beforeWrite = undefined;
    hook?.(state);
    if (this.failWrites > 0) {
      this.failWrites -= 1;
      throw new ArchiveError('S3 PutObject failed (InternalError)', 'PutObject', `state/${state.orgId}.json`);
    }
    const currentEtag = this.unreadable.get(state.orgId)?.etag ?? this.objects.get(state.orgId)?.etag;
    if ((etag === undefined && currentEtag !== undefined) || (etag !== undefined && currentEtag !== etag)) {
      throw new StateConflictError(`state/${state.orgId}.json`);
    }
    this.unreadable.delete(state.orgId);
    return this.put(state);
  }

  /** Hand-corrupt an organisation's state object, as an edit by hand would. */
  corrupt(orgId: string, body: string): void {
    this.counter += 1;
    this.objects.delete(orgId);
    this.unreadable.set(orgId, { body, etag: `"etag-${this.counter}"` });
  }

  /** Set to make the next quarantine fail as S3 would. */
  failQuarantine = false;

  async quarantineState(orgId: string, etag: string, at: Date, signal?: AbortSignal): Promise<string> {
    this.signals.push({ method: 'quarantineState', signal });
    if (this.failQuarantine) {
      throw new ArchiveError('S3 CopyObject failed (InternalError)', 'CopyObject', `state/${orgId}.json`);
    }
    const unreadable = this.unreadable.get(orgId);
    if (unreadable?.etag !== etag) throw new StateConflictError(`state/${orgId}.json`);
    const key = quarantineKey('', orgId, at);
    this.quarantined.set(key, unreadable.body);
    return key;
  }

  /** A write by someone else (another run), unconditional. */
  put(state: OrgState): string {
    this.writes += 1;
    this.counter += 1;
    const etag = `"etag-${this.counter}"`;
    this.objects.set(state.orgId, { state: structuredClone(state), etag });
    return etag;
  }

  state(orgId: string): OrgState {
    const stored = this.objects.get(orgId);
    if (stored === undefined) throw new Error(`no state for ${orgId}`);
    return stored.state;
  }
}

export class FakeIndexStore {
  readonly entries = new Map<string, InvoiceIndexEntry>();
  writes = 0;
  reads = 0;
  async readIndex(invoiceId: string): Promise<InvoiceIndexEntry | undefined> {
    this.reads += 1;
    return this.entries.get(invoiceId);
  }
  async writeIndex(entry: InvoiceIndexEntry): Promise<void> {
    this.writes += 1;
    this.entries.set(entry.invoiceId, entry);
  }
}

export class FakeNotifier implements Notifier {
  readonly posts: { orgId: string; message: SlackMessage }[] = [];
  readonly uploads: { orgId: string; image: SlackFileUpload }[] = [];
  /** Texts (substring) whose posts fail permanently. */
  failWhen: ((orgId: string, message: SlackMessage) => boolean) | undefined;
  async post(orgId: string, message: SlackMessage): Promise<void> {
    if (this.failWhen?.(orgId, message)) {
      throw new SlackDeliveryError(
        'Slack refused the message to channel C1 permanently: channel_not_found',
        'channel_not_found',
      );
    }
    this.posts.push({ orgId, message });
  }
  async uploadImage(orgId: string, image: SlackFileUpload): Promise<string> {
    this.uploads.push({ orgId, image });
    return `F0FAKE${String(this.uploads.length).padStart(4, '0')}`;
  }
  async postWithImage(orgId: string, message: SlackMessage): Promise<void> {
    await this.post(orgId, message);
  }
  texts(): string[] {
    return this.posts.map((post) => post.message.text);
  }
}

/** Spend records by `{orgId}/{month}`, with conditional writes like S3; charts by the same key. */
export class FakeSpendStore implements SpendStore {
  readonly records = new Map<string, { text: string; etag: string }>();
  readonly charts = new Map<string, Uint8Array>();
  reads = 0;
  writes = 0;
  private counter = 0;
  async readSpend(orgId: string, month: string): Promise<StoredSpend | undefined> {
    this.reads += 1;
    const stored = this.records.get(`${orgId}/${month}`);
    if (stored === undefined) return undefined;
    return { record: decodeSpendRecord(stored.text), etag: stored.etag };
  }
  async writeSpend(record: SpendRecord, month: string, etag: string | undefined): Promise<string> {
    const key = `${record.orgId}/${month}`;
    const current = this.records.get(key)?.etag;
    if (current !== etag) throw new StateConflictError(`spend/${key}.json`);
    this.writes += 1;
    this.counter += 1;
    const written = `"spend-${this.counter}"`;
    this.records.set(key, { text: encodeSpendRecord(record), etag: written });
    return written;
  }
  async writeChart(orgId: string, month: string, png: Uint8Array): Promise<string> {
    this.charts.set(`${orgId}/${month}`, png);
    return `spend/${orgId}/${month}.png`;
  }
}

/** A chart renderer that records what it was asked to draw. */
export function fakeChartRenderer() {
  const drawn: SpendChartInput[] = [];
  return {
    drawn,
    render: async (input: SpendChartInput) => {
      drawn.push(input);
      return new Uint8Array([0x89, 0x50, 0x4e, 0x47, drawn.length]);
    },
  };
}

export interface Harness {
  atlas: FakeAtlas;
  archive: FakeArchive;
  stateStore: FakeStateStore;
  indexStore: FakeIndexStore;
  spendStore: FakeSpendStore;
  notifier: FakeNotifier;
  charts: ReturnType<typeof fakeChartRenderer>;
  deps(overrides?: Partial<PollDeps>): PollDeps;
}

export function createHarness(orgIds: readonly string[] = [ORG_A]): Harness {
  const harness = {
    atlas: new FakeAtlas(),
    archive: new FakeArchive(),
    stateStore: new FakeStateStore(),
    indexStore: new FakeIndexStore(),
    spendStore: new FakeSpendStore(),
    notifier: new FakeNotifier(),
    charts: fakeChartRenderer(),
    deps(overrides: Partial<PollDeps> = {}): PollDeps {
      return {
        atlas: harness.atlas,
        archive: harness.archive,
        stateStore: harness.stateStore,
        indexStore: harness.indexStore,
        spendStore: harness.spendStore,
        spend: DEFAULT_SPEND_SETTINGS,
        renderChart: harness.charts.render,
        notifier: harness.notifier,
        log: silentLogger,
        now: () => new Date('2024-07-02T12:00:00Z'),
        deadline: NO_DEADLINE,
        orgIds,
        concurrency: 2,
        topN: 5,
        ...overrides,
      };
    },
  };
  return harness;
}

/**
 * Organisations with history (invoice 1 PAID, 2 CLOSED, 3 PENDING, all updated 2024-07-01), already polled once:
 * state saved, "now watching" sent; the records of that first run are then cleared.
 */
export async function watchedOrg(orgIds: readonly string[] = [ORG_A]): Promise<Harness> {
  const h = createHarness(orgIds);
  for (const orgId of orgIds) {
    h.atlas.set(orgId, [
      makeInvoice(orgId, 1, 'PAID', WATCHED_AT),
      makeInvoice(orgId, 2, 'CLOSED', WATCHED_AT),
      makeInvoice(orgId, 3, 'PENDING', WATCHED_AT),
    ]);
  }
  await runPoll(h.deps());
  h.notifier.posts.length = 0;
  h.atlas.csvCalls.length = 0;
  h.archive.calls.length = 0;
  h.archive.writes = 0;
  return h;
}

const WATCHED_AT = '2024-07-01T00:00:00Z';
