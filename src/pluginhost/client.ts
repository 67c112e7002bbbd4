/**
 * go-plugin's client for one plugin process, as Vault drives it: launch
 * (protocol 5 first, then 3,4, as Vault's builtin plugin factory), mTLS
 * channel to the plugin's address with its handshake certificate as the only
 * root, health check of "plugin", broker stream, stdio stream,
 * multiplexing support, graceful shutdown. The process itself is
 * process.ts; each mount set up in it (Setup → Initialize → Type with the
 * mount's multiplex_id) is mount.ts.
 */
import * as grpc from "@grpc/grpc-js";
import { randomBytes } from "../crypto/hash.ts";
import { HealthCheckResponse_ServingStatus, HealthClient } from "../gen/grpc/health/v1/health.js";
import { GRPCBrokerClient } from "../gen/plugin/grpc_broker.js";
import { GRPCControllerClient } from "../gen/plugin/grpc_controller.js";
import { GRPCStdioClient, type StdioData, StdioData_Channel } from "../gen/plugin/grpc_stdio.js";
import { PluginMultiplexingClient } from "../gen/sdk/helper/pluginutil/multiplexing.js";
import { PluginVersionClient } from "../gen/sdk/logical/version.js";
import { BackendClient } from "../gen/sdk/plugin/pb/backend.js";
import { VERSION_ATTEMPTS } from "../protocol/constants.ts";
import type { MountOptions } from "../protocol/mount-backend.ts";
import type { Logger } from "../util/logger.ts";
import { type BrokerNetwork, HostBroker, MAX_MESSAGE } from "./broker.ts";
import { type AutoMtlsCert, generateAutoMtlsCert } from "./certs.ts";
import {
  type Callback,
  grpcErrorText,
  HEALTH_DEADLINE_MS,
  REQUEST_DEADLINE_MS,
  unaryCall,
} from "./grpc-call.ts";
import { HandshakeError } from "./handshake.ts";
import { type PluginMount, setUpMount } from "./mount.ts";
import { type ExitStatus, launchPluginProcess, type PluginProcess } from "./process.ts";

/** go-plugin Kill: how long a graceful exit may take before the process is killed. */
const GRACEFUL_EXIT_MS = 2_000;

export interface PluginClientOptions {
  command: string[];
  logger: Logger;
  /** The host's version as Vault reports its own (VAULT_VERSION, PluginEnv). */
  vaultVersion: string;
  clusterId?: string;
  startTimeoutMs?: number;
  /** Salt for the client token the plugin sees (a hash of it, never the token). */
  tokenSalt?: Uint8Array;
  /** Offered protocol versions, in Vault's order of attempts (default [[5], [3, 4]]). */
  versionAttempts?: readonly (readonly number[])[];
  /** Where brokered services listen (default: go-plugin's, a unix socket outside Windows). */
  brokerNetwork?: BrokerNetwork;
}

/** One running plugin process and the gRPC connection to it. */
export class PluginClient {
  private readonly channel: grpc.Channel;
  /** @internal The Backend service (mount.ts). */
  readonly backendClient: BackendClient;
  private readonly controller: GRPCControllerClient;
  /** @internal The PluginVersion service (mount.ts). */
  readonly versionClient: PluginVersionClient;
  /** @internal Serves each mount's storage and system view (mount.ts). */
  readonly broker: HostBroker;
  private stdio: grpc.ClientReadableStream<StdioData> | null = null;
  private closing: Promise<void> | null = null;
  multiplexed = false;
  readonly mounts = new Set<PluginMount>();

