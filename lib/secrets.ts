import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CONFIG_NAMES, type Env } from './config';
import { ConfigError } from './errors';

/** The one call the app makes to Secrets Manager, as a narrow port. */
export interface SecretReader {
  readSecretString(secretId: string): Promise<string>;
}

export function createSecretsManagerReader(client: Pick<SecretsManagerClient, 'send'>): SecretReader {
  return {
    async readSecretString(secretId) {
      let out: { SecretString?: string | undefined };
      try {
        out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      } catch (error) {
        const name = error instanceof Error ? error.name : 'Error';
        throw new ConfigError('APP_SECRET_ID', `could not read the secret (${name})`, { cause: error });
      }
      if (out.SecretString === undefined) {
        throw new ConfigError(
          'APP_SECRET_ID',
          'the secret has no string value (binary secrets are not supported)',
        );
      }
      return out.SecretString;
    },
  };
}

const KNOWN = new Set<string>(CONFIG_NAMES);

/** Settings the secret may hold as JSON objects rather than strings (an empty object counts as unset). */
const OBJECT_VALUED = new Set<string>(['ATLAS_ORG_CREDENTIALS']);

function secretValue(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (OBJECT_VALUED.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.keys(value).length === 0 ? '' : JSON.stringify(value);
  }
  throw new ConfigError(
    key,
    OBJECT_VALUED.has(key)
      ? 'in the secret must be a JSON object (or a string of one)'
      : 'in the secret must be a string',
  );
}

/**
 * Merge the JSON secret named by APP_SECRET_ID over `env`. The secret holds an object whose keys are names of the
 * configuration contract; empty strings (and an empty ATLAS_ORG_CREDENTIALS object) count as unset, so a freshly
 * created template secret changes nothing.
 * Unknown keys are refused by name so a typo does not silently drop a credential. Values are never echoed.
 */
export async function resolveEnv(env: Env, reader: SecretReader | undefined): Promise<Env> {
  const secretId = env.APP_SECRET_ID?.trim();
  if (!secretId) return env;
  if (reader === undefined)
    throw new ConfigError('APP_SECRET_ID', 'is set but no Secrets Manager client was given');
  const raw = await reader.readSecretString(secretId);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('APP_SECRET_ID', 'the secret is not valid JSON (expected an object of strings)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('APP_SECRET_ID', 'the secret must be a JSON object of strings');
  }
  const merged: Record<string, string | undefined> = { ...env };
  for (const [key, value] of Object.entries(parsed)) {
    if (!KNOWN.has(key)) {
      const shown = /^[A-Z0-9_]{1,64}$/.test(key) ? key : 'a key';
      throw new ConfigError('APP_SECRET_ID', `the secret holds ${shown}, which is not a setting name`);
    }
    const text = secretValue(key, value);
    if (text.trim() !== '') merged[key] = text;
  }
  return merged;
}
