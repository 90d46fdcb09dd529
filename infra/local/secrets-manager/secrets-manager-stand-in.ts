import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type AwsCredentialPair,
  LOCAL_AWS_ACCOUNT_ID,
  LOCAL_AWS_CREDENTIALS,
  LOCAL_AWS_REGION,
} from '../aws/credentials';
import {
  BodyTooLargeError,
  closeServer,
  FaultQueue,
  listenLocal,
  type Mutable,
  newRequestId,
  readSmallBody,
} from '../aws/local-server';
import { parseQuery, type SigV4Failure, sha256Hex, verifySigV4 } from '../aws/sigv4';

/**
 * A local AWS Secrets Manager speaking the real protocol: `POST /` with `X-Amz-Target: secretsmanager.<Operation>`,
 * AWS JSON 1.1 bodies, SigV4 header signatures (shared code with the S3 stand-in) and errors as
 * `{"__type": "...", "message": "..."}` with HTTP 400. Implements GetSecretValue, DescribeSecret, PutSecretValue
 * and CreateSecret; secrets are found by name, full ARN or partial ARN (without the random suffix).
 */

export interface SecretsManagerStandInOptions {
  /** Initial secrets: name (or full ARN) → SecretString. */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly credentials?: readonly AwsCredentialPair[];
  readonly region?: string;
  readonly port?: number;
  /** Server time in epoch milliseconds (signature skew checks, dates in answers). */
  readonly clock?: () => number;
  /** Default true. */
  readonly verifySignatures?: boolean;
}

export const SECRETS_MANAGER_OPERATIONS = [
  'GetSecretValue',
  'DescribeSecret',
  'PutSecretValue',
  'CreateSecret',
] as const;
export type SecretsManagerOperation = (typeof SECRETS_MANAGER_OPERATIONS)[number];

export interface SecretsManagerRequestRecord {
  /** The operation named in X-Amz-Target (whatever it was, even unknown). */
  readonly operation: string;
  readonly secretId: string | undefined;
  readonly status: number;
  readonly errorType: string | undefined;
  readonly time: number;
}

export interface SecretsManagerFault {
  readonly operation?: SecretsManagerOperation;
  /** Default 500 for InternalServiceError, 400 otherwise. */
  readonly status?: number;
  /** Default `InternalServiceError`. */
  readonly errorType?: string;
  readonly times?: number;
}

