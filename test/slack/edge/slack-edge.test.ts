import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadLinkInput } from '../../../lib/command/handle-download-link';
import type { InvoiceCommandInput } from '../../../lib/command/handle-invoice-command';
import { internalErrorReply, type SlackReply } from '../../../lib/command/replies';
import { type CommandDeps, type CommandUseCase, createCommandUseCase } from '../../../lib/command/use-case';
import { signSlackRequest } from '../../../lib/slack/edge/signature';
import { createSlackEdge, type LambdaHttpEvent } from '../../../lib/slack/edge/slack-edge';
import { CHANNEL, commandDeps, INVOICE_1, NOW, ORG_A, TEAM, USER } from '../../command/fixtures';
import { httpApiEvent } from '../../command/slack-events';
import { FakeAtlas, FakeIndexStore, hangUntilAborted, recordingLogger } from '../../support/fakes';

// The edge with real Bolt (App + AwsLambdaReceiver) in front of the use case, which is either the real one over
// in-memory ports or a recording fake. The only server is a response_url sink on 127.0.0.1.
const SECRET = 'slack-edge-test-signing-secret';
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

beforeEach(() => {
  posted.length = 0;
});

/** The edge over the real use case and fake ports. */
function build(overrides: Partial<CommandDeps> = {}) {
  const log = recordingLogger({ redact: [SECRET] });
  const useCase = createCommandUseCase(commandDeps(log, overrides));
  return { log, handle: createSlackEdge({ signingSecret: SECRET, useCase, log, now: () => NOW }) };
}

/** The edge over a use case that records its inputs and answers `reply` (or throws `fail`). */
function buildRecording(options: { reply?: SlackReply; fail?: Error } = {}) {
  const log = recordingLogger({ redact: [SECRET] });
  const commands: InvoiceCommandInput[] = [];
  const clicks: DownloadLinkInput[] = [];
  const answer = async () => {
    if (options.fail) throw options.fail;
    return options.reply ?? { response_type: 'ephemeral' as const, text: 'the answer' };
  };
  const useCase: CommandUseCase = {
    answerCommand: async (input) => {
      commands.push(input);
      return answer();
    },
    answerDownloadLink: async (input) => {
      clicks.push(input);
      return answer();
    },
  };
  const handle = createSlackEdge({ signingSecret: SECRET, useCase, log, now: () => NOW });
  return { log, commands, clicks, handle };
}

function signed(body: string, headers: Record<string, string> = {}): Record<string, string> {
  return {
    'X-Slack-Request-Timestamp': TS,
    'X-Slack-Signature': signSlackRequest(SECRET, TS, body),
    'Content-Type': 'application/x-www-form-urlencoded',
    ...headers,
  };
}

