import type { SigV4Failure } from '../aws/sigv4';

/** An S3 error response: HTTP status, S3's error code and message. Thrown inside the stand-in, rendered by the server. */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The errors more than one handler answers with, in S3's own words. */
export const s3Errors = {
  noSuchKey: () => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.'),
  noSuchUpload: () =>
    new S3Error(
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    ),
  preconditionFailed: () =>
    new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'),
  invalidRequest: (message: string) => new S3Error(400, 'InvalidRequest', message),
  incompleteBody: () =>
    new S3Error(
      400,
      'IncompleteBody',
      'You did not provide the number of bytes specified by the length header',
    ),
  notImplemented: (what: string) =>
    new S3Error(501, 'NotImplemented', `The S3 stand-in does not implement ${what}.`),
} as const;

/** What S3 answers for each way a SigV4 check fails. */
export function sigV4Error(failure: SigV4Failure, message: string, presigned: boolean): S3Error {
  switch (failure) {
    case 'malformed':
      return new S3Error(
        400,
        presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed',
        message,
      );
    case 'unknown-key':
      return new S3Error(403, 'InvalidAccessKeyId', message);
    case 'mismatch':
      return new S3Error(403, 'SignatureDoesNotMatch', message);
    case 'skewed':
      return new S3Error(403, 'RequestTimeTooSkewed', message);
    case 'missing':
    case 'expired':
      return new S3Error(403, 'AccessDenied', message);
  }
}

/** Escape text for an XML element body. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An S3 XML document: `fields` become the root's child elements, their text escaped. */
export function xmlDocument(root: string, fields: Readonly<Record<string, string>>): string {
  const body = Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  const xmlns = root === 'Error' ? '' : ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${xmlns}>${body}</${root}>`;
}
