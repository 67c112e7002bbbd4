/**
 * Vault's HTTP conventions (http/logical.go, http/handler.go,
 * sdk/logical/response_util.go) for the dev host: the method → operation
 * mapping, body limits and parsing, the response envelope, Vault's error
 * status rules and raw responses.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { type ErrorKind, httpStatusForKind } from "../../framework/errors.ts";
import type { Operation } from "../../framework/request.ts";
import type { BackendError, BackendResponse } from "../../protocol/mount-backend.ts";
import { parseJsonInSlices } from "../../util/json-slices.ts";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string | null,
  ) {
    super(message ?? "");
    this.name = "HttpError";
  }
  get messages(): string[] {
    return this.message === "" ? [] : [this.message];
  }
}

/** Reads the body up to `max` bytes; past it, 413 as Vault's MaxBytesReader. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return Promise.reject(new HttpError(413, "http: request body too large"));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        chunks.length = 0;
        reject(new HttpError(413, "http: request body too large"));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", (e) => {
      if (!done) {
        done = true;
        reject(new HttpError(400, `error reading data: ${e.message}`));
      }
    });
  });
}

/** Vault's parseQuery: one value → string, several → array. */
export function parseQuery(params: URLSearchParams): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** strconv.ParseBool. */
function parseGoBool(s: string): boolean | null {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(s)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(s)) return false;
  return null;
}

function isForm(head: Buffer, contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return false;
  const first = head.toString("utf8").trimStart()[0];
  return first !== "{" && first !== "[";
}

export interface ParsedRequest {
  operation: Operation;
  /** Relative to /v1/, list paths end in "/". */
  path: string;
  data: Record<string, unknown> | undefined;
}

/**
 * Vault's buildLogicalRequestNoAuth: operation, path and data from the HTTP request. Async because a
 * large JSON body is parsed in slices (util/json-slices.ts) so that other requests are served meanwhile.
 */
export async function buildLogicalRequest(
  method: string,
  rawPath: string,
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): Promise<ParsedRequest> {
  let path = rawPath;
  switch (method) {
    case "DELETE":
      return { operation: "delete", path, data: parseQuery(query) };
    case "GET": {
      const listText = query.get("list");
      let list = false;
      if (listText !== null && listText !== "") {
        const b = parseGoBool(listText);
        if (b === null) throw new HttpError(400, null);
        list = b;
      }
      const rest = new URLSearchParams(query);
      if (list) {
        rest.delete("list");
        if (!path.endsWith("/")) path += "/";
        return { operation: "list", path, data: parseQuery(rest) };
      }
      return { operation: "read", path, data: parseQuery(rest) };
    }
    case "LIST":
      if (!path.endsWith("/")) path += "/";
      return { operation: "list", path, data: parseQuery(query) };
    case "HEAD":
      return { operation: "header", path, data: parseQuery(query) };
    case "POST":
    case "PUT": {
      const contentType = typeof headers["content-type"] === "string" ? headers["content-type"] : undefined;
      if (isForm(body.subarray(0, 512), contentType)) {
        return {
          operation: "update",
          path,
          data: parseQuery(new URLSearchParams(body.toString("utf8"))) ?? {},
        };
      }
      return { operation: "update", path, data: await parseJsonObject(body) };
    }
    default:
      throw new HttpError(405, null);
  }
}

/**
 * Deepest nesting a request body may have. Go's decoder stops at 10 000 ("exceeded max depth"); the
 * host re-encodes the data for the plugin with JSON.stringify, which is recursive and runs out of
 * stack a few thousand levels down, so the limit here is lower (no transit field nests past 3).
 */
export const MAX_JSON_DEPTH = 512;

const JSON_STRUCTURAL = /["\\[\]{}]/g;

/** Whether a JSON text nests deeper than `max`; strings are skipped, so brackets inside them do not count. */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  JSON_STRUCTURAL.lastIndex = 0;
  for (let m = JSON_STRUCTURAL.exec(text); m !== null; m = JSON_STRUCTURAL.exec(text)) {
    const c = m[0];
    if (inString) {
      if (c === "\\") JSON_STRUCTURAL.lastIndex++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (++depth > max) return true;
    } else depth--;
  }
  return false;
}

/** jsonutil.DecodeJSONFromReader into map[string]interface{}: an empty body is no data. */
export async function parseJsonObject(body: Buffer): Promise<Record<string, unknown> | undefined> {
  const text = body.toString("utf8");
  if (text.trim() === "") return undefined;
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new HttpError(400, "failed to parse JSON input: exceeded max depth");
  }
  let value: unknown;
  try {
    value = await parseJsonInSlices(text);
  } catch (e) {
    throw new HttpError(400, `failed to parse JSON input: ${(e as Error).message}`);
  }
  if (value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "array" : typeof value;
    throw new HttpError(
      400,
      `failed to parse JSON input: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`,
    );
  }
  return value as Record<string, unknown>;
}

