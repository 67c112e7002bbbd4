/**
 * Vault's HTTP layer and router for one request, as small steps:
 *
 *   target      /v1/<path>, percent-decoded
 *   health      sys/health, the one path without a token
 *   auth        the root token (X-Vault-Token or Bearer); wrapping refused
 *   body        the body read and the logical request built (vault-http.ts)
 *   sys         sys/ and auth/token/ to the host's own system backend (sys.ts)
 *   mount       the longest mount prefix, its backend from the supervisor
 *   existence   update becomes create when the backend says the path does not exist
 *   respond     the backend's answer in Vault's envelope, raw or redirect
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUuid } from "../crypto/uuid.ts";
import { ErrorKind } from "../framework/errors.ts";
import type { Operation } from "../framework/request.ts";
import type { BackendResponse, HostRequest, MountBackend } from "../protocol/mount-backend.ts";
import type { Logger } from "../util/logger.ts";
import { drainRequest } from "./http/drain.ts";
import {
  buildLogicalRequest,
  envelope,
  errorOutcome,
  HttpError,
  readBody,
  respondError,
  respondJson,
  respondNoContent,
  respondRaw,
} from "./http/vault-http.ts";
import { mountRequest } from "./mount-request.ts";
import type { MountEntry, MountTable } from "./mounts.ts";
import { errorText, type PluginSupervisor, PluginUnavailableError } from "./supervisor.ts";
import { handleSys, type SysDeps, sysHealth } from "./sys.ts";
import { type RootToken, requestToken } from "./token.ts";

const DRAIN_TIMEOUT_MS = 30_000;

export interface RouterDeps {
  maxRequestSize: number;
  token: RootToken;
  clusterId: string;
  mounts: MountTable;
  supervisor: PluginSupervisor;
  logger: Logger;
  sysDeps(): SysDeps;
}

type Parsed = Awaited<ReturnType<typeof buildLogicalRequest>>;

/** One authenticated request's parts every later step needs. */
interface Call {
  id: string;
  method: string;
  url: URL;
  clientToken: string;
  parsed: Parsed;
  help: boolean;
}

function isSysPath(path: string): boolean {
  return path.startsWith("sys/") || path === "sys" || path.startsWith("auth/token/");
}

export class HostRouter {
  constructor(private readonly deps: RouterDeps) {}

  /** One HTTP request, end to end. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://host");
    const path = this.target(url, req, res);
    if (path === null) return;
    if (path === "sys/health") return this.health(method, url, req, res);
    const clientToken = this.authenticate(req, res);
    if (clientToken === null) return;
    const parsed = await this.body(method, path, url, req, res);
    if (parsed === null) return;
    const help = method === "GET" && url.searchParams.has("help") && url.searchParams.get("help") !== "";
    if (help && parsed.data !== undefined) delete parsed.data["help"];
    const call: Call = { id: randomUuid(), method, url, clientToken, parsed, help };
    if (isSysPath(parsed.path)) return this.sys(call, res);
    return this.mount(call, res);
  }

  /** The path under /v1/, or null once answered (404 outside the API, 400 for bad encoding). */
  private target(url: URL, req: IncomingMessage, res: ServerResponse): string | null {
    if (!url.pathname.startsWith("/v1/")) {
      req.resume();
      respondError(res, 404, []);
      return null;
    }
    try {
      return decodeURIComponent(url.pathname.slice(4));
    } catch {
      req.resume();
      respondError(res, 400, ["invalid path encoding"]);
      return null;
    }
  }

  private health(method: string, url: URL, req: IncomingMessage, res: ServerResponse) {
    req.resume();
    if (method !== "GET" && method !== "HEAD") return respondError(res, 405, []);
    try {
      const answer = sysHealth(url.searchParams, { clusterId: this.deps.clusterId });
      if (method === "HEAD") {
        res.writeHead(answer.status, { "Content-Type": "application/json" });
        res.end();
        return;
      }
      return respondJson(res, answer.status, answer.body);
    } catch (e) {
      return respondError(res, e instanceof HttpError ? e.status : 500, []);
    }
  }

  /** The caller's token when it is the root token, else null once answered. */
  private authenticate(req: IncomingMessage, res: ServerResponse): string | null {
    const clientToken = requestToken(req.headers);
    if (!this.deps.token.verify(clientToken)) {
      // The body of an unauthenticated request is never read: close the connection after answering.
      res.setHeader("Connection", "close");
      req.resume();
      respondError(res, 403, ["permission denied"]);
      return null;
    }
    if (req.headers["x-vault-wrap-ttl"] !== undefined) {
      req.resume();
      respondError(res, 400, ["response wrapping is not supported by the dev host"]);
      return null;
    }
    return clientToken ?? "";
  }

