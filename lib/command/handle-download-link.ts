import { csvFileName } from '../archive/keys';
import type { CsvLinkPresigner, IndexReader } from '../archive/ports';
import type { SlackAccess } from '../config';
import { describeError } from '../errors';
import type { Logger } from '../log';
import { isAllowed, type SlackRequester } from './access';
import {
  archiveUnavailableReply,
  buttonErrorReply,
  downloadLinkReply,
  notArchivedButtonReply,
  refusalReply,
  type SlackReply,
  staleButtonReply,
} from './replies';

export { DOWNLOAD_LINK_ACTION_ID } from '../slack/invoice-blocks';

export interface DownloadLinkDeps {
  readonly index: IndexReader;
  readonly presigner: CsvLinkPresigner;
  /** The watched organisations; invoices of any other organisation are treated as unknown. */
  readonly orgIds: readonly string[];
  readonly access: SlackAccess;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly log: Logger;
  /** Milliseconds for the index read (default 2,000). */
  readonly readTimeoutMs?: number | undefined;
}

export interface DownloadLinkInput extends SlackRequester {
  /** The button's value exactly as Slack sent it back (untrusted: anyone can forge a payload's value field). */
  readonly value: string | undefined;
}

const VALUE = /^([a-f0-9]{24}):([a-f0-9]{24})$/;

/**
 * "Get download link": a fresh presigned link to an archived CSV, because links pasted into channel messages would
 * have expired by the time someone clicks. The answer is always ephemeral and never replaces the channel message.
 * Expected failures become short answers; anything unexpected is thrown for the listener.
 */
export async function handleDownloadLink(
  deps: DownloadLinkDeps,
  input: DownloadLinkInput,
): Promise<SlackReply> {
  if (!isAllowed(deps.access, input)) return buttonErrorReply(refusalReply());
  const match = VALUE.exec(input.value ?? '');
  const orgId = match?.[1];
  const invoiceId = match?.[2];
  if (orgId === undefined || invoiceId === undefined || !deps.orgIds.includes(orgId))
    return staleButtonReply();
  let entry: Awaited<ReturnType<IndexReader['readIndex']>>;
  try {
    entry = await deps.index.readIndex(invoiceId, AbortSignal.timeout(deps.readTimeoutMs ?? 2_000));
  } catch (error) {
    deps.log.error('reading the invoice index failed', { invoiceId, error: describeError(error) });
    return buttonErrorReply(archiveUnavailableReply());
  }
  if (entry === undefined) return notArchivedButtonReply(invoiceId);
  if (entry.orgId !== orgId || entry.invoiceId !== invoiceId) return staleButtonReply();
  const fileName = csvFileName(entry.startDate, entry.invoiceId);
  const link = await deps.presigner.presignCsv(entry.csv.key, fileName);
  return downloadLinkReply({ entry, link, fileName, now: deps.now() });
}
