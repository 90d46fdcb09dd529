import { type ChildProcess, spawn } from 'node:child_process';
import { CONFIG_NAMES } from '../../lib/config';

/**
 * Runs `npm start` (infra/local/start.ts under tsx, in one process so signals reach it directly) the way a user
 * does, with none of the runner's own settings leaking in, and collects what it prints.
 */

export interface StartProcess {
  readonly child: ChildProcess;
  /** Everything printed so far on stdout and stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match in stdout, or rejects after `timeoutMs` (with the output in the message). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const LEAKY = [...CONFIG_NAMES, 'APP_SECRET_ID', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'FORCE_COLOR'];

/** The runner's environment without any setting that would make a part real, colours off. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of LEAKY) delete env[name];
  return { ...env, NO_COLOR: '1', ...extra };
}

export function startProcess(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): StartProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', ...args], {
    cwd: process.cwd(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errOut = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errOut += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  const waitFor = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = out.match(pattern);
        if (match) {
          finish();
          resolve(match);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(new Error(`npm start exited before printing ${pattern}:\n${out}\n${errOut}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`npm start did not print ${pattern} in ${timeoutMs} ms:\n${out}\n${errOut}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => errOut, waitFor, exited };
}

export interface ParsedCurl {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Reads a printed `curl` command back the way a POSIX shell would (backslash-newline continuations, single and
 * double quotes), for the options `toCurl` prints: `-sS`, `-X`, `-H`, `--data-raw` and the URL.
 */
export function parseCurl(text: string): ParsedCurl {
  const words = shellWords(text.replace(/\\\n/g, ' '));
  if (words[0] !== 'curl') throw new Error(`not a curl command: ${text.slice(0, 40)}`);
  let method = 'GET';
  let url: string | undefined;
  let body = '';
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as string;
    if (word === '-sS') continue;
    if (word === '-X') method = words[++i] ?? method;
    else if (word === '-H') {
      const header = words[++i] ?? '';
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    } else if (word === '--data-raw') body = words[++i] ?? '';
    else if (!word.startsWith('-')) url = word;
    else throw new Error(`unexpected curl option ${word}`);
  }
  if (url === undefined) throw new Error('the curl command has no URL');
  return { url, method, headers, body };
}

function shellWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      current += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      current += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '\\') {
      current += line[++i] ?? '';
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}
