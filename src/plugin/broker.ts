/**
 * go-plugin's gRPC broker, plugin side (grpc_broker.go): the host keeps one
 * StartStream open and announces, per service id, a listener it serves
 * (Storage, SystemView, Events for a backend's Setup). Announcements may come
 * before or after the plugin asks for them, so they are kept by id; dial()
 * waits up to five seconds as go-plugin's Dial does, then connects with the
 * same mTLS material: our certificate as the client certificate, the host's
 * certificate as the only root, server name localhost.
 *
 * The multiplexed broker (PLUGIN_MULTIPLEX_GRPC, knock messages) is not
 * used by Vault and is not offered: knocks are answered with an error.
 */
import * as grpc from "@grpc/grpc-js";
import type { ConnInfo, GRPCBrokerServer } from "../gen/plugin/grpc_broker.ts";
import type { Logger } from "../util/logger.ts";

export const DIAL_TIMEOUT_MS = 5000;

export interface MtlsMaterial {
  /** The host's certificate(s), PEM: the only roots trusted. */
  rootPem: string;
  /** Our certificate and key, PEM. */
  certPem: string;
  keyPem: string;
}

/** Channel options for every connection of the plugin: no message size limit, as Vault's plugins. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
};

export function brokerTarget(network: string, address: string): string {
  if (network === "unix") return address.startsWith("/") ? `unix://${address}` : `unix:${address}`;
  if (network === "tcp" || network === "tcp4" || network === "tcp6" || network === "") return address;
  throw new Error(`unsupported broker network ${JSON.stringify(network)}`);
}

export class Broker {
  private readonly known = new Map<number, ConnInfo>();
  private readonly waiters = new Map<number, Set<(info: ConnInfo) => void>>();
  private readonly streams = new Set<grpc.ServerDuplexStream<ConnInfo, ConnInfo>>();
  private closed = false;

  constructor(
    private readonly tls: MtlsMaterial,
    private readonly logger: Logger,
  ) {}

  /** The GRPCBroker service implementation. */
  service(): GRPCBrokerServer {
    return {
      startStream: (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>) => {
        if (this.closed) {
          call.end();
          return;
        }
        this.streams.add(call);
        call.on("data", (info: ConnInfo) => this.announce(call, info));
        call.on("error", () => this.streams.delete(call));
        call.on("end", () => {
          this.streams.delete(call);
          call.end();
        });
        call.on("cancelled", () => this.streams.delete(call));
      },
    };
  }

  private announce(call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>, info: ConnInfo): void {
    if (info.knock?.knock === true) {
      call.write({
        serviceId: info.serviceId,
        network: "",
        address: "",
        knock: { knock: false, ack: false, error: "the multiplexed broker is not supported by this plugin" },
      });
      return;
    }
    this.logger.trace("broker announcement", { id: info.serviceId, network: info.network });
    this.known.set(info.serviceId, info);
    const waiting = this.waiters.get(info.serviceId);
    if (waiting !== undefined) {
      this.waiters.delete(info.serviceId);
      for (const w of waiting) w(info);
    }
  }

  /** Waits for the host's announcement of `id` (go-plugin: 5 s). */
  connInfo(id: number, timeoutMs = DIAL_TIMEOUT_MS): Promise<ConnInfo> {
    const info = this.known.get(id);
    if (info !== undefined) return Promise.resolve(info);
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(id);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const waiter = (i: ConnInfo): void => {
        clearTimeout(timer);
        resolve(i);
      };
      const timer = setTimeout(() => {
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(id);
        reject(new Error(`timeout while waiting for connection information for id: ${id}`));
      }, timeoutMs);
      timer.unref();
      set.add(waiter);
    });
  }

  /** Dials the host's brokered listener `id` over mTLS and waits until the connection is ready. */
  async dial(id: number, timeoutMs = DIAL_TIMEOUT_MS): Promise<grpc.Channel> {
    const info = await this.connInfo(id, timeoutMs);
    const target = brokerTarget(info.network, info.address);
    const creds = grpc.credentials.createSsl(
      Buffer.from(this.tls.rootPem),
      Buffer.from(this.tls.keyPem),
      Buffer.from(this.tls.certPem),
    );
    const channel = new grpc.Channel(target, creds, {
      ...CHANNEL_OPTIONS,
      "grpc.ssl_target_name_override": "localhost",
      "grpc.default_authority": "localhost",
    });
    try {
      await waitReady(channel, Date.now() + timeoutMs);
    } catch (e) {
      channel.close();
      throw new Error(`could not connect to the host's brokered service ${id}: ${(e as Error).message}`);
    }
    return channel;
  }

  /** Ends the broker streams (the host sees EOF), so a graceful server shutdown can complete. */
  close(): void {
    this.closed = true;
    for (const s of this.streams) s.end();
    this.streams.clear();
  }
}

function waitReady(channel: grpc.Channel, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) {
        resolve();
        return;
      }
      if (state === grpc.connectivityState.SHUTDOWN) {
        reject(new Error("channel shut down"));
        return;
      }
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err !== undefined) reject(new Error("connection not ready before the deadline"));
        else check();
      });
    };
    check();
  });
}
