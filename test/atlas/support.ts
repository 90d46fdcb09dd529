import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterEach } from 'vitest';
import {
  type ApiKeySeed,
  type AtlasSandbox,
  DEMO_API_KEY,
  DEMO_SERVICE_ACCOUNT,
  type ServiceAccountSeed,
} from '../../infra/local/atlas-sandbox';
import { type AtlasClient, type AtlasClientOptions, createAtlasClient } from '../../lib/atlas/client';
import type { AtlasCredentials } from '../../lib/config';
import type { RetryPolicy } from '../../lib/retry';

/** Retries without real waiting: tests never depend on time passing. */
export const FAST_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

/**
 * Makes Atlas clients on the sandbox `sandbox()` answers when called (started in a hook or in the test), with quick
 * retries unless told otherwise; each is closed after the test that made it (this registers an afterEach).
 */
export function useAtlasClients(
  sandbox: () => AtlasSandbox,
): (options: Omit<AtlasClientOptions, 'baseUrl'>) => AtlasClient {
  const made: AtlasClient[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((client) => client.close()));
  });
  return (options) => {
    const client = createAtlasClient({ baseUrl: sandbox().url, retry: FAST_RETRY, ...options });
    made.push(client);
    return client;
  };
}

export function serviceAccount(seed: ServiceAccountSeed = DEMO_SERVICE_ACCOUNT): AtlasCredentials {
  return { kind: 'service-account', clientId: seed.clientId, clientSecret: seed.clientSecret };
}

export function apiKey(seed: ApiKeySeed = DEMO_API_KEY): AtlasCredentials {
  return { kind: 'api-key', publicKey: seed.publicKey, privateKey: seed.privateKey };
}

export async function sha256Of(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { hex: hash.digest('hex'), bytes };
}

export async function textOf(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** A small RFC 4180 reader for assertions (quoted fields with commas, doubled quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A bearer token straight from the sandbox's token endpoint. */
export async function bearerToken(
  baseUrl: string,
  seed: ServiceAccountSeed = DEMO_SERVICE_ACCOUNT,
): Promise<string> {
  const response = await request(`${baseUrl}/api/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${seed.clientId}:${seed.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await response.body.json()) as { access_token: string };
  return body.access_token;
}

/** A raw GET (no client involved) returning status, headers and the parsed or raw body. */
export async function rawGet(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}> {
  const response = await request(`${baseUrl}${path}`, { method: 'GET', headers });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}
