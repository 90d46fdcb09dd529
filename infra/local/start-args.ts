import { parseArgs } from 'node:util';
import { ValidationError } from '../../lib/errors';
import { sanitize } from './terminal';

export interface StartArgs {
  /** One poll, then exit (non-zero when it failed). */
  readonly once: boolean;
  /** Seconds between polls. */
  readonly intervalSeconds: number;
  /** Slash-command endpoint port (0: any free port). */
  readonly port: number;
  /** Wipe the stand-in archive and the demo story first. */
  readonly fresh: boolean;
  /** Where the stand-ins keep their data. */
  readonly dataDir: string;
  /** Print a freshly signed request for `/invoice <text>` to the running endpoint, then exit. */
  readonly sign: string | undefined;
  /** Run the spend digest once after the first poll. */
  readonly digest: boolean;
  /** Print the handlers' JSON log lines too. */
  readonly verbose: boolean;
  readonly help: boolean;
}

export const DEFAULT_INTERVAL_SECONDS = 20;
export const DEFAULT_PORT = 3000;
export const DEFAULT_DATA_DIR = '.local';

export const START_USAGE = `Usage: npm start -- [options]

Runs the poller and the /invoice endpoint on this machine, on local stand-ins for Atlas, S3 and Slack
unless real settings are exported (ATLAS_ORG_IDS + credentials, SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL,
ARCHIVE_BUCKET).

Options:
  --once              run one poll and exit (exit status 1 if it failed)
  --interval <s>      seconds between polls (default ${DEFAULT_INTERVAL_SECONDS})
  --port <n>          port of the /invoice endpoint on 127.0.0.1 (default ${DEFAULT_PORT}; a free one if taken)
  --fresh             start with an empty local archive and a new demo story
  --data-dir <dir>    where local data is kept (default ${DEFAULT_DATA_DIR}; one npm start per folder)
  --digest            after the first poll, run the weekly spend digest once and print its message
  --sign "<text>"     print a freshly signed curl for "/invoice <text>" to the running endpoint, and exit
  --verbose           also print the functions' JSON log lines
  -h, --help          show this help`;

/** Parses `process.argv.slice(2)`; throws ValidationError naming the flag on anything it does not accept. */
export function parseStartArgs(argv: readonly string[]): StartArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        once: { type: 'boolean' },
        interval: { type: 'string' },
        port: { type: 'string' },
        fresh: { type: 'boolean' },
        'data-dir': { type: 'string' },
        sign: { type: 'string' },
        digest: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ValidationError('argv', error instanceof Error ? error.message : 'invalid arguments');
  }
  const sign = typeof values.sign === 'string' ? values.sign.trim() : undefined;
  if (
    sign !== undefined &&
    (sign.length === 0 || sign.length > 200 || sanitize(sign) !== sign || /[\n\t]/.test(sign))
  ) {
    throw new ValidationError(
      '--sign',
      '--sign needs the command text, e.g. --sign "latest" (at most 200 characters)',
    );
  }
  if (values.digest === true && sign !== undefined) {
    throw new ValidationError(
      '--sign',
      '--sign talks to a running npm start; it cannot be combined with --digest',
    );
  }
  if (values.once === true && sign !== undefined) {
    throw new ValidationError(
      '--sign',
      '--sign talks to a running npm start; it cannot be combined with --once',
    );
  }
  return {
    once: values.once === true,
    intervalSeconds: integer(values.interval, '--interval', DEFAULT_INTERVAL_SECONDS, 1, 86_400),
    port: integer(values.port, '--port', DEFAULT_PORT, 0, 65_535),
    fresh: values.fresh === true,
    dataDir:
      typeof values['data-dir'] === 'string' && values['data-dir'] !== ''
        ? values['data-dir']
        : DEFAULT_DATA_DIR,
    sign,
    digest: values.digest === true,
    verbose: values.verbose === true,
    help: values.help === true,
  };
}

function integer(
  raw: string | boolean | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
) {
  if (typeof raw !== 'string') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ValidationError(flag, `${flag} must be a whole number from ${min} to ${max}`);
  }
  return value;
}
