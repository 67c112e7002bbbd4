import { ErrorKind, goError, invalidRequest, LogicalError } from "../../framework/errors.ts";
import { FieldData } from "../../framework/fields.ts";
import type { LogicalResponse } from "../../framework/request.ts";
import { typeName } from "../../util/duration.ts";

/**
 * Batch plumbing shared by encrypt, decrypt, rewrap, sign, verify and hmac:
 * decoding `batch_input` items with Vault's messages, and the overall status
 * of a batch (transit's batchRequestResponse).
 */
export type BatchItem = Record<string, unknown>;

/**
 * The raw items of batch_input, or null when the request is not a batch.
 * Decoding failures are plain errors in Vault ("failed to parse batch input:
 * %w"): 500, as every transit batch path answers them.
 */
export function batchItems(data: FieldData): BatchItem[] | null {
  const raw = data.raw["batch_input"];
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) {
    throw goError(`failed to parse batch input: source data must be an array or slice, got ${goType(raw)}`);
  }
  raw.forEach((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw goError(`failed to parse batch input: [${i}] expected a map, got '${goType(item)}'`);
    }
  });
  if (raw.length === 0) throw invalidRequest("missing batch input to process");
  return raw as BatchItem[];
}

/** A string field of a batch item; "" when absent or null. Collects a type error in `errors`. */
export function itemString(item: BatchItem, i: number, field: string, errors: string[]): string {
  const v = item[field];
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  errors.push(`'[${i}].${field}' expected type 'string', got unconvertible type '${goType(v)}'`);
  return "";
}

/** An int field of a batch item (numbers or numeric strings as json.Number). */
export function itemInt(item: BatchItem, i: number, field: string, errors: string[]): number {
  const v = item[field];
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (typeof v === "string" && /^[-+]?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  errors.push(`'[${i}].${field}' expected type 'int', got unconvertible type '${goType(v)}'`);
  return 0;
}

export function throwBatchDecodeErrors(errors: string[]): void {
  if (errors.length > 0) {
    throw goError(
      `failed to parse batch input: ${errors.length} error(s) decoding:\n\n* ${errors.join("\n* ")}`,
    );
  }
}

/** The Go type name Vault's messages print for a JSON value. */
export function goType(v: unknown): string {
  switch (typeName(v)) {
    case "string":
      return "string";
    case "number":
      return "json.Number";
    case "boolean":
      return "bool";
    case "array":
      return "[]interface {}";
    case "object":
      return "map[string]interface {}";
    default:
      return "<nil>";
  }
}

export interface BatchOutcome {
  successes: boolean;
  userErrors: boolean;
  internalErrors: boolean;
}

/** Records one item's failure: its message and whether it was the caller's fault. */
export function failItem(outcome: BatchOutcome, err: unknown): string {
  if (err instanceof LogicalError) {
    if (err.kind === ErrorKind.Internal || err.kind === ErrorKind.Unknown) outcome.internalErrors = true;
    else outcome.userErrors = true;
    return err.message;
  }
  outcome.internalErrors = true;
  return "internal error";
}

/**
 * The status of a batch response: 400 if any item failed through the
 * caller's fault, else 500 if any failed internally; a partial failure may
 * be answered with partial_failure_response_code instead.
 */
export function batchResponse(
  data: FieldData,
  resp: LogicalResponse,
  outcome: BatchOutcome,
): LogicalResponse {
  if (!outcome.userErrors && !outcome.internalErrors) return resp;
  let code = outcome.userErrors ? 400 : 500;
  const [override, given] = data.schema["partial_failure_response_code"]
    ? data.getOk("partial_failure_response_code")
    : [0, false];
  if (given && outcome.successes) {
    const n = override as number;
    if (n < 1 || n > 599) {
      resp.warnings = [
        ...(resp.warnings ?? []),
        `invalid HTTP response code override from partial_failure_response_code, reverting to ${code}`,
      ];
    } else {
      code = n;
    }
  }
  resp.statusCode = code;
  return resp;
}

/** A single (non-batch) request's failure: 500 for internal errors, otherwise 400 with the message. */
export function singleItemError(outcome: BatchOutcome, message: string): LogicalError {
  return new LogicalError(outcome.internalErrors ? ErrorKind.Internal : ErrorKind.InvalidRequest, message);
}

export { FieldData };
