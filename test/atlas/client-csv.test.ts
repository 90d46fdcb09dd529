import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AtlasSandbox, generateCsvChunks, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import { type AtlasClient, createAtlasClient } from '../../lib/atlas/client';
import { AtlasApiError } from '../../lib/errors';
import { FAST_RETRY, serviceAccount, sha256Of, textOf } from './support';

let sandbox: AtlasSandbox;
let atlas: AtlasClient;
let orgId: string;
let invoiceId: string;

beforeEach(async () => {
  sandbox = await startAtlasSandbox({ orgs: [{ name: 'Ünïcode & <Co> "CSV"', invoices: 2 }] });
  orgId = sandbox.orgIds()[0] ?? '';
  invoiceId = sandbox.listInvoices(orgId)[1]?.id ?? '';
  atlas = createAtlasClient({ baseUrl: sandbox.url, credentials: serviceAccount(), retry: FAST_RETRY });
});

afterEach(async () => {
  await atlas.close();
  await sandbox.close();
});

describe('getInvoiceCsv', () => {
  it('streams a 200 MB CSV with the exact bytes, without buffering it', async () => {
    const spec = sandbox.setCsvSize(orgId, invoiceId, 200_000_000);
    if (spec === undefined) throw new Error('no generated CSV');

    const download = await atlas.getInvoiceCsv(orgId, invoiceId);
    const bufferedAtHandover = (download.body as unknown as Readable).readableLength;
    let largestChunk = 0;
    const received = await sha256Of(
      (async function* () {
        for await (const chunk of download.body) {
          largestChunk = Math.max(largestChunk, chunk.length);
          yield chunk;
        }
      })(),
    );
    const expected = await sha256Of(generateCsvChunks(spec));

    expect(download.contentLength).toBe(200_000_000);
    expect(received.bytes).toBe(200_000_000);
    expect(received.hex).toBe(expected.hex);
    expect(bufferedAtHandover).toBeLessThan(1024 * 1024);
    expect(largestChunk).toBeLessThan(1024 * 1024);
  });

  it('returns the line-item CSV byte for byte as the sandbox renders it', async () => {
    const download = await atlas.getInvoiceCsv(orgId, invoiceId);

    const text = await textOf(download.body);

    expect(text).toBe(sandbox.csvText(orgId, invoiceId));
    expect(download.contentLength).toBe(Buffer.byteLength(text));
  });

  it('retries before the body flows, but surfaces a break in the body as a stream error', async () => {
    sandbox.setCsvSize(orgId, invoiceId, 5_000_000);
    sandbox.injectFault({ match: { path: /\/csv$/ }, status: 503 });
    sandbox.injectFault({ match: { path: /\/csv$/ }, abortAfterBytes: 1_000_000 });

    const download = await atlas.getInvoiceCsv(orgId, invoiceId);

    await expect(sha256Of(download.body)).rejects.toThrow();
    expect(sandbox.requests.filter((r) => r.path.endsWith('/csv')).map((r) => r.status)).toEqual([503, 200]);
  });

  it('reports a missing invoice as an AtlasApiError before any byte', async () => {
    await expect(atlas.getInvoiceCsv(orgId, 'ffffffffffffffffffffffff')).rejects.toThrow(AtlasApiError);
  });

  it('destroys the body when the caller aborts mid-download', async () => {
    sandbox.setCsvSize(orgId, invoiceId, 50_000_000);
    const controller = new AbortController();
    const download = await atlas.getInvoiceCsv(orgId, invoiceId, { signal: controller.signal });

    const reading = (async () => {
      let bytes = 0;
      for await (const chunk of download.body) {
        bytes += chunk.length;
        if (bytes > 1_000_000) controller.abort();
      }
      return bytes;
    })();

    await expect(reading).rejects.toThrow();
  });
});
