import { request } from 'undici';
import { DeadlineError, SlackDeliveryError } from '../errors';
import { type Deadline, NO_DEADLINE, sleep } from '../retry';
import type { Block } from './invoice-blocks';
import { plainText } from './mrkdwn';

/**
 * Putting a picture (the spend chart) into a Slack message with Slack's current upload flow:
 * 1. `files.getUploadURLExternal` (`filename`, `length`, `alt_txt`) answers an `upload_url` and a file id;
 * 2. the bytes are POSTed to `upload_url` (raw; Slack answers 200);
 * 3. `files.completeUploadExternal` (`files: [{ id, title }]`) finishes the upload, without `channel_id`.
 * The message that shows the file is then posted by the caller, with an image block `{ slack_file: { id } }`.
 *
 * Choices:
 * - The three calls are made here rather than through WebClient's `filesUploadV2`: that helper sends the alt text as
 *   `alt_text` where Slack's method reads `alt_txt` (so screen readers would get nothing), and it gives the file id
 *   only inside `files[0].files[0]`.
 * - No `channel_id`: sharing the file into the channel makes Slack post it as a message of its own, next to the
 *   message that carries it (two posts for one alert). Unshared, the file belongs to the app, and an image block
 *   posted with the same token shows it.
 * - Slack processes an upload after `completeUploadExternal` returns; a message referring to the file before that is
 *   refused with `invalid_blocks` and `invalid slack file [json-pointer:/blocks/N/slack_file]` (the same answer as for
 *   an unknown id). postWhileFileProcesses retries the post for that refusal only, a few times over a few seconds
 *   (FILE_PROCESSING_DELAYS_MS), never past the caller's deadline; after that the refusal is the caller's to handle
 *   (post without the image: its alt text carries the figures).
 * Scope: `files:write`. Errors are SlackDeliveryError with Slack's code; the upload URL (a credential of sorts) is
 * never logged or put in an error.
 */

/** The two Web API methods used, as a narrow port (`WebClient` satisfies it). */
export interface FileUploadClient {
  readonly files: {
    getUploadURLExternal(args: {
      filename: string;
      length: number;
      alt_txt?: string;
    }): Promise<{ upload_url?: string; file_id?: string }>;
    completeUploadExternal(args: {
      files: [{ id: string; title?: string }];
    }): Promise<{ files?: ReadonlyArray<{ id?: string }> }>;
  };
}

export interface SlackFileUpload {
  readonly bytes: Uint8Array;
  /** e.g. `spend-2025-03.png`. */
  readonly filename: string;
  /** Shown above the file in Slack's file views. */
  readonly title: string;
  /** For screen readers (Slack: at most 1,000 characters; longer text is cut). */
  readonly altText: string;
}

export interface FileUploadOptions {
  readonly deadline?: Deadline;
  /** Per HTTP request to the upload URL, in milliseconds. Default 10 s. */
  readonly timeoutMs?: number;
}

/** Slack refuses a longer `alt_txt` with `alt_txt_too_large`. */
export const UPLOAD_ALT_TEXT_MAX = 1000;
/** An image block's `alt_text` limit. */
export const IMAGE_ALT_TEXT_MAX = 2000;
const UPLOAD_TIMEOUT_MS = 10_000;

/** Upload `file` and return its id (`F…`) for an image block. Throws SlackDeliveryError or DeadlineError. */
export async function uploadSlackFile(
  client: FileUploadClient,
  file: SlackFileUpload,
  options: FileUploadOptions = {},
): Promise<string> {
  const deadline = options.deadline ?? NO_DEADLINE;
  const timeoutMs = options.timeoutMs ?? UPLOAD_TIMEOUT_MS;
  const started = await slackCall('files.getUploadURLExternal', deadline, () =>
    client.files.getUploadURLExternal({
      filename: file.filename,
      length: file.bytes.byteLength,
      alt_txt: plainText(file.altText, UPLOAD_ALT_TEXT_MAX),
    }),
  );
  const { upload_url: uploadUrl, file_id: fileId } = started;
  if (typeof uploadUrl !== 'string' || typeof fileId !== 'string') {
    throw new SlackDeliveryError(
      'files.getUploadURLExternal answered without an upload URL or file id',
      'bad_response',
    );
  }
  await postBytes(uploadUrl, file.bytes, fileId, deadline, timeoutMs);
  const completed = await slackCall('files.completeUploadExternal', deadline, () =>
    client.files.completeUploadExternal({ files: [{ id: fileId, title: file.title }] }),
  );
  if (!completed.files?.some((f) => f.id === fileId)) {
    throw new SlackDeliveryError(
      `files.completeUploadExternal did not finish file ${fileId}`,
      'bad_response',
    );
  }
  return fileId;
}

