/**
 * Logical errors across pb.ProtoError, both directions (Vault's
 * sdk/plugin/pb/translation.go ErrToProtoErr and ProtoErrToErr). The
 * err_type numbers are the framework's ErrorKind values. Vault's sentinel
 * errors and ErrUnrecoverable cross as their kind only: their text is
 * Vault's fixed one whatever either side wrote.
 */
import { ErrorKind, SentinelMessage } from "../framework/errors.ts";

const UNRECOVERABLE_MESSAGE = "unrecoverable error";
const HIGHEST_KIND = ErrorKind.Unrecoverable;

/** The message an error of this kind carries on the wire and after it. */
export function wireErrorMessage(kind: ErrorKind, message: string): string {
  if (kind in SentinelMessage) return SentinelMessage[kind as keyof typeof SentinelMessage];
  if (kind === ErrorKind.Unrecoverable) return UNRECOVERABLE_MESSAGE;
  return message;
}

/** The kind of a received err_type; a number Vault does not define is Unknown. */
export function errorKindFromWire(errType: number): ErrorKind {
  return Number.isInteger(errType) && errType >= 0 && errType <= HIGHEST_KIND ? errType : ErrorKind.Unknown;
}
