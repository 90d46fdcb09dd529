import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { BodyTooLargeError, closeServer, LOCAL_HOST, listenLocal, readSmallBody } from './aws/local-server';

/**
 * A local stand-in for API Gateway's HTTP API in front of one Lambda function: every request on 127.0.0.1 becomes
 * a payload format 2.0 event (header names lower-cased, repeated headers joined with commas, cookies in `cookies`,
 * the body base64-encoded unless it is UTF-8 text of a textual media type), the handler runs with a fresh Lambda
 * context, and its result goes back as API Gateway sends it: a structured result (`statusCode`, `headers`,
 * `cookies`, `body`, `isBase64Encoded`) as given, anything else as a 200 JSON body. A handler that throws or
 * outlives its timeout is answered as API Gateway answers (500 / 503 with a JSON `message`), never with the error.
 */
export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export interface HttpExchange {
  readonly event: APIGatewayProxyEventV2;
  readonly response: BridgeResponse;
  /** Set when the handler threw or timed out. */
  readonly error?: unknown;
}

export interface BridgeResponse {
  readonly statusCode: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

export interface HttpBridgeOptions {
  readonly handler: HttpApiHandler;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** When `port` is taken, listen on a free port instead of failing. Default false. */
  readonly fallbackToFreePort?: boolean;
  /** One context per request; its remaining time is also the handler's time limit. */
  readonly createContext: () => Context;
  /** `routeKey` of the events. Default `$default`. */
  readonly routeKey?: string;
  /** API Gateway's payload limit (bytes); larger requests get 413. Default 10 MiB. */
  readonly maxBodyBytes?: number;
  /** Called after each answered request (for printing); must not throw. */
  readonly onExchange?: (exchange: HttpExchange) => void;
  /** Epoch milliseconds, for `requestContext.time`. Default `Date.now`. */
  readonly now?: () => number;
}

export interface HttpBridge {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** False when the requested port was taken and a free one was used instead. */
  readonly requestedPortUsed: boolean;
  close(): Promise<void>;
}

/** The parts of a request an event is built from (a node:http request has all of them). */
export interface BridgeRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion?: string;
  /** Alternating names and values, as received. */
  readonly rawHeaders: readonly string[];
  readonly socket?: { readonly remoteAddress?: string | undefined };
}

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TEXT_MEDIA = /^(text\/[\w.+-]+|application\/([\w.+-]+\+)?(json|xml|javascript|x-www-form-urlencoded))$/;

export async function startHttpBridge(options: HttpBridgeOptions): Promise<HttpBridge> {
  const server = createServer((req, res) => void serve(req, res, options));
  const host = options.host ?? LOCAL_HOST;
  const requested = options.port ?? 0;
  let listening: { url: string; port: number };
  let requestedPortUsed = true;
  try {
    listening = await listenLocal(server, requested, host);
  } catch (error) {
    if (!(options.fallbackToFreePort && requested !== 0 && isAddressInUse(error))) throw error;
    listening = await listenLocal(server, 0, host);
    requestedPortUsed = false;
  }
  return { ...listening, requestedPortUsed, close: () => closeServer(server) };
}

/**
 * The payload 2.0 event for a request whose body has been read. Pure: the request id and time come from `info`.
 */
export function toHttpApiEvent(
  req: BridgeRequest,
  body: Buffer,
  info: { readonly requestId: string; readonly now: number; readonly routeKey?: string },
): APIGatewayProxyEventV2 {
  const target = req.url ?? '/';
  const question = target.indexOf('?');
  const rawPath = question === -1 ? target : target.slice(0, question);
  const rawQueryString = question === -1 ? '' : target.slice(question + 1);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    const value = req.rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter((c) => c !== ''),
      );
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const host = headers.host ?? LOCAL_HOST;
  const domainName = host.replace(/:\d+$/, '');
  const query = queryParameters(rawQueryString);
  const base64 = body.length > 0 && !isUtf8Text(headers['content-type'], body);
  return {
    version: '2.0',
    routeKey: info.routeKey ?? '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query === undefined ? {} : { queryStringParameters: query }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion ?? '1.1'}`,
        sourceIp: (req.socket?.remoteAddress ?? LOCAL_HOST).replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: info.requestId,
      routeKey: info.routeKey ?? '$default',
      stage: '$default',
      time: apiGatewayTime(info.now),
      timeEpoch: info.now,
    },
    ...(body.length > 0 ? { body: body.toString(base64 ? 'base64' : 'utf8') } : {}),
    isBase64Encoded: base64,
  };
}

