import { isRecord } from '../is-record';

/**
 * Minimal shape checks for objects read back from the bucket: each throws a TypeError naming the path, which the
 * stores turn into an ArchiveError naming the key.
 */
export function expectRecord(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw new TypeError(`${path} must be an object`);
  return value;
}

export function expectString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new TypeError(`${path}.${key} must be a string`);
  return value;
}

export function optionalString(record: Record<string, unknown>, key: string, path: string): void {
  if (record[key] !== undefined) expectString(record, key, path);
}

export function expectInteger(record: Record<string, unknown>, key: string, path: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${path}.${key} must be an integer`);
  }
  return value;
}

export function expectMatch(
  record: Record<string, unknown>,
  key: string,
  path: string,
  pattern: RegExp,
): string {
  const value = expectString(record, key, path);
  if (!pattern.test(value)) throw new TypeError(`${path}.${key} is malformed`);
  return value;
}

/** The TypeError's message of a failed shape check (it names the path); anything else is not echoed. */
export function shapeProblem(error: unknown): string {
  return error instanceof TypeError ? error.message : 'unreadable';
}

export const SHA256_HEX = /^[a-f0-9]{64}$/;
