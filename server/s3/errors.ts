/** The one S3 error table: code -> HTTP status and AWS's message. */
export const S3_ERRORS = {
  AccessDenied: [403, "Access Denied"],
  AccessControlListNotSupported: [400, "The bucket does not allow ACLs"],
  AccessForbidden: [403, "CORSResponse: This CORS request is not allowed."],
  AmbiguousGrantByEmailAddress: [
    400,
    "The email address you provided is associated with more than one account.",
  ],
  AccountProblem: [403, "There is a problem with your AWS account that prevents the operation."],
  AuthorizationHeaderMalformed: [400, "The authorization header is malformed."],
  AuthorizationQueryParametersError: [
    400,
    "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed.",
  ],
  BadRequest: [400, "Bad Request"],
  BadDigest: [400, "The Content-MD5 you specified did not match what we received."],
  BucketAlreadyExists: [
    409,
    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
  ],
  BucketAlreadyOwnedByYou: [
    409,
    "Your previous request to create the named bucket succeeded and you already own it.",
  ],
  BucketNotEmpty: [409, "The bucket you tried to delete is not empty"],
  ConditionalRequestConflict: [
    409,
    "The conditional request cannot succeed due to a conflicting operation.",
  ],
  CredentialsNotSupported: [400, "This request does not support credentials."],
  EntityTooLarge: [400, "Your proposed upload exceeds the maximum allowed size"],
  EntityTooSmall: [400, "Your proposed upload is smaller than the minimum allowed object size."],
  ExpiredToken: [400, "The provided token has expired."],
  IdMismatch: [400, "Document ID does not match the specified configuration ID."],
  IllegalLocationConstraintException: [
    400,
    "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
  ],
  IllegalVersioningConfigurationException: [
    400,
    "The versioning configuration specified in the request is invalid.",
  ],
  IncompleteBody: [
    400,
    "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  ],
  IncorrectNumberOfFilesInPostRequest: [400, "POST requires exactly one file upload per request."],
  InlineDataTooLarge: [400, "Inline data exceeds the maximum allowed size."],
  InternalError: [500, "We encountered an internal error. Please try again."],
  InvalidAccessKeyId: [403, "The AWS Access Key Id you provided does not exist in our records."],
  InvalidArgument: [400, "Invalid Argument"],
  InvalidBucketName: [400, "The specified bucket is not valid."],
  InvalidBucketState: [409, "The request is not valid with the current state of the bucket."],
  InvalidBucketAclWithObjectOwnership: [
    400,
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  ],
  InvalidDigest: [400, "The Content-MD5 you specified is not valid."],
  InvalidEncryptionAlgorithmError: [
    400,
    "The encryption request you specified is not valid. The valid value is AES256.",
  ],
  InvalidLocationConstraint: [400, "The specified location constraint is not valid."],
  InvalidObjectState: [403, "The operation is not valid for the current state of the object."],
  InvalidPart: [
    400,
    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  ],
  InvalidPartOrder: [
    400,
    "The list of parts was not in ascending order. Parts must be ordered by part number.",
  ],
  InvalidPartNumber: [416, "The requested partnumber is not satisfiable"],
  InvalidPolicyDocument: [
    400,
    "The content of the form does not meet the conditions specified in the policy document.",
  ],
  InvalidRange: [416, "The requested range is not satisfiable"],
  InvalidRedirectLocation: [
    400,
    "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
  ],
  InvalidRequest: [400, "Invalid Request"],
  InvalidRetentionPeriod: [400, "The retention period is not valid."],
  InvalidStorageClass: [400, "The storage class you specified is not valid"],
  InvalidTag: [400, "The tag provided was not a valid tag."],
  InvalidS3DestinationBucket: [400, "Invalid bucket ARN."],
  InvalidTargetBucketForLogging: [400, "The target bucket for logging does not exist"],
  InvalidToken: [400, "The provided token is malformed or otherwise invalid."],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, "Your key is too long"],
  // SSE-KMS writes and reads answer the key service's error, prefixed, with its status.
  "KMS.DisabledException": [400, "The request was rejected because the KMS key is disabled."],
  "KMS.NotFoundException": [400, "The request was rejected because the KMS key does not exist."],
  MalformedACLError: [
    400,
    "The XML you provided was not well-formed or did not validate against our published schema.",
  ],
  MalformedTrailerError: [
    400,
    "The request contained trailing data that was not well-formed or did not conform to our published schema.",
  ],
  MalformedPOSTRequest: [
    400,
    "The body of your POST request is not well-formed multipart/form-data.",
  ],
  MalformedPolicy: [400, "Policies must be valid JSON and the first byte must be '{'"],
  MalformedXML: [
    400,
    "The XML you provided was not well-formed or did not validate against our published schema",
  ],
  MaxMessageLengthExceeded: [400, "Your request was too big."],
  MaxPostPreDataLengthExceededError: [
    400,
    "Your POST request fields preceding the upload file were too large.",
  ],
  MetadataTooLarge: [400, "Your metadata headers exceed the maximum allowed metadata size."],
  MethodNotAllowed: [405, "The specified method is not allowed against this resource."],
  MissingContentLength: [411, "You must provide the Content-Length HTTP header."],
  MissingRequestBodyError: [400, "Request Body is empty."],
  MissingSecurityHeader: [400, "Your request is missing a required header."],
  NoSuchBucket: [404, "The specified bucket does not exist"],
  NoSuchConfiguration: [404, "The specified configuration does not exist."],
  NoSuchBucketPolicy: [404, "The bucket policy does not exist"],
  NoSuchCORSConfiguration: [404, "The CORS configuration does not exist"],
  NoSuchKey: [404, "The specified key does not exist."],
  NoSuchLifecycleConfiguration: [404, "The lifecycle configuration does not exist"],
  NoSuchPublicAccessBlockConfiguration: [
    404,
    "The public access block configuration was not found",
  ],
  NoSuchObjectLockConfiguration: [404, "Object Lock configuration does not exist for this bucket"],
  NoSuchTagSet: [404, "The TagSet does not exist"],
  NoSuchUpload: [
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
  ],
  NoSuchVersion: [404, "The specified version does not exist."],
  NoSuchWebsiteConfiguration: [404, "The specified bucket does not have a website configuration"],
  NotImplemented: [501, "A header you provided implies functionality that is not implemented"],
  ObjectLockConfigurationNotFoundError: [
    404,
    "Object Lock configuration does not exist for this bucket",
  ],
  NoSuchObjectLegalHold: [404, "The specified object does not have a ObjectLock legal hold"],
  NoSuchObjectRetention: [
    404,
    "The specified object does not have a ObjectLock retention configuration",
  ],
  OperationAborted: [
    409,
    "A conflicting conditional operation is currently in progress against this resource. Try again.",
  ],
  OwnershipControlsNotFoundError: [404, "The bucket ownership controls were not found"],
  PermanentRedirect: [
    301,
    "The bucket you are attempting to access must be addressed using the specified endpoint.",
  ],
  PreconditionFailed: [412, "At least one of the pre-conditions you specified did not hold"],
  ReplicationConfigurationNotFoundError: [404, "The replication configuration was not found"],
  QuotaExceeded: [403, "The tenant storage quota would be exceeded by this request."],
  RequestTimeout: [
    400,
    "Your socket connection to the server was not read from or written to within the timeout period.",
  ],
  RequestTimeTooSkewed: [
    403,
    "The difference between the request time and the server's time is too large.",
  ],
  SignatureDoesNotMatch: [
    403,
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  ],
  ServerSideEncryptionConfigurationNotFoundError: [
    404,
    "The server side encryption configuration was not found",
  ],
  ServiceUnavailable: [503, "Service is unable to handle request."],
  SlowDown: [503, "Please reduce your request rate."],
  TooManyBuckets: [400, "You have attempted to create more buckets than allowed"],
  TooManyConfigurations: [
    400,
    "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.",
  ],
  UnresolvableGrantByEmailAddress: [
    400,
    "The email address you provided does not match any account on record.",
  ],
  UnexpectedContent: [400, "This request does not support content"],
  XAmzContentSHA256Mismatch: [
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
  ],
  InvalidChecksum: [400, "The checksum provided is not valid."],
  BadChecksum: [400, "The checksum you specified did not match what we received."],
  NotModified: [304, "Not Modified"],
  MissingAttachment: [400, "A SOAP attachment was expected, but none were found."],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export interface S3ErrorDetail {
  message?: string;
  /** Extra XML elements placed in the error document (e.g. BucketName, Key, ArgumentName). */
  fields?: Record<string, string>;
  /** Extra response headers (e.g. x-amz-delete-marker on 404/405). */
  headers?: Record<string, string>;
}

/** An S3 error whose status comes from the table. Storage and ops throw this. */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly fields: Record<string, string>;
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, detail: S3ErrorDetail = {}) {
    const [status, message] = S3_ERRORS[code];
    super(detail.message ?? message);
    this.name = "S3Error";
    this.code = code;
    this.status = status;
    this.fields = detail.fields ?? {};
    this.headers = detail.headers ?? {};
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}
