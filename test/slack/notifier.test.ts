import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SlackStandIn, startSlackStandIn } from '../../infra/local/slack';
import { DeadlineError, SlackDeliveryError } from '../../lib/errors';
import type { Deadline, RetryPolicy } from '../../lib/retry';
import type { SlackMessage } from '../../lib/slack/notification-blocks';
import { createSlackNotifier, type SlackBotClient, slackWebClientOptions } from '../../lib/slack/notifier';
import { standInWebClient } from '../infra/slack/web-client';
import { recordingLogger } from '../support/fakes';

const ORG_ROUTED = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const ORG_OTHER = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const MESSAGE: SlackMessage = {
  text: 'Atlas invoice is now PAID',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }],
};
const FAST: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
const TOKEN = 'xoxb-secret-token-value-0001';

/** A bot client whose posts play a script of outcomes, one per call: an error to throw, or undefined for success. */
function scripted(outcomes: (Error | undefined)[]) {
  const calls: { channel: string; text: string }[] = [];
  const client: SlackBotClient = {
    chat: {
      async postMessage(args) {
        calls.push({ channel: args.channel, text: args.text });
        const outcome = outcomes.shift();
        if (outcome !== undefined) throw outcome;
        return { ok: true };
      },
    },
    files: {
      getUploadURLExternal: async () => {
        throw new Error('no upload in this test');
      },
      completeUploadExternal: async () => {
        throw new Error('no upload in this test');
      },
    },
  };
  return { client, calls };
}

/** What a fetch that could not connect throws (as WebClient wraps it): nothing reached Slack. */
function refusedConnection(): Error {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
  return new WebAPIRequestError(new TypeError('fetch failed', { cause }));
}

/** A recording logger that redacts the token; `lines` are its parsed records. */
function logSink() {
  const log = recordingLogger({ redact: [TOKEN] });
  return { log, lines: log.records };
}

function botNotifier(client: SlackBotClient, retry: RetryPolicy = FAST) {
  const { log, lines } = logSink();
  const notifier = createSlackNotifier({
    transport: {
      kind: 'bot',
      client,
      defaultChannel: 'CDEFAULT1',
      routes: new Map([[ORG_ROUTED, 'CROUTED01']]),
    },
    log,
    retry,
    random: () => 0,
  });
  return { notifier, lines };
}

function deadlineWith(remainingMs: number): Deadline {
  return { at: Date.now() + remainingMs, signal: new AbortController().signal, remaining: () => remainingMs };
}

