/**
 * The plugin process as go-plugin's Serve runs it (server.go, grpc_server.go):
 * a gRPC server on loopback with auto-mTLS, the handshake line on stdout,
 * health ("plugin" SERVING), the broker, the controller's Shutdown and the
 * stdio stream, plus Vault's Backend, PluginVersion and, on app protocol 5,
 * PluginMultiplexing.
 *
 * Lifecycle: Shutdown (controller) and SIGTERM stop gracefully: no new calls
 * are accepted, calls in flight answer, long-lived streams end, then the
 * process exits 0. The host going away (stdin, when it is a pipe or socket,
 * reaching EOF; or this process being reparented) does the same, so no
 * plugin outlives its host. SIGINT is ignored, as go-plugin's plugins do: a
 * Ctrl-C in Vault's terminal reaches the whole process group, and Vault
 * itself shuts its plugins down after cleaning up its mounts.
 */
import { fstatSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { HealthCheckResponse } from "../gen/grpc/health/v1/health.ts";
import {
  type HealthCheckRequest,
  HealthCheckResponse_ServingStatus,
  HealthService,
} from "../gen/grpc/health/v1/health.ts";
import { GRPCBrokerService } from "../gen/plugin/grpc_broker.ts";
import { GRPCControllerService } from "../gen/plugin/grpc_controller.ts";
import { GRPCStdioService, type StdioData } from "../gen/plugin/grpc_stdio.ts";
import { PluginMultiplexingService } from "../gen/sdk/helper/pluginutil/multiplexing.ts";
import { PluginVersionService } from "../gen/sdk/logical/version.ts";
import { BackendService as BackendServiceDefinition } from "../gen/sdk/plugin/pb/backend.ts";
import { CORE_PROTOCOL_VERSION, MULTIPLEXED_VERSION } from "../protocol/constants.ts";
import type { Logger } from "../util/logger.ts";
import { type BackendFactory, BackendService } from "./backend-server.ts";
import { Broker } from "./broker.ts";
import type { PluginEnv } from "./env.ts";
import { H2Server } from "./h2-server.ts";
import { encodeHandleRequestReply } from "./reply-codec.ts";
import { GrpcJsServer, type RpcServer, type ServerTls, type ServerTransport } from "./rpc-server.ts";
import { generateServerCert, parseClientCert, rawStdBase64 } from "./tls.ts";

/** How long a graceful stop may take before calls still open are cut. */
export const GRACEFUL_TIMEOUT_MS = 10_000;
const PARENT_POLL_MS = 1000;

export interface PluginServerOptions {
  env: PluginEnv;
  factory: BackendFactory;
  logger: Logger;
  version: string;
  /** Writes the handshake line (stdout). */
  writeHandshake: (line: string) => void;
  /** Called once the server has stopped; the entry point exits with this code. */
  onExit: (code: number) => void;
  /** The gRPC server implementation (rpc-server.ts); node:http2 by default. */
  transport?: ServerTransport;
}

export class PluginServer {
  private readonly server: RpcServer;
  private backend: BackendService | undefined;
  private broker: Broker | undefined;
  private readonly streams = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  private stopping: Promise<void> | undefined;
  private parentTimer: NodeJS.Timeout | undefined;
  private port = 0;

  constructor(private readonly opts: PluginServerOptions) {
    this.server = opts.transport === "grpc-js" ? new GrpcJsServer() : new H2Server();
  }

  get listeningPort(): number {
    return this.port;
  }

  async start(): Promise<void> {
    const { env, logger } = this.opts;
    const client = parseClientCert(env.clientCertPem);
    if ("error" in client) throw new Error(client.error);
    const cert = await generateServerCert();
    const broker = new Broker(
      { rootPem: client.pem, certPem: cert.certPem, keyPem: cert.keyPem },
      logger.named("broker"),
    );
    this.broker = broker;
    const multiplexed = env.appVersion >= MULTIPLEXED_VERSION;
    const backend = new BackendService({
      broker,
      factory: this.opts.factory,
      logger,
      multiplexed,
      metadataMode: env.metadataMode,
      version: this.opts.version,
    });
    this.backend = backend;

    this.server.addService(HealthService, {
      check: (
        call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        cb: grpc.sendUnaryData<HealthCheckResponse>,
      ) => {
        const s = this.healthOf(call.request.service);
        if (s === null) cb({ code: grpc.status.NOT_FOUND, details: "unknown service" });
        else cb(null, { status: s });
      },
      watch: (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const s = this.healthOf(call.request.service);
        call.write({ status: s ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN });
        this.hold(call);
      },
    });
    this.server.addService(GRPCBrokerService, broker.service());
    this.server.addService(GRPCControllerService, {
      shutdown: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<object>) => {
        logger.debug("shutdown requested by the host");
        cb(null, {});
        setImmediate(() => void this.stop("controller shutdown"));
      },
    });
    this.server.addService(GRPCStdioService, {
      // Our output already goes where the host reads it (logs on stderr, the handshake on stdout):
      // the stream stays open and empty until shutdown.
      streamStdio: (call: grpc.ServerWritableStream<unknown, StdioData>) => this.hold(call),
    });
    this.server.addService(
      {
        ...BackendServiceDefinition,
        // A batch's large reply is encoded in one pass (reply-codec.ts).
        handleRequest: {
          ...BackendServiceDefinition.handleRequest,
          responseSerialize: encodeHandleRequestReply,
        },
      },
      backend.service() as object,
    );
    this.server.addService(PluginVersionService, backend.versionService());
    if (multiplexed) this.server.addService(PluginMultiplexingService, backend.multiplexingService());

    this.port = await this.listen({ rootPem: client.pem, certPem: cert.certPem, keyPem: cert.keyPem });
    logger.debug("plugin address", { network: "tcp", address: `127.0.0.1:${this.port}` });

    this.opts.writeHandshake(
      `${CORE_PROTOCOL_VERSION}|${env.appVersion}|tcp|127.0.0.1:${this.port}|grpc|${rawStdBase64(cert.certDer)}\n`,
    );
    logger.info("plugin serving", {
      version: this.opts.version,
      protocol: env.appVersion,
      multiplexed,
      node: process.version,
    });
  }

  private healthOf(service: string): HealthCheckResponse_ServingStatus | null {
    if (service !== "" && service !== "plugin") return null;
    return this.stopping === undefined
      ? HealthCheckResponse_ServingStatus.SERVING
      : HealthCheckResponse_ServingStatus.NOT_SERVING;
  }

  /** Keeps a server stream open until it is cancelled or we stop. */
  private hold(call: grpc.ServerWritableStream<unknown, unknown>): void {
    if (this.stopping !== undefined) {
      call.end();
      return;
    }
    this.streams.add(call);
    call.on("cancelled", () => this.streams.delete(call));
    call.on("error", () => this.streams.delete(call));
  }

  /** go-plugin serverListener_tcp: the first free port in [min, max] on 127.0.0.1 (0..0: any). */
  private async listen(tls: ServerTls): Promise<number> {
    const { minPort, maxPort } = this.opts.env;
    for (let p = minPort; p <= maxPort; p++) {
      try {
        return await this.server.listen(p, tls);
      } catch {
        // in use: try the next one
      }
    }
    throw new Error("couldn't bind plugin TCP listener");
  }

  /** Exits when the host goes away: stdin (a pipe or socket from the host) reaching EOF, or reparenting. */
  watchHost(): void {
    let stdinIsPipe = false;
    try {
      const st = fstatSync(0);
      stdinIsPipe = st.isFIFO() || st.isSocket();
    } catch {
      stdinIsPipe = false;
    }
    if (stdinIsPipe) {
      process.stdin.on("data", () => {});
      process.stdin.on("end", () => void this.stop("stdin closed: the host is gone"));
      process.stdin.on("error", () => void this.stop("stdin failed: the host is gone"));
      process.stdin.resume();
    }
    const parent = process.ppid;
    this.parentTimer = setInterval(() => {
      if (process.ppid !== parent) void this.stop("the parent process exited");
    }, PARENT_POLL_MS);
    this.parentTimer.unref();
  }

  /** Graceful stop: refuse new calls, let calls in flight answer, end the streams, exit 0. */
  stop(reason: string): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    this.opts.logger.info("plugin stopping", { reason });
    this.stopping = (async () => {
      if (this.parentTimer !== undefined) clearInterval(this.parentTimer);
      process.stdin.pause();
      const force = setTimeout(() => {
        this.opts.logger.warn("graceful stop timed out; closing the calls still open");
        this.server.forceShutdown();
      }, GRACEFUL_TIMEOUT_MS);
      force.unref();
      const closed = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
      this.broker?.close();
      for (const s of this.streams) s.end();
      this.streams.clear();
      await closed;
      await this.backend?.drain();
      await this.backend?.closeAll();
      clearTimeout(force);
      this.opts.logger.info("plugin stopped");
      this.opts.onExit(0);
    })();
    return this.stopping;
  }
}
