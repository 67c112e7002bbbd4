/**
 * The dev host: Vault's part on one machine. It opens the encrypted store,
 * keeps the mount table, supervises the plugin process and serves Vault's
 * HTTP API, routing /v1/<mount>/<path> to the plugin as Vault's router does.
 * It links no engine code: every logical request crosses the plugin protocol.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { ErrorKind } from "../framework/errors.ts";
import type { Operation } from "../framework/request.ts";
import type { Logger } from "../util/logger.ts";
import type { BackendResponse, HostRequest, MountBackend, PluginLauncher } from "./backend.ts";
import type { HostConfig } from "./config.ts";
import { acceptListMethod } from "./http/list-method.ts";
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
import { type MountEntry, MountTable, storagePrefix } from "./mounts.ts";
import { EncryptedStore, storeExists } from "./storage/store.ts";
import { loadUnsealKey } from "./storage/unseal-key.ts";
import { errorText, PluginSupervisor, PluginUnavailableError } from "./supervisor.ts";
import { HOST_VERSION, handleSys, type SysDeps, sysHealth } from "./sys.ts";
import { generateRootToken, RootToken, requestToken } from "./token.ts";

export const UNSEAL_KEY_ENV = "TRANSIT_DEV_UNSEAL_KEY";
const SHUTDOWN_GRACE_MS = 10_000;

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

export interface DevHostOptions {
  config: HostConfig;
  launcher: PluginLauncher;
  logger: Logger;
}

export interface StartInfo {
  /** http(s)://host:port */
  address: string;
  /** The root token, only when the host made it (null when VAULT_DEV_ROOT_TOKEN_ID set it). */
  generatedRootToken: string | null;
  rootToken: string;
  unsealKeyOrigin: "environment" | "file" | "generated";
  mounts: string[];
}

const DRAIN_TIMEOUT_MS = 30_000;