describe('bot delivery', () => {
  it('posts to the channel routed for the organisation, else the default channel', async () => {
    const { client, calls } = scripted([]);
    const { notifier } = botNotifier(client);

    await notifier.post(ORG_ROUTED, MESSAGE);
    await notifier.post(ORG_OTHER, MESSAGE);

    expect(calls).toEqual([
      { channel: 'CROUTED01', text: MESSAGE.text },
      { channel: 'CDEFAULT1', text: MESSAGE.text },
    ]);
  });

  it('retries a rate-limited call and then delivers', async () => {
    const { client, calls } = scripted([new WebAPIRateLimitedError(0), undefined]);
    const { notifier, lines } = botNotifier(client);

    await notifier.post(ORG_ROUTED, MESSAGE);

    expect(calls).toHaveLength(2);
    expect(lines).toContainEqual(
      expect.objectContaining({ message: 'slack delivery will be retried', slackError: 'ratelimited' }),
    );
  });

  it('waits at least Retry-After, and gives up rather than wait past the deadline', async () => {
    const { client, calls } = scripted([new WebAPIRateLimitedError(30)]);
    const { notifier } = botNotifier(client);

    const attempt = notifier.post(ORG_ROUTED, MESSAGE, deadlineWith(20_000));

    await expect(attempt).rejects.toThrow(/ratelimited.*would pass the deadline/);
    expect(calls).toHaveLength(1);
  });

  it('retries what Slack cannot have processed: HTTP 503, service_unavailable, a refused connection', async () => {
    const { client, calls } = scripted([
      new WebAPIHTTPError(503, 'Service Unavailable', {}, ''),
      new WebAPIPlatformError({ ok: false, error: 'service_unavailable' }),
      refusedConnection(),
      undefined,
    ]);
    const { notifier } = botNotifier(client, { ...FAST, maxAttempts: 4 });

    await notifier.post(ORG_ROUTED, MESSAGE);

    expect(calls).toHaveLength(4);
  });

  it.each([
    ['HTTP 500', () => new WebAPIHTTPError(500, 'Internal Server Error', {}, ''), 'http_500'],
    ['HTTP 504', () => new WebAPIHTTPError(504, 'Gateway Timeout', {}, ''), 'http_504'],
    [
      'internal_error',
      () => new WebAPIPlatformError({ ok: false, error: 'internal_error' }),
      'internal_error',
    ],
    ['fatal_error', () => new WebAPIPlatformError({ ok: false, error: 'fatal_error' }), 'fatal_error'],
    [
      'a timeout waiting for the answer',
      () => new WebAPIRequestError(new DOMException('timed out', 'TimeoutError')),
      'no_answer',
    ],
    ['a reset connection', () => new WebAPIRequestError(new Error('socket hang up')), 'no_answer'],
  ])('does not post again after %s, which may have been posted', async (_case, failure, code) => {
    const { client, calls } = scripted([failure(), undefined]);
    const { notifier } = botNotifier(client);

    const attempt = notifier.post(ORG_ROUTED, MESSAGE);

    await expect(attempt).rejects.toMatchObject({ name: 'SlackDeliveryError', slackError: code });
    await expect(attempt).rejects.toThrow(
      `Slack gave no clear answer to the message to channel CROUTED01 (${code}`,
    );
    expect(calls).toHaveLength(1);
  });

  it('stops after the attempt budget with a SlackDeliveryError naming the code and channel', async () => {
    const failure = () => new WebAPIHTTPError(503, 'Unavailable', {}, '');
    const { client, calls } = scripted([failure(), failure(), failure(), failure()]);
    const { notifier } = botNotifier(client);

    const attempt = notifier.post(ORG_ROUTED, MESSAGE);

    await expect(attempt).rejects.toThrow(SlackDeliveryError);
    await expect(attempt).rejects.toThrow(
      'Slack refused the message to channel CROUTED01 after 3 attempts: http_503',
    );
    expect(calls).toHaveLength(3);
  });

  it.each(['channel_not_found', 'not_in_channel', 'invalid_auth', 'is_archived'])(
    'does not retry the permanent error %s',
    async (code) => {
      const { client, calls } = scripted([new WebAPIPlatformError({ ok: false, error: code })]);
      const { notifier } = botNotifier(client);

      const attempt = notifier.post(ORG_ROUTED, MESSAGE);

      await expect(attempt).rejects.toMatchObject({ name: 'SlackDeliveryError', slackError: code });
      await expect(attempt).rejects.toThrow(`to channel CROUTED01 permanently: ${code}`);
      expect(calls).toHaveLength(1);
    },
  );

  it('rejects with DeadlineError when the deadline has already passed', async () => {
    const { client, calls } = scripted([]);
    const { notifier } = botNotifier(client);
    const controller = new AbortController();
    controller.abort();

    const attempt = notifier.post(ORG_ROUTED, MESSAGE, {
      at: 0,
      signal: controller.signal,
      remaining: () => 0,
    });

    await expect(attempt).rejects.toThrow(DeadlineError);
    expect(calls).toEqual([]);
  });
});

/** A real HTTP server on 127.0.0.1 answering from a script; closed after each test. */
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function scriptedServer(
  answers: { status: number; body: string; headers?: Record<string, string> }[],
): Promise<{ url: string; requests: { path: string; headers: IncomingMessage['headers']; body: string }[] }> {
  const requests: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      const answer = answers.shift() ?? { status: 200, body: 'ok' };
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}

