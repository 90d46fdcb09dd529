/**
 * The key pair the local stand-ins accept when a test or `npm start` names none. Not a secret: it only ever
 * unlocks servers bound to 127.0.0.1.
 */
export const LOCAL_AWS_ACCESS_KEY_ID = 'AKIALOCALSTANDIN0000';
export const LOCAL_AWS_SECRET_ACCESS_KEY = 'localStandInSecretAccessKey0000000000000';
export const LOCAL_AWS_REGION = 'us-east-1';
/** The account id the stand-ins put in ARNs. */
export const LOCAL_AWS_ACCOUNT_ID = '000000000000';

export interface AwsCredentialPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, requests signed with this key must carry it as `X-Amz-Security-Token`. */
  readonly sessionToken?: string;
}

export const LOCAL_AWS_CREDENTIALS: AwsCredentialPair = {
  accessKeyId: LOCAL_AWS_ACCESS_KEY_ID,
  secretAccessKey: LOCAL_AWS_SECRET_ACCESS_KEY,
};

/** How a client reaches a stand-in at `url`: its SDK client settings and the environment naming the same. */
export function localAwsAccess(url: string, endpointVariable: string) {
  const { accessKeyId, secretAccessKey } = LOCAL_AWS_CREDENTIALS;
  return {
    clientConfig: () => ({
      endpoint: url,
      region: LOCAL_AWS_REGION,
      credentials: { accessKeyId, secretAccessKey },
    }),
    env: (): Record<string, string> => ({
      [endpointVariable]: url,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: LOCAL_AWS_REGION,
    }),
  };
}
