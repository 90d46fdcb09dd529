import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  BodyTooLargeError,
  closeServer,
  FaultQueue,
  listenLocal,
  type Mutable,
  readSmallBody,
} from '../aws/local-server';
import { BLOCK_KIT_LIMITS, isObject, validateBlocks } from './block-kit';

/**
 * A local Slack that answers as Slack does, for `@slack/web-api`'s WebClient (`slackApiUrl` pointed here), incoming
 * webhooks and response_url follow-ups:
 * - Web API (`POST /api/<method>`, JSON with a Bearer token or form-encoded with `token`): API errors are HTTP 200
 *   with `{ok: false, error}`; only rate limits (429 + Retry-After) and outages use other statuses.
 * - Webhooks (`POST /services/T…/B…/…`): 200 `ok` as text/plain, errors as Slack's status + plain-text code.
 * - response_url (`POST /commands/…`, `/actions/…`): recorded with response_type / replace_original.
 * - File uploads, Slack's current flow: `files.getUploadURLExternal` (form-encoded only: Slack answers a JSON body
 *   with `invalid_arguments`) gives an `upload_url` on this server and a file id; the bytes are POSTed there (raw or
 *   multipart, as WebClient's filesUploadV2 sends them; a byte count other than the declared `length` is refused with
 *   HTTP 400); `files.completeUploadExternal` finishes them. Kept in `files`. A finished file can then be shown by an
 *   image block's `slack_file: { id }`; an unknown or unfinished id, or one still being processed (`fileProcessingMs`
 *   after completion), is refused as Slack does: `invalid_blocks`, `invalid slack file [json-pointer:/blocks/N/slack_file]`.
 *   Files are not shared into channels here (`channel_id` is checked and stored, no file message is posted).
 * Everything accepted is recorded in `messages`; `onMessage` lets `npm start` print messages as they arrive.
 */

export const LOCAL_SLACK_BOT_TOKEN = 'xoxb-local-stand-in-token';
export const LOCAL_SLACK_TEAM_ID = 'T0LOCAL00';
export const LOCAL_SLACK_CHANNEL = 'C0LOCAL00';
export const LOCAL_SLACK_BOT_USER_ID = 'U0LOCALBOT';
export const LOCAL_SLACK_BOT_ID = 'B0LOCALBOT';

/** Where a message went. */
export type SlackMessageKind =
  | 'chat.postMessage'
  | 'chat.postEphemeral'
  | 'chat.update'
  | 'webhook'
  | 'response_url';

