/**
 * Vault's logical error kinds. The numeric values are the `err_type` of
 * pb.ProtoError (sdk/plugin/pb/translation.go), so the plugin transport can
 * pass them through unchanged.
 */
export enum ErrorKind {
  Unknown = 0,
  User = 1,
  Internal = 2,
  Coded = 3,
  BadRequest = 4,
  UnsupportedOperation = 5,
  UnsupportedPath = 6,
  InvalidRequest = 7,
  PermissionDenied = 8,
  MultiAuthzPending = 9,
  Unrecoverable = 10,
}

/** The messages Vault's logical package uses for its sentinel errors. */
export const SentinelMessage = {
  [ErrorKind.UnsupportedOperation]: "unsupported operation",
  [ErrorKind.UnsupportedPath]: "unsupported path",
  [ErrorKind.InvalidRequest]: "invalid request",
  [ErrorKind.PermissionDenied]: "permission denied",
  [ErrorKind.MultiAuthzPending]: "request waiting on other authorizations",
} as const;

/**
 * An error a backend returns to its caller. `kind` decides the HTTP status
 * exactly as Vault's RespondErrorCommon does; `code` is only used for
 * ErrorKind.Coded.
 */
export class LogicalError extends Error {
  readonly kind: ErrorKind;
  readonly code: number;

  constructor(kind: ErrorKind, message: string, code = 0) {
    super(message);
    this.name = "LogicalError";
    this.kind = kind;
    this.code = code;
  }

  /** The HTTP status Vault answers with for this error. */
  get httpStatus(): number {
    return httpStatusForKind(this.kind, this.code);
  }
}

export function httpStatusForKind(kind: ErrorKind, code = 0): number {
  switch (kind) {
    case ErrorKind.User:
    case ErrorKind.BadRequest:
    case ErrorKind.InvalidRequest:
      return 400;
    case ErrorKind.PermissionDenied:
      return 403;
    case ErrorKind.UnsupportedPath:
      return 404;
    case ErrorKind.UnsupportedOperation:
      return 405;
    case ErrorKind.MultiAuthzPending:
      return 202;
    case ErrorKind.Coded:
      return code >= 100 && code <= 599 ? code : 500;
    default:
      return 500;
  }
}

/** 400: the caller's request is wrong (Vault's logical.ErrorResponse / ErrInvalidRequest). */
export function invalidRequest(message: string): LogicalError {
  return new LogicalError(ErrorKind.InvalidRequest, message);
}

/** 400 carrying Vault's errutil.UserError semantics. */
export function userError(message: string): LogicalError {
  return new LogicalError(ErrorKind.User, message);
}

/** 500: something on our side failed; the message must not carry secrets. */
export function internalError(message: string): LogicalError {
  return new LogicalError(ErrorKind.Internal, message);
}

/**
 * 500 with the given text: what Vault answers when a handler returns a plain
 * Go error (errors.New / fmt.Errorf), even for a caller's mistake. Clients
 * assert these statuses, so the engine answers them as Vault does.
 */
export function goError(message: string): LogicalError {
  return new LogicalError(ErrorKind.Unknown, message);
}

/** An error with an explicit HTTP status (logical.CodedError). */
export function codedError(status: number, message: string): LogicalError {
  return new LogicalError(ErrorKind.Coded, message, status);
}

export function unsupportedPath(): LogicalError {
  return new LogicalError(ErrorKind.UnsupportedPath, SentinelMessage[ErrorKind.UnsupportedPath]);
}

export function unsupportedOperation(): LogicalError {
  return new LogicalError(ErrorKind.UnsupportedOperation, SentinelMessage[ErrorKind.UnsupportedOperation]);
}

export function permissionDenied(): LogicalError {
  return new LogicalError(ErrorKind.PermissionDenied, SentinelMessage[ErrorKind.PermissionDenied]);
}

/**
 * A storage backend's failure (disk full, read-only, I/O error, a value that
 * fails authentication, a path the store cannot hold). Its message is a fixed
 * text written by the storage implementation, never a stored value or key
 * material, so handlers' callers see it in the 500 instead of "internal error".
 */
export class StorageError extends Error {
  constructor(
    message: string,
    /** The OS error code behind it (ENOSPC, EROFS, EIO...), when there is one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

/**
 * Turns anything thrown inside a handler into a LogicalError. Unknown errors
 * become a generic 500 whose message does not echo the original (it may hold
 * key material or plaintext); the original stays available as `cause`.
 */
export function toLogicalError(err: unknown): LogicalError {
  if (err instanceof LogicalError) return err;
  // A storage failure's text is fixed by whoever threw it (no values in it): pass it on.
  const wrapped = internalError(err instanceof StorageError ? err.message : "internal error");
  (wrapped as { cause?: unknown }).cause = err;
  return wrapped;
}
