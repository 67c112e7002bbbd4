/**
 * pb.Request ↔ framework LogicalRequest and LogicalResponse / LogicalError ↔
 * pb.Response / pb.ProtoError, as Vault's sdk/plugin/pb/translation.go and
 * the plugin server (grpc_backend_server.go) do it.
 *
 * Errors: ErrorKind numbers are ProtoError.err_type. Vault turns err_type 5-10
 * back into its sentinel errors (their fixed messages), so a framework
 * InvalidRequest with a message travels as Vault's own transit sends it:
 * logical.ErrorResponse(message) in the response, logical.ErrInvalidRequest
 * as the error; Vault's RespondErrorCommon then answers 400 with the message.
 * Internal errors carry only their safe message (never a cause's text).
 */
import { ErrorKind, LogicalError, SentinelMessage, toLogicalError } from "../framework/errors.ts";
import {
  type LogicalRequest,
  type LogicalResponse,
  OPERATIONS,
  type Operation,
} from "../framework/request.ts";
import type { Storage } from "../framework/storage.ts";
import type { Header, ProtoError, Request, Response } from "../gen/sdk/plugin/pb/backend.ts";
import { wireErrorMessage } from "../protocol/errors.ts";
import { LARGE_JSON, parseJsonInSlices, stringifyJsonInSlices } from "../util/json-slices.ts";

/** logical.HTTPContentType, HTTPRawBody, HTTPStatusCode: the keys of a raw response. */
export const HTTP_CONTENT_TYPE = "http_content_type";
export const HTTP_RAW_BODY = "http_raw_body";
export const HTTP_STATUS_CODE = "http_status_code";

/** A request from the host that does not decode (the host side has pluginhost's TranslationError). */
export class RequestDecodeError extends Error {}

/** Request.data: a JSON object in a string (Go's json.Unmarshal into map[string]any; "null" is no data). */
export function decodeRequestData(text: string): Record<string, unknown> | undefined {
  if (text === "" || text === "null") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestDecodeError("request data is not valid JSON");
  }
  return checkRequestData(value);
}

/** decodeRequestData for a large body: parsed in slices between which other calls are served. */
export async function decodeRequestDataInSlices(text: string): Promise<Record<string, unknown> | undefined> {
  if (text.length < LARGE_JSON) return decodeRequestData(text);
  let value: unknown;
  try {
    value = await parseJsonInSlices(text);
  } catch {
    throw new RequestDecodeError("request data is not valid JSON");
  }
  return checkRequestData(value);
}

function checkRequestData(value: unknown): Record<string, unknown> | undefined {
  if (value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new RequestDecodeError("request data is not a JSON object");
  }
  return value as Record<string, unknown>;
}

function isOperation(op: string): op is Operation {
  return (OPERATIONS as readonly string[]).includes(op);
}

/** `decoded`: the request's data already decoded (decodeRequestDataInSlices), else it is decoded here. */
export function protoRequestToLogical(
  req: Request | undefined,
  storage: Storage,
  decoded?: { data: Record<string, unknown> | undefined },
): LogicalRequest {
  if (req === undefined) throw new RequestDecodeError("missing request");
  if (!isOperation(req.operation)) {
    // Vault would hand an unknown operation to the backend, whose router answers unsupported operation.
    throw new LogicalError(ErrorKind.UnsupportedOperation, SentinelMessage[ErrorKind.UnsupportedOperation]);
  }
  const out: LogicalRequest = { operation: req.operation, path: req.path, storage };
  const data = decoded !== undefined ? decoded.data : decodeRequestData(req.data);
  if (data !== undefined) out.data = data;
  if (req.id !== "") out.id = req.id;
  if (req.mountPoint !== "") out.mountPoint = req.mountPoint;
  if (req.mountType !== "") out.mountType = req.mountType;
  if (req.clientToken !== "") out.clientToken = req.clientToken;
  const headers = Object.entries(req.headers ?? {});
  if (headers.length > 0) {
    out.headers = Object.fromEntries(headers.map(([k, v]) => [k, [...(v.header ?? [])]]));
  }
  return out;
}