/** Reads and drops the rest of a request body, up to `limit` bytes and `timeoutMs`. */
function drainRequest(req: IncomingMessage, limit: number, timeoutMs: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", done);
      req.off("close", done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) done();
    };
    const timer = setTimeout(done, timeoutMs);
    req.on("data", onData);
    req.once("end", done);
    req.once("close", done);
    req.resume();
  });
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class DevHost {
  private server: Server | null = null;
  private rollbackTimer: NodeJS.Timeout | null = null;
  private rollbackRunning = false;
  private stopping: Promise<void> | null = null;
  private readonly pidFile: string;
  private readonly inflight = new Set<Promise<unknown>>();
  readonly startedAt = new Date();
  readonly pluginTypes: readonly string[];

  private constructor(
    readonly config: HostConfig,
    private readonly logger: Logger,
    readonly store: EncryptedStore,
    readonly mounts: MountTable,
    private readonly token: RootToken,
    readonly supervisor: PluginSupervisor,
    private readonly clusterId: string,
  ) {
    this.pidFile = join(config.dataDir, "host.pid");
    this.pluginTypes = [...new Set(["transit", config.pluginName])];
  }

  /** Opens the store (refusing a wrong or missing unseal key before anything is written), mounts, listens. */
  static async start(opts: DevHostOptions): Promise<{ host: DevHost; info: StartInfo }> {
    const { config, logger } = opts;
    const pidFile = join(config.dataDir, "host.pid");
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid)) {
        throw new StartupError(`another dev host (pid ${pid}) is using the data directory ${config.dataDir}`);
      }
    }
    const exists = storeExists(config.dataDir);
    let unseal: ReturnType<typeof loadUnsealKey>;
    try {
      if (!exists && !existsSync(config.dataDir)) {
        const { mkdirSync } = await import("node:fs");
        mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      }
      unseal = loadUnsealKey({
        file: config.unsealKeyFile,
        fromEnv: config.unsealKey,
        storeExists: exists,
        envName: UNSEAL_KEY_ENV,
      });
    } catch (e) {
      throw new StartupError(errorText(e));
    }
    let store: EncryptedStore;
    try {
      store = await EncryptedStore.open(config.dataDir, unseal.key);
    } catch (e) {
      throw new StartupError(errorText(e));
    }
    unseal.key.fill(0);
    writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });

    let host: DevHost;
    try {
      const mounts = await MountTable.load(store);
      const rootToken = config.rootTokenId ?? generateRootToken();
      const clusterId = createHash("sha256").update(config.dataDir).digest("hex").slice(0, 32);
      const supervisor = new PluginSupervisor(
        opts.launcher,
        (entry) => store.view(storagePrefix(entry)),
        config.pluginName,
        logger.named("plugin"),
      );
      host = new DevHost(config, logger, store, mounts, new RootToken(rootToken), supervisor, clusterId);
      for (const m of config.mounts) {
        if (mounts.get(m) === undefined) {
          const entry = await mounts.add({ path: m, type: "transit", description: "transit (dev host)" });
          logger.info("mounted", { path: entry.path, type: entry.type });
        }
      }
      // Start the plugin now so that a broken plugin shows at start, not at the first request.
      for (const entry of mounts.list()) {
        try {
          await supervisor.backend(entry);
        } catch (e) {
          logger.error("plugin not ready; requests will retry", { path: entry.path, error: errorText(e) });
          break;
        }
      }
      await host.listen();
      host.startRollback();
      return {
        host,
        info: {
          address: host.address,
          generatedRootToken: config.rootTokenId === undefined ? rootToken : null,
          rootToken,
          unsealKeyOrigin: unseal.origin,
          mounts: mounts.list().map((e) => e.path),
        },
      };
    } catch (e) {
      await store.close().catch(() => undefined);
      rmSync(pidFile, { force: true });
      throw e;
    }
  }

  get address(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (addr === null || addr === undefined) return "";
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    return `${this.config.tlsCertFile !== undefined ? "https" : "http"}://${host}:${addr.port}`;
  }

  private listen(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const p = this.handle(req, res).catch((e) => {
        this.logger.error("request failed", { error: errorText(e) });
        if (!res.headersSent) respondError(res, 500, ["internal error"]);
        else res.destroy();
      });
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    };
    const { tlsCertFile, tlsKeyFile } = this.config;
    const server =
      tlsCertFile !== undefined && tlsKeyFile !== undefined
        ? createHttpsServer({ cert: readFileSync(tlsCertFile), key: readFileSync(tlsKeyFile) }, handler)
        : createHttpServer(handler);
    server.keepAliveTimeout = 5_000;
    acceptListMethod(server, handler);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", (e) =>
        reject(new StartupError(`cannot listen on ${this.config.host}:${this.config.port}: ${e.message}`)),
      );
      server.listen(this.config.port, this.config.host, () => resolve());
    });
  }

  private startRollback(): void {
    const seconds = this.config.rollbackIntervalSeconds;
    if (seconds <= 0) return;
    this.rollbackTimer = setInterval(() => void this.rollbackTick(), seconds * 1000);
    this.rollbackTimer.unref();
  }

  /** Vault's rollback manager: operation "rollback" on path "" of every mount. */
  async rollbackTick(): Promise<void> {
    if (this.rollbackRunning || this.stopping !== null) return;
    this.rollbackRunning = true;
    try {
      for (const entry of this.mounts.list()) {
        try {
          const backend = await this.supervisor.backend(entry);
          const result = await backend.handleRequest(
            this.logicalRequest(entry, "rollback", "", undefined, {}, ""),
          );
          if (result.error !== null) {
            this.logger.warn("rollback failed", { path: entry.path, error: result.error.message });
          }
        } catch (e) {
          this.logger.warn("rollback failed", { path: entry.path, error: errorText(e) });
        }
      }
    } finally {
      this.rollbackRunning = false;
    }
  }

  private logicalRequest(
    entry: MountEntry,
    operation: Operation,
    path: string,
    data: Record<string, unknown> | undefined,
    headers: Record<string, string[]>,
    clientToken: string,
    id: string = randomUUID(),
  ): HostRequest {
    return {
      id,
      operation,
      path,
      data,
      mountPoint: entry.path,
      mountType: entry.type,
      mountAccessor: entry.accessor,
      headers,
      clientToken,
    };
  }

  private sysDeps(): SysDeps {
    return {
      store: this.store,
      mounts: this.mounts,
      token: this.token,
      pluginName: this.config.pluginName,
      pluginTypes: this.pluginTypes,
      clusterId: this.clusterId,
      startedAt: this.startedAt,
      runningVersion: (entry) => this.supervisor.runningVersion(entry),
      onUnmount: async (entry) => {
        await this.supervisor.release(entry);
        const removed = await this.store.deletePrefix(storagePrefix(entry));
        this.logger.info("unmounted", { path: entry.path, entries_removed: removed });
      },
      reload: async (entries) => {
        if (entries === "all") {
          this.logger.info("reloading plugin", { plugin: this.config.pluginName });
          await this.supervisor.reloadAll();
          for (const entry of this.mounts.list()) await this.supervisor.backend(entry);
        } else {
          for (const entry of entries) {
            this.logger.info("reloading mount", { path: entry.path });
            await this.supervisor.release(entry);
            await this.supervisor.backend(entry);
          }
        }
      },
    };
  }

  /** One HTTP request, end to end. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://host");
    if (!url.pathname.startsWith("/v1/")) {
      req.resume();
      respondError(res, 404, []);
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(url.pathname.slice(4));
    } catch {
      req.resume();
      respondError(res, 400, ["invalid path encoding"]);
      return;
    }

    if (path === "sys/health") {
      req.resume();
      if (method !== "GET" && method !== "HEAD") return respondError(res, 405, []);
      try {
        const answer = sysHealth(url.searchParams, { clusterId: this.clusterId });
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

    const clientToken = requestToken(req.headers);
    if (!this.token.verify(clientToken)) {
      // The body of an unauthenticated request is never read: close the connection after answering.
      res.setHeader("Connection", "close");
      req.resume();
      return respondError(res, 403, ["permission denied"]);
    }
    if (req.headers["x-vault-wrap-ttl"] !== undefined) {
      req.resume();
      return respondError(res, 400, ["response wrapping is not supported by the dev host"]);
    }

    const requestId = randomUUID();
    let parsed: Awaited<ReturnType<typeof buildLogicalRequest>>;
    try {
      const body =
        method === "POST" || method === "PUT"
          ? await readBody(req, this.config.maxRequestSize)
          : Buffer.alloc(0);
      if (body.length === 0) req.resume();
      parsed = await buildLogicalRequest(method, path, url.searchParams, req.headers, body);
    } catch (e) {
      if (e instanceof HttpError) {
        if (e.status === 413) {
          // Answer once the client has sent its body: a client still writing when the connection
          // closes sees EPIPE instead of the 413 (fetch/undici does). Bounded in size and time.
          res.setHeader("Connection", "close");
          await drainRequest(req, this.config.maxRequestSize * 2 + 1024 * 1024, DRAIN_TIMEOUT_MS);
        }
        return respondError(res, e.status, e.messages);
      }
      throw e;
    }
    const help = method === "GET" && url.searchParams.has("help") && url.searchParams.get("help") !== "";
    if (help && parsed.data !== undefined) delete parsed.data["help"];

    if (parsed.path.startsWith("sys/") || parsed.path === "sys" || parsed.path.startsWith("auth/token/")) {
      try {
        const answer = await handleSys(
          {
            id: requestId,
            operation: parsed.operation,
            method,
            path: parsed.path,
            data: parsed.data,
            query: url.searchParams,
            clientToken: clientToken ?? "",
          },
          this.sysDeps(),
        );
        if (answer.body === undefined) return respondNoContent(res);
        return respondJson(res, answer.status, answer.body);
      } catch (e) {
        if (e instanceof HttpError) return respondError(res, e.status, e.messages);
        if (e instanceof PluginUnavailableError) return respondError(res, 500, [e.message]);
        throw e;
      }
    }

    const entry = this.mounts.match(parsed.path);
    if (entry === null) {
      return respondError(res, 404, [
        `no handler for route ${JSON.stringify(parsed.path)}. route entry not found.`,
      ]);
    }
    const relPath = parsed.path.length < entry.path.length ? "" : parsed.path.slice(entry.path.length);
    // Vault's router hides the request's headers from backends unless the mount is tuned with
    // passthrough_request_headers, which the dev host does not offer: the plugin gets none.
    const headers: Record<string, string[]> = {};

    let backend: MountBackend;
    try {
      backend = await this.supervisor.backend(entry);
    } catch (e) {
      return respondError(res, 500, [e instanceof PluginUnavailableError ? e.message : "internal error"]);
    }

    let operation: Operation = help ? "help" : parsed.operation;
    const logical = this.logicalRequest(
      entry,
      operation,
      relPath,
      parsed.data,
      headers,
      clientToken ?? "",
      requestId,
    );

    try {
      if (operation === "update") {
        const check = await backend.handleExistenceCheck({ ...logical, operation: "update" });
        const err = check.error ?? null;
        if (err !== null && err.kind !== ErrorKind.UnsupportedPath) {
          if (err.kind === ErrorKind.User) return respondError(res, 400, [err.message]);
          this.logger.error("existence check failed", { path: entry.path, error: err.message });
          return respondError(res, 500, ["internal error"]);
        }
        operation = err === null && check.checkFound && !check.exists ? "create" : "update";
        logical.operation = operation;
      }
      const result = await backend.handleRequest(logical);
      this.logger.debug("request", {
        method,
        mount: entry.path,
        operation,
        status: result.error?.kind ?? "ok",
      });
      return this.respondLogical(res, logical, entry, result.response, result.error);
    } catch (e) {
      this.logger.error("plugin request failed", { path: entry.path, operation, error: errorText(e) });
      return respondError(res, 500, ["internal error"]);
    }
  }

  private respondLogical(
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
    const body = envelope(req.id, resp, entry.type);
    return respondJson(res, resp.statusCode ?? 200, body);
  }

  /** Graceful stop: no new requests, in-flight ones finish, mounts cleaned up, plugin shut down, store closed. */
  stop(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = (async () => {
      if (this.rollbackTimer !== null) clearInterval(this.rollbackTimer);
      const server = this.server;
      if (server !== null) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        await Promise.allSettled([...this.inflight]);
        server.closeIdleConnections();
        await closed;
        clearTimeout(timer);
      }
      await this.supervisor.stop();
      await this.store.close();
      rmSync(this.pidFile, { force: true });
    })();
    return this.stopping;
  }

  static get version(): string {
    return HOST_VERSION;
  }
}
