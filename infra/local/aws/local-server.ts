import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Plumbing every local stand-in shares (S3, Secrets Manager, Slack): listen on 127.0.0.1, close promptly, read small
 * bodies with a cap. Lives beside the SigV4 code because the AWS stand-ins were its first users.
 */
export const LOCAL_HOST = '127.0.0.1';

export interface Listening {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
}

/** Listen on 127.0.0.1 (port 0 picks a free one) and resolve once bound. */
export function listenLocal(server: Server, port = 0, host = LOCAL_HOST): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      resolve({ url: `http://${host}:${address.port}`, port: address.port });
    });
  });
}

/**
 * Stop accepting connections and destroy the open ones (idle keep-alive sockets and requests in flight alike), so
 * a test's `afterAll` never waits on a client's keep-alive timer. Idempotent.
 */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Read a whole request body of at most `limit` bytes; rejects with BodyTooLargeError past it. */
export async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError(`request body exceeds ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Consume and drop whatever is left of a request body, so the connection can carry the next request. */
export async function discardBody(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return;
  req.resume();
  await new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
    req.once('error', () => resolve());
  });
}

/** An id in the style of AWS request ids: 16 upper-case hex characters. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Faults a test queued with `failNext`: each applies to the next `times` matching requests (default 1), oldest
 * first, then is forgotten.
 */
export class FaultQueue<F extends { readonly times?: number }> {
  private readonly pending: Array<{ readonly fault: F; remaining: number }> = [];

  add(fault: F): void {
    this.pending.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** The first queued fault `matches` accepts, counted as used once; undefined when none applies. */
  take(matches: (fault: F) => boolean): F | undefined {
    const index = this.pending.findIndex(({ fault }) => matches(fault));
    const entry = this.pending[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.pending.splice(index, 1);
    return entry.fault;
  }
}
