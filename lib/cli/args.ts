import { parseArgs } from 'node:util';
import { DEFAULT_API_VERSION } from '../atlas/flavours';
import { API_FLAVOURS, type ApiFlavour } from '../atlas/types';
import { ValidationError } from '../errors';
import { isObjectId } from '../ids';
import { INVOICE_STATUSES, type KnownInvoiceStatus } from '../invoices/invoice';

export const PROGRAM = 'atlas-invoices';

/** Exit codes, documented in `--help`. */
export const EXIT = {
  ok: 0,
  /** Atlas answered with an error, or could not be reached within the retry budget. */
  atlas: 1,
  /** Bad command line: unknown command or flag, missing or malformed value. */
  usage: 2,
  /** Configuration missing or invalid, or Atlas refused the credentials (401/403). */
  config: 3,
  /** The output file could not be written. */
  io: 4,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export const COMMANDS = ['list', 'get', 'pending', 'csv', 'spend'] as const;
export type Command = (typeof COMMANDS)[number];

/** The Atlas CLI's operation names (`atlas api invoices downloadInvoiceCsv`) accepted as aliases. */
const ALIASES: Readonly<Record<string, Command>> = {
  listInvoices: 'list',
  getInvoice: 'get',
  listPendingInvoices: 'pending',
  downloadInvoiceCsv: 'csv',
};

const OPTIONS = {
  orgId: { type: 'string' },
  invoiceId: { type: 'string' },
  status: { type: 'string', multiple: true },
  fromDate: { type: 'string' },
  toDate: { type: 'string' },
  linked: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  outputFile: { type: 'string' },
  progress: { type: 'boolean' },
  version: { type: 'string' },
  flavour: { type: 'string' },
  pretty: { type: 'boolean' },
  envelope: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;

const GLOBAL_FLAGS: readonly OptionName[] = ['version', 'flavour', 'pretty', 'envelope', 'help'];
const COMMAND_FLAGS: Readonly<Record<Command, readonly OptionName[]>> = {
  list: ['orgId', 'status', 'fromDate', 'toDate', 'linked', 'output'],
  get: ['orgId', 'invoiceId', 'output'],
  pending: ['orgId', 'output'],
  csv: ['orgId', 'invoiceId', 'output', 'outputFile', 'progress'],
  spend: ['orgId', 'output'],
};
const OUTPUTS: Readonly<Record<Command, readonly string[]>> = {
  list: ['json', 'table'],
  get: ['json'],
  pending: ['json', 'table'],
  csv: ['csv'],
  spend: ['text', 'json'],
};

export interface ParsedCommand {
  readonly kind: 'run';
  readonly command: Command;
  readonly orgId: string;
  readonly invoiceId: string | undefined;
  readonly statusNames: readonly KnownInvoiceStatus[];
  readonly fromDate: string | undefined;
  readonly toDate: string | undefined;
  readonly linked: boolean;
  readonly output: string;
  readonly outputFile: string | undefined;
  readonly progress: boolean;
  readonly apiVersion: string;
  readonly flavour: ApiFlavour;
  readonly pretty: boolean;
  readonly envelope: boolean;
}

export type Parsed = ParsedCommand | { readonly kind: 'help'; readonly text: string };

/** A usage error: the message plus which help to point at. */
export class UsageError extends ValidationError {
  constructor(
    message: string,
    readonly command: Command | undefined,
  ) {
    super('argv', message);
  }
}

const parseStrict = (args: string[]) =>
  parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });

/**
 * Parses `argv` (without node and the script). Throws UsageError for anything malformed, ids and dates included, so a
 * usage error is reported before the configuration or credentials are looked at.
 */
