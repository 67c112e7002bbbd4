/**
 * The host's requests and the plugin's replies across pb (Vault's
 * sdk/plugin/pb/translation.go, LogicalRequestToProtoRequest and
 * ProtoResponseToLogicalResponse, and the error kinds of ProtoErrToErr).
 */
import { hmac } from "../crypto/hash.ts";
import { ErrorKind } from "../framework/errors.ts";
import type {
  HandleExistenceCheckReply,
  HandleRequestReply,
  Header,
  ProtoError,
  Request,
  Response,
} from "../gen/sdk/plugin/pb/backend.js";
import { NS_PER_SECOND } from "../protocol/constants.ts";
import { errorKindFromWire, wireErrorMessage } from "../protocol/errors.ts";
import type {
  BackendError,
  BackendResponse,
  ExistenceResult,
  HostRequest,
  RequestResult,
} from "../protocol/mount-backend.ts";

export class TranslationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TranslationError";
  }
}

/**
 * Vault's router hands a backend the client token salted and hashed (never
 * the token itself) outside sys/, auth/token/ and cubbyhole/: an HMAC under
 * a per-host salt stands in for its SaltID.
 */
export function saltedToken(token: string, salt: Uint8Array): string {
  if (token === "") return "";
  return hmac("sha2-256", salt, Buffer.from(token, "utf8")).toString("hex");
}

export interface RequestContext {
  /** Salt for the client token (see saltedToken). */
  tokenSalt: Uint8Array;
  mountAccessor?: string;
}

/** LogicalRequestToProtoRequest. Data travels as a JSON object text ("null" when there is none, as Go's nil map). */
export function toProtoRequest(req: HostRequest, ctx: RequestContext): Request {
  const headers: { [key: string]: Header } = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = { header: [...v] };
  const token = saltedToken(req.clientToken, ctx.tokenSalt);
  return {
    id: req.id,
    ReplicationCluster: "",
    operation: req.operation,
    path: req.path,
    data: JSON.stringify(req.data ?? null),
    secret: undefined,
    auth: undefined,
    headers,
    clientToken: token,
    clientTokenAccessor: "",
    // The dev host's only token is the root token; Vault names its holder "root".
    displayName: token === "" ? "" : "root",
    mountPoint: req.mountPoint,
    mountType: req.mountType,
    mountAccessor: req.mountAccessor ?? ctx.mountAccessor ?? "",
    wrapInfo: undefined,
    clientTokenRemainingUses: 0,
    entityId: "",
    policyOverride: false,
    unauthenticated: token === "",
    connection: undefined,
    requiresSnapshotId: "",
  };
}

/**
 * ProtoErrToErr, as the host's BackendError: the kind is kept, and Vault's
 * sentinel errors carry Vault's own message whatever the plugin wrote.
 */
export function fromProtoError(e: ProtoError | undefined): BackendError | null {
  if (e === undefined) return null;
  const kind = errorKindFromWire(e.errType);
  const err: BackendError = { kind, message: wireErrorMessage(kind, e.errMsg) };
  if (kind === ErrorKind.Coded) err.code = e.errCode;
  return err;
}

/** JSON object text from the plugin: an object, or null for "null"/"". */
function parseJsonObject(text: string, what: string): Record<string, unknown> | null {
  if (text === "" || text === "null") return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TranslationError(`the plugin's ${what} is not JSON: ${(e as Error).message}`);
  }
  if (v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new TranslationError(`the plugin's ${what} is not a JSON object`);
  }
  return v as Record<string, unknown>;
}

/** ProtoResponseToLogicalResponse. */
export function fromProtoResponse(r: Response | undefined): BackendResponse | null {
  if (r === undefined) return null;
  const out: BackendResponse = { data: parseJsonObject(r.data, "response data") };
  if (r.warnings.length > 0) out.warnings = [...r.warnings];
  if (r.redirect !== "") out.redirect = r.redirect;
  const headerNames = Object.keys(r.headers);
  if (headerNames.length > 0) {
    const headers: Record<string, string[]> = {};
    for (const k of headerNames) headers[k] = [...(r.headers[k]?.header ?? [])];
    out.headers = headers;
  }
  if (r.secret !== undefined) {
    const lease = r.secret.leaseOptions;
    out.secret = {
      leaseId: r.secret.leaseId,
      renewable: lease?.renewable ?? false,
      ttl: Math.floor((lease?.TTL ?? 0) / NS_PER_SECOND),
    };
  }
  return out;
}

/** HandleRequest's reply: the response (which Vault keeps even beside an error) and the error. */
export function fromHandleRequestReply(reply: HandleRequestReply): RequestResult {
  return { response: fromProtoResponse(reply.response), error: fromProtoError(reply.err) };
}

export function fromExistenceReply(reply: HandleExistenceCheckReply): ExistenceResult {
  const error = fromProtoError(reply.err);
  if (error !== null) return { checkFound: false, exists: false, error };
  return { checkFound: reply.checkFound, exists: reply.exists, error: null };
}
