import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ParsedCurl, parseCurl, type StartProcess, startProcess } from './start-process';

// `npm start` left running: its printed, signed curl must work against its endpoint, `--sign` must mint a fresh one
// for it from another process, and Ctrl-C must stop it cleanly.
let dataDir: string;
let run: StartProcess;
let printed: ParsedCurl;
let askedId: string;

const CURL_BLOCK = /\n\s*(curl -sS (?:[^\n]*\\\n)*[^\n]*)\n/;

async function send(curl: ParsedCurl): Promise<Response> {
  return fetch(curl.url, { method: curl.method, headers: curl.headers, body: curl.body });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'npm-start-endpoint-'));
  run = startProcess(['--port', '0', '--interval', '3600', '--data-dir', dataDir]);
  const [, curl] = await run.waitFor(CURL_BLOCK);
  printed = parseCurl(curl as string);
  askedId = new URLSearchParams(printed.body).get('text') ?? '';
});

afterAll(async () => {
  if (run.child.exitCode === null) {
    run.child.kill('SIGKILL');
    await run.exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start with the slash-command endpoint', () => {
  it('prints a signed curl for an archived demo invoice that the endpoint answers with its summary', async () => {
    expect(askedId).toMatch(/^[0-9a-f]{24}$/);
    expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);

    const response = await send(printed);

    expect(response.status).toBe(200);
    const reply = (await response.json()) as { response_type: string; text: string; blocks: unknown[] };
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain(`Atlas invoice ${askedId}`);
    expect(JSON.stringify(reply.blocks)).toContain('Download CSV');
    await run.waitFor(new RegExp(`┌ /invoice ${askedId} → reply \\(ephemeral\\)`));
  });

  it('refuses the printed request once its body is altered', async () => {
    const response = await send({ ...printed, body: printed.body.replace(askedId, 'latest') });

    expect(response.status).toBe(401);
    await run.waitFor(/refused \(401\)/);
  });

  it('mints a freshly signed request for the running endpoint with --sign', async () => {
    const signer = startProcess(['--sign', 'latest', '--data-dir', dataDir]);
    const { code } = await signer.exited;
    expect(code, signer.stderr()).toBe(0);
    const fresh = parseCurl(signer.stdout().trim());

    const response = await send(fresh);

    expect(fresh.url).toBe(printed.url);
    expect(new URLSearchParams(fresh.body).get('text')).toBe('latest');
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { text: string };
    expect(reply.text).toMatch(/[0-9a-f]{24}/);
  });

  it('stops cleanly on Ctrl-C (SIGINT) with exit status 0', async () => {
    run.child.kill('SIGINT');

    const { code, signal } = await run.exited;

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain('Stopped.');
    expect(existsSync(join(dataDir, 'run.json'))).toBe(false);
    await expect(fetch(printed.url, { method: 'POST' })).rejects.toThrow();
  });
});
