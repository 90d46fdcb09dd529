import { describeError } from './errors';

export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;
export type LogFields = Record<string, unknown>;

/** The narrow logging port every use case takes. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where finished lines go; one JSON object per line (CloudWatch parses it). Default: stdout. */
  write?: (line: string) => void;
  /** Values that must never appear in output (tokens, secrets); replaced by `[redacted]` wherever they occur. */
  redact?: readonly string[];
  fields?: LogFields;
  now?: () => Date;
}

const REDACTED = '[redacted]';
/** Values shorter than this are not redacted by substring: they would mangle ordinary words. */
const MIN_REDACT_LENGTH = 6;

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const secrets = [...new Set(options.redact ?? [])].filter((s) => s.length >= MIN_REDACT_LENGTH);
  const now = options.now ?? (() => new Date());

  const scrub = (line: string): string => {
    let out = line;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  };

  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, message: string, fields?: LogFields) => {
      if (LOG_LEVELS[level] < threshold) return;
      const record: LogFields = { time: now().toISOString(), level, message, ...base };
      for (const [key, value] of Object.entries(fields ?? {})) {
        record[key] = value instanceof Error ? describeError(value) : value;
      }
      write(scrub(JSON.stringify(record)));
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** A logger that drops everything; for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ write: () => {} });
