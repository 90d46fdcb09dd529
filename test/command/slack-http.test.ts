import { describe, expect, it } from 'vitest';
import { createSlackHttpHandler, type SlackDispatch } from '../../lib/command/slack-http';
import { signSlackRequest } from '../../lib/command/slack-signature';
import { silentLogger } from '../../lib/log';

const SECRET = 'test-signing-secret-0123456789';
const NOW = Date.UTC(2024, 6, 10, 12, 0, 0);
const TS = String(Math.floor(NOW / 1000));
const BODY = 'command=%2Finvoice&text=help&team_id=T1&channel_id=C1&user_id=U1';

type Seen = Parameters<SlackDispatch>;

function handlerFor(dispatch: SlackDispatch) {
  return createSlackHttpHandler({ signingSecret: SECRET, dispatch, log: silentLogger, now: () => NOW });
}

/** A listener that marks its scope failed and then returns `answer` (what was acknowledged, if anything). */
function failingListener(answer: { statusCode: number; body: string }): SlackDispatch {
  return async (_event, _context, scope) => {
    scope.failed = true;
    return answer;
  };
}

function handler(result = { statusCode: 200, body: 'answer' }, fail?: Error) {
  const seen: Seen[] = [];
  const dispatch: SlackDispatch = async (event, context, scope) => {
    seen.push([event, context, scope]);
    if (fail) throw fail;
    return result;
  };
  return {
    seen,
    handle: handlerFor(dispatch),
  };
}

function signed(body: string, headers: Record<string, string> = {}) {
  return {
    'X-Slack-Request-Timestamp': TS,
    'X-Slack-Signature': signSlackRequest(SECRET, TS, body),
    'Content-Type': 'application/x-www-form-urlencoded',
    ...headers,
  };
}

describe('createSlackHttpHandler', () => {
  it('passes a signed request on with the body decoded and the content type normalised', async () => {
    const { seen, handle } = handler();
    const result = await handle(
      {
        body: Buffer.from(BODY).toString('base64'),
        isBase64Encoded: true,
        headers: signed(BODY, { 'Content-Type': 'Application/X-WWW-Form-Urlencoded; charset=utf-8' }),
      },
      {},
      NOW - 5,
    );
    expect(result).toEqual({ statusCode: 200, body: 'answer' });
    const [event, , scope] = seen[0] ?? [];
    expect(event?.body).toBe(BODY);
    expect(event?.isBase64Encoded).toBe(false);
    expect(event?.headers?.['content-type']).toBe('application/x-www-form-urlencoded');
    expect(scope).toEqual({ receivedAt: NOW - 5, failed: false });
  });

  it.each([
    ['a wrong signature', { 'X-Slack-Signature': `v0=${'1'.repeat(64)}` }],
    ['a stale timestamp', { 'X-Slack-Request-Timestamp': String(Number(TS) - 301) }],
  ])('refuses %s with 401 before dispatching', async (_case, override) => {
    const { seen, handle } = handler();
    const result = await handle({ body: BODY, headers: { ...signed(BODY), ...override } }, {});
    expect(result).toEqual({ statusCode: 401, body: '' });
    expect(seen).toHaveLength(0);
  });

  it('refuses a request without signature headers with 401', async () => {
    const { seen, handle } = handler();
    expect(
      await handle({ body: BODY, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, {}),
    ).toEqual({
      statusCode: 401,
      body: '',
    });
    expect(await handle({ body: BODY, headers: null }, {})).toEqual({ statusCode: 401, body: '' });
    expect(seen).toHaveLength(0);
  });

  it('answers a Slack retry with 200 and x-slack-no-retry, without processing it again', async () => {
    const { seen, handle } = handler();
    const result = await handle(
      {
        body: BODY,
        headers: signed(BODY, { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' }),
      },
      {},
    );
    expect(result).toEqual({ statusCode: 200, headers: { 'x-slack-no-retry': '1' }, body: '' });
    expect(seen).toHaveLength(0);
  });

  it('refuses a body over the limit with 413', async () => {
    const { handle } = handler();
    const big = 'x'.repeat(300 * 1024);
    expect(await handle({ body: big, headers: signed(big) }, {})).toEqual({ statusCode: 413, body: '' });
  });

  it('answers 400 when the signed body cannot be read', async () => {
    const { handle } = handler(undefined, new SyntaxError('Unexpected token'));
    const body = 'payload=%7Bnot-json';
    expect(await handle({ body, headers: signed(body) }, {})).toEqual({ statusCode: 400, body: '' });
  });

  it('turns a failed listener that left no answer into the safe message', async () => {
    const handle = handlerFor(failingListener({ statusCode: 404, body: '' }));
    const result = await handle({ body: BODY, headers: signed(BODY) }, {});
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({
      response_type: 'ephemeral',
      text: 'Sorry, something went wrong while answering. Please try again in a minute.',
    });
  });

  it('keeps the acknowledged answer when a listener failed after acking', async () => {
    const handle = handlerFor(failingListener({ statusCode: 200, body: '{"text":"the real answer"}' }));
    expect((await handle({ body: BODY, headers: signed(BODY) }, {})).body).toBe('{"text":"the real answer"}');
  });
});