/** How API Gateway turns a payload 2.0 handler result into an HTTP response. */
export function toBridgeResponse(result: unknown): BridgeResponse {
  if (isStructured(result)) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
    const raw = typeof result.body === 'string' ? result.body : '';
    return {
      statusCode: result.statusCode,
      headers,
      cookies: Array.isArray(result.cookies) ? result.cookies.map(String) : [],
      body: Buffer.from(raw, result.isBase64Encoded === true ? 'base64' : 'utf8'),
    };
  }
  const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(body),
  };
}

interface StructuredResult {
  readonly statusCode: number;
  readonly headers?: Record<string, unknown>;
  readonly cookies?: unknown[];
  readonly body?: unknown;
  readonly isBase64Encoded?: unknown;
}

function isStructured(result: unknown): result is StructuredResult {
  return (
    typeof result === 'object' &&
    result !== null &&
    typeof (result as { statusCode?: unknown }).statusCode === 'number'
  );
}

async function serve(req: IncomingMessage, res: ServerResponse, options: HttpBridgeOptions): Promise<void> {
  const now = options.now ?? Date.now;
  let body: Buffer;
  try {
    body = await readSmallBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  } catch (error) {
    res.shouldKeepAlive = false;
    send(res, gatewayError(error instanceof BodyTooLargeError ? 413 : 400, 'Bad Request'));
    return;
  }
  const requestId = randomUUID();
  const event = toHttpApiEvent(req, body, { requestId, now: now(), routeKey: options.routeKey });
  const context = options.createContext();
  let response: BridgeResponse;
  let failure: unknown;
  try {
    response = toBridgeResponse(await withTimeLimit(options.handler(event, context), context));
  } catch (error) {
    failure = error;
    response =
      error instanceof HandlerTimeout
        ? gatewayError(503, 'Service Unavailable')
        : gatewayError(500, 'Internal Server Error');
  }
  send(res, { ...response, headers: { ...response.headers, 'apigw-requestid': requestId } });
  try {
    options.onExchange?.({ event, response, ...(failure === undefined ? {} : { error: failure }) });
  } catch {
    // A printing hook must not break the bridge.
  }
}

class HandlerTimeout extends Error {
  override readonly name = 'HandlerTimeout';
}

async function withTimeLimit<T>(promise: Promise<T>, context: Context): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HandlerTimeout('the handler ran past its timeout')),
      context.getRemainingTimeInMillis(),
    );
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

function gatewayError(statusCode: number, message: string): BridgeResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify({ message })),
  };
}

function send(res: ServerResponse, response: BridgeResponse): void {
  const headers: Record<string, string | string[]> = { ...response.headers };
  if (response.cookies.length > 0) headers['set-cookie'] = [...response.cookies];
  headers['content-length'] = String(response.body.length);
  res.writeHead(response.statusCode, headers);
  res.end(response.body);
}

function queryParameters(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
  }
  return out;
}

function isUtf8Text(contentType: string | undefined, body: Buffer): boolean {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!TEXT_MEDIA.test(media)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** `10/Jul/2024:12:00:00 +0000`, API Gateway's request time. */
function apiGatewayTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(
    d.getUTCMinutes(),
  )}:${two(d.getUTCSeconds())} +0000`;
}

function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}