export interface SlackMessage {
  /** 1, 2, 3, ... in arrival order. */
  readonly id: number;
  readonly kind: SlackMessageKind;
  /** Channel id (Web API), or the webhook's channel. */
  readonly channel: string | undefined;
  /** Path of the webhook or response_url it was posted to. */
  readonly path: string | undefined;
  readonly text: string | undefined;
  readonly blocks: readonly unknown[] | undefined;
  /** Slack's message timestamp (Web API posts). */
  readonly ts: string | undefined;
  readonly threadTs: string | undefined;
  /** chat.postEphemeral's target user. */
  readonly user: string | undefined;
  /** response_url only. */
  readonly responseType: 'ephemeral' | 'in_channel' | undefined;
  readonly replaceOriginal: boolean | undefined;
  readonly deleteOriginal: boolean | undefined;
  readonly time: Date;
  /** Everything posted, token removed. */
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface SlackRequestRecord {
  /** `chat.postMessage`, `auth.test`, ... or `webhook` / `response_url` / `upload` (bytes to an upload_url). */
  readonly method: string;
  readonly path: string;
  /** HTTP status. */
  readonly status: number;
  /** Slack's error code when refused (`invalid_auth`, `channel_not_found`, `ratelimited`, ...). */
  readonly error: string | undefined;
  readonly time: Date;
}

export interface SlackFault {
  /** A Web API method name, `webhook` or `response_url`; any when omitted. */
  readonly method?: 'chat.postMessage' | 'webhook' | 'response_url' | (string & {});
  /** Slack error code: Web API answers HTTP 200 `{ok:false, error}`; webhooks use Slack's status for it. */
  readonly error?: string;
  /** 429 (with Retry-After), 500 or 503. */
  readonly status?: 429 | 500 | 503;
  /** Retry-After for 429; default 1. */
  readonly retryAfterSeconds?: number;
  /** Default 1. */
  readonly times?: number;
}

export type ChannelState = { readonly archived?: boolean; readonly member?: boolean } | 'deleted';

/** A file started with files.getUploadURLExternal. */
export interface SlackUploadedFile {
  /** `F…`. */
  readonly id: string;
  readonly filename: string;
  /** Declared `length` in bytes. */
  readonly length: number;
  /** `alt_txt` as sent to files.getUploadURLExternal. */
  readonly altText: string | undefined;
  /** The bytes POSTed to the upload URL; undefined until they arrive. */
  readonly bytes: Buffer | undefined;
  /** Set by files.completeUploadExternal. */
  readonly title: string | undefined;
  readonly completedAt: number | undefined;
  readonly channel: string | undefined;
}

export interface SlackStandInOptions {
  /** Bot tokens accepted. Default: `[LOCAL_SLACK_BOT_TOKEN]`. */
  readonly tokens?: readonly string[];
  /** Channels that exist. Default: any channel id is accepted. */
  readonly channels?: readonly string[];
  readonly archivedChannels?: readonly string[];
  /** Channels the bot is not a member of (`not_in_channel`). */
  readonly notInChannels?: readonly string[];
  readonly teamId?: string;
  /** How many posts one response_url accepts (Slack: 5 within 30 minutes). */
  readonly responseUrlLimit?: number;
  /**
   * Milliseconds (by `clock`) after files.completeUploadExternal during which an image block referring to the file is
   * refused, as Slack refuses a file it has not processed yet. Default 0.
   */
  readonly fileProcessingMs?: number;
  readonly port?: number;
  readonly clock?: () => number;
}

export interface SlackStandIn {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `http://127.0.0.1:PORT/api/`: WebClient's `slackApiUrl` (with the trailing slash it expects). */
  readonly apiUrl: string;
  readonly port: number;
  readonly token: string;
  readonly teamId: string;
  /** Everything delivered, oldest first (live view). */
  readonly messages: readonly SlackMessage[];
  readonly requests: readonly SlackRequestRecord[];
  /** Uploads by file id (live view). */
  readonly files: ReadonlyMap<string, SlackUploadedFile>;
  /** Messages posted to one channel (Web API and webhooks for it). */
  messagesIn(channel: string): SlackMessage[];
  /** Register an incoming webhook for a channel (default `LOCAL_SLACK_CHANNEL`) and return its URL. */
  webhookUrl(channel?: string): string;
  /** A response_url for a slash command (`kind: 'commands'`) or a button (`'actions'`). */
  responseUrl(id?: string, kind?: 'commands' | 'actions'): string;
  setChannel(channel: string, state: ChannelState): void;
  failNext(fault: SlackFault): void;
  /** Called for every recorded message; returns an unsubscribe function. */
  onMessage(listener: (message: SlackMessage) => void): () => void;
  /** Forget messages, requests, uploads and pending faults (channels and webhooks stay). */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY = 2 * 1024 * 1024;
/** files.getUploadURLExternal refuses a longer `alt_txt` with `alt_txt_too_large`. */
const ALT_TXT_MAX = 1000;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** Status Slack's webhooks answer each error code with. */
const WEBHOOK_STATUS: Record<string, number> = {
  invalid_payload: 400,
  no_text: 400,
  invalid_blocks: 400,
  msg_too_long: 400,
  too_many_attachments: 400,
  user_not_found: 400,
  action_prohibited: 403,
  invalid_token: 403,
  posting_to_general_channel_denied: 403,
  channel_not_found: 404,
  no_service: 404,
  no_service_id: 404,
  no_team: 404,
  team_disabled: 404,
  channel_is_archived: 410,
  rate_limited: 429,
};

interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Slack's error code when the answer is a refusal. */
  readonly error?: string;
}

class SlackRefusal extends Error {
  constructor(
    readonly error: string,
    readonly status = 200,
    readonly extra: Record<string, unknown> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(error);
  }
}

export async function startSlackStandIn(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const clock = options.clock ?? Date.now;
  const tokens = new Set(options.tokens ?? [LOCAL_SLACK_BOT_TOKEN]);
  const teamId = options.teamId ?? LOCAL_SLACK_TEAM_ID;
  const responseUrlLimit = options.responseUrlLimit ?? 5;
  const restrictChannels = options.channels !== undefined;
  const channels = new Map<string, ChannelState>();
  for (const id of options.channels ?? []) channels.set(id, {});
  for (const id of options.archivedChannels ?? []) channels.set(id, { ...stateOf(id), archived: true });
  for (const id of options.notInChannels ?? []) channels.set(id, { ...stateOf(id), member: false });

  const messages: SlackMessage[] = [];
  const requests: SlackRequestRecord[] = [];
  const faults = new FaultQueue<SlackFault>();
  const listeners = new Set<(message: SlackMessage) => void>();
  const webhooks = new Map<string, string>();
  const responseUrls = new Map<string, { uses: number; created: number }>();
  const files = new Map<string, Mutable<SlackUploadedFile>>();
  const uploadPaths = new Map<string, string>();
  const fileProcessingMs = options.fileProcessingMs ?? 0;
  let lastTs = 0;
  let nextId = 1;
  /** Known once listening; only request handlers read it. */
  let baseUrl = '';
  let webhookCounter = 0;

  function stateOf(id: string): { archived?: boolean; member?: boolean } {
    const state = channels.get(id);
    return state === undefined || state === 'deleted' ? {} : state;
  }

  /** Slack's `ts`: seconds with six decimals, strictly increasing. */
  function newTs(): string {
    const micros = Math.max(clock() * 1000, lastTs + 1);
    lastTs = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  /** Records a message; the fields a kind of post does not have are left undefined. */
  function record(
    message: Pick<SlackMessage, 'kind' | 'channel' | 'text' | 'blocks' | 'payload'> &
      Partial<Omit<SlackMessage, 'id' | 'time'>>,
  ): SlackMessage {
    const full: SlackMessage = {
      path: undefined,
      ts: undefined,
      threadTs: undefined,
      user: undefined,
      responseType: undefined,
      replaceOriginal: undefined,
      deleteOriginal: undefined,
      ...message,
      id: nextId++,
      time: new Date(clock()),
    };
    messages.push(full);
    for (const listener of listeners) listener(full);
    return full;
  }

  function takeFault(method: string): SlackFault | undefined {
    return faults.take((fault) => fault.method === undefined || fault.method === method);
  }

  /** Throws the refusal a fault stands for, in the dialect of the endpoint. */
  function applyFault(fault: SlackFault, dialect: 'api' | 'webhook' | 'response_url'): never {
    if (fault.status === 429) {
      throw new SlackRefusal(
        dialect === 'api' ? 'ratelimited' : 'rate_limited',
        429,
        {},
        fault.retryAfterSeconds ?? 1,
      );
    }
    if (fault.status !== undefined) {
      throw new SlackRefusal(
        fault.error ?? (fault.status === 503 ? 'service_unavailable' : 'fatal_error'),
        fault.status,
      );
    }
    const error = fault.error ?? 'fatal_error';
    throw new SlackRefusal(error, dialect === 'api' ? 200 : (WEBHOOK_STATUS[error] ?? 400));
  }

  /** Shared checks on message content; throws the Slack error code. */
  function checkContent(
    payload: Record<string, unknown>,
    requireContent: boolean,
  ): readonly unknown[] | undefined {
    let blocks = payload.blocks;
    if (typeof blocks === 'string') {
      try {
        blocks = JSON.parse(blocks);
      } catch {
        throw new SlackRefusal('invalid_blocks_format');
      }
    }
    if (blocks !== undefined && !Array.isArray(blocks)) throw new SlackRefusal('invalid_blocks_format');
    const text = payload.text;
    if (text !== undefined && typeof text !== 'string') throw new SlackRefusal('invalid_arguments');
    const hasAttachments = payload.attachments !== undefined && payload.attachments !== '[]';
    if (
      requireContent &&
      (text === undefined || text === '') &&
      (blocks === undefined || blocks.length === 0) &&
      !hasAttachments
    ) {
      throw new SlackRefusal('no_text');
    }
    if (typeof text === 'string' && text.length > BLOCK_KIT_LIMITS.messageText)
      throw new SlackRefusal('msg_too_long');
    if (blocks !== undefined) {
      const errors = [...validateBlocks(blocks), ...slackFileErrors(blocks)];
      if (errors.length > 0) {
        throw new SlackRefusal('invalid_blocks', 200, {
          errors,
          response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
        });
      }
    }
    return blocks as readonly unknown[] | undefined;
  }

  function fileUrl(file: SlackUploadedFile): string {
    return `${baseUrl}/files-pri/${teamId}-${file.id}/${encodeURIComponent(file.filename)}`;
  }

  /** Image blocks (and context images) whose `slack_file` (id or url_private) is not a finished, processed upload. */
  function slackFileErrors(blocks: readonly unknown[]): string[] {
    const errors: string[] = [];
    const check = (image: unknown, pointer: string) => {
      if (!isObject(image) || image.type !== 'image' || !isObject(image.slack_file)) return;
      const { id, url } = image.slack_file;
      const file =
        typeof id === 'string'
          ? files.get(id)
          : typeof url === 'string'
            ? [...files.values()].find((f) => fileUrl(f) === url)
            : undefined;
      if (typeof id !== 'string' && typeof url !== 'string') return;
      const ready = file?.completedAt !== undefined && clock() >= file.completedAt + fileProcessingMs;
      if (!ready) errors.push(`invalid slack file [json-pointer:${pointer}/slack_file]`);
    };
    blocks.forEach((block, i) => {
      check(block, `/blocks/${i}`);
      if (isObject(block) && block.type === 'context' && Array.isArray(block.elements)) {
        block.elements.forEach((element, j) => {
          check(element, `/blocks/${i}/elements/${j}`);
        });
      }
    });
    return errors;
  }

  function checkChannel(channel: unknown): string {
    if (typeof channel !== 'string' || channel === '') throw new SlackRefusal('channel_not_found');
    const state = channels.get(channel);
    if (state === 'deleted' || (restrictChannels && state === undefined))
      throw new SlackRefusal('channel_not_found');
    if (state?.archived) throw new SlackRefusal('is_archived');
    if (state?.member === false) throw new SlackRefusal('not_in_channel');
    return channel;
  }

  function withoutToken(payload: Record<string, unknown>): Record<string, unknown> {
    const { token: _token, ...rest } = payload;
    return rest;
  }

  const apiMethods: Record<
    string,
    (payload: Record<string, unknown>, isJson: boolean) => Record<string, unknown>
  > = {
    'api.test': (payload) => ({ args: withoutToken(payload) }),
    'auth.test': () => ({
      url: 'https://local-stand-in.slack.com/',
      team: 'Local stand-in',
      user: 'invoice-bot',
      team_id: teamId,
      user_id: LOCAL_SLACK_BOT_USER_ID,
      bot_id: LOCAL_SLACK_BOT_ID,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (payload) => {
      const channel = checkChannel(payload.channel);
      const blocks = checkContent(payload, true);
      const ts = newTs();
      const threadTs = typeof payload.thread_ts === 'string' ? payload.thread_ts : undefined;
      record({
        kind: 'chat.postMessage',
        channel,
        text: payload.text as string | undefined,
        blocks,
        ts,
        threadTs,
        payload: withoutToken(payload),
      });
      return {
        channel,
        ts,
        message: {
          type: 'message',
          subtype: 'bot_message',
          text: payload.text ?? '',
          user: LOCAL_SLACK_BOT_USER_ID,
          bot_id: LOCAL_SLACK_BOT_ID,
          team: teamId,
          ts,
          ...(blocks ? { blocks } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
        },
      };
    },
    'files.getUploadURLExternal': (payload, isJson) => {
      if (isJson) throw new SlackRefusal('invalid_arguments');
      const filename = payload.filename;
      const lengthText = String(payload.length ?? '');
      if (typeof filename !== 'string' || filename === '' || !/^\d+$/.test(lengthText)) {
        throw new SlackRefusal('invalid_arguments');
      }
      const length = Number(lengthText);
      if (length === 0) throw new SlackRefusal('missing_argument');
      const altText = typeof payload.alt_txt === 'string' ? payload.alt_txt : undefined;
      if (altText !== undefined && altText.length > ALT_TXT_MAX) throw new SlackRefusal('alt_txt_too_large');
      const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
      const path = `/upload/v1/${randomBytes(16).toString('hex')}`;
      files.set(id, {
        id,
        filename,
        length,
        altText,
        bytes: undefined,
        title: undefined,
        completedAt: undefined,
        channel: undefined,
      });
      uploadPaths.set(path, id);
      return { upload_url: `${baseUrl}${path}`, file_id: id };
    },
    'files.completeUploadExternal': (payload) => {
      let list: unknown = payload.files;
      if (typeof list === 'string') {
        try {
          list = JSON.parse(list);
        } catch {
          throw new SlackRefusal('invalid_arguments');
        }
      }
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        !list.every((f) => isObject(f) && typeof f.id === 'string')
      ) {
        throw new SlackRefusal('invalid_arguments');
      }
      const channel = payload.channel_id === undefined ? undefined : checkChannel(payload.channel_id);
      const entries = list as Array<{ id: string; title?: unknown }>;
      for (const { id } of entries) {
        const file = files.get(id);
        // Slack's answer for bytes that never arrived is not documented; the stand-in treats the file as absent.
        if (file === undefined || file.bytes === undefined) throw new SlackRefusal('file_not_found');
      }
      const done = entries.map(({ id, title }) => {
        const file = files.get(id) as Mutable<SlackUploadedFile>;
        file.title = typeof title === 'string' && title !== '' ? title : file.filename;
        file.completedAt = clock();
        file.channel = channel;
        return {
          id,
          name: file.filename,
          title: file.title,
          mimetype: '',
          filetype: '',
          size: file.length,
          user: LOCAL_SLACK_BOT_USER_ID,
          created: Math.floor(clock() / 1000),
          is_external: false,
          is_public: false,
          url_private: fileUrl(file),
          channels: channel === undefined ? [] : [channel],
        };
      });
      return { files: done };
    },
    'chat.postEphemeral': (payload) => {
      const channel = checkChannel(payload.channel);
      if (typeof payload.user !== 'string' || payload.user === '')
        throw new SlackRefusal('user_not_in_channel');
      const blocks = checkContent(payload, true);
      const ts = newTs();
      record({
        kind: 'chat.postEphemeral',
        channel,
        text: payload.text as string | undefined,
        blocks,
        ts,
        user: payload.user,
        responseType: 'ephemeral',
        payload: withoutToken(payload),
      });
      return { message_ts: ts };
    },
    'chat.update': (payload) => {
      const channel = checkChannel(payload.channel);
      const ts = payload.ts;
      if (typeof ts !== 'string' || !messages.some((m) => m.channel === channel && m.ts === ts)) {
        throw new SlackRefusal('message_not_found');
      }
      const blocks = checkContent(payload, true);
      record({
        kind: 'chat.update',
        channel,
        text: payload.text as string | undefined,
        blocks,
        ts,
        replaceOriginal: true,
        payload: withoutToken(payload),
      });
      return { channel, ts, text: payload.text ?? '' };
    },
  };

  function readPayload(req: IncomingMessage, body: Buffer, query: URLSearchParams): Record<string, unknown> {
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    const text = body.toString('utf8');
    if (type.startsWith('application/json')) {
      const parsed: unknown = text === '' ? {} : JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new SyntaxError('not an object');
      return parsed as Record<string, unknown>;
    }
    const form = new URLSearchParams(
      type.startsWith('application/x-www-form-urlencoded') || text === '' ? text : '',
    );
    const payload: Record<string, unknown> = Object.fromEntries(query);
    for (const [name, value] of form) payload[name] = value;
    return payload;
  }

  /** A Web API call: the answer to send, and Slack's error code when it is a refusal. */
  function handleApi(req: IncomingMessage, method: string, body: Buffer, query: URLSearchParams): Reply {
    const json = (
      status: number,
      payload: Record<string, unknown>,
      headers: Record<string, string> = {},
    ) => ({
      status,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify(payload),
    });
    try {
      let payload: Record<string, unknown>;
      try {
        payload = readPayload(req, body, query);
      } catch {
        throw new SlackRefusal('invalid_json');
      }
      const isJson = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const token = bearer ?? (isJson ? undefined : (payload.token as string | undefined));
      const handler = Object.hasOwn(apiMethods, method) ? apiMethods[method] : undefined;
      if (!handler) throw new SlackRefusal('unknown_method');
      if (method !== 'api.test') {
        if (token === undefined || token === '') throw new SlackRefusal('not_authed');
        if (!tokens.has(token)) throw new SlackRefusal('invalid_auth');
      }
      const fault = takeFault(method);
      if (fault) applyFault(fault, 'api');
      const result = handler(payload, isJson);
      const charset = /charset=utf-8/i.test(req.headers['content-type'] ?? '');
      const warnings =
        isJson && !charset
          ? { warning: 'missing_charset', response_metadata: { warnings: ['missing_charset'] } }
          : {};
      return json(200, { ok: true, ...result, ...warnings });
    } catch (error) {
      if (!(error instanceof SlackRefusal)) throw error;
      const headers: Record<string, string> =
        error.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.retryAfterSeconds) };
      return {
        ...json(error.status, { ok: false, error: error.error, ...error.extra }, headers),
        error: error.error,
      };
    }
  }

  /** The bytes of an upload, POSTed to the upload_url files.getUploadURLExternal gave: raw, or a multipart file. */
  function handleUpload(req: IncomingMessage, path: string, body: Buffer): Reply {
    const text = (status: number, message: string, error?: string): Reply => ({
      status,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: message,
      ...(error === undefined ? {} : { error }),
    });
    const fault = takeFault('upload');
    if (fault)
      return text(fault.status ?? 500, fault.error ?? 'upload_failed', fault.error ?? 'upload_failed');
    const id = uploadPaths.get(path);
    const file = id === undefined ? undefined : files.get(id);
    if (file === undefined || file.completedAt !== undefined) return text(404, 'not_found', 'not_found');
    const bytes = multipartFile(req.headers['content-type'], body) ?? body;
    if (bytes.length !== file.length) return text(400, 'size_mismatch', 'size_mismatch');
    file.bytes = Buffer.from(bytes);
    return text(200, `OK - ${bytes.length}`);
  }

  /** Incoming webhooks and response_url posts: JSON (or form `payload=`) bodies, plain-text answers. */
  function handleHook(
    req: IncomingMessage,
    path: string,
    body: Buffer,
    dialect: 'webhook' | 'response_url',
  ): Reply {
    const contentType =
      dialect === 'webhook' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
    try {
      let channel: string | undefined;
      if (dialect === 'webhook') {
        channel = webhooks.get(path);
        if (channel === undefined) throw new SlackRefusal('no_service', 404);
      } else {
        const use = responseUrls.get(path) ?? { uses: 0, created: clock() };
        responseUrls.set(path, use);
        if (clock() - use.created > RESPONSE_URL_TTL_MS) throw new SlackRefusal('expired_url', 404);
        if (use.uses >= responseUrlLimit) throw new SlackRefusal('used_url', 404);
      }
      const fault = takeFault(dialect);
      if (fault) applyFault(fault, dialect);
      let payload: Record<string, unknown>;
      try {
        const type = (req.headers['content-type'] ?? '').toLowerCase();
        const text = body.toString('utf8');
        const json = type.startsWith('application/x-www-form-urlencoded')
          ? (new URLSearchParams(text).get('payload') ?? '')
          : text;
        const parsed: unknown = JSON.parse(json);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new Error('not an object');
        }
        payload = parsed as Record<string, unknown>;
      } catch {
        throw new SlackRefusal('invalid_payload', 400);
      }
      if (dialect === 'webhook' && channel !== undefined) {
        const state = channels.get(channel);
        if (state === 'deleted') throw new SlackRefusal('channel_not_found', 404);
        if (state?.archived) throw new SlackRefusal('channel_is_archived', 410);
      }
      const deleteOriginal = payload.delete_original === true || payload.delete_original === 'true';
      let blocks: readonly unknown[] | undefined;
      try {
        blocks = checkContent(payload, !deleteOriginal);
      } catch (error) {
        if (error instanceof SlackRefusal)
          throw new SlackRefusal(error.error, WEBHOOK_STATUS[error.error] ?? 400);
        throw error;
      }
      const responseType =
        payload.response_type === 'in_channel'
          ? 'in_channel'
          : dialect === 'response_url'
            ? 'ephemeral'
            : undefined;
      record({
        kind: dialect,
        channel,
        path,
        text: payload.text as string | undefined,
        blocks,
        threadTs: typeof payload.thread_ts === 'string' ? payload.thread_ts : undefined,
        responseType,
        replaceOriginal:
          payload.replace_original === undefined
            ? undefined
            : payload.replace_original === true || payload.replace_original === 'true',
        deleteOriginal: deleteOriginal || undefined,
        payload,
      });
      const use = responseUrls.get(path);
      if (use) use.uses += 1;
      return {
        status: 200,
        headers: { 'Content-Type': contentType },
        body: dialect === 'webhook' ? 'ok' : '{"ok":true}',
      };
    } catch (error) {
      if (!(error instanceof SlackRefusal)) throw error;
      return {
        status: error.status === 200 ? 400 : error.status,
        headers: {
          'Content-Type': contentType,
          ...(error.retryAfterSeconds === undefined
            ? {}
            : { 'Retry-After': String(error.retryAfterSeconds) }),
        },
        body: dialect === 'webhook' ? error.error : JSON.stringify({ ok: false, error: error.error }),
        error: error.error,
      };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    // Logged on arrival and completed before the answer is written, so a client holding its response always
    // finds the entry final.
    const entry: Mutable<SlackRequestRecord> = {
      method: 'unknown',
      path,
      status: 0,
      error: undefined,
      time: new Date(clock()),
    };
    requests.push(entry);
    const text = (status: number, body: string): Reply => ({
      status,
      headers: { 'Content-Type': 'text/plain' },
      body,
      error: body,
    });
    let reply: Reply;
    try {
      const body = await readSmallBody(req, MAX_BODY);
      if (path.startsWith('/api/')) {
        entry.method = path.slice('/api/'.length);
        reply = handleApi(req, entry.method, body, url.searchParams);
      } else if (path.startsWith('/upload/v1/') && req.method === 'POST') {
        entry.method = 'upload';
        reply = handleUpload(req, path, body);
      } else if (/^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/.test(path) && req.method === 'POST') {
        entry.method = 'webhook';
        reply = handleHook(req, path, body, 'webhook');
      } else if (
        /^\/(commands|actions)\/[A-Za-z0-9]+\/[A-Za-z0-9]+\/[A-Za-z0-9]+$/.test(path) &&
        req.method === 'POST'
      ) {
        entry.method = 'response_url';
        reply = handleHook(req, path, body, 'response_url');
      } else {
        reply = text(404, 'not_found');
      }
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        reply = text(413, 'request_too_large');
      } else {
        console.error('Slack stand-in: unexpected error', error);
        reply = text(500, 'fatal_error');
      }
    }
    entry.status = reply.status;
    entry.error = reply.error;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void handle(req, res));
  const { url, port } = await listenLocal(server, options.port ?? 0);
  baseUrl = url;

  return {
    url,
    apiUrl: `${url}/api/`,
    port,
    token: [...tokens][0] ?? LOCAL_SLACK_BOT_TOKEN,
    teamId,
    messages,
    requests,
    files,
    messagesIn: (channel) => messages.filter((m) => m.channel === channel),
    webhookUrl: (channel = LOCAL_SLACK_CHANNEL) => {
      webhookCounter += 1;
      const path = `/services/${teamId}/B${String(webhookCounter).padStart(8, '0')}/${randomBytes(12).toString('hex')}`;
      webhooks.set(path, channel);
      return `${url}${path}`;
    },
    responseUrl: (id = randomBytes(6).toString('hex'), kind = 'commands') => {
      const path = `/${kind}/${teamId}/${id.replace(/[^A-Za-z0-9]/g, '')}/${randomBytes(12).toString('hex')}`;
      responseUrls.set(path, { uses: 0, created: clock() });
      return `${url}${path}`;
    },
    setChannel: (channel, state) => {
      channels.set(channel, state);
    },
    failNext: (fault) => faults.add(fault),
    onMessage: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reset: () => {
      messages.length = 0;
      requests.length = 0;
      files.clear();
      uploadPaths.clear();
      faults.clear();
    },
    close: () => closeServer(server),
  };
}

/** The first file part of a multipart/form-data body; undefined when the body is not multipart. */
function multipartFile(contentType: string | undefined, body: Buffer): Buffer | undefined {
  const boundary = /^multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  const marker = boundary?.[1] ?? boundary?.[2];
  if (marker === undefined) return undefined;
  const delimiter = Buffer.from(`--${marker}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const headersEnd = body.indexOf('\r\n\r\n', start);
    if (headersEnd === -1) return undefined;
    const headers = body.subarray(start, headersEnd).toString('utf8');
    const next = body.indexOf(delimiter, headersEnd);
    if (next === -1) return undefined;
    if (/filename=/i.test(headers)) return body.subarray(headersEnd + 4, next - 2);
    start = next;
  }
  return undefined;
}
