/**
 * The host's side of go-plugin's gRPC broker (grpc_broker.go): one
 * StartStream to the plugin; for each brokered service the host picks the
 * next id, serves it on its own listener with the same mTLS material, and
 * announces ConnInfo{service_id, network, address} on the stream. The plugin
 * dials it by id (it buffers announcements that arrive before it asks).
 * The listener is what go-plugin's serverListener makes: a unix socket
 * everywhere but Windows (in a private 0700 directory here), else loopback TCP.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { ConnInfo, GRPCBrokerClient } from "../gen/plugin/grpc_broker.js";
import type { Logger } from "../util/logger.ts";

/** Vault lifts gRPC's message limits on its plugin connections (math.MaxInt32). */
export const MAX_MESSAGE = 2_147_483_647;
const GRACEFUL_STOP_MS = 2_000;

export type BrokerNetwork = "unix" | "tcp";
/** go-plugin's choice: unix sockets except on Windows. */
export const DEFAULT_BROKER_NETWORK: BrokerNetwork = process.platform === "win32" ? "tcp" : "unix";

export class HostBroker {
  private nextIdValue = 0;
  private readonly stream: grpc.ClientDuplexStream<ConnInfo, ConnInfo>;
  private closed = false;
  private readonly servers = new Map<number, grpc.Server>();
  private socketDir: string | null = null;

  constructor(
    client: GRPCBrokerClient,
    private readonly serverCredentials: () => grpc.ServerCredentials,
    private readonly logger: Logger,
    private readonly network: BrokerNetwork = DEFAULT_BROKER_NETWORK,
  ) {
    this.stream = client.startStream();
    this.stream.on("data", (info: ConnInfo) => {
      // The backend plugin serves nothing to the host through the broker; show what it announces.
      this.logger.debug("broker: plugin announced a connection", {
        service_id: info.serviceId,
        network: info.network,
      });
    });
    this.stream.on("error", (e: grpc.ServiceError) => {
      if (!this.closed && e.code !== grpc.status.CANCELLED) {
        this.logger.debug("broker stream ended", { error: e.details || e.message });
      }
      this.closed = true;
    });
    this.stream.on("end", () => {
      this.closed = true;
    });
  }

  /** go-plugin NextId: 1, 2, ... */
  nextId(): number {
    this.nextIdValue = (this.nextIdValue + 1) >>> 0;
    return this.nextIdValue;
  }

  /** Serves the services `register` adds on a fresh loopback listener and announces it under `id`. */
  async acceptAndServe(id: number, register: (server: grpc.Server) => void): Promise<void> {
    if (this.closed) throw new Error("broker closed");
    const server = new grpc.Server({
      "grpc.max_receive_message_length": MAX_MESSAGE,
      "grpc.max_send_message_length": MAX_MESSAGE,
    });
    register(server);
    let address: string;
    if (this.network === "unix") {
      this.socketDir ??= mkdtempSync(join(tmpdir(), "plugin-broker-"));
      address = join(this.socketDir, `${id}.sock`);
      await bind(server, `unix:${address}`, this.serverCredentials());
    } else {
      address = `127.0.0.1:${await bind(server, "127.0.0.1:0", this.serverCredentials())}`;
    }
    this.servers.set(id, server);
    const info: ConnInfo = { serviceId: id, network: this.network, address, knock: undefined };
    await new Promise<void>((resolve, reject) => {
      this.stream.write(info, (e: Error | null | undefined) => (e ? reject(e) : resolve()));
    }).catch((e: unknown) => {
      this.servers.delete(id);
      server.forceShutdown();
      throw new Error(`broker: cannot announce service ${id}: ${(e as Error).message}`);
    });
  }

  /** Stops one brokered server: in-flight calls finish, then it is closed. */
  async stop(id: number): Promise<void> {
    const server = this.servers.get(id);
    if (server === undefined) return;
    this.servers.delete(id);
    await stopServer(server);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.stream.end();
      this.stream.cancel();
    }
    // The sockets go first: no new connections; open ones finish their calls.
    if (this.socketDir !== null) {
      rmSync(this.socketDir, { recursive: true, force: true });
      this.socketDir = null;
    }
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(servers.map(stopServer));
  }
}

function bind(server: grpc.Server, target: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(target, creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
}

function stopServer(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, GRACEFUL_STOP_MS);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
