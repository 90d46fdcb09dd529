import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { signSlackRequest } from '../../lib/slack/edge/signature';

/** API Gateway events as Slack's requests arrive in Lambda, signed like Slack signs them. */
export interface SignOptions {
  readonly secret: string;
  /** Epoch milliseconds of the signature. */
  readonly at: number;
  readonly contentType?: string;
  readonly extraHeaders?: Record<string, string>;
  readonly base64?: boolean;
}

export function slackHeaders(body: string, options: SignOptions): Record<string, string> {
  const ts = String(Math.floor(options.at / 1000));
  return {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': signSlackRequest(options.secret, ts, body),
    ...options.extraHeaders,
  };
}

/** HTTP API (payload format 2.0): lower-case headers. */
export function httpApiEvent(
  body: string,
  headers: Record<string, string>,
  base64 = false,
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path: '/slack/events',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Slackbot',
      },
      requestId: 'r1',
      routeKey: 'POST /slack/events',
      stage: '$default',
      time: '10/Jul/2024:12:00:00 +0000',
      timeEpoch: 0,
    },
    body: base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: base64,
  };
}

/** REST API (v1): header names as the client sent them, plus multiValueHeaders. */
export function restApiEvent(
  body: string,
  headers: Record<string, string>,
  base64 = false,
): APIGatewayProxyEvent {
  const titled = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()),
      value,
    ]),
  );
  return {
    resource: '/slack/events',
    path: '/slack/events',
    httpMethod: 'POST',
    headers: titled,
    multiValueHeaders: Object.fromEntries(Object.entries(titled).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    body: base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: base64,
  };
}

export function commandBody(fields: {
  readonly text: string;
  readonly teamId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly responseUrl: string;
  readonly command?: string;
}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: fields.teamId,
    team_domain: 'acme',
    channel_id: fields.channelId,
    channel_name: 'billing',
    user_id: fields.userId,
    user_name: 'ada',
    command: fields.command ?? '/invoice',
    text: fields.text,
    api_app_id: 'A0APP',
    response_url: fields.responseUrl,
    trigger_id: '1.2.3',
  }).toString();
}

export function blockActionsBody(fields: {
  readonly actionId: string;
  readonly value: string;
  readonly teamId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly responseUrl: string;
}): string {
  const payload = {
    type: 'block_actions',
    api_app_id: 'A0APP',
    token: 'legacy-verification-token',
    team: { id: fields.teamId, domain: 'acme' },
    user: { id: fields.userId, username: 'ada', name: 'ada', team_id: fields.teamId },
    channel: { id: fields.channelId, name: 'billing' },
    container: { type: 'message', message_ts: '1720612800.000100', channel_id: fields.channelId },
    trigger_id: '1.2.3',
    response_url: fields.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: 'download',
        text: { type: 'plain_text', text: 'Get download link' },
        value: fields.value,
        action_ts: '1720612800.5',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'slack-command',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:slack-command',
    memoryLimitInMB: '1024',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/slack-command',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 6_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
