/** Errors of the IAM services; the console API turns them into its uniform JSON errors. */
export const IAM_ERRORS = {
  InvalidRequest: 400,
  WeakPassword: 400,
  Unauthenticated: 401,
  InvalidCredentials: 401,
  InvalidTotp: 401,
  Forbidden: 403,
  PasswordChangeRequired: 403,
  CsrfRejected: 403,
  AccountDisabled: 403,
  NotFound: 404,
  Conflict: 409,
  QuotaExceeded: 409,
  AccountLocked: 423,
  TooManyRequests: 429,
  InternalError: 500,
  /** An outside service the request needed (the SMTP server of a test email) failed. */
  UpstreamFailed: 502,
  ServiceUnavailable: 503,
} as const;

export type IamErrorCode = keyof typeof IAM_ERRORS;

export class IamError extends Error {
  readonly status: number;
  constructor(
    readonly code: IamErrorCode,
    message: string = code,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = IAM_ERRORS[code];
  }
}
