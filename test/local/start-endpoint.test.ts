import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli } from '../../lib/cli/main';
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

/** `npm start -- --sign "<text>"` from another process, as a user runs it: the curl it printed. */
async function signFromAnotherProcess(text: string): Promise<ParsedCurl> {
  const signer = startProcess(['--sign', text, '--data-dir', dataDir]);
  const { code } = await signer.exited;
  expect(code, signer.stderr()).toBe(0);
  return parseCurl(signer.stdout().trim());
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
    const fresh = await signFromAnotherProcess('latest');

    const response = await send(fresh);

    expect(fresh.url).toBe(printed.url);
    expect(new URLSearchParams(fresh.body).get('text')).toBe('latest');
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { text: string };
    expect(reply.text).toMatch(/[0-9a-f]{24}/);
  });

  it('mints a request for /invoice spend with --sign "spend", answered from what the poll recorded', async () => {
    const fresh = await signFromAnotherProcess('spend');

    const response = await send(fresh);

    expect(run.stdout()).toContain('(also "spend", "latest", "pending", "list", "help")');
    expect(new URLSearchParams(fresh.body).get('text')).toBe('spend');
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { text: string; blocks: unknown[] };
    expect(reply.text).toMatch(
      /^Ünïcode &amp; &lt;Co&gt; "Demo": \$[\d,]+\.\d\d month-to-date, forecast \$[\d,]+\.\d\d, budget \$[\d,]+\.00\.$/,
    );
    expect(JSON.stringify(reply.blocks)).toContain('Month-end forecast');
    await run.waitFor(/┌ \/invoice spend → reply \(ephemeral\)\n│ Spend: Ünïcode & <Co> "Demo", /);
  });

  it('prints the sandbox base URL and credentials, which the command line accepts', async () => {
    const printed = (name: string) => new RegExp(`${name}=(\\S+)`).exec(run.stdout())?.[1] ?? '';
    const orgId = /--orgId ([0-9a-f]{24})/.exec(run.stdout())?.[1] ?? '';
    let out = '';
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out += chunk.toString('utf8');
        callback();
      },
    });

    const code = await cli(['invoices', 'list', '--orgId', orgId, '--output', 'table'], {
      stdout,
      stderr: stdout,
      env: {
        ATLAS_BASE_URL: printed('ATLAS_BASE_URL'),
        ATLAS_CLIENT_ID: printed('ATLAS_CLIENT_ID'),
        ATLAS_CLIENT_SECRET: printed('ATLAS_CLIENT_SECRET'),
      },
    });

    expect(run.stdout()).toContain('npm run -s cli -- invoices list --orgId');
    expect(printed('ATLAS_BASE_URL')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(code, out).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^ID\s+STATUS\s+PERIOD/);
    expect(out).toContain('PENDING');
  });

  it('refuses a second npm start in the same data directory, naming the running one', async () => {
    const runFile = await readFile(join(dataDir, 'run.json'), 'utf8');
    const second = startProcess(['--once', '--data-dir', dataDir]);

    const { code } = await second.exited;

    expect(code).toBe(1);
    expect(second.stderr()).toContain(
      `Another npm start (process ${run.child.pid}) is using ${dataDir}: stop it first, or give this one its own folder with --data-dir <dir>.`,
    );
    expect(second.stdout()).not.toContain('poll 1');
    expect(await readFile(join(dataDir, 'run.json'), 'utf8')).toBe(runFile);
  });

  it('stops cleanly on Ctrl-C (SIGINT) with exit status 0', async () => {
    run.child.kill('SIGINT');

    const { code, signal } = await run.exited;

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain('Stopped.');
    expect(existsSync(join(dataDir, 'run.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'npm-start.lock'))).toBe(false);
    await expect(fetch(printed.url, { method: 'POST' })).rejects.toThrow();
  });
});