describe('webhook delivery', () => {
  it('posts the text and blocks as JSON and retries 429 and 503', async () => {
    const { url, requests } = await scriptedServer([
      { status: 429, body: 'rate_limited', headers: { 'retry-after': '0' } },
      { status: 503, body: 'service_unavailable' },
      { status: 200, body: 'ok' },
    ]);
    const { log } = logSink();
    const notifier = createSlackNotifier({
      transport: { kind: 'webhook', url: `${url}/services/T0/B0/secret` },
      log,
      retry: FAST,
      random: () => 0,
    });

    await notifier.post(ORG_ROUTED, MESSAGE);

    expect(requests).toHaveLength(3);
    expect(requests[0]?.path).toBe('/services/T0/B0/secret');
    expect(JSON.parse(requests[2]?.body ?? '')).toEqual({ text: MESSAGE.text, blocks: MESSAGE.blocks });
  });

  it('does not post again after HTTP 500, which may have been posted', async () => {
    const { url, requests } = await scriptedServer([{ status: 500, body: 'rollup_error' }]);
    const { log } = logSink();
    const notifier = createSlackNotifier({
      transport: { kind: 'webhook', url: `${url}/services/T0/B0/secret` },
      log,
      retry: FAST,
    });

    const attempt = notifier.post(ORG_ROUTED, MESSAGE);

    await expect(attempt).rejects.toMatchObject({ slackError: 'rollup_error', status: 500 });
    expect(requests).toHaveLength(1);
  });

  it.each([
    [404, 'channel_not_found'],
    [410, 'channel_is_archived'],
    [403, 'action_prohibited'],
  ])('does not retry HTTP %i %s and never echoes the webhook URL', async (status, code) => {
    const { url, requests } = await scriptedServer([{ status, body: code }]);
    const { log } = logSink();
    const notifier = createSlackNotifier({
      transport: { kind: 'webhook', url: `${url}/services/T0/B0/hook-secret` },
      log,
      retry: FAST,
    });

    const attempt = notifier.post(ORG_ROUTED, MESSAGE);

    await expect(attempt).rejects.toMatchObject({ name: 'SlackDeliveryError', slackError: code, status });
    await expect(attempt).rejects.not.toThrow(/hook-secret/);
    expect(requests).toHaveLength(1);
  });
  it('reports a post the deadline cut off as unclear, and neither posts it again nor waits', async () => {
    const controller = new AbortController();
    const requests: string[] = [];
    server = createServer((req) => {
      requests.push(req.url ?? '');
      controller.abort();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { log } = logSink();
    const notifier = createSlackNotifier({
      transport: { kind: 'webhook', url: `http://127.0.0.1:${port}/services/T0/B0/secret` },
      log,
      retry: FAST,
    });

    const attempt = notifier.post(ORG_ROUTED, MESSAGE, {
      at: Number.POSITIVE_INFINITY,
      signal: controller.signal,
      remaining: () => 60_000,
    });

    await expect(attempt).rejects.toMatchObject({ name: 'SlackDeliveryError', slackError: 'no_answer' });
    expect(requests).toEqual(['/services/T0/B0/secret']);
  });
});

describe('slackWebClientOptions', () => {
  it('makes a WebClient that neither retries nor waits on 429, so the notifier owns the retry budget', async () => {
    const { url, requests } = await scriptedServer([
      { status: 429, body: '{"ok":false,"error":"ratelimited"}', headers: { 'retry-after': '0' } },
      { status: 200, body: '{"ok":false,"error":"channel_not_found"}' },
    ]);
    const { log, lines } = logSink();
    const client = new WebClient(TOKEN, slackWebClientOptions({ apiUrl: `${url}/api/`, log }));
    const notifier = createSlackNotifier({
      transport: { kind: 'bot', client, defaultChannel: 'CDEFAULT1', routes: new Map() },
      log,
      retry: FAST,
      random: () => 0,
    });

    const attempt = notifier.post(ORG_OTHER, MESSAGE);

    await expect(attempt).rejects.toMatchObject({ slackError: 'channel_not_found' });
    expect(requests.map((r) => r.path)).toEqual(['/api/chat.postMessage', '/api/chat.postMessage']);
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    await expect(attempt).rejects.not.toThrow(TOKEN);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });
});

describe('messages with a picture', () => {
  /** The stand-in refuses a file for this long after its upload completed, as Slack while it processes it. */
  const PROCESSING_MS = 200;
  const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7]);
  const IMAGE = {
    bytes: PNG,
    filename: 'spend-2026-03.png',
    title: 'Acme: spend',
    altText: 'Daily spend of Acme',
  };
  let slack: SlackStandIn;
  beforeAll(async () => {
    slack = await startSlackStandIn({ fileProcessingMs: PROCESSING_MS });
  });
  afterAll(async () => {
    await slack.close();
  });

  const withPicture = (fileId: string): SlackMessage => ({
    text: MESSAGE.text,
    blocks: [...MESSAGE.blocks, { type: 'image', slack_file: { id: fileId }, alt_text: IMAGE.altText }],
  });
  const bot = (delays: readonly number[]) => {
    const { log, lines } = logSink();
    const notifier = createSlackNotifier({
      transport: {
        kind: 'bot',
        client: standInWebClient(slack, slack.token),
        defaultChannel: 'C0PICTURE',
        routes: new Map(),
      },
      log,
      retry: FAST,
      fileProcessingDelaysMs: delays,
    });
    return { notifier, lines };
  };

  it('uploads the picture and posts the message showing it once Slack has processed the file', async () => {
    const { notifier } = bot([PROCESSING_MS + 100]);

    const fileId = await notifier.uploadImage(ORG_OTHER, IMAGE);
    await notifier.postWithImage(ORG_OTHER, withPicture(fileId ?? ''), MESSAGE);

    expect(slack.files.get(fileId ?? '')).toMatchObject({ altText: IMAGE.altText, title: IMAGE.title });
    expect(slack.files.get(fileId ?? '')?.bytes?.equals(Buffer.from(PNG))).toBe(true);
    const posts = slack.requests.filter((r) => r.method === 'chat.postMessage').slice(-2);
    expect(posts.map((r) => r.error ?? 'ok')).toEqual(['invalid_blocks', 'ok']);
    expect(slack.messagesIn('C0PICTURE').at(-1)?.blocks?.at(-1)).toMatchObject({
      slack_file: { id: fileId },
    });
  });

  it('posts the message without the picture when Slack still cannot show the file', async () => {
    const { notifier, lines } = bot([1, 1]);

    const fileId = await notifier.uploadImage(ORG_OTHER, IMAGE);
    await notifier.postWithImage(ORG_OTHER, withPicture(fileId ?? ''), MESSAGE);

    expect(slack.messagesIn('C0PICTURE').at(-1)?.blocks).toEqual(MESSAGE.blocks);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'Slack could not show the uploaded picture yet: the message goes without it',
      }),
    );
  });

  it('gives no picture, and says why, when Slack refuses the upload', async () => {
    const { notifier, lines } = bot([1]);
    slack.failNext({ method: 'files.getUploadURLExternal', error: 'missing_scope' });

    await expect(notifier.uploadImage(ORG_OTHER, IMAGE)).resolves.toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'picture upload to Slack failed: messages go without it',
        slackError: 'missing_scope',
      }),
    );
  });

  it('gives no picture through a webhook, and says so once however many messages would show one', async () => {
    const { log, lines } = logSink();
    const notifier = createSlackNotifier({
      transport: { kind: 'webhook', url: slack.webhookUrl('C0HOOKPIC') },
      log,
      retry: FAST,
    });
    const before = slack.requests.length;

    const first = await notifier.uploadImage(ORG_OTHER, IMAGE);
    const second = await notifier.uploadImage(ORG_OTHER, IMAGE);

    expect([first, second]).toEqual([undefined, undefined]);
    expect(slack.requests.length).toBe(before);
    expect(
      lines.filter((l) => String(l.message).startsWith('spend charts are not shown in Slack')),
    ).toHaveLength(1);
  });
});