export function parseCommandLine(argv: readonly string[]): Parsed {
  let parsed: ReturnType<typeof parseStrict>;
  try {
    parsed = parseStrict([...argv]);
  } catch (error) {
    throw new UsageError(describeParseError(error), commandIn(argv));
  }
  const { values, positionals, tokens } = parsed;
  const [group, name, ...extra] = positionals;
  if (group === undefined || group === 'help') {
    return { kind: 'help', text: name === undefined ? mainHelp() : commandHelp(resolveCommand(name)) };
  }
  if (group !== 'invoices') throw new UsageError(`unknown command "${printable(group)}"`, undefined);
  if (name === undefined) {
    if (values.help) return { kind: 'help', text: mainHelp() };
    throw new UsageError('missing subcommand: one of list, get, pending, csv, spend', undefined);
  }
  const command = resolveCommand(name);
  if (values.help) return { kind: 'help', text: commandHelp(command) };
  if (extra.length > 0) throw new UsageError(`unexpected argument "${printable(extra[0] ?? '')}"`, command);

  const allowed = new Set<string>([...GLOBAL_FLAGS, ...COMMAND_FLAGS[command]]);
  for (const token of tokens) {
    if (token.kind === 'option' && !allowed.has(token.name)) {
      throw new UsageError(`flag --${token.name} does not apply to "invoices ${command}"`, command);
    }
  }
  const required = (flag: 'orgId' | 'invoiceId'): string => {
    const value = values[flag]?.trim();
    if (value === undefined || value === '') throw new UsageError(`missing required flag --${flag}`, command);
    if (!isObjectId(value)) {
      throw new UsageError(
        `--${flag} must be 24 lower-case hexadecimal characters (got "${printable(value)}")`,
        command,
      );
    }
    return value;
  };
  const orgId = required('orgId');
  const invoiceId = command === 'get' || command === 'csv' ? required('invoiceId') : undefined;

  const output = values.output ?? OUTPUTS[command][0] ?? 'json';
  if (!OUTPUTS[command].includes(output)) {
    throw new UsageError(
      `--output for "invoices ${command}" must be ${OUTPUTS[command].join(' or ')} (got "${printable(output)}")`,
      command,
    );
  }
  const statusNames = (values.status ?? []).flatMap((s) => s.split(',')).map((s) => s.trim().toUpperCase());
  for (const status of statusNames) {
    if (!(INVOICE_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(
        `--status must be one of ${INVOICE_STATUSES.join(', ')} (got "${printable(status)}")`,
        command,
      );
    }
  }
  const flavour = values.flavour ?? 'v2';
  if (!(API_FLAVOURS as readonly string[]).includes(flavour)) {
    throw new UsageError(
      `--flavour must be one of ${API_FLAVOURS.join(', ')} (got "${printable(flavour)}")`,
      command,
    );
  }
  const apiVersion = values.version ?? DEFAULT_API_VERSION;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(apiVersion)) {
    throw new UsageError(`--version must be an API version date such as ${DEFAULT_API_VERSION}`, command);
  }
  for (const flag of ['fromDate', 'toDate'] as const) {
    const value = values[flag];
    if (value !== undefined && !isCalendarDate(value)) {
      throw new UsageError(`--${flag} must be a date like 2024-06-01 (got "${printable(value)}")`, command);
    }
  }
  if (values.outputFile !== undefined && values.outputFile.trim() === '') {
    throw new UsageError('--outputFile needs a file name', command);
  }
  return {
    kind: 'run',
    command,
    orgId,
    invoiceId,
    statusNames: statusNames as KnownInvoiceStatus[],
    fromDate: values.fromDate,
    toDate: values.toDate,
    linked: values.linked ?? false,
    output,
    outputFile: values.outputFile,
    progress: values.progress ?? false,
    apiVersion,
    flavour: flavour as ApiFlavour,
    pretty: values.pretty ?? false,
    envelope: values.envelope ?? false,
  };
}

/** YYYY-MM-DD naming a day that exists (2024-02-30 does not). */
function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const time = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(value);
}

function resolveCommand(name: string): Command {
  if ((COMMANDS as readonly string[]).includes(name)) return name as Command;
  const alias = ALIASES[name];
  if (alias !== undefined) return alias;
  throw new UsageError(
    `unknown subcommand "invoices ${printable(name)}": use list, get, pending, csv or spend`,
    undefined,
  );
}

