import { ValidationError } from './errors';

/** Atlas organisation and invoice ids: 24 lower-case hexadecimal digits. */
export const OBJECT_ID_PATTERN = /^[a-f0-9]{24}$/;

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID_PATTERN.test(value);
}

/** Throws a ValidationError naming `field` (the value is shown only when short and printable). */
export function assertObjectId(value: unknown, field: string): string {
  if (isObjectId(value)) return value;
  const shown = typeof value === 'string' && /^[\x20-\x7e]{1,40}$/.test(value) ? ` (got "${value}")` : '';
  throw new ValidationError(field, `${field} must be 24 lower-case hexadecimal characters${shown}`);
}

/** Slack team, channel and user ids: upper-case letters and digits, e.g. T0123ABCD, C0123ABCD, U0123ABCD. */
export const SLACK_ID_PATTERN = /^[A-Z0-9]{2,30}$/;

export function isSlackId(value: unknown): value is string {
  return typeof value === 'string' && SLACK_ID_PATTERN.test(value);
}