/** Go's json.Marshal rules where JSON.stringify differs for what handlers return. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

/**
 * Go's encoding/json escapes <, >, & and U+2028/U+2029 in strings; keep the
 * same bytes so that what Vault relays matches its built-in transit.
 */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function encodeJson(value: unknown): string {
  return goEscape(JSON.stringify(value, jsonReplacer) ?? "null");
}

/**
 * outcomeToProto for a response whose data holds long arrays (batch results): the JSON is written in
 * slices between which other calls are served. Everything else is outcomeToProto's.
 */
export async function outcomeToProtoInSlices(
  outcome: { response: LogicalResponse | null } | { error: unknown },
  requestId: string,
): Promise<{ response?: Response; err?: ProtoError }> {
  if (!("response" in outcome) || outcome.response === null || outcome.response.statusCode !== undefined) {
    return outcomeToProto(outcome, requestId);
  }
  const resp = outcome.response;
  const out = emptyResponse();
  out.data = await stringifyJsonInSlices(resp.data ?? null, jsonReplacer, goEscape);
  if (resp.warnings !== undefined) out.warnings = [...resp.warnings];
  return { response: out };
}

function emptyResponse(): Response {
  return { data: "null", redirect: "", warnings: [], headers: {}, mountType: "" };
}

/**
 * logical.RespondWithStatusCode: a raw response whose body is the HTTP
 * envelope of the response (request id filled in), with the given status.
 */
function rawStatusResponse(resp: LogicalResponse, requestId: string): Record<string, unknown> {
  const envelope = {
    request_id: requestId,
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: resp.data ?? null,
    wrap_info: null,
    warnings: resp.warnings !== undefined && resp.warnings.length > 0 ? resp.warnings : null,
    auth: null,
    mount_type: "",
  };
  return {
    [HTTP_CONTENT_TYPE]: "application/json",
    [HTTP_STATUS_CODE]: resp.statusCode,
    [HTTP_RAW_BODY]: encodeJson(envelope),
  };
}

export function logicalResponseToProto(
  resp: LogicalResponse | null,
  requestId: string,
): Response | undefined {
  if (resp === null) return undefined;
  const out = emptyResponse();
  if (resp.statusCode !== undefined) {
    out.data = encodeJson(rawStatusResponse(resp, requestId));
    return out;
  }
  out.data = encodeJson(resp.data ?? null);
  if (resp.warnings !== undefined) out.warnings = [...resp.warnings];
  return out;
}

export function headersToProto(headers: Record<string, string[]>): { [key: string]: Header } {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { header: v }]));
}

/** pb.ErrToProtoErr for a framework error. */
export function logicalErrorToProto(err: LogicalError): ProtoError {
  const kind = err.kind;
  return {
    errType: kind,
    errMsg: wireErrorMessage(kind, err.message),
    errCode: kind === ErrorKind.Coded ? err.code : 0,
  };
}

/**
 * The outcome of a handler as HandleRequestReply fields: a thrown error
 * becomes ProtoError; an InvalidRequest error with its own message also
 * becomes an error response carrying that message (logical.ErrorResponse),
 * unless the handler's response already is one.
 */
export function outcomeToProto(
  outcome: { response: LogicalResponse | null } | { error: unknown },
  requestId: string,
): { response?: Response; err?: ProtoError } {
  if ("response" in outcome) {
    const response = logicalResponseToProto(outcome.response, requestId);
    return response === undefined ? {} : { response };
  }
  const err = toLogicalError(outcome.error);
  const protoErr = logicalErrorToProto(err);
  if (err.kind === ErrorKind.InvalidRequest && err.message !== SentinelMessage[ErrorKind.InvalidRequest]) {
    const response = emptyResponse();
    response.data = encodeJson({ error: err.message });
    return { response, err: protoErr };
  }
  return { err: protoErr };
}
