import { ErrorCode, type WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  LOCAL_SLACK_BOT_TOKEN,
  LOCAL_SLACK_CHANNEL,
  type SlackMessage,
  type SlackStandIn,
  startSlackStandIn,
} from '../../../infra/local/slack';
import { standInWebClient } from './web-client';

const BILLING = 'C0BILLING1';
const ARCHIVED = 'C0ARCHIVED';
const OUTSIDE = 'C0OUTSIDE1';

let slack: SlackStandIn;
let web: WebClient;

beforeAll(async () => {
  slack = await startSlackStandIn({
    channels: [BILLING, LOCAL_SLACK_CHANNEL],
    archivedChannels: [ARCHIVED],
    notInChannels: [OUTSIDE],
  });
  web = webClient(LOCAL_SLACK_BOT_TOKEN);
});

afterAll(async () => {
  await slack.close();
});

afterEach(() => {
  slack.reset();
});

function webClient(token: string | undefined): WebClient {
  return standInWebClient(slack, token);
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('Slack stand-in: chat.postMessage through WebClient', () => {
  it('records a posted message and answers as Slack does', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'Invoice PAID' } },
      section('*Total:* $12.34'),
    ];

    const result = await web.chat.postMessage({ channel: BILLING, text: 'Invoice PAID: $12.34', blocks });

    expect(result).toMatchObject({
      ok: true,
      channel: BILLING,
      message: { text: 'Invoice PAID: $12.34', blocks },
    });
    expect(result.ts).toMatch(/^\d+\.\d{6}$/);
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]).toMatchObject({
      kind: 'chat.postMessage',
      channel: BILLING,
      text: 'Invoice PAID: $12.34',
      blocks,
      ts: result.ts,
    });
    expect(slack.messages[0]?.payload).not.toHaveProperty('token');
  });

  it('throws a platform error for an invalid token (invalid_auth) and a missing one (not_authed)', async () => {
    await expect(
      webClient('xoxb-wrong').chat.postMessage({ channel: BILLING, text: 'x' }),
    ).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'invalid_auth' },
    });
    await expect(
      webClient(undefined).chat.postMessage({ channel: BILLING, text: 'x' }),
    ).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'not_authed' },
    });
    expect(slack.messages).toHaveLength(0);
  });

  it('refuses unknown, archived and not-joined channels', async () => {
    const errorFor = (channel: string) =>
      web.chat.postMessage({ channel, text: 'x' }).then(
        () => 'ok',
        (error: { data?: { error?: string } }) => error.data?.error,
      );

    expect(await errorFor('C0UNKNOWN1')).toBe('channel_not_found');
    expect(await errorFor(ARCHIVED)).toBe('is_archived');
    expect(await errorFor(OUTSIDE)).toBe('not_in_channel');
  });

  it('refuses a message with neither text nor blocks (no_text)', async () => {
    await expect(web.chat.postMessage({ channel: BILLING, text: '' })).rejects.toMatchObject({
      data: { error: 'no_text' },
    });
  });

  it('refuses blocks over Block Kit limits with invalid_blocks and a json-pointer', async () => {
    const tooLong = web.chat.postMessage({
      channel: BILLING,
      text: 'x',
      blocks: [section('x'.repeat(3001))],
    });

    await expect(tooLong).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: {
        error: 'invalid_blocks',
        errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
      },
    });
    await expect(
      web.chat.postMessage({
        channel: BILLING,
        text: 'x',
        blocks: Array.from({ length: 51 }, () => section('x')),
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    expect(slack.messages).toHaveLength(0);
  });

  it('accepts blocks exactly at the limits', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } },
      section('s'.repeat(3000)),
      {
        type: 'section',
        fields: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(2000) })),
      },
      ...Array.from({ length: 47 }, () => ({ type: 'divider' })),
    ];

    await expect(web.chat.postMessage({ channel: BILLING, text: 'x', blocks })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('surfaces a 429 with Retry-After as WebClient’s rate-limit error', async () => {
    slack.failNext({ method: 'chat.postMessage', status: 429, retryAfterSeconds: 30 });

    await expect(web.chat.postMessage({ channel: BILLING, text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 30,
    });
    expect(slack.requests.at(-1)).toMatchObject({
      method: 'chat.postMessage',
      status: 429,
      error: 'ratelimited',
    });
  });

  it('surfaces a 500 as an HTTP error and an injected Slack error as a platform error', async () => {
    slack.failNext({ method: 'chat.postMessage', status: 500 });
    slack.failNext({ method: 'chat.postMessage', error: 'channel_not_found' });

    await expect(web.chat.postMessage({ channel: BILLING, text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
    });
    await expect(web.chat.postMessage({ channel: BILLING, text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'channel_not_found' },
    });
    await expect(web.chat.postMessage({ channel: BILLING, text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('refuses top-level text over 40,000 characters (msg_too_long)', async () => {
    await expect(web.chat.postMessage({ channel: BILLING, text: 'x'.repeat(40_001) })).rejects.toMatchObject({
      data: { error: 'msg_too_long' },
    });
    await expect(web.chat.postMessage({ channel: BILLING, text: 'x'.repeat(40_000) })).resolves.toMatchObject(
      {
        ok: true,
      },
    );
  });

  it('records ephemeral posts and updates of an earlier message', async () => {
    const posted = await web.chat.postMessage({ channel: BILLING, text: 'Invoice PENDING' });

    await web.chat.postEphemeral({ channel: BILLING, user: 'U0ANA', text: 'only for you' });
    await web.chat.update({ channel: BILLING, ts: posted.ts as string, text: 'Invoice PAID' });

    await expect(web.chat.update({ channel: BILLING, ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    expect(slack.messages.map((m) => [m.kind, m.text, m.user, m.ts === posted.ts])).toEqual([
      ['chat.postMessage', 'Invoice PENDING', undefined, true],
      ['chat.postEphemeral', 'only for you', 'U0ANA', false],
      ['chat.update', 'Invoice PAID', undefined, true],
    ]);
  });

  it('follows channel state changes made during a test', async () => {
    slack.setChannel(LOCAL_SLACK_CHANNEL, 'deleted');
    try {
      const webhook = await fetch(slack.webhookUrl(LOCAL_SLACK_CHANNEL), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x' }),
      });

      await expect(web.chat.postMessage({ channel: LOCAL_SLACK_CHANNEL, text: 'x' })).rejects.toMatchObject({
        data: { error: 'channel_not_found' },
      });
      expect([webhook.status, await webhook.text()]).toEqual([404, 'channel_not_found']);
    } finally {
      slack.setChannel(LOCAL_SLACK_CHANNEL, {});
    }
  });

  it('answers auth.test and unknown_method', async () => {
    await expect(web.auth.test()).resolves.toMatchObject({ ok: true, team_id: slack.teamId });
    await expect(web.apiCall('chat.scheduleMessage', { channel: BILLING })).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
  });

  it('accepts a JSON body with a Bearer token, warning when the charset is missing', async () => {
    const post = (contentType: string) =>
      fetch(`${slack.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${LOCAL_SLACK_BOT_TOKEN}`, 'content-type': contentType },
        body: JSON.stringify({ channel: BILLING, text: 'json', blocks: [section('json')] }),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);

    const withCharset = await post('application/json; charset=utf-8');
    const withoutCharset = await post('application/json');

    expect(withCharset).toMatchObject({ ok: true, channel: BILLING });
    expect(withCharset).not.toHaveProperty('warning');
    expect(withoutCharset).toMatchObject({ ok: true, warning: 'missing_charset' });
    expect(slack.messages.map((m) => m.blocks)).toEqual([[section('json')], [section('json')]]);
  });
});

describe('Slack stand-in: incoming webhooks', () => {
  const postJson = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 200 ok (text/plain) and records the message for the webhook’s channel', async () => {
    const url = slack.webhookUrl(BILLING);

    const response = await postJson(url, {
      text: 'Invoice FAILED',
      blocks: [section(':rotating_light: FAILED')],
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toBe('ok');
    expect(slack.messagesIn(BILLING)).toMatchObject([
      { kind: 'webhook', text: 'Invoice FAILED', path: new URL(url).pathname },
    ]);
  });

  it('answers Slack’s webhook errors with their statuses', async () => {
    const url = slack.webhookUrl(BILLING);
    const archived = slack.webhookUrl(ARCHIVED);
    slack.failNext({ method: 'webhook', error: 'action_prohibited' });

    const prohibited = await postJson(url, { text: 'x' });
    const badJson = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    const noText = await postJson(url, {});
    const badBlocks = await postJson(url, {
      text: 'x',
      blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }],
    });
    const gone = await postJson(archived, { text: 'x' });
    const unknown = await postJson(`${slack.url}/services/T0LOCAL00/B00000000/nosuchsecret`, { text: 'x' });

    expect([prohibited.status, await prohibited.text()]).toEqual([403, 'action_prohibited']);
    expect([badJson.status, await badJson.text()]).toEqual([400, 'invalid_payload']);
    expect([noText.status, await noText.text()]).toEqual([400, 'no_text']);
    expect([badBlocks.status, await badBlocks.text()]).toEqual([400, 'invalid_blocks']);
    expect([gone.status, await gone.text()]).toEqual([410, 'channel_is_archived']);
    expect([unknown.status, await unknown.text()]).toEqual([404, 'no_service']);
    expect(slack.messages).toHaveLength(0);
  });

  it('answers 429 with Retry-After when rate limited', async () => {
    const url = slack.webhookUrl(BILLING);
    slack.failNext({ method: 'webhook', status: 429, retryAfterSeconds: 7 });

    const limited = await postJson(url, { text: 'x' });
    const retried = await postJson(url, { text: 'x' });

    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(retried.status).toBe(200);
    expect(slack.messages).toHaveLength(1);
  });

  it('accepts the form-encoded payload= variant', async () => {
    const response = await fetch(slack.webhookUrl(BILLING), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payload: JSON.stringify({ text: 'form' }) }),
    });

    expect(response.status).toBe(200);
    expect(slack.messages[0]?.text).toBe('form');
  });
});

describe('Slack stand-in: response_url follow-ups', () => {
  it('records what a slash command follow-up posts', async () => {
    const url = slack.responseUrl('cmd123');

    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        response_type: 'ephemeral',
        replace_original: true,
        text: 'Here is your link',
        blocks: [section('x')],
      }),
    });

    expect(response.status).toBe(200);
    expect(slack.messages).toMatchObject([
      {
        kind: 'response_url',
        responseType: 'ephemeral',
        replaceOriginal: true,
        text: 'Here is your link',
        path: new URL(url).pathname,
      },
    ]);
  });

  it('accepts delete_original without text', async () => {
    const response = await fetch(slack.responseUrl('cmd789', 'actions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delete_original: true }),
    });

    expect(response.status).toBe(200);
    expect(slack.messages).toMatchObject([{ kind: 'response_url', deleteOriginal: true, text: undefined }]);
  });

  it('defaults response_type to ephemeral and stops after five posts', async () => {
    const url = slack.responseUrl('cmd456', 'actions');
    const post = () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x' }),
      });

    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post()).status);

    expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
    expect(slack.messages.every((m) => m.responseType === 'ephemeral')).toBe(true);
  });
});

