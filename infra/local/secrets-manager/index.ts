export {
  LOCAL_AWS_ACCESS_KEY_ID,
  LOCAL_AWS_CREDENTIALS,
  LOCAL_AWS_REGION,
  LOCAL_AWS_SECRET_ACCESS_KEY,
} from '../aws/credentials';
export {
  type SecretsManagerRequestRecord,
  type SecretsManagerStandIn,
  type SecretsManagerStandInOptions,
  startSecretsManagerStandIn,
} from './secrets-manager-stand-in';