/** respondError: {"errors": [...]} with the status. */
export function respondError(res: ServerResponse, status: number, messages: string[], data?: unknown): void {
  const body: Record<string, unknown> = { errors: messages };
  if (data !== undefined) body["data"] = data;
  respondJson(res, status, body);
}

export function respondJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function respondNoContent(res: ServerResponse): void {
  res.writeHead(204, { "Cache-Control": "no-store" });
  res.end();
}

/** logical.HTTPResponse: Vault's response envelope. */
export function envelope(
  requestId: string,
  resp: BackendResponse,
  mountType: string,
): Record<string, unknown> {
  const secret = resp.secret ?? null;
  return {
    request_id: requestId,
    lease_id: secret?.leaseId ?? "",
    renewable: secret?.renewable ?? false,
    lease_duration: secret?.ttl ?? 0,
    data: resp.data ?? null,
    wrap_info: null,
    warnings:
      resp.warnings !== undefined && resp.warnings !== null && resp.warnings.length > 0
        ? resp.warnings
        : null,
    auth: null,
    mount_type: mountType,
  };
}

export function isErrorResponse(resp: BackendResponse | null): boolean {
  const e = resp?.data?.["error"];
  return typeof e === "string" && e !== "";
}

/**
 * logical.RespondErrorCommon, for a backend's outcome. Null: not an error
 * (answer 200, or 204 without a response). Otherwise the status and the
 * messages of {"errors": [...]}, and the response's "data" field if it has one
 * (respondErrorAndData).
 */
export function errorOutcome(
  operation: Operation,
  resp: BackendResponse | null,
  err: BackendError | null,
): { status: number; messages: string[]; data?: unknown } | null {
  if (err === null && !isErrorResponse(resp)) {
    if (operation === "read" || operation === "header") {
      if (resp === null) return { status: 404, messages: [] };
    } else if (operation === "list") {
      if (resp === null) return { status: 404, messages: [] };
      const data = resp.data ?? {};
      const warnings = resp.warnings ?? [];
      if (Object.keys(data).length === 0) return warnings.length > 0 ? null : { status: 404, messages: [] };
      const keys = data["keys"];
      if (keys === undefined || keys === null) return null;
      if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string"))
        return { status: 500, messages: [] };
      if (keys.length === 0) return { status: 404, messages: [] };
    }
    return null;
  }
  let status = resp === null ? 500 : 400;
  let message: string | null = null;
  if (err !== null) {
    status = httpStatusForKind(err.kind as ErrorKind, err.code ?? 0);
    message = err.message;
  }
  if (isErrorResponse(resp)) message = String(resp?.data?.["error"]);
  const messages = message === null || message === "" ? [] : [message];
  const data = resp?.data?.["data"];
  return data === undefined || data === null ? { status, messages } : { status, messages, data };
}

/** http/logical.go respondRaw: the response data carry the status, content type and body. */
export function respondRaw(res: ServerResponse, data: Record<string, unknown>) {
  const fail = (why: string) => {
    res.writeHead(500, { "X-Vault-Raw-Error": why });
    res.end();
  };
  const statusRaw = data["http_status_code"];
  const status = typeof statusRaw === "number" ? Math.trunc(statusRaw) : Number.NaN;
  if (!Number.isInteger(status) || status < 100 || status > 599) return fail("cannot decode status code");
  const nonEmpty = status !== 204;
  const contentType = data["http_content_type"];
  if (contentType === undefined && nonEmpty) return fail("no content type given");
  if (contentType !== undefined && typeof contentType !== "string") return fail("cannot decode content type");
  let body: Buffer = Buffer.alloc(0);
  if (nonEmpty) {
    const raw = data["http_raw_body"];
    if (typeof raw === "string") {
      // Best effort, as Vault: a base64 body is decoded, anything else is sent as is.
      body =
        /^[A-Za-z0-9+/]*={0,2}$/.test(raw) && raw.length % 4 === 0
          ? Buffer.from(raw, "base64")
          : Buffer.from(raw);
    } else if (raw instanceof Uint8Array) {
      body = Buffer.from(raw);
    } else if (Array.isArray(raw) && raw.every((b) => typeof b === "number")) {
      body = Buffer.from(raw as number[]);
    } else if (raw !== undefined) {
      return fail("cannot decode body");
    }
  }
  const headers: Record<string, string | number> = { "Content-Length": body.length };
  if (typeof contentType === "string" && contentType !== "") headers["Content-Type"] = contentType;
  for (const [field, header] of [
    ["http_cache_control", "Cache-Control"],
    ["http_pragma", "Pragma"],
    ["http_www_authenticate", "WWW-Authenticate"],
  ] as const) {
    const v = data[field];
    if (typeof v === "string") headers[header] = v;
  }
  res.writeHead(status, headers);
  res.end(body);
}
