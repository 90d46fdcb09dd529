import { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SLACK_BOT_TOKEN, type SlackStandIn, startSlackStandIn } from '../../infra/local/slack';
import { silentLogger } from '../../lib/log';
import { slackWebClientOptions } from '../../lib/slack/notifier';
import { fetchOverUndici } from '../../lib/slack/undici-fetch';

const CHANNEL = 'C0UNDICI1';

let slack: SlackStandIn;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  slack = await startSlackStandIn({ channels: [CHANNEL] });
});
afterAll(async () => {
  await slack.close();
});
afterEach(() => {
  globalThis.fetch = realFetch;
  slack.reset();
});

function client(): WebClient {
  return new WebClient(
    LOCAL_SLACK_BOT_TOKEN,
    slackWebClientOptions({ apiUrl: slack.apiUrl, log: silentLogger }),
  );
}

describe('the WebClient the functions build', () => {
  it("posts through the bundle's undici, never through globalThis.fetch", async () => {
    globalThis.fetch = () => Promise.reject(new Error('globalThis.fetch must not be used'));

    const answer = await client().chat.postMessage({ channel: CHANNEL, text: 'one HTTP stack' });

    expect(answer.ok).toBe(true);
    expect(slack.messagesIn(CHANNEL).map((m) => m.text)).toEqual(['one HTTP stack']);
  });

  it("hands WebClient a 429's Retry-After, as its rate-limited error", async () => {
    slack.failNext({ method: 'chat.postMessage', status: 429, retryAfterSeconds: 7 });

    const attempt = client().chat.postMessage({ channel: CHANNEL, text: 'later' });

    await expect(attempt).rejects.toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 });
  });

  it('hands WebClient an HTTP error with its status, and a refusal as a platform error', async () => {
    slack.failNext({ method: 'chat.postMessage', status: 503 });

    const http = client().chat.postMessage({ channel: CHANNEL, text: 'x' });
    const refused = client().chat.postMessage({ channel: 'C0NOWHERE1', text: 'x' });

    await expect(http).rejects.toMatchObject({ code: 'slack_webapi_http_error', statusCode: 503 });
    await expect(refused).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { error: 'channel_not_found' },
    });
  });
});

describe('fetchOverUndici', () => {
  it('refuses a FormData body, which only file arguments would send', async () => {
    const form = new FormData();
    form.set('file', 'bytes');

    await expect(
      fetchOverUndici(`${slack.apiUrl}files.upload`, { method: 'POST', body: form as never }),
    ).rejects.toThrow('string bodies only');
  });
});