  private constructor(
    readonly proc: PluginProcess,
    cert: AutoMtlsCert,
    /** @internal */
    readonly options: PluginClientOptions,
    /** @internal */
    readonly logger: Logger,
  ) {
    const hs = proc.handshake;
    const target = hs.network === "unix" ? `unix:${hs.address}` : hs.address;
    const channelOptions: grpc.ChannelOptions = {
      "grpc.ssl_target_name_override": "localhost",
      "grpc.default_authority": "localhost",
      "grpc.max_receive_message_length": MAX_MESSAGE,
      "grpc.max_send_message_length": MAX_MESSAGE,
    };
    const creds = grpc.credentials.createSsl(
      Buffer.from(hs.serverCertPem!),
      Buffer.from(cert.keyPem),
      Buffer.from(cert.certPem),
    );
    this.channel = new grpc.Channel(target, creds, channelOptions);
    const clientOptions = { channelOverride: this.channel };
    this.backendClient = new BackendClient(target, creds, clientOptions);
    this.controller = new GRPCControllerClient(target, creds, clientOptions);
    this.versionClient = new PluginVersionClient(target, creds, clientOptions);
    this.broker = new HostBroker(
      new GRPCBrokerClient(target, creds, clientOptions),
      () =>
        grpc.ServerCredentials.createSsl(
          Buffer.from(hs.serverCertPem!),
          [{ cert_chain: Buffer.from(cert.certPem), private_key: Buffer.from(cert.keyPem) }],
          true,
        ),
      logger.named("broker"),
      options.brokerNetwork,
    );
    void proc.exited.then(() => this.onExit());
  }

  /** The live process's pid; none once it has exited (the OS may hand that number to another process). */
  get pid(): number | undefined {
    return this.proc.dead ? undefined : this.proc.pid;
  }

  get dead(): boolean {
    return this.proc.dead;
  }

  get exited(): Promise<ExitStatus> {
    return this.proc.exited;
  }

  /** Starts the plugin as Vault does: protocol 5, and on a failed handshake protocols 3 and 4. */
  static async start(opts: PluginClientOptions): Promise<PluginClient> {
    const attempts = opts.versionAttempts ?? VERSION_ATTEMPTS;
    const errors: string[] = [];
    for (const versions of attempts) {
      const cert = await generateAutoMtlsCert();
      let proc: PluginProcess;
      try {
        proc = await launchPluginProcess({
          command: opts.command,
          versions,
          clientCertPem: cert.certPem,
          vaultVersion: opts.vaultVersion,
          logger: opts.logger,
          ...(opts.startTimeoutMs === undefined ? {} : { startTimeoutMs: opts.startTimeoutMs }),
        });
      } catch (e) {
        if (!(e instanceof HandshakeError)) throw e;
        errors.push(`protocol ${versions.join(",")}: ${e.message}`);
        opts.logger.debug("plugin handshake failed", { versions: versions.join(","), error: e.message });
        continue;
      }
      const client = new PluginClient(proc, cert, opts, opts.logger);
      try {
        await client.connect();
      } catch (e) {
        await client.kill();
        throw e;
      }
      return client;
    }
    throw new Error(`the plugin did not complete the handshake: ${errors.join("; ")}`);
  }

