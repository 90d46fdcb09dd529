import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  LOCAL_AWS_ACCOUNT_ID,
  LOCAL_AWS_CREDENTIALS,
  LOCAL_AWS_REGION,
  localAwsAccess,
} from '../aws/credentials';
import { closeServer, listenLocal, type Mutable, newRequestId, readSmallBody } from '../aws/local-server';
import { type SigV4Failure, verifySigV4 } from '../aws/sigv4';

/**
 * A local AWS Secrets Manager for the one call the product makes, `GetSecretValue`, in the real protocol: `POST /`
 * with `X-Amz-Target: secretsmanager.GetSecretValue`, AWS JSON 1.1 bodies, SigV4 header signatures (verified with the
 * SDK's own signer) and errors as `{"__type": "...", "message": "..."}` with HTTP 400. Secrets are found by name or
 * ARN.
 */

export interface SecretsManagerStandInOptions {
  /** Initial secrets: name → SecretString. */
  readonly secrets?: Readonly<Record<string, string>>;
}

export interface SecretsManagerRequestRecord {
  /** The operation named in X-Amz-Target, whatever it was. */
  readonly operation: string;
  readonly secretId: string | undefined;
  /** HTTP status; 0 until answered. */
  readonly status: number;
  readonly errorType: string | undefined;
}

export interface SecretsManagerStandIn {
  readonly url: string;
  /** Every request so far, oldest first (live view). */
  readonly requests: readonly SecretsManagerRequestRecord[];
  resetRequests(): void;
  /** Create a secret or replace its value. */
  setSecret(name: string, value: string): void;
  /** Settings for `new SecretsManagerClient(...)`. */
  clientConfig(): {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  /** Environment for code that builds its own client: AWS_ENDPOINT_URL_SECRETS_MANAGER, keys, region. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;

export async function startSecretsManagerStandIn(
  options: SecretsManagerStandInOptions = {},
): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, { readonly arn: string; value: string }>();
  const requests: Array<Mutable<SecretsManagerRequestRecord>> = [];

  function setSecret(name: string, value: string): void {
    const existing = secrets.get(name);
    if (existing) existing.value = value;
    else {
      const suffix = randomBytes(6).toString('hex').slice(0, 6);
      const arn = `arn:aws:secretsmanager:${LOCAL_AWS_REGION}:${LOCAL_AWS_ACCOUNT_ID}:secret:${name}-${suffix}`;
      secrets.set(name, { arn, value });
    }
  }
  for (const [name, value] of Object.entries(options.secrets ?? {})) setSecret(name, value);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const entry: Mutable<SecretsManagerRequestRecord> = {
      operation: target.replace(/^secretsmanager\./, ''),
      secretId: undefined,
      status: 0,
      errorType: undefined,
    };
    requests.push(entry);
    const answer = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      entry.status = status;
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'Content-Length': Buffer.byteLength(text),
        'x-amzn-RequestId': newRequestId(),
      });
      res.end(text);
    };
    try {
      const body = await readSmallBody(req, MAX_BODY);
      const verified = await verifySigV4(
        { method: req.method ?? 'POST', path: req.url ?? '/', query: [], rawHeaders: req.rawHeaders, body },
        {
          service: 'secretsmanager',
          region: LOCAL_AWS_REGION,
          credentials: [LOCAL_AWS_CREDENTIALS],
          now: Date.now(),
          uriEscapePath: true,
        },
      );
      if (!verified.ok) throw authError(verified.failure);
      if (req.method !== 'POST' || req.url !== '/' || target !== 'secretsmanager.GetSecretValue') {
        throw new ServiceError(
          'UnknownOperationException',
          'The Secrets Manager stand-in serves GetSecretValue only.',
        );
      }
      const input: unknown = JSON.parse(body.toString('utf8') || '{}');
      const secretId = (input as { SecretId?: unknown } | null)?.SecretId;
      if (typeof secretId !== 'string')
        throw new ServiceError('ValidationException', 'SecretId must be a string.');
      entry.secretId = secretId;
      const name = secrets.has(secretId) ? secretId : [...secrets].find(([, s]) => s.arn === secretId)?.[0];
      const secret = name === undefined ? undefined : secrets.get(name);
      if (name === undefined || !secret) {
        throw new ServiceError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret.",
        );
      }
      answer(200, { ARN: secret.arn, Name: name, SecretString: secret.value, VersionStages: ['AWSCURRENT'] });
    } catch (error) {
      const failure =
        error instanceof ServiceError
          ? error
          : error instanceof SyntaxError
            ? new ServiceError('SerializationException', 'The request body is not valid JSON.')
            : new ServiceError('InternalServiceError', 'An error occurred on the server side.', 500);
      if (failure.type === 'InternalServiceError')
        console.error('Secrets Manager stand-in: unexpected error', error);
      entry.errorType = failure.type;
      answer(failure.status, { __type: failure.type, message: failure.message });
    }
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void handle(req, res));
  const { url } = await listenLocal(server);
  return {
    url,
    requests,
    resetRequests: () => {
      requests.length = 0;
    },
    setSecret,
    ...localAwsAccess(url, 'AWS_ENDPOINT_URL_SECRETS_MANAGER'),
    close: () => closeServer(server),
  };
}

/** How the AWS JSON services answer SigV4 failures: HTTP 400 with these `__type`s. */
function authError(failure: SigV4Failure): ServiceError {
  switch (failure) {
    case 'missing':
      return new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    case 'unknown-key':
      return new ServiceError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    case 'malformed':
      return new ServiceError(
        'IncompleteSignatureException',
        'The request signature is malformed or incomplete.',
      );
    default:
      return new ServiceError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided, or the request time is too far from the server time.',
      );
  }
}