export interface SecretsManagerStandIn {
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly requests: readonly SecretsManagerRequestRecord[];
  resetRequests(): void;
  /** Create or update a secret (a new AWSCURRENT version); returns its ARN. */
  setSecret(nameOrArn: string, value: string): string;
  /** The full ARN of a secret, or undefined when it does not exist. */
  arnOf(nameOrArn: string): string | undefined;
  failNext(fault: SecretsManagerFault): void;
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

interface SecretVersion {
  readonly versionId: string;
  readonly value: string;
  readonly created: number;
  stages: string[];
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly created: number;
  lastChanged: number;
  readonly versions: SecretVersion[];
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

const TARGET_PREFIX = 'secretsmanager.';
const MAX_BODY = 1024 * 1024;
const ARN_PATTERN = /^arn:aws:secretsmanager:[^:]+:\d{12}:secret:(.+)$/;

export async function startSecretsManagerStandIn(
  options: SecretsManagerStandInOptions = {},
): Promise<SecretsManagerStandIn> {
  const region = options.region ?? LOCAL_AWS_REGION;
  const credentials = options.credentials ?? [LOCAL_AWS_CREDENTIALS];
  const clock = options.clock ?? Date.now;
  const verifySignatures = options.verifySignatures ?? true;
  const secrets: Secret[] = [];
  const requests: SecretsManagerRequestRecord[] = [];
  const faults = new FaultQueue<SecretsManagerFault>();

  function find(secretId: string): Secret | undefined {
    return secrets.find(
      (s) =>
        s.name === secretId ||
        s.arn === secretId ||
        (secretId.startsWith('arn:') &&
          s.arn.startsWith(`${secretId}-`) &&
          s.arn.length === secretId.length + 7),
    );
  }

  function current(secret: Secret): SecretVersion {
    return secret.versions.find((v) => v.stages.includes('AWSCURRENT')) as SecretVersion;
  }

  function addVersion(secret: Secret, value: string, versionId: string = randomUUID()): SecretVersion {
    const now = clock();
    for (const v of secret.versions) {
      v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      if (v.stages.includes('AWSCURRENT'))
        v.stages = [...v.stages.filter((s) => s !== 'AWSCURRENT'), 'AWSPREVIOUS'];
    }
    const version: SecretVersion = { versionId, value, created: now, stages: ['AWSCURRENT'] };
    secret.versions.push(version);
    secret.lastChanged = now;
    return version;
  }

  function create(nameOrArn: string, value: string): Secret {
    const arnMatch = ARN_PATTERN.exec(nameOrArn);
    const name = arnMatch?.[1] ? arnMatch[1].replace(/-[A-Za-z0-9]{6}$/, '') : nameOrArn;
    const arn = arnMatch
      ? nameOrArn
      : `arn:aws:secretsmanager:${region}:${LOCAL_AWS_ACCOUNT_ID}:secret:${name}-${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6)}`;
    const secret: Secret = { name, arn, created: clock(), lastChanged: clock(), versions: [] };
    addVersion(secret, value);
    secrets.push(secret);
    return secret;
  }

  function setSecret(nameOrArn: string, value: string): string {
    const existing = find(nameOrArn);
    if (existing) {
      addVersion(existing, value);
      return existing.arn;
    }
    return create(nameOrArn, value).arn;
  }

  for (const [nameOrArn, value] of Object.entries(options.secrets ?? {})) setSecret(nameOrArn, value);

  const epochSeconds = (ms: number) => ms / 1000;

  function requireSecret(input: Record<string, unknown>): Secret {
    const secretId = input.SecretId;
    if (typeof secretId !== 'string' || secretId === '') {
      throw new ServiceError(
        'ValidationException',
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
      );
    }
    const secret = find(secretId);
    if (!secret)
      throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  const operations: Record<SecretsManagerOperation, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue(input) {
      const secret = requireSecret(input);
      const { VersionId: versionId, VersionStage: stage } = input;
      let version: SecretVersion | undefined;
      if (typeof versionId === 'string') {
        version = secret.versions.find((v) => v.versionId === versionId);
        if (!version || (typeof stage === 'string' && !version.stages.includes(stage))) {
          throw new ServiceError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
          );
        }
      } else {
        const wanted = typeof stage === 'string' ? stage : 'AWSCURRENT';
        version = secret.versions.find((v) => v.stages.includes(wanted));
        if (!version) {
          throw new ServiceError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for staging label: ${wanted}`,
          );
        }
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        SecretString: version.value,
        VersionStages: version.stages,
        CreatedDate: epochSeconds(version.created),
      };
    },
    DescribeSecret(input) {
      const secret = requireSecret(input);
      return {
        ARN: secret.arn,
        Name: secret.name,
        CreatedDate: epochSeconds(secret.created),
        LastChangedDate: epochSeconds(secret.lastChanged),
        VersionIdsToStages: Object.fromEntries(
          secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, v.stages]),
        ),
      };
    },
    PutSecretValue(input) {
      const secret = requireSecret(input);
      if (typeof input.SecretString !== 'string') {
        throw new ServiceError(
          'InvalidRequestException',
          'You must provide either SecretString or SecretBinary.',
        );
      }
      const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
      const same = token === undefined ? undefined : secret.versions.find((v) => v.versionId === token);
      if (same && same.value !== input.SecretString) {
        throw new ServiceError(
          'ResourceExistsException',
          "You can't modify an existing version, you can only create new versions.",
        );
      }
      const version = same ?? addVersion(secret, input.SecretString, token);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        VersionStages: version.stages,
      };
    },
    CreateSecret(input) {
      if (typeof input.Name !== 'string' || input.Name === '') {
        throw new ServiceError(
          'ValidationException',
          "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
        );
      }
      if (find(input.Name)) {
        throw new ServiceError(
          'ResourceExistsException',
          `The operation failed because the secret ${input.Name} already exists.`,
        );
      }
      if (typeof input.SecretString !== 'string') {
        throw new ServiceError(
          'InvalidRequestException',
          'You must provide either SecretString or SecretBinary.',
        );
      }
      const secret = create(input.Name, input.SecretString);
      return { ARN: secret.arn, Name: secret.name, VersionId: current(secret).versionId };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = clock();
    const requestId = newRequestId();
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : String(target ?? '');
    // Logged on arrival and completed before the answer is written, so a client holding its response always
    // finds the entry final.
    const entry: Mutable<SecretsManagerRequestRecord> = {
      operation,
      secretId: undefined,
      status: 0,
      errorType: undefined,
      time,
    };
    requests.push(entry);

    const answer = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      entry.status = status;
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'Content-Length': Buffer.byteLength(text),
        'x-amzn-RequestId': requestId,
        Date: new Date(clock()).toUTCString(),
        ...(entry.errorType === undefined ? {} : { 'x-amzn-ErrorType': entry.errorType }),
      });
      res.end(text);
    };

    try {
      let body: Buffer;
      try {
        body = await readSmallBody(req, MAX_BODY);
      } catch (error) {
        if (error instanceof BodyTooLargeError)
          throw new ServiceError('ValidationException', 'Request body too large.');
        throw error;
      }
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
        throw new ServiceError('UnknownOperationException', 'Unknown operation', 404);
      }
      if (verifySignatures) {
        const url = req.url ?? '/';
        const question = url.indexOf('?');
        const result = verifySigV4(
          {
            method: 'POST',
            rawPath: question === -1 ? url : url.slice(0, question),
            query: parseQuery(question === -1 ? '' : url.slice(question + 1)),
            rawHeaders: req.rawHeaders,
          },
          {
            service: 'secretsmanager',
            region,
            credentials,
            now: clock(),
            escapePath: true,
            payloadHash: sha256Hex(body),
          },
        );
        if (!result.ok) throw authError(result.failure);
      }
      if (!(SECRETS_MANAGER_OPERATIONS as readonly string[]).includes(operation)) {
        throw new ServiceError('UnknownOperationException', '');
      }
      let input: Record<string, unknown>;
      try {
        const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        input = parsed as Record<string, unknown>;
      } catch {
        throw new ServiceError(
          'SerializationException',
          'Start of structure or map found where not expected.',
        );
      }
      if (typeof input.SecretId === 'string') entry.secretId = input.SecretId;
      const fault = faults.take((f) => f.operation === undefined || f.operation === operation);
      if (fault) {
        const type = fault.errorType ?? 'InternalServiceError';
        throw new ServiceError(
          type,
          'Injected fault',
          fault.status ?? (type === 'InternalServiceError' ? 500 : 400),
        );
      }
      answer(200, operations[operation as SecretsManagerOperation](input));
    } catch (error) {
      const failure =
        error instanceof ServiceError
          ? error
          : new ServiceError('InternalServiceError', 'An error occurred on the server side.', 500);
      if (!(error instanceof ServiceError))
        console.error('Secrets Manager stand-in: unexpected error', error);
      entry.errorType = failure.type;
      answer(failure.status, { __type: failure.type, message: failure.message });
    }
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void handle(req, res));
  const { url, port } = await listenLocal(server, options.port ?? 0);
  const first = credentials[0] ?? LOCAL_AWS_CREDENTIALS;
  return {
    url,
    port,
    region,
    requests,
    resetRequests: () => {
      requests.length = 0;
    },
    setSecret,
    arnOf: (nameOrArn) => find(nameOrArn)?.arn,
    failNext: (fault) => faults.add(fault),
    clientConfig: () => ({
      endpoint: url,
      region,
      credentials: { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey },
    }),
    env: () => ({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      AWS_ACCESS_KEY_ID: first.accessKeyId,
      AWS_SECRET_ACCESS_KEY: first.secretAccessKey,
      AWS_REGION: region,
    }),
    close: () => closeServer(server),
  };
}

/** How the AWS JSON services answer SigV4 failures: HTTP 400 with these `__type`s. */
function authError(failure: SigV4Failure): ServiceError {
  switch (failure.reason) {
    case 'missing':
      return new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    case 'unknown-key':
    case 'bad-token':
      return new ServiceError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    case 'mismatch':
      return new ServiceError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    case 'skewed':
      return new ServiceError(
        'InvalidSignatureException',
        `Signature expired: ${failure.details.RequestTime ?? ''} is now earlier than ${failure.details.ServerTime ?? ''}.`,
      );
    case 'wrong-region':
      return new ServiceError(
        'InvalidSignatureException',
        `Credential should be scoped to a valid region. ${failure.message}`,
      );
    default:
      return new ServiceError('IncompleteSignatureException', failure.message);
  }
}
