import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback HTTP proxy in front of a stand-in that forwards every request unchanged (Host included, so SigV4
 * signatures still verify) except the ones a rule picks: those are read and never answered nor forwarded, as an S3
 * endpoint that accepts a connection and then stalls looks to its client.
 */
export interface StalledRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/bucket/key?partNumber=2&uploadId=...`. */
  readonly url: string;
}

export interface StallRule {
  readonly method: string;
  /** Matched against the decoded path. */
  readonly path: RegExp;
  /** Only requests carrying this query parameter (e.g. `partNumber` for UploadPart). */
  readonly query?: { readonly name: string; readonly value?: string };
  /** How many matching requests to stall. Default 1. */
  readonly times?: number;
}

export interface StallingProxy {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Requests stalled so far, oldest first. */
  readonly stalled: readonly StalledRequest[];
  stall(rule: StallRule): void;
  /** Resolves once `count` requests have been stalled in all. */
  whenStalled(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startStallingProxy(target: string): Promise<StallingProxy> {
  const upstream = new URL(target);
  const rules: { rule: StallRule; left: number }[] = [];
  const stalled: StalledRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters: { count: number; resolve: () => void }[] = [];

  const take = (req: IncomingMessage): boolean => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const path = decodeURIComponent(url.pathname);
    const found = rules.find(
      ({ rule, left }) =>
        left > 0 &&
        rule.method === req.method &&
        rule.path.test(path) &&
        (rule.query === undefined ||
          (url.searchParams.has(rule.query.name) &&
            (rule.query.value === undefined || url.searchParams.get(rule.query.name) === rule.query.value))),
    );
    if (found === undefined) return false;
    found.left -= 1;
    return true;
  };

  const server: Server = createServer((req, res) => {
    if (take(req)) {
      stalled.push({ method: req.method ?? '', url: req.url ?? '' });
      for (const waiter of waiters.filter((w) => w.count <= stalled.length)) waiter.resolve();
      req.resume();
      return;
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.on('aborted', () => forwarded.destroy());
    req.pipe(forwarded);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stalled,
    stall: (rule) => {
      rules.push({ rule, left: rule.times ?? 1 });
    },
    whenStalled: (count) =>
      count <= stalled.length
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push({ count, resolve });
          }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
