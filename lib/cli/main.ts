import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { type AtlasClient, type AtlasClientOptions, createAtlasClient } from '../atlas/client';
import { credentialValues, type Env, readAtlas, readSpendSettings } from '../config';
import { AtlasApiError, ConfigError, DeadlineError, ValidationError } from '../errors';
import { EXIT, type ParsedCommand, PROGRAM, parseCommandLine, UsageError } from './args';
import { invoiceTable, json } from './format';
import { OutputFileError, writeFileAtomically } from './output-file';
import { createProgress } from './progress';
import { computeSpend, spendText } from './spend';

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Configuration comes from here only (ATLAS_* names of the configuration contract). */
  readonly env: Env;
  /** Progress is shown by default only on a terminal. */
  readonly stderrIsTTY?: boolean;
  /** Aborts the running command (Ctrl-C): exit code 130. */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** Extra client options, for tests: an undici dispatcher, a faster retry policy, small timeouts. */
  readonly client?: Partial<Omit<AtlasClientOptions, 'baseUrl' | 'credentials'>>;
}

/**
 * The command line: parses `argv` (without node and the script), runs one command against Atlas, writes results to
 * stdout and every message to stderr, and resolves with the exit code (see `EXIT`). Never throws; never prints a
 * credential.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const secrets = credentialValues(io.env);
  const scrub = (text: string) =>
    secrets.reduce((out, s) => (s.length >= 4 ? out.split(s).join('[redacted]') : out), text);
  const fail = (code: number, message: string, hint?: string) => {
    io.stderr.write(`error: ${scrub(message)}\n${hint === undefined ? '' : `${hint}\n`}`);
    return code;
  };

  let command: ParsedCommand;
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text);
      return EXIT.ok;
    }
    command = parsed;
  } catch (error) {
    if (error instanceof UsageError) {
      const target = error.command === undefined ? '' : ` invoices ${error.command}`;
      return fail(EXIT.usage, error.message, `Run "${PROGRAM}${target} --help" for usage.`);
    }
    return fail(EXIT.usage, 'could not read the command line');
  }

  let client: AtlasClient;
  try {
    const atlas = readAtlas(io.env);
    client = createAtlasClient({
      baseUrl: atlas.baseUrl,
      credentials: atlas.credentials,
      flavour: command.flavour,
      apiVersion: command.apiVersion,
      envelope: command.envelope,
      pretty: command.pretty,
      ...io.client,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      return fail(
        EXIT.config,
        `configuration: ${error.message}`,
        `Run "${PROGRAM} --help" for the variables.`,
      );
    }
    if (error instanceof ValidationError) return fail(EXIT.usage, error.message);
    throw error;
  }

  try {
    await run(command, client, io);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ValidationError) {
      return fail(
        EXIT.usage,
        error.message,
        `Run "${PROGRAM} invoices ${command.command} --help" for usage.`,
      );
    }
    if (error instanceof AtlasApiError) {
      return fail(error.status === 401 || error.status === 403 ? EXIT.config : EXIT.atlas, error.message);
    }
    if (error instanceof ConfigError) return fail(EXIT.config, `configuration: ${error.message}`);
    if (error instanceof DeadlineError) {
      return io.signal?.aborted ? fail(EXIT.interrupted, 'interrupted') : fail(EXIT.atlas, error.message);
    }
    if (error instanceof OutputFileError) return fail(EXIT.io, error.message);
    if (io.signal?.aborted) return fail(EXIT.interrupted, 'interrupted');
    const code = (error as NodeJS.ErrnoException).code;
    const what = error instanceof Error ? error.message : String(error);
    return fail(
      EXIT.atlas,
      `the download broke off: ${what.slice(0, 200)}${code === undefined ? '' : ` (${code})`}`,
    );
  } finally {
    await client.close();
  }
}

async function run(command: ParsedCommand, client: AtlasClient, io: CliIo): Promise<void> {
  const signal = io.signal;
  switch (command.command) {
    case 'list': {
      const invoices = await client.listInvoices(command.orgId, {
        statusNames: command.statusNames,
        ...(command.fromDate !== undefined ? { fromDate: command.fromDate } : {}),
        ...(command.toDate !== undefined ? { toDate: command.toDate } : {}),
        viewLinkedInvoices: command.linked,
        ...(signal !== undefined ? { signal } : {}),
      });
      await write(
        io.stdout,
        command.output === 'table' ? invoiceTable(invoices) : json(invoices, command.pretty),
      );
      return;
    }
    case 'get': {
      const invoice = await client.getInvoice(command.orgId, command.invoiceId ?? '', { signal });
      await write(io.stdout, json(invoice, command.pretty));
      return;
    }
    case 'pending': {
      const invoices = await client.getPendingInvoices(command.orgId, { signal });
      await write(
        io.stdout,
        command.output === 'table' ? invoiceTable(invoices) : json(invoices, command.pretty),
      );
      return;
    }
    case 'csv': {
      await downloadCsv(command, client, io);
      return;
    }
    case 'spend': {
      // The deployment's budgets may name only watched organisations; without ATLAS_ORG_IDS, the one asked about.
      const settings = readSpendSettings({
        ...io.env,
        ATLAS_ORG_IDS: io.env.ATLAS_ORG_IDS ?? command.orgId,
      });
      const report = await computeSpend(client, command.orgId, {
        settings,
        now: (io.now ?? Date.now)(),
        signal,
      });
      await write(io.stdout, command.output === 'json' ? json(report, command.pretty) : spendText(report));
      return;
    }
  }
}

async function downloadCsv(command: ParsedCommand, client: AtlasClient, io: CliIo): Promise<void> {
  const download = await client.getInvoiceCsv(command.orgId, command.invoiceId ?? '', { signal: io.signal });
  const showProgress = command.progress || io.stderrIsTTY === true;
  const progress = createProgress({
    write: (text) => io.stderr.write(text),
    total: download.contentLength,
    tty: io.stderrIsTTY === true,
    ...(io.now !== undefined ? { now: io.now } : {}),
  });
  try {
    let bytes: number;
    if (command.outputFile !== undefined) {
      bytes = await writeFileAtomically(
        command.outputFile,
        download.body,
        showProgress ? [progress.stream] : [],
      );
    } else {
      bytes = 0;
      for await (const chunk of download.body) {
        bytes += chunk.length;
        if (showProgress) progress.add(chunk.length);
        await write(io.stdout, chunk);
      }
    }
    if (download.contentLength !== undefined && bytes !== download.contentLength) {
      throw new Error(`received ${bytes} of ${download.contentLength} bytes`);
    }
    if (showProgress) progress.finish();
  } catch (error) {
    if (showProgress) progress.abandon();
    (download.body as unknown as { destroy?: () => void }).destroy?.();
    throw error;
  }
}

/** Writes with backpressure; rejects if the stream fails (e.g. EPIPE when stdout's reader went away). */
async function write(stream: Writable, data: string | Uint8Array): Promise<void> {
  if (stream.write(data)) return;
  await Promise.race([
    once(stream, 'drain'),
    once(stream, 'error').then(([error]) => {
      throw error;
    }),
  ]);
}
