import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AWS_CREDENTIALS } from '../../../infra/local/aws/credentials';
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from '../../../infra/local/secrets-manager';

const SECRET_JSON = JSON.stringify({ ATLAS_CLIENT_ID: 'mdb_sa_id_x', SLACK_BOT_TOKEN: 'xoxb-1-2-3' });

let sm: SecretsManagerStandIn;
let client: SecretsManagerClient;

beforeAll(async () => {
  sm = await startSecretsManagerStandIn({ secrets: { 'atlas-invoices/app': SECRET_JSON } });
  client = new SecretsManagerClient({ ...sm.clientConfig(), maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await sm.close();
});

describe('Secrets Manager stand-in', () => {
  it('returns the secret string by name', async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'atlas-invoices/app' }));

    expect(out.SecretString).toBe(SECRET_JSON);
    expect(out.Name).toBe('atlas-invoices/app');
    expect(out.VersionStages).toEqual(['AWSCURRENT']);
  });

  it('returns the same secret by the ARN it answered with', async () => {
    const { ARN } = await client.send(new GetSecretValueCommand({ SecretId: 'atlas-invoices/app' }));

    const byArn = await client.send(new GetSecretValueCommand({ SecretId: ARN }));

    expect(ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:atlas-invoices\/app-[a-f0-9]{6}$/);
    expect(byArn.SecretString).toBe(SECRET_JSON);
  });

  it('answers ResourceNotFoundException (HTTP 400) for an unknown secret', async () => {
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses a client signing with the wrong secret key', async () => {
    const wrong = new SecretsManagerClient({
      ...sm.clientConfig(),
      maxAttempts: 1,
      credentials: { accessKeyId: LOCAL_AWS_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
    });

    await expect(
      wrong.send(new GetSecretValueCommand({ SecretId: 'atlas-invoices/app' })),
    ).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 400 },
    });
    wrong.destroy();
  });

  it('refuses an unknown access key id', async () => {
    const unknown = new SecretsManagerClient({
      ...sm.clientConfig(),
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
    });

    await expect(
      unknown.send(new GetSecretValueCommand({ SecretId: 'atlas-invoices/app' })),
    ).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
    unknown.destroy();
  });

  it('refuses an unsigned request with MissingAuthenticationTokenException', async () => {
    const unsigned = await fetch(sm.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: '{"SecretId":"atlas-invoices/app"}',
    });
    const unsignedBody = await unsigned.json();

    expect(unsigned.status).toBe(400);
    expect(unsignedBody).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    expect(JSON.stringify(unsignedBody)).not.toContain('xoxb');
  });

  it('serves the value setSecret put last', async () => {
    sm.setSecret('atlas-invoices/other', '{"v":1}');
    sm.setSecret('atlas-invoices/other', '{"v":2}');

    const current = await client.send(new GetSecretValueCommand({ SecretId: 'atlas-invoices/other' }));

    expect(current.SecretString).toBe('{"v":2}');
  });

  it('logs each request with its operation, secret id and outcome', async () => {
    sm.resetRequests();

    await client.send(new GetSecretValueCommand({ SecretId: 'atlas-invoices/app' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'missing' })).catch(() => undefined);

    expect(sm.requests).toMatchObject([
      { operation: 'GetSecretValue', secretId: 'atlas-invoices/app', status: 200 },
      {
        operation: 'GetSecretValue',
        secretId: 'missing',
        status: 400,
        errorType: 'ResourceNotFoundException',
      },
    ]);
  });

  it('answers UnknownOperationException for any other operation', async () => {
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: 'atlas-invoices/app' })),
    ).rejects.toMatchObject({
      name: 'UnknownOperationException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(sm.requests.at(-1)).toMatchObject({
      operation: 'DescribeSecret',
      errorType: 'UnknownOperationException',
    });
  });
});
