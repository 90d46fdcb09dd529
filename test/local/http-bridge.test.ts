import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type HttpApiHandler,
  type HttpBridge,
  startHttpBridge,
  toBridgeResponse,
} from '../../infra/local/http-bridge';
import { createLambdaContext } from '../../infra/local/lambda-context';

const bridges: HttpBridge[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

interface Seen {
  event: APIGatewayProxyEventV2;
  context: Context;
}

async function bridgeFor(handler: HttpApiHandler, timeoutMs = 5_000) {
  const seen: Seen[] = [];
  const bridge = await startHttpBridge({
    routeKey: 'POST /slack/events',
    createContext: () => createLambdaContext({ functionName: 'test', timeoutMs }),
    handler: async (event, context) => {
      seen.push({ event, context });
      return handler(event, context);
    },
  });
  bridges.push(bridge);
  return { bridge, seen };
}

/** A raw request, so repeated headers and cookies arrive exactly as written. */
function send(
  url: string,
  options: { method: string; path: string; headers: Array<[string, string]>; body?: Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const { host, port } = new URL(url);
    const length: Array<[string, string]> = options.body
      ? [['Content-Length', String(options.body.length)]]
      : [];
    const headers = [['Host', host], ...length, ...options.headers].flat();
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.method, path: options.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('startHttpBridge', () => {
  it('hands the handler a payload 2.0 event and sends its structured result back', async () => {
    const { bridge, seen } = await bridgeFor(async () => ({
      statusCode: 201,
      headers: { 'Content-Type': 'application/json', 'X-Slack-No-Retry': 1 },
      cookies: ['a=1; Path=/', 'b=2'],
      body: '{"response_type":"ephemeral","text":"Ünïcode & <Co>"}',
    }));
    const body = 'command=%2Finvoice&text=latest&team_id=T0LOCAL00';

    const response = await send(bridge.url, {
      method: 'POST',
      path: '/slack/events?x=1&x=2&y=%C3%BC',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['X-Slack-Signature', 'v0=abc'],
        ['X-Custom', 'one'],
        ['x-custom', 'two'],
        ['Cookie', 'c1=v1; c2=v2'],
      ],
      body: Buffer.from(body),
    });

    expect(seen).toHaveLength(1);
    const { event } = seen[0] as Seen;
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /slack/events');
    expect(event.rawPath).toBe('/slack/events');
    expect(event.rawQueryString).toBe('x=1&x=2&y=%C3%BC');
    expect(event.queryStringParameters).toEqual({ x: '1,2', y: 'ü' });
    expect(event.requestContext.http.method).toBe('POST');
    expect(event.requestContext.http.path).toBe('/slack/events');
    expect(event.requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(event.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(event.headers['x-slack-signature']).toBe('v0=abc');
    expect(event.headers['x-custom']).toBe('one,two');
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['c1=v1', 'c2=v2']);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe(body);

    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-slack-no-retry']).toBe('1');
    expect(response.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(response.body.toString('utf8')).toBe('{"response_type":"ephemeral","text":"Ünïcode & <Co>"}');
  });

  it('base64-encodes a binary body and decodes a base64 result', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13]);
    const { bridge, seen } = await bridgeFor(async (event) => ({
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from(event.body ?? '', 'base64')
        .reverse()
        .toString('base64'),
      isBase64Encoded: true,
    }));

    const response = await send(bridge.url, {
      method: 'PUT',
      path: '/upload',
      headers: [['Content-Type', 'application/octet-stream']],
      body: bytes,
    });

    const { event } = seen[0] as Seen;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(bytes)).toBe(true);
    expect(response.body.equals(Buffer.from(bytes).reverse())).toBe(true);
  });

  it('base64-encodes a body declared as text that is not valid UTF-8', async () => {
    const bytes = Buffer.from([0x74, 0x65, 0xc3, 0x28]);
    const { bridge, seen } = await bridgeFor(async () => ({ statusCode: 204, body: '' }));

    await send(bridge.url, {
      method: 'POST',
      path: '/',
      headers: [['Content-Type', 'text/plain']],
      body: bytes,
    });

    const { event } = seen[0] as Seen;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('sends a result without a status code as a 200 JSON body, as API Gateway does', async () => {
    const { bridge } = await bridgeFor(async () => ({ ok: true, items: [1, 2] }));

    const response = await send(bridge.url, { method: 'GET', path: '/', headers: [] });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ ok: true, items: [1, 2] });
  });

  it('gives each request its own Lambda context with time remaining', async () => {
    const { bridge, seen } = await bridgeFor(async (_, context) => ({
      statusCode: 200,
      body: String(context.getRemainingTimeInMillis()),
    }));

    const first = await send(bridge.url, { method: 'GET', path: '/', headers: [] });
    await send(bridge.url, { method: 'GET', path: '/', headers: [] });

    expect(Number(first.body.toString('utf8'))).toBeGreaterThan(0);
    expect(Number(first.body.toString('utf8'))).toBeLessThanOrEqual(5_000);
    expect(seen[0]?.context.awsRequestId).not.toBe(seen[1]?.context.awsRequestId);
    expect(seen[0]?.event.requestContext.requestId).not.toBe(seen[1]?.event.requestContext.requestId);
  });

  it('answers 500 without the error when the handler throws', async () => {
    const { bridge } = await bridgeFor(async () => {
      throw new Error('secret-detail-xoxb-123');
    });

    const response = await send(bridge.url, { method: 'POST', path: '/', headers: [] });

    expect(response.status).toBe(500);
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ message: 'Internal Server Error' });
    expect(response.body.toString('utf8')).not.toContain('secret-detail');
  });

  it('answers 503 when the handler outlives its timeout', async () => {
    const { bridge } = await bridgeFor(() => new Promise(() => {}), 50);

    const response = await send(bridge.url, { method: 'POST', path: '/', headers: [] });

    expect(response.status).toBe(503);
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ message: 'Service Unavailable' });
  });

  it('falls back to a free port when the requested one is taken, only when allowed', async () => {
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    const options = {
      port: taken,
      createContext: () => createLambdaContext({ functionName: 'test', timeoutMs: 1_000 }),
      handler: async () => ({ statusCode: 204, body: '' }),
    };

    const fallback = await startHttpBridge({ ...options, fallbackToFreePort: true });
    bridges.push(fallback);

    expect(fallback.port).not.toBe(taken);
    expect(fallback.requestedPortUsed).toBe(false);
    await expect(startHttpBridge(options)).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('toBridgeResponse', () => {
  it('passes a plain string through as a JSON body of status 200', () => {
    const response = toBridgeResponse('hello');

    expect(response.statusCode).toBe(200);
    expect(response.body.toString('utf8')).toBe('hello');
  });
});
