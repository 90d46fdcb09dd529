import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import AwsLambdaReceiver from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoltLogger } from '../../lib/command/bolt-logger';
import type { ListenerDeps } from '../../lib/command/listeners/register';
import { createSlackDispatch } from '../../lib/command/slack-app';
import { createSlackHttpHandler } from '../../lib/command/slack-http';
import { signSlackRequest } from '../../lib/command/slack-signature';
import { CHANNEL, INVOICE_1, listenerDeps, NOW, ORG_A, recordingLogger, TEAM, USER } from './fixtures';

// Real Bolt (App + AwsLambdaReceiver) with in-memory ports; the only server is a response_url sink on 127.0.0.1.
const SECRET = 'slack-app-test-signing-secret';
const TS = String(Math.floor(NOW / 1000));

let sink: Server;
let sinkUrl: string;
const posted: Array<{ status: number; body: unknown }> = [];

beforeAll(async () => {
  sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = req.url?.includes('fail') ? 500 : 200;
      posted.push({ status, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(status).end(status === 200 ? 'ok' : 'error');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => sink.close(resolve));
});

function build(overrides: Partial<ListenerDeps> = {}) {
  const log = recordingLogger([SECRET]);
  const deps = listenerDeps(log, overrides);
  const dispatch = createSlackDispatch({ signingSecret: SECRET, deps, log });
  return { log, handle: createSlackHttpHandler({ signingSecret: SECRET, dispatch, log, now: () => NOW }) };
}

function v2Event(body: string) {
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': TS,
      'x-slack-signature': signSlackRequest(SECRET, TS, body),
    },
    requestContext: {},
    body,
    isBase64Encoded: false,
  };
}

function commandBody(text: string): string {
  return new URLSearchParams({
    command: '/invoice',
    text,
    team_id: TEAM,
    channel_id: CHANNEL,
    user_id: USER,
    response_url: `${sinkUrl}/commands/1`,
  }).toString();
}

function actionBody(actionId: string, value: string, responsePath = '/actions/1'): string {
  const payload = {
    type: 'block_actions',
    team: { id: TEAM, domain: 'acme' },
    user: { id: USER, team_id: TEAM },
    channel: { id: CHANNEL, name: 'billing' },
    response_url: `${sinkUrl}${responsePath}`,
    actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: '1' }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

describe('the Bolt app behind the HTTP adapter', () => {
  it('answers a slash command with the JSON the listener acked', async () => {
    const { handle } = build();
    const result = await handle(v2Event(commandBody(INVOICE_1)), {});
    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({ 'Content-Type': 'application/json' });
    const reply = JSON.parse(result.body);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(`Atlas invoice ${INVOICE_1}`);
  });

  it('answers the download button through response_url and acks with an empty 200', async () => {
    const { handle } = build();
    posted.length = 0;
    const result = await handle(v2Event(actionBody('invoice_download_link', `${ORG_A}:${INVOICE_1}`)), {});
    expect(result).toEqual({ statusCode: 200, body: '' });
    expect(posted).toHaveLength(1);
    expect(posted[0]?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  });

  it('keeps a 200 and logs once, redacted, when the response_url post fails after the ack', async () => {
    const { handle, log } = build();
    const result = await handle(
      v2Event(actionBody('invoice_download_link', `${ORG_A}:${INVOICE_1}`, '/fail')),
      {},
    );
    expect(result).toEqual({ statusCode: 200, body: '' });
    const errors = log.lines.filter((l) => l.includes('"level":"error"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('a Slack listener failed');
    expect(log.lines.join('\n')).not.toContain(SECRET);
  });

  it('acks clicks on the download URL button', async () => {
    const { handle } = build();
    expect(await handle(v2Event(actionBody('invoice_csv_download', '')), {})).toEqual({
      statusCode: 200,
      body: '',
    });
  });

  it('answers 404 to an interaction no listener handles', async () => {
    const { handle } = build();
    expect((await handle(v2Event(actionBody('something_else', '')), {})).statusCode).toBe(404);
  });

  it('answers 400 to a signed payload that is not JSON', async () => {
    const { handle } = build();
    expect(await handle(v2Event('payload=%7Bnot-json'), {})).toEqual({ statusCode: 400, body: '' });
  });
});

describe('Bolt 5.1 on its own (why the adapter normalises Content-Type)', () => {
  it('throws on a form body whose Content-Type carries a charset', async () => {
    const receiver = new AwsLambdaReceiver({
      signingSecret: SECRET,
      signatureVerification: false,
      logger: silentBolt(),
    });
    const body = commandBody('help');
    const event = {
      ...v2Event(body),
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    };
    await expect(receiver.toHandler()(event, {})).rejects.toThrow(SyntaxError);
  });
});

function silentBolt() {
  return createBoltLogger(recordingLogger());
}