function commandIn(argv: readonly string[]): Command | undefined {
  const index = argv.indexOf('invoices');
  const name = index >= 0 ? argv[index + 1] : undefined;
  if (name === undefined) return undefined;
  return (COMMANDS as readonly string[]).includes(name) ? (name as Command) : ALIASES[name];
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${printable(flag ?? '')}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /argument missing/.test(message)
      ? `flag ${printable(flag ?? '')} needs a value`
      : `flag ${printable(flag ?? '')} does not take a value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return 'unexpected argument';
  return 'could not read the command line';
}

/** Echo user input only when short and printable (it may be pasted secrets or escape sequences). */
function printable(value: string): string {
  return /^[\x20-\x7e]{0,40}$/.test(value) ? value : '(unprintable)';
}

const EXIT_CODES_HELP = `Exit codes:
  ${EXIT.ok}    success
  ${EXIT.atlas}    Atlas answered with an error or could not be reached (after retries)
  ${EXIT.usage}    usage error: unknown command or flag, missing or malformed value or id
  ${EXIT.config}    configuration error, or Atlas refused the credentials (401/403)
  ${EXIT.io}    the output file could not be written
  ${EXIT.interrupted}  interrupted`;

const ENV_HELP = `Environment:
  ATLAS_CLIENT_ID, ATLAS_CLIENT_SECRET   service account (preferred)
  ATLAS_PUBLIC_KEY, ATLAS_PRIVATE_KEY    API key (HTTP Digest), the legacy alternative
  ATLAS_ORG_CREDENTIALS                  JSON: organisation id -> {"clientId","clientSecret"} or
                                         {"publicKey","privateKey"}; the pair above serves the others
  ATLAS_BASE_URL                         default https://cloud.mongodb.com`;

const GLOBAL_HELP = `Global flags:
  --version <date>        API version to use (default ${DEFAULT_API_VERSION})
  --flavour <name>        v2 (default), v1 (deprecated Atlas v1.0) or cloud-manager
  --pretty                ask Atlas for pretty-printed bodies and indent JSON output
  --envelope              ask Atlas to wrap bodies in an envelope (unwrapped before output)
  -h, --help              help for the command`;

export function mainHelp(): string {
  return `Usage: ${PROGRAM} invoices <command> [flags]

Read MongoDB Atlas invoices of an organisation.

Commands:
  list      list every invoice of an organisation (alias listInvoices)
  get       one invoice with line items and payments, as JSON (alias getInvoice)
  pending   the pending invoice(s) of an organisation (alias listPendingInvoices)
  csv       download one invoice as CSV (alias downloadInvoiceCsv)
  spend     month-to-date spend and the month-end forecast, computed from the pending invoice

Run "${PROGRAM} invoices <command> --help" for the flags of a command.

${GLOBAL_HELP}

${ENV_HELP}

${EXIT_CODES_HELP}
`;
}

export function commandHelp(command: Command): string {
  const usage: Record<Command, string> = {
    list: `Usage: ${PROGRAM} invoices list --orgId <id> [--status <S>]... [--fromDate <date>] [--toDate <date>] [--linked] [--output json|table]

List every invoice of an organisation (all pages, 500 per request).

Flags:
  --orgId <id>            organisation id, 24 hexadecimal digits (required)
  --status <S>            only invoices in this status; repeat for several
                          (${INVOICE_STATUSES.join(', ')})
  --fromDate <date>       only invoices starting on or after this date (YYYY-MM-DD)
  --toDate <date>         only invoices ending on or before this date (YYYY-MM-DD)
  --linked                include linked organisations' invoices (needs Organization Billing Admin)
  -o, --output <format>   json (default) or table`,
    get: `Usage: ${PROGRAM} invoices get --orgId <id> --invoiceId <id>

Print one invoice with its line items, payments and refunds as JSON.

Flags:
  --orgId <id>            organisation id, 24 hexadecimal digits (required)
  --invoiceId <id>        invoice id, 24 hexadecimal digits (required)
  -o, --output json       the only format`,
    pending: `Usage: ${PROGRAM} invoices pending --orgId <id> [--output json|table]

Print the pending invoice(s) of an organisation.

Flags:
  --orgId <id>            organisation id, 24 hexadecimal digits (required)
  -o, --output <format>   json (default) or table`,
    csv: `Usage: ${PROGRAM} invoices csv --orgId <id> --invoiceId <id> [--outputFile <file>] [--progress]

Download one invoice as CSV, byte for byte as Atlas sends it, to standard output or a file.
With --outputFile the download goes to a temporary file in the same directory, renamed into place
only when complete: a failed download never leaves a partial file.

Flags:
  --orgId <id>            organisation id, 24 hexadecimal digits (required)
  --invoiceId <id>        invoice id, 24 hexadecimal digits (required)
  --outputFile <file>     write to this file instead of standard output
  --progress              show progress on standard error even when it is not a terminal
  -o, --output csv        the only format (as in "atlas api invoices downloadInvoiceCsv")`,
    spend: `Usage: ${PROGRAM} invoices spend --orgId <id> [--output text|json]

Month-to-date spend of the pending invoice, the month-end forecast with its arithmetic and likely
range, last month, the budget (when SPEND_BUDGETS sets one), top projects and the biggest movers:
the figures the Slack app's /invoice spend shows, computed here from the pending invoice's CSV and
those of the four months before it (usage line items before tax, complete usage days only).

Flags:
  --orgId <id>            organisation id, 24 hexadecimal digits (required)
  -o, --output <format>   text (default) or json (the figures as numbers, in cents)

Also read: SPEND_BUDGETS (monthly US dollar budgets, "orgId=5000,orgId/projectId=1200"), whose
organisations must be in ATLAS_ORG_IDS when that is set (else --orgId).`,
  };
  return `${usage[command]}\n\n${GLOBAL_HELP}\n\n${ENV_HELP}\n\n${EXIT_CODES_HELP}\n`;
}
