import type { Storage } from "./storage.ts";

/** Vault's logical.Operation values as they travel on the wire. */
export type Operation =
  | "create"
  | "read"
  | "update"
  | "patch"
  | "delete"
  | "list"
  | "help"
  | "alias-lookahead"
  | "resolve-role"
  | "header"
  | "renew"
  | "revoke"
  | "rollback";

export const OPERATIONS: readonly Operation[] = [
  "create",
  "read",
  "update",
  "patch",
  "delete",
  "list",
  "help",
  "alias-lookahead",
  "resolve-role",
  "header",
  "renew",
  "revoke",
  "rollback",
];

/** The subset of logical.Request a secrets engine uses. */
export interface LogicalRequest {
  id?: string;
  operation: Operation;
  /** Path relative to the mount, without a leading slash. */
  path: string;
  /** Decoded JSON body (or query parameters for reads). */
  data?: Record<string, unknown>;
  /** Storage for this request: the mount's view of Vault's storage. */
  storage: Storage;
  mountPoint?: string;
  mountType?: string;
  headers?: Record<string, string[]>;
  clientToken?: string;
}

/**
 * logical.Response as a secrets engine fills it. `statusCode` asks the host to
 * answer with that HTTP status while still returning the body (Vault's
 * logical.RespondWithStatusCode, used by transit for batch failures).
 */
export interface LogicalResponse {
  data?: Record<string, unknown>;
  warnings?: string[];
  statusCode?: number;
}

/** Vault's logical.ErrorResponse: a 400 whose body is {"errors": [message]}. */
export function errorResponse(message: string): LogicalResponse {
  return { data: { error: message } };
}

export function isErrorResponse(resp: LogicalResponse | null | undefined): boolean {
  return resp?.data !== undefined && typeof resp.data["error"] === "string" && resp.data["error"] !== "";
}

export function addWarning(resp: LogicalResponse, warning: string): void {
  if (resp.warnings === undefined) resp.warnings = [];
  resp.warnings.push(warning);
}

/**
 * Vault's logical.RespondErrorCommon: the HTTP status for a handler outcome
 * and the error text the host puts in {"errors": [...]}; null status means
 * "200, or 204 when there is no body".
 */
export function httpOutcome(
  operation: Operation,
  resp: LogicalResponse | null,
): { status: number | null; error: string | null } {
  if (resp?.statusCode !== undefined) return { status: resp.statusCode, error: null };
  if (isErrorResponse(resp)) return { status: 400, error: String(resp?.data?.["error"]) };
  if (operation === "read" && resp === null) return { status: 404, error: null };
  if (operation === "list") {
    if (resp === null) return { status: 404, error: null };
    const data = resp.data ?? {};
    if (Object.keys(data).length === 0) {
      return { status: (resp.warnings?.length ?? 0) > 0 ? null : 404, error: null };
    }
    const keys = data["keys"];
    if (Array.isArray(keys) && keys.length === 0) return { status: 404, error: null };
  }
  return { status: null, error: null };
}
