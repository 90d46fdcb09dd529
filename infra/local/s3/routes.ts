/**
 * Which S3 operation a path-style request is (`/bucket/key?subresource`), decided from the method, whether a key is
 * present, the sub-resource query parameters and `x-amz-copy-source`, as S3's REST API defines them.
 */
export const S3_OPERATIONS = [
  'ListBuckets',
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'GetBucketLocation',
  'PutBucketVersioning',
  'GetBucketVersioning',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'ListMultipartUploads',
  'DeleteObjects',
  'PutObject',
  'CopyObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  /** A request the stand-in recognises but does not implement (answered 501 NotImplemented). */
  'Unsupported',
  /** A method the resource does not allow (405). */
  'MethodNotAllowed',
] as const;
export type S3Operation = (typeof S3_OPERATIONS)[number];

/** Sub-resources the stand-in does not implement; a request naming one is answered 501 rather than misread. */
const UNSUPPORTED_SUBRESOURCES = [
  'acl',
  'tagging',
  'policy',
  'cors',
  'lifecycle',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'attributes',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
  'requestPayment',
  'intelligent-tiering',
  'policyStatus',
  'renameObject',
];

export function routeS3(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: ReadonlyMap<string, string>,
  hasCopySource: boolean,
): S3Operation {
  if (UNSUPPORTED_SUBRESOURCES.some((name) => query.has(name))) return 'Unsupported';
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : 'MethodNotAllowed';
  if (key === undefined) {
    switch (method) {
      case 'PUT':
        return query.has('versioning') ? 'PutBucketVersioning' : 'CreateBucket';
      case 'HEAD':
        return 'HeadBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        return query.has('delete') ? 'DeleteObjects' : 'MethodNotAllowed';
      case 'GET':
        if (query.has('versioning')) return 'GetBucketVersioning';
        if (query.has('location')) return 'GetBucketLocation';
        if (query.has('versions')) return 'ListObjectVersions';
        if (query.has('uploads')) return 'ListMultipartUploads';
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      default:
        return 'MethodNotAllowed';
    }
  }
  switch (method) {
    case 'PUT':
      if (query.has('uploadId') || query.has('partNumber'))
        return hasCopySource ? 'Unsupported' : 'UploadPart';
      return hasCopySource ? 'CopyObject' : 'PutObject';
    case 'GET':
      return query.has('uploadId') ? 'ListParts' : 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (query.has('uploadId')) return 'CompleteMultipartUpload';
      return 'MethodNotAllowed';
    default:
      return 'MethodNotAllowed';
  }
}