/** An image block showing an uploaded file. */
export function slackFileImageBlock(fileId: string, altText: string, title?: string): Block {
  return {
    type: 'image',
    slack_file: { id: fileId },
    alt_text: plainText(altText, IMAGE_ALT_TEXT_MAX),
    ...(title === undefined
      ? {}
      : { title: { type: 'plain_text', text: plainText(title, IMAGE_ALT_TEXT_MAX) } }),
  };
}

/** Waits before each further try of a post refused while Slack processes its file: about 7 s in all. */
export const FILE_PROCESSING_DELAYS_MS: readonly number[] = [1000, 2000, 4000];

export interface FileProcessingRetryOptions {
  readonly deadline?: Deadline;
  readonly delaysMs?: readonly number[];
  /** Injected in tests; default waits on a timer, aborted by the deadline. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Run `post` (a chat.postMessage whose blocks refer to a just-uploaded file, directly or through the notifier) and run
 * it again after each delay while Slack refuses it because the file is not processed yet. Any other failure, and the
 * last refusal, is thrown as it came; a wait that would pass the deadline is not started.
 */
export async function postWhileFileProcesses<T>(
  post: () => Promise<T>,
  options: FileProcessingRetryOptions = {},
): Promise<T> {
  const deadline = options.deadline ?? NO_DEADLINE;
  const delays = options.delaysMs ?? FILE_PROCESSING_DELAYS_MS;
  const wait = options.sleep ?? sleep;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await post();
    } catch (error) {
      const delay = delays[attempt];
      if (!isFileNotReady(error) || delay === undefined || delay >= deadline.remaining()) throw error;
    }
    await wait(delays[attempt] ?? 0, deadline.signal);
  }
}

/**
 * Slack's refusal of a `slack_file` it cannot show (yet): `invalid_blocks` with an `invalid slack file` message. Looks
 * through `cause` chains, so a SlackDeliveryError wrapping WebClient's platform error is recognised too.
 */
export function isFileNotReady(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
    const data = (current as { data?: { error?: unknown; errors?: unknown; response_metadata?: unknown } })
      .data;
    if (data?.error === 'invalid_blocks') {
      const messages = [
        ...(Array.isArray(data.errors) ? data.errors : []),
        ...((data.response_metadata as { messages?: unknown[] } | undefined)?.messages ?? []),
      ];
      return messages.some((m) => typeof m === 'string' && m.includes('invalid slack file'));
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

async function slackCall<T>(method: string, deadline: Deadline, call: () => Promise<T>): Promise<T> {
  if (deadline.signal.aborted) throw new DeadlineError(`deadline passed before ${method}`);
  try {
    return await call();
  } catch (error) {
    const code = slackErrorCode(error);
    throw new SlackDeliveryError(`Slack refused ${method}: ${code}`, code, undefined, { cause: error });
  }
}

async function postBytes(
  url: string,
  bytes: Uint8Array,
  fileId: string,
  deadline: Deadline,
  timeoutMs: number,
): Promise<void> {
  if (deadline.signal.aborted) throw new DeadlineError(`deadline passed before uploading file ${fileId}`);
  let status: number;
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
      signal: AbortSignal.any([deadline.signal, AbortSignal.timeout(timeoutMs)]),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = response.statusCode;
    await response.body.dump();
  } catch (error) {
    if (deadline.signal.aborted) throw new DeadlineError(`deadline passed while uploading file ${fileId}`);
    throw new SlackDeliveryError(`uploading file ${fileId} to Slack failed`, 'upload_failed', undefined, {
      cause: error,
    });
  }
  if (status !== 200) {
    throw new SlackDeliveryError(
      `Slack refused the bytes of file ${fileId} (HTTP ${status})`,
      'upload_failed',
      status,
    );
  }
}

/** Slack's own error code from a WebClient error; only short snake_case words are echoed. */
function slackErrorCode(error: unknown): string {
  const data = (error as { data?: { error?: unknown } } | null)?.data;
  const code = typeof data?.error === 'string' ? data.error : (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : 'request_failed';
}