  /** Reads the body and builds the logical request; null once an error is answered. */
  private async body(
    method: string,
    path: string,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<Parsed | null> {
    const limit = this.deps.maxRequestSize;
    try {
      const body = method === "POST" || method === "PUT" ? await readBody(req, limit) : Buffer.alloc(0);
      if (body.length === 0) req.resume();
      return await buildLogicalRequest(method, path, url.searchParams, req.headers, body);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      if (e.status === 413) {
        // Answer once the client has sent its body: a client still writing when the connection
        // closes sees EPIPE instead of the 413 (fetch/undici does). Bounded in size and time.
        res.setHeader("Connection", "close");
        await drainRequest(req, limit * 2 + 1024 * 1024, DRAIN_TIMEOUT_MS);
      }
      respondError(res, e.status, e.messages);
      return null;
    }
  }

  private async sys(call: Call, res: ServerResponse): Promise<void> {
    try {
      const answer = await handleSys(
        {
          id: call.id,
          operation: call.parsed.operation,
          method: call.method,
          path: call.parsed.path,
          data: call.parsed.data,
          query: call.url.searchParams,
          clientToken: call.clientToken,
        },
        this.deps.sysDeps(),
      );
      if (answer.body === undefined) return respondNoContent(res);
      return respondJson(res, answer.status, answer.body);
    } catch (e) {
      if (e instanceof HttpError) return respondError(res, e.status, e.messages);
      if (e instanceof PluginUnavailableError) return respondError(res, 500, [e.message]);
      throw e;
    }
  }

  private async mount(call: Call, res: ServerResponse): Promise<void> {
    const { parsed } = call;
    const entry = this.deps.mounts.match(parsed.path);
    if (entry === null) {
      return respondError(res, 404, [
        `no handler for route ${JSON.stringify(parsed.path)}. route entry not found.`,
      ]);
    }
    let backend: MountBackend;
    try {
      backend = await this.deps.supervisor.backend(entry);
    } catch (e) {
      return respondError(res, 500, [e instanceof PluginUnavailableError ? e.message : "internal error"]);
    }
    const relPath = parsed.path.length < entry.path.length ? "" : parsed.path.slice(entry.path.length);
    // Vault's router hides the request's headers from backends unless the mount is tuned with
    // passthrough_request_headers, which the dev host does not offer: the plugin gets none.
    const logical = mountRequest(
      entry,
      call.help ? "help" : parsed.operation,
      relPath,
      parsed.data,
      {},
      call.clientToken,
      call.id,
    );
    try {
      const failed = await this.existence(backend, logical, entry, res);
      if (failed) return;
      const result = await backend.handleRequest(logical);
      this.deps.logger.debug("request", {
        method: call.method,
        mount: entry.path,
        operation: logical.operation,
        status: result.error?.kind ?? "ok",
      });
      return respondLogical(res, logical, entry, result.response, result.error);
    } catch (e) {
      this.deps.logger.error("plugin request failed", {
        path: entry.path,
        operation: logical.operation,
        error: errorText(e),
      });
      return respondError(res, 500, ["internal error"]);
    }
  }

  /**
   * Vault's existence check: an update on a path the backend says does not
   * exist is a create. Sets `logical.operation`; true when an error was answered.
   */
  private async existence(
    backend: MountBackend,
    logical: HostRequest,
    entry: MountEntry,
    res: ServerResponse,
  ): Promise<boolean> {
    if (logical.operation !== "update") return false;
    const check = await backend.handleExistenceCheck(logical);
    const err = check.error ?? null;
    if (err !== null && err.kind !== ErrorKind.UnsupportedPath) {
      if (err.kind === ErrorKind.User) {
        respondError(res, 400, [err.message]);
      } else {
        this.deps.logger.error("existence check failed", { path: entry.path, error: err.message });
        respondError(res, 500, ["internal error"]);
      }
      return true;
    }
    const operation: Operation = err === null && check.checkFound && !check.exists ? "create" : "update";
    logical.operation = operation;
    return false;
  }
}

/** The backend's answer as Vault's HTTP layer writes it. */
function respondLogical(
  res: ServerResponse,
  req: HostRequest,
  entry: MountEntry,
  resp: BackendResponse | null,
  err: Parameters<typeof errorOutcome>[2],
) {
  const failure = errorOutcome(req.operation, resp, err);
  if (failure !== null) return respondError(res, failure.status, failure.messages, failure.data);
  if (resp === null) return respondNoContent(res);
  if (req.operation === "help") return respondJson(res, 200, resp.data ?? null);
  if (resp.redirect !== undefined && resp.redirect !== "") {
    res.writeHead(307, { Location: resp.redirect });
    res.end();
    return;
  }
  if (resp.data !== undefined && resp.data !== null && "http_status_code" in resp.data) {
    return respondRaw(res, resp.data);
  }
  return respondJson(res, resp.statusCode ?? 200, envelope(req.id, resp, entry.type));
}
