export {
  type SecretsManagerRequestRecord,
  type SecretsManagerStandIn,
  type SecretsManagerStandInOptions,
  startSecretsManagerStandIn,
} from './secrets-manager-stand-in';
