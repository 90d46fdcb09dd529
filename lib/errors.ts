/**
 * One small error hierarchy. Every error carries what debugging needs and never a credential:
 * messages are built from ids, statuses and variable names only, and callers wrap causes with `{ cause }`.
 */
export class AppError extends Error {
  override readonly name: string = 'AppError';
}

/** A configuration variable is missing or malformed. `variable` names it; the value is never echoed. */
export class ConfigError extends AppError {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`${variable}: ${problem}`, options);
  }
}

/** Input from outside (an id, a flag, a command argument) was refused before any request was made. */
export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The caller's deadline passed (or its signal aborted) before the operation could finish. */
export class DeadlineError extends AppError {
  override readonly name = 'DeadlineError';
}

/** The Atlas Admin API answered with an error, or could not be reached within the retry budget. */
export class AtlasApiError extends AppError {
  override readonly name = 'AtlasApiError';
  readonly status: number | undefined;
  readonly errorCode: string | undefined;
  readonly detail: string | undefined;
  readonly method: string;
  /** Path without query string or credentials, e.g. `/api/atlas/v2/orgs/{id}/invoices`. */
  readonly path: string;
  constructor(
    message: string,
    init: {
      status?: number | undefined;
      errorCode?: string | undefined;
      detail?: string | undefined;
      method: string;
      path: string;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.detail = init.detail;
    this.method = init.method;
    this.path = init.path;
  }
}

/** An S3 operation on the archive, the state or the index failed. */
export class ArchiveError extends AppError {
  override readonly name: string = 'ArchiveError';
  constructor(
    message: string,
    readonly operation: string,
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The object exists and S3 served it, but its body is not what it should be (not JSON, or refused by its codec):
 * no retry will help. `etag` names the version read, so a caller may replace or move exactly that version.
 */
export class CorruptObjectError extends ArchiveError {
  override readonly name = 'CorruptObjectError';
  constructor(
    message: string,
    key: string,
    readonly etag: string,
    options?: ErrorOptions,
  ) {
    super(message, 'GetObject', key, options);
  }
}

/** A conditional state write lost to another run (S3 answered 412 or 409): re-read and re-decide. */
export class StateConflictError extends AppError {
  override readonly name = 'StateConflictError';
  constructor(
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`state object ${key} was changed by another run`, options);
  }
}

/** Slack refused or failed a delivery. `slackError` is Slack's own code (`channel_not_found`, `ratelimited`, ...). */
export class SlackDeliveryError extends AppError {
  override readonly name = 'SlackDeliveryError';
  constructor(
    message: string,
    readonly slackError: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Summarise any thrown value for a log line without its stack's secrets or a raw body. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  for (const key of ['status', 'errorCode', 'variable', 'field', 'operation', 'key', 'slackError', 'path']) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  if (error.cause !== undefined) out.cause = describeError(error.cause);
  return out;
}