function v2Event(body: string): LambdaHttpEvent {
  return httpApiEvent(body, signed(body));
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

function actionBody(
  actionId: string,
  value: string,
  options: { responsePath?: string; team?: { id: string } | null } = {},
): string {
  const payload = {
    type: 'block_actions',
    team: options.team === undefined ? { id: TEAM, domain: 'acme' } : options.team,
    user: { id: USER, team_id: TEAM },
    channel: { id: CHANNEL, name: 'billing' },
    response_url: `${sinkUrl}${options.responsePath ?? '/actions/1'}`,
    actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: '1' }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

describe('the HTTP checks in front of Bolt', () => {
  it('hands the use case a base64 body with a charset in its Content-Type, decoded as UTF-8', async () => {
    const { commands, handle } = buildRecording();
    const body = commandBody('factüre public');

    const result = await handle(
      {
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
        headers: signed(body, { 'Content-Type': 'Application/X-WWW-Form-Urlencoded; charset=utf-8' }),
      },
      {},
      NOW - 5,
    );

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ response_type: 'ephemeral', text: 'the answer' });
    expect(commands).toEqual([
      {
        text: 'factüre public',
        command: '/invoice',
        teamId: TEAM,
        channelId: CHANNEL,
        userId: USER,
        receivedAt: NOW - 5,
      },
    ]);
  });

  it.each([
    ['a wrong signature', { 'X-Slack-Signature': `v0=${'1'.repeat(64)}` }],
    ['a stale timestamp', { 'X-Slack-Request-Timestamp': String(Number(TS) - 301) }],
    ['a timestamp too far ahead', { 'X-Slack-Request-Timestamp': String(Number(TS) + 301) }],
  ])('refuses %s with 401 before Bolt sees it', async (_case, override) => {
    const { commands, handle } = buildRecording();
    const body = commandBody('help');

    const result = await handle({ body, headers: { ...signed(body), ...override } }, {});

    expect(result).toEqual({ statusCode: 401, body: '' });
    expect(commands).toHaveLength(0);
  });

  it('refuses a request without signature headers with 401', async () => {
    const { commands, handle } = buildRecording();
    const body = commandBody('help');

    expect(
      await handle({ body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, {}),
    ).toEqual({ statusCode: 401, body: '' });
    expect(await handle({ body, headers: null }, {})).toEqual({ statusCode: 401, body: '' });
    expect(commands).toHaveLength(0);
  });

  it('answers a Slack retry with 200 and x-slack-no-retry, without processing it again', async () => {
    const { commands, handle } = buildRecording();
    const body = commandBody('help');

    const result = await handle(
      { body, headers: signed(body, { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' }) },
      {},
    );

    expect(result).toEqual({ statusCode: 200, headers: { 'x-slack-no-retry': '1' }, body: '' });
    expect(commands).toHaveLength(0);
  });

  it('refuses a body over the limit with 413', async () => {
    const { handle } = buildRecording();
    const big = 'x'.repeat(300 * 1024);

    expect(await handle({ body: big, headers: signed(big) }, {})).toEqual({ statusCode: 413, body: '' });
  });

  it('answers 400 to a signed payload that is not JSON', async () => {
    const { handle } = build();

    expect(await handle(v2Event('payload=%7Bnot-json'), {})).toEqual({ statusCode: 400, body: '' });
  });
});

describe('the slash-command listener', () => {
  it('answers with the JSON of the use case’s reply', async () => {
    const { handle } = build();

    const result = await handle(v2Event(commandBody(INVOICE_1)), {});

    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({ 'Content-Type': 'application/json' });
    const reply = JSON.parse(result.body);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(`Atlas invoice ${INVOICE_1}`);
  });

  it('answers the safe message and logs once when the use case throws', async () => {
    const { handle, log } = buildRecording({
      fail: new Error('CredentialsProviderError: secret-access-key-value'),
    });

    const result = await handle(v2Event(commandBody(INVOICE_1)), {});

    expect(JSON.parse(result.body)).toEqual(internalErrorReply());
    const errors = log.lines.filter((l) => l.includes('"level":"error"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('answering the slash command failed');
  });

  it('counts the reply budget from when the request arrived', async () => {
    const { handle } = build({
      index: new FakeIndexStore([]),
      atlas: new FakeAtlas({ [ORG_A]: (_id, signal) => hangUntilAborted(signal) }),
      atlasDeadlineMs: 60_000,
    });

    const result = await handle(v2Event(commandBody(INVOICE_1)), {}, NOW - 2_495);

    expect(JSON.parse(result.body).text).toContain('Atlas did not answer in time');
  });
});

describe('the download buttons', () => {
  it('answers "Get download link" through response_url and acks with an empty 200', async () => {
    const { handle } = build();

    const result = await handle(v2Event(actionBody('invoice_download_link', `${ORG_A}:${INVOICE_1}`)), {});

    expect(result).toEqual({ statusCode: 200, body: '' });
    expect(posted).toHaveLength(1);
    const reply = posted[0]?.body as SlackReply;
    expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(reply.text).toContain(`Download link for Atlas invoice ${INVOICE_1}`);
  });

  it('reads the workspace from the user when the team is null (org-wide installs)', async () => {
    const { clicks, handle } = buildRecording();

    await handle(v2Event(actionBody('invoice_download_link', `${ORG_A}:${INVOICE_1}`, { team: null })), {});

    expect(clicks).toEqual([
      { value: `${ORG_A}:${INVOICE_1}`, teamId: TEAM, channelId: CHANNEL, userId: USER },
    ]);
  });

  it('posts the safe message when the use case throws', async () => {
    const { handle } = buildRecording({ fail: new Error('boom') });

    await handle(v2Event(actionBody('invoice_download_link', `${ORG_A}:${INVOICE_1}`)), {});

    expect(posted.map((p) => p.body)).toEqual([{ ...internalErrorReply(), replace_original: false }]);
  });

  it('keeps a 200 and logs once, redacted, when the response_url post fails after the ack', async () => {
    const { handle, log } = build();

    const result = await handle(
      v2Event(actionBody('invoice_download_link', `${ORG_A}:${INVOICE_1}`, { responsePath: '/fail' })),
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
});
