import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadlineError, SlackDeliveryError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import type { Deadline, RetryPolicy } from '../../lib/retry';
import type { SlackMessage } from '../../lib/slack/notification-blocks';
import { type ChatPoster, createSlackNotifier, slackWebClientOptions } from '../../lib/slack/notifier';

const ORG_ROUTED = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const ORG_OTHER = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const MESSAGE: SlackMessage = {
  text: 'Atlas invoice is now PAID',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }],
};
const FAST: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
const TOKEN = 'xoxb-secret-token-value-0001';

/** A ChatPoster that plays a script of outcomes, one per call: an error to throw, or undefined for success. */
function scripted(outcomes: (Error | undefined)[]) {
  const calls: { channel: string; text: string }[] = [];
  const client: ChatPoster = {
    chat: {
      async postMessage(args) {
        calls.push({ channel: args.channel, text: args.text });
        const outcome = outcomes.shift();
        if (outcome !== undefined) throw outcome;
        return { ok: true };
      },
    },
  };
  return { client, calls };
}

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    write: (line) => lines.push(JSON.parse(line)),
    redact: [TOKEN],
  });
  return { log, lines };
}

function botNotifier(client: ChatPoster, retry: RetryPolicy = FAST) {
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

  it('retries 5xx and network errors within the attempt budget', async () => {
    const { client, calls } = scripted([
      new WebAPIHTTPError(500, 'Internal Server Error', {}, ''),
      new WebAPIRequestError(new Error('socket hang up')),
      undefined,
    ]);
    const { notifier } = botNotifier(client);

    await notifier.post(ORG_ROUTED, MESSAGE);

    expect(calls).toHaveLength(3);
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
  it('posts the text and blocks as JSON and retries 429 and 500', async () => {
    const { url, requests } = await scriptedServer([
      { status: 429, body: 'rate_limited', headers: { 'retry-after': '0' } },
      { status: 500, body: 'internal_error' },
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
