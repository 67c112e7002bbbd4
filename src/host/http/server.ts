/**
 * The host's HTTP(S) listener: TLS when a certificate is configured, Vault's
 * LIST method accepted, requests in flight tracked so that a graceful stop
 * lets them finish (idle connections close at once, busy ones after the
 * grace period at the latest).
 */
import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../util/logger.ts";
import type { HostConfig } from "../config.ts";
import { StartupError } from "../startup-error.ts";
import { errorText } from "../supervisor.ts";
import { acceptListMethod } from "./list-method.ts";
import { respondError } from "./vault-http.ts";

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export class HttpListener {
  private server: Server | null = null;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly config: Pick<HostConfig, "host" | "port" | "tlsCertFile" | "tlsKeyFile">,
    private readonly handle: RequestHandler,
    private readonly logger: Logger,
  ) {}

  /** http(s)://host:port once listening, else "". */
  get address(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (addr === null || addr === undefined) return "";
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    return `${this.config.tlsCertFile !== undefined ? "https" : "http"}://${host}:${addr.port}`;
  }

  listen(): Promise<void> {
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

  /** No new requests; those in flight finish (connections are cut after `graceMs`). */
  async close(graceMs: number): Promise<void> {
    const server = this.server;
    if (server === null) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await Promise.allSettled([...this.inflight]);
    server.closeIdleConnections();
    await closed;
    clearTimeout(timer);
  }
}
