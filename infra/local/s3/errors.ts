import type { SigV4Failure } from '../aws/sigv4';

/**
 * An S3 error response: HTTP status, S3's error code and message, and the extra elements S3 puts in the `<Error>`
 * document (Key, BucketName, Condition, StringToSign, ...). Thrown inside the stand-in and rendered by the server.
 */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The errors the stand-in answers with, in S3's own words. */
export const s3Errors = {
  accessDenied: (message = 'Access Denied', details: Record<string, string> = {}) =>
    new S3Error(403, 'AccessDenied', message, details),
  noSuchBucket: (bucket: string) =>
    new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string, headers: Record<string, string> = {}) =>
    new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }, headers),
  noSuchVersion: (key: string, versionId: string) =>
    new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', {
      Key: key,
      VersionId: versionId,
    }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  preconditionFailed: (condition: string) =>
    new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    }),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error(
      400,
      'InvalidArgument',
      message,
      name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  invalidRequest: (message: string) => new S3Error(400, 'InvalidRequest', message),
  malformedXml: () =>
    new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  badDigest: (what: string) =>
    new S3Error(400, 'BadDigest', `The ${what} you specified did not match the calculated checksum.`),
  notImplemented: (header?: string) =>
    new S3Error(
      501,
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
      header === undefined ? {} : { Header: header },
    ),
  methodNotAllowed: (method: string, resource: string) =>
    new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
      Method: method,
      ResourceType: resource,
    }),
  missingContentLength: () =>
    new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.'),
  incompleteBody: () =>
    new S3Error(
      400,
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
    ),
  entityTooLarge: (size: number, max: number) =>
    new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: String(size),
      MaxSizeAllowed: String(max),
    }),
  invalidRange: (size: number) =>
    new S3Error(
      416,
      'InvalidRange',
      'The requested range is not satisfiable',
      { ActualObjectSize: String(size) },
      { 'Content-Range': `bytes */${size}` },
    ),
  internalError: () =>
    new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'),
} as const;

/** What S3 answers for each way a SigV4 check can fail. */
export function sigV4Error(failure: SigV4Failure, isQuery: boolean): S3Error {
  const details = failure.details;
  switch (failure.reason) {
    case 'missing':
      return s3Errors.accessDenied();
    case 'malformed':
    case 'wrong-service':
      return isQuery
        ? new S3Error(400, 'AuthorizationQueryParametersError', failure.message, details)
        : new S3Error(
            400,
            'AuthorizationHeaderMalformed',
            `The authorization header is malformed; ${failure.message}`,
            details,
          );
    case 'wrong-region':
      return new S3Error(
        400,
        isQuery ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed',
        `The authorization header is malformed; ${failure.message}`,
        details,
      );
    case 'bad-date':
      return s3Errors.accessDenied(failure.message, details);
    case 'unknown-key':
      return new S3Error(403, 'InvalidAccessKeyId', failure.message, details);
    case 'bad-token':
      return new S3Error(400, 'InvalidToken', failure.message, details);
    case 'mismatch':
      return new S3Error(403, 'SignatureDoesNotMatch', failure.message, details);
    case 'skewed':
      return new S3Error(403, 'RequestTimeTooSkewed', failure.message, details);
    case 'expired':
    case 'not-yet-valid':
    case 'unsigned-headers':
      return s3Errors.accessDenied(failure.message, details);
  }
}

/** The error code S3 uses for an injected fault's status when the test names none. */
export function defaultCodeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 403:
      return 'AccessDenied';
    case 404:
      return 'NoSuchKey';
    case 409:
      return 'OperationAborted';
    case 412:
      return 'PreconditionFailed';
    case 429:
      return 'SlowDown';
    case 501:
      return 'NotImplemented';
    case 503:
      return 'SlowDown';
    default:
      return 'InternalError';
  }
}

export function defaultMessageForCode(code: string): string {
  switch (code) {
    case 'SlowDown':
      return 'Please reduce your request rate.';
    case 'InternalError':
      return 'We encountered an internal error. Please try again.';
    case 'ServiceUnavailable':
      return 'Service is unable to handle request.';
    default:
      return `Injected fault: ${code}`;
  }
}