describe('Slack stand-in: hooks for the local run', () => {
  it('calls onMessage listeners until they unsubscribe', async () => {
    const seen: SlackMessage[] = [];
    const unsubscribe = slack.onMessage((message) => seen.push(message));

    await web.chat.postMessage({ channel: BILLING, text: 'first' });
    unsubscribe();
    await web.chat.postMessage({ channel: BILLING, text: 'second' });

    expect(seen.map((m) => m.text)).toEqual(['first']);
    expect(slack.messages.map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('forgets messages, requests and faults on reset', async () => {
    slack.failNext({ status: 500, times: 5 });
    await web.chat.postMessage({ channel: BILLING, text: 'x' }).catch(() => undefined);

    slack.reset();

    expect(slack.messages).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);
    await expect(web.chat.postMessage({ channel: BILLING, text: 'x' })).resolves.toMatchObject({ ok: true });
  });
});

describe('Slack stand-in: file uploads', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
  const form = (fields: Record<string, string>, token = LOCAL_SLACK_BOT_TOKEN) =>
    fetch(`${slack.apiUrl}files.getUploadURLExternal`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
      body: new URLSearchParams(fields).toString(),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const imageMessage = (slackFile: Record<string, unknown>) => ({
    channel: BILLING,
    text: 'chart',
    blocks: [{ type: 'image', slack_file: slackFile, alt_text: 'spend chart' }],
  });

  it('runs WebClient’s filesUploadV2 (multipart upload) and returns the file without sharing it', async () => {
    const result = (await web.filesUploadV2({ file: png, filename: 'chart.png', title: 'Chart' })) as {
      ok: boolean;
      files: Array<{ ok: boolean; files: Array<{ id: string; title: string; size: number }> }>;
    };

    const uploaded = result.files[0]?.files[0];
    expect(uploaded).toMatchObject({ title: 'Chart', size: png.length });
    expect(slack.files.get(uploaded?.id ?? '')?.bytes?.equals(png)).toBe(true);
    expect(slack.messages).toEqual([]);
  });

  it('answers getUploadURLExternal with an upload URL on itself and a file id', async () => {
    const answer = await web.files.getUploadURLExternal({ filename: 'chart.png', length: png.length });

    expect(answer.ok).toBe(true);
    expect(answer.file_id).toMatch(/^F[A-Z0-9]{8,}$/);
    expect(answer.upload_url?.startsWith(`${slack.url}/upload/v1/`)).toBe(true);
  });

  it('refuses getUploadURLExternal as Slack does: JSON body, missing or zero length, long alt_txt, no token', async () => {
    const json = await fetch(`${slack.apiUrl}files.getUploadURLExternal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${slack.token}` },
      body: JSON.stringify({ filename: 'chart.png', length: 12 }),
    }).then((r) => r.json());

    expect(json).toEqual({ ok: false, error: 'invalid_arguments' });
    expect(await form({ filename: 'chart.png' })).toEqual({ ok: false, error: 'invalid_arguments' });
    expect(await form({ filename: 'chart.png', length: '0' })).toEqual({
      ok: false,
      error: 'missing_argument',
    });
    expect(await form({ filename: 'chart.png', length: '12', alt_txt: 'x'.repeat(1001) })).toEqual({
      ok: false,
      error: 'alt_txt_too_large',
    });
    expect(await form({ filename: 'chart.png', length: '12' }, '')).toEqual({
      ok: false,
      error: 'not_authed',
    });
  });

  it('refuses bytes that do not match the declared length, and completing a file whose bytes never arrived', async () => {
    const answer = await web.files.getUploadURLExternal({ filename: 'chart.png', length: png.length + 1 });

    const posted = await fetch(answer.upload_url ?? '', { method: 'POST', body: png });

    expect(posted.status).toBe(400);
    expect(await posted.text()).toBe('size_mismatch');
    await expect(
      web.files.completeUploadExternal({ files: [{ id: answer.file_id ?? '', title: 'x' }] }),
    ).rejects.toMatchObject({ data: { error: 'file_not_found' } });
    await expect(web.files.completeUploadExternal({ files: [{ id: 'F0NOSUCHFILE' }] })).rejects.toMatchObject(
      {
        data: { error: 'file_not_found' },
      },
    );
  });

  it('shows an uploaded file in an image block, and refuses unknown, unfinished and malformed ones', async () => {
    const answer = await web.files.getUploadURLExternal({ filename: 'chart.png', length: png.length });
    const id = answer.file_id ?? '';
    const raw = await fetch(answer.upload_url ?? '', { method: 'POST', body: png });
    expect(await raw.text()).toBe(`OK - ${png.length}`);

    await expect(web.chat.postMessage(imageMessage({ id }))).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: ['invalid slack file [json-pointer:/blocks/0/slack_file]'] },
    });
    const completed = await web.files.completeUploadExternal({ files: [{ id, title: 'Chart' }] });
    await expect(web.chat.postMessage(imageMessage({ id }))).resolves.toMatchObject({ ok: true });
    await expect(
      web.chat.postMessage(
        imageMessage({ url: (completed.files?.[0] as { url_private?: string } | undefined)?.url_private }),
      ),
    ).resolves.toMatchObject({ ok: true });
    await expect(web.chat.postMessage(imageMessage({ id: 'F0NOSUCHFILE' }))).rejects.toMatchObject({
      data: { errors: ['invalid slack file [json-pointer:/blocks/0/slack_file]'] },
    });
    await expect(web.chat.postMessage(imageMessage({ id: 'not-a-file' }))).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
    expect(slack.messagesIn(BILLING)).toHaveLength(2);
  });

  it('refuses an image block with both image_url and slack_file', async () => {
    const message = {
      channel: BILLING,
      text: 'chart',
      blocks: [
        {
          type: 'image',
          image_url: 'https://example.com/a.png',
          slack_file: { id: 'F0ABCDEF12' },
          alt_text: 'a',
        },
      ],
    };

    await expect(web.chat.postMessage(message)).rejects.toMatchObject({
      data: {
        error: 'invalid_blocks',
        errors: expect.arrayContaining([
          'must provide only one of image_url or slack_file [json-pointer:/blocks/0]',
        ]),
      },
    });
  });

  it('forgets uploads on reset', async () => {
    await web.files.getUploadURLExternal({ filename: 'chart.png', length: 3 });

    slack.reset();

    expect(slack.files.size).toBe(0);
  });
});
