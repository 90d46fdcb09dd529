import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArchiveCsvInput, ArchiveCsvResult, CsvArchive } from '../../lib/archive/csv-archive';
import { csvKey, quarantineKey } from '../../lib/archive/keys';
import type {
  CsvLinkPresigner,
  IndexReader,
  IndexWriter,
  PresignedLink,
  StateQuarantine,
  StateReader,
  StateWriter,
  StoredState,
} from '../../lib/archive/ports';
import type { SpendStore, StoredSpend } from '../../lib/archive/spend-store';
import type { AtlasInvoiceApi, CsvDownload } from '../../lib/atlas/types';
import type { SpendChartLinks } from '../../lib/command/chart-links';
import type { SpendChartReader } from '../../lib/digest/chart-reader';
import {
  ArchiveError,
  AtlasApiError,
  CorruptObjectError,
  SlackDeliveryError,
  StateConflictError,
} from '../../lib/errors';
import type { Invoice, InvoiceMetadata } from '../../lib/invoices/invoice';
import type { CsvSummary, InvoiceIndexEntry, OrgState } from '../../lib/invoices/types';
import { createLogger, type Logger, type LogLevel } from '../../lib/log';
import type { SecretReader } from '../../lib/secrets';
import type { SlackFileUpload } from '../../lib/slack/files';
import type { SlackMessage } from '../../lib/slack/notification-blocks';
import type { Notifier } from '../../lib/slack/notifier';
import type { SpendChartInput } from '../../lib/spend/chart/types';
import { decodeSpendRecord, encodeSpendRecord, type SpendRecord } from '../../lib/spend/spend-record';
import type { UsageSeries } from '../../lib/spend/usage-series';