  private async connect(): Promise<void> {
    const health = new HealthClient("unused", grpc.credentials.createInsecure(), {
      channelOverride: this.channel,
    });
    let servingStatus: HealthCheckResponse_ServingStatus;
    try {
      const reply = await unaryCall<{ status: HealthCheckResponse_ServingStatus }>(
        (md, o, cb) => health.check({ service: "plugin" }, md, o, cb),
        // Not waitForReady: a TLS failure fails the call at once (go-plugin's FailOnNonTempDialError).
        new grpc.Metadata(),
        HEALTH_DEADLINE_MS,
      );
      servingStatus = reply.status;
    } catch (e) {
      throw new Error(`the plugin's health check failed: ${grpcErrorText(e)}`);
    }
    if (servingStatus !== HealthCheckResponse_ServingStatus.SERVING) {
      throw new Error(`the plugin is not serving (health status ${servingStatus})`);
    }

    const stdio = new GRPCStdioClient("unused", grpc.credentials.createInsecure(), {
      channelOverride: this.channel,
    });
    this.stdio = stdio.streamStdio({});
    this.stdio.on("data", (d: StdioData) => {
      const text = d.data.toString("utf8").trimEnd();
      if (text === "") return;
      const channel = d.channel === StdioData_Channel.STDERR ? "stderr" : "stdout";
      for (const line of text.split("\n"))
        this.logger.debug(`plugin ${channel}`, { line: line.slice(0, 4096) });
    });
    this.stdio.on("error", (e: grpc.ServiceError) => {
      if (e.code !== grpc.status.CANCELLED && e.code !== grpc.status.UNIMPLEMENTED && !this.proc.dead) {
        this.logger.debug("plugin stdio stream ended", { error: grpcErrorText(e) });
      }
    });

    if (this.proc.handshake.appVersion >= 5) {
      const mux = new PluginMultiplexingClient("unused", grpc.credentials.createInsecure(), {
        channelOverride: this.channel,
      });
      try {
        const reply = await unaryCall<{ supported: boolean }>(
          (md, o, cb) => mux.multiplexingSupport({}, md, o, cb),
          new grpc.Metadata(),
          HEALTH_DEADLINE_MS,
        );
        this.multiplexed = reply.supported;
      } catch (e) {
        if ((e as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) {
          throw new Error(`the plugin's multiplexing support query failed: ${grpcErrorText(e)}`);
        }
        this.multiplexed = false;
      }
    }
    this.logger.debug("plugin connected", {
      pid: this.proc.pid,
      protocol: this.proc.handshake.appVersion,
      multiplexed: this.multiplexed,
    });
  }

  /** Sets a mount up in this process (mount.ts). */
  mount(opts: MountOptions): Promise<PluginMount> {
    return setUpMount(this, opts);
  }

  /** @internal Whether new mounts may be set up (the process lives and is not being stopped). */
  get accepting(): boolean {
    return !this.proc.dead && this.closing === null;
  }

  /** @internal PluginMount's calls. */
  call<T>(
    invoke: (md: grpc.Metadata, options: Partial<grpc.CallOptions>, cb: Callback<T>) => grpc.ClientUnaryCall,
    md: grpc.Metadata,
    deadlineMs = REQUEST_DEADLINE_MS,
  ): Promise<T> {
    if (this.proc.dead) return Promise.reject(new Error("the plugin process is gone"));
    return unaryCall(invoke, md, deadlineMs);
  }

  /** @internal */
  stopBroker(id: number): Promise<void> {
    return this.broker.stop(id);
  }

  get tokenSalt(): Uint8Array {
    return this.options.tokenSalt ?? PROCESS_SALT;
  }

  /** Graceful stop (go-plugin Kill): Cleanup of open mounts, broker closed, Controller.Shutdown, kill if it lingers. */
  shutdown(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      if (!this.proc.dead) {
        for (const m of [...this.mounts]) await m.cleanup().catch(() => undefined);
        await this.broker.close();
        this.stdio?.cancel();
        try {
          await unaryCall<unknown>(
            (md, o, cb) => this.controller.shutdown({}, md, o, cb),
            new grpc.Metadata(),
            GRACEFUL_EXIT_MS,
          );
        } catch (e) {
          // The process may exit before it answers.
          this.logger.debug("plugin shutdown call ended", { error: grpcErrorText(e) });
        }
        const exited = await Promise.race([
          this.proc.exited.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), GRACEFUL_EXIT_MS).unref()),
        ]);
        if (!exited) {
          this.logger.warn("plugin failed to exit gracefully", { pid: this.proc.pid });
          this.proc.kill("SIGKILL");
          await this.proc.exited;
        }
      }
      this.closeTransport();
    })();
    return this.closing;
  }

  /** Kills the process at once. */
  async kill(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.proc.exited;
    this.closeTransport();
  }

  private onExit(): void {
    void this.broker.close();
    this.closeTransport();
  }

  private closeTransport(): void {
    this.stdio?.cancel();
    this.channel.close();
    this.proc.child.stdin?.destroy();
  }
}

/** A per-host-process salt for client tokens when none is given. */
const PROCESS_SALT = randomBytes(32);
