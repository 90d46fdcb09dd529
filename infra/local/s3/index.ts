export {
  LOCAL_AWS_ACCESS_KEY_ID,
  LOCAL_AWS_CREDENTIALS,
  LOCAL_AWS_REGION,
  LOCAL_AWS_SECRET_ACCESS_KEY,
} from '../aws/credentials';
export type { S3Operation } from './handlers';
export {
  type S3ClientSettings,
  type S3Fault,
  type S3RequestRecord,
  type S3StandIn,
  type S3StandInOptions,
  type StoredObjectInfo,
  startS3StandIn,
} from './s3-stand-in';