/**
 * The one set of in-memory fakes for the use cases' ports (lib/archive/ports.ts, the stores, the Atlas client, the
 * notifier, the presigners, the secret reader, the logger). Conventions, the same for every fake:
 * - a class, seeded through its constructor, whose fields tests may change between calls (`failList`, `beforeWrite`);
 * - `reads` lists what was read, in order (ids or `{orgId}/{YYYY-MM}` keys); `writes` counts writes; `calls` lists
 *   other requests;
 * - a failure looks like the real adapter's: the same error class, a key and an S3 or Slack code, never a credential;
 * - conditional writes behave as S3's: a stale or missing ETag loses with StateConflictError.
 */

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A logger that keeps every line: `lines` as written, `records` parsed. Level `debug` unless told otherwise. */
export function recordingLogger(
  options: { readonly redact?: readonly string[]; readonly level?: LogLevel } = {},
): Logger & { readonly lines: string[]; readonly records: Record<string, unknown>[] } {
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  const log = createLogger({
    level: options.level ?? 'debug',
    redact: options.redact ?? [],
    write: (line) => {
      lines.push(line);
      records.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return Object.assign(log, { lines, records });
}

/** Secrets by id, as Secrets Manager would hold them; an unknown id fails as a missing secret would. */
export class FakeSecrets implements SecretReader {
  readonly values: Map<string, string>;
  readonly reads: string[] = [];
  constructor(values: Record<string, string> = {}) {
    this.values = new Map(Object.entries(values));
  }
  async readSecretString(secretId: string): Promise<string> {
    this.reads.push(secretId);
    const value = this.values.get(secretId);
    if (value === undefined) throw new Error(`no secret ${secretId} in this test`);
    return value;
  }
}

/** What Atlas answers for an invoice that does not exist (or belongs to another organisation). */
export function notFound(orgId: string, invoiceId: string): AtlasApiError {
  return new AtlasApiError(`invoice ${invoiceId} not found`, {
    status: 404,
    errorCode: 'RESOURCE_NOT_FOUND',
    method: 'GET',
    path: `/api/atlas/v2/orgs/${orgId}/invoices/${invoiceId}`,
  });
}

/** The CSV the fake Atlas serves for an invoice: its id, an organisation name, and a version to tell edits apart. */
export function csvFor(orgId: string, id: string, version: string): string {
  return `Invoice Number,${id},\nOrganization Name,Org ${orgId.slice(0, 4)},\nversion,${version}\n`;
}

/** Answers `getInvoice` for one organisation (it may delay, hang until `signal` aborts, or throw). */
export type InvoiceAnswer = (invoiceId: string, signal?: AbortSignal) => Promise<Invoice>;

/**
 * Atlas as the poll and the slash command see it. Listing and CSVs come from `set`/`update` (each listed invoice gets
 * a `csvFor` CSV, version `v1`); `getInvoice` answers per organisation from `answers`, and 404s for any other.
 */
export class FakeAtlas implements AtlasInvoiceApi {
  readonly invoices = new Map<string, InvoiceMetadata[]>();
  readonly csv = new Map<string, string>();
  readonly listCalls: string[] = [];
  readonly csvCalls: string[] = [];
  /** `getInvoice` requests, as `{orgId}/{invoiceId}`. */
  readonly calls: string[] = [];
  failList = new Set<string>();
  failCsv = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly answers: Record<string, InvoiceAnswer> = {}) {}

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

  async getInvoice(orgId: string, invoiceId: string, options?: { signal?: AbortSignal }): Promise<Invoice> {
    this.calls.push(`${orgId}/${invoiceId}`);
    const answer = this.answers[orgId];
    if (answer === undefined) throw notFound(orgId, invoiceId);
    return answer(invoiceId, options?.signal);
  }

  async getPendingInvoices(): Promise<never> {
    throw new Error('getPendingInvoices is not faked');
  }
}

/** Never settles until its signal aborts (then rejects as the real client does). */
export function hangUntilAborted(signal?: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
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
  /** Invoice ids asked to be archived, in order. */
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

/** Organisation state objects, seeded with `states`; conditional writes like S3's. */
export class FakeStateStore implements StateReader, StateWriter, StateQuarantine {
  readonly objects = new Map<string, StoredState>();
  /** State objects that exist but cannot be read (corrupt, or refused by the codec), by organisation. */
  readonly unreadable = new Map<string, { body: string; etag: string }>();
  /** Unreadable objects moved aside: quarantine key → body. */
  readonly quarantined = new Map<string, string>();
  /** Organisations whose state was read, in order. */
  readonly reads: string[] = [];
  writes = 0;
  /** The abort signal each call carried, as `method` → signals (undefined when none was passed). */
  readonly signals: { method: string; signal: AbortSignal | undefined }[] = [];
  private counter = 0;
  /** Runs just before a write is checked, e.g. to let "another run" save first. */
  beforeWrite: ((state: OrgState) => void) | undefined;
  failWrites = 0;
  /** Set to make the next quarantine fail as S3 would. */
  failQuarantine = false;
  /** The error a read of an organisation's state throws (S3 failing), if any. */
  failReads: ((orgId: string) => Error | undefined) | undefined;

  constructor(states: readonly OrgState[] = []) {
    for (const state of states) this.objects.set(state.orgId, { state, etag: this.nextEtag() });
  }

  async readState(orgId: string, signal?: AbortSignal): Promise<StoredState | undefined> {
    this.reads.push(orgId);
    this.signals.push({ method: 'readState', signal });
    const failure = this.failReads?.(orgId);
    if (failure !== undefined) throw failure;
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
    this.objects.delete(orgId);
    this.unreadable.set(orgId, { body, etag: this.nextEtag() });
  }

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
    const etag = this.nextEtag();
    this.objects.set(state.orgId, { state: structuredClone(state), etag });
    return etag;
  }

  state(orgId: string): OrgState {
    const stored = this.objects.get(orgId);
    if (stored === undefined) throw new Error(`no state for ${orgId}`);
    return stored.state;
  }

  private nextEtag(): string {
    this.counter += 1;
    return `"etag-${this.counter}"`;
  }
}

/** Invoice index entries, seeded with `entries`. */
export class FakeIndexStore implements IndexReader, IndexWriter {
  readonly entries = new Map<string, InvoiceIndexEntry>();
  /** Invoice ids looked up, in order. */
  readonly reads: string[] = [];
  writes = 0;
  /** The error a look-up throws (S3 failing), if any. */
  failReads: ((invoiceId: string) => Error | undefined) | undefined;
  constructor(entries: readonly InvoiceIndexEntry[] = []) {
    for (const entry of entries) this.entries.set(entry.invoiceId, entry);
  }
  async readIndex(invoiceId: string): Promise<InvoiceIndexEntry | undefined> {
    this.reads.push(invoiceId);
    const failure = this.failReads?.(invoiceId);
    if (failure !== undefined) throw failure;
    return this.entries.get(invoiceId);
  }
  async writeIndex(entry: InvoiceIndexEntry): Promise<void> {
    this.writes += 1;
    this.entries.set(entry.invoiceId, entry);
  }
}

/**
 * Spend records by `{orgId}/{YYYY-MM}`, kept as the codec encodes them (so a record the codec would refuse fails here
 * too), seeded with `records`: a seeded Error is thrown by the read, as an unreadable record's. Conditional writes
 * like S3's; charts by the same key.
 */
export class FakeSpendStore implements SpendStore {
  readonly records = new Map<string, { text: string; etag: string }>();
  readonly unreadable = new Map<string, Error>();
  readonly charts = new Map<string, Uint8Array>();
  /** Keys read, in order. */
  readonly reads: string[] = [];
  writes = 0;
  private counter = 0;
  constructor(records: Readonly<Record<string, SpendRecord | Error>> = {}) {
    for (const [key, record] of Object.entries(records)) {
      if (record instanceof Error) this.unreadable.set(key, record);
      else this.records.set(key, { text: encodeSpendRecord(record), etag: this.nextEtag() });
    }
  }
  async readSpend(orgId: string, month: string): Promise<StoredSpend | undefined> {
    const key = `${orgId}/${month}`;
    this.reads.push(key);
    const unreadable = this.unreadable.get(key);
    if (unreadable !== undefined) throw unreadable;
    const stored = this.records.get(key);
    if (stored === undefined) return undefined;
    return { record: decodeSpendRecord(stored.text), etag: stored.etag };
  }
  async writeSpend(record: SpendRecord, month: string, etag: string | undefined): Promise<string> {
    const key = `${record.orgId}/${month}`;
    const current = this.records.get(key)?.etag;
    if (current !== etag) throw new StateConflictError(`spend/${key}.json`);
    this.writes += 1;
    const written = this.nextEtag();
    this.records.set(key, { text: encodeSpendRecord(record), etag: written });
    return written;
  }
  async writeChart(orgId: string, month: string, png: Uint8Array): Promise<string> {
    this.charts.set(`${orgId}/${month}`, png);
    return `spend/${orgId}/${month}.png`;
  }
  private nextEtag(): string {
    this.counter += 1;
    return `"spend-${this.counter}"`;
  }
}

/** Stored chart PNGs as the digest reads them: `png` for every organisation and month. */
export class FakeChartReader implements SpendChartReader {
  /** Keys read, in order. */
  readonly reads: string[] = [];
  constructor(private readonly png: Uint8Array) {}
  async readChart(orgId: string, month: string): Promise<Uint8Array> {
    this.reads.push(`${orgId}/${month}`);
    return this.png;
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

/** Links that look like presigned S3 URLs of the key, expiring `ttlSeconds` after `now()`. */
export class FakePresigner implements CsvLinkPresigner {
  /** `[key, fileName]` of each link signed. */
  readonly calls: string[][] = [];
  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number,
  ) {}
  async presignCsv(key: string, fileName: string): Promise<PresignedLink> {
    this.calls.push([key, fileName]);
    return {
      url: `https://bucket.s3.amazonaws.com/${key}?X-Amz-Signature=abc&response-content-disposition=${fileName}`,
      expiresAt: this.now() + this.ttlSeconds * 1000,
    };
  }
}

/** Charts that exist, as `{orgId}/{YYYY-MM}`; links look like presigned S3 URLs of the chart key. */
export class FakeChartLinks implements SpendChartLinks {
  /** Keys looked up, in order. */
  readonly lookups: string[] = [];
  constructor(
    private readonly existing: readonly string[],
    private readonly now: () => number,
  ) {}
  async linkChart(orgId: string, month: string): Promise<PresignedLink | undefined> {
    this.lookups.push(`${orgId}/${month}`);
    if (!this.existing.includes(`${orgId}/${month}`)) return undefined;
    return {
      url: `https://bucket.s3.amazonaws.com/atlas-invoices/spend/${orgId}/${month}.png?X-Amz-Signature=abc`,
      expiresAt: this.now() + 900_000,
    };
  }
}

/** Keeps every message and picture; `failWhen` makes a post fail as a permanent Slack refusal. */
export class FakeNotifier implements Notifier {
  readonly posts: { orgId: string; message: SlackMessage }[] = [];
  readonly uploads: { orgId: string; image: SlackFileUpload }[] = [];
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
