/**
 * One mount in a plugin process (Vault's backendGRPCPluginClient): its
 * set-up and its calls, each with the mount's multiplex_id metadata. The
 * process and the connection are client.ts.
 */
import * as grpc from "@grpc/grpc-js";
import { randomBytes } from "../crypto/hash.ts";
import {
  EventsService,
  type InitializeReply,
  ObservationsService,
  StorageService,
  SystemViewService,
} from "../gen/sdk/plugin/pb/backend.js";
import { BACKEND_TYPE_LOGICAL, MULTIPLEX_ID_KEY } from "../protocol/constants.ts";
import type {
  ExistenceResult,
  HostRequest,
  MountBackend,
  MountOptions,
  RequestResult,
} from "../protocol/mount-backend.ts";
import type { Logger } from "../util/logger.ts";
import type { PluginClient } from "./client.ts";
import { grpcErrorText, HEALTH_DEADLINE_MS, SETUP_DEADLINE_MS, unaryCall } from "./grpc-call.ts";
import { eventsServer, observationsServer, storageServer, systemViewServer } from "./services.ts";
import { fromExistenceReply, fromHandleRequestReply, fromProtoError, toProtoRequest } from "./translate.ts";

/** Vault's base62.Random(10) for multiplexing ids. */
function base62(n: number): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let out = "";
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += alphabet[b % 62];
    }
  }
  return out;
}

/**
 * Sets a mount up in a plugin process, as Vault's backendGRPCPluginClient
 * does: storage, system view, events and observations served through the
 * broker, then Setup, Initialize, Type and PluginVersion over the Backend
 * service, with the mount's multiplex_id on every call.
 */
export async function setUpMount(client: PluginClient, opts: MountOptions): Promise<PluginMount> {
  if (!client.accepting) throw new Error("the plugin process is gone");
  const multiplexId = base62(10);
  const md = new grpc.Metadata();
  md.set(MULTIPLEX_ID_KEY, multiplexId);
  const log = client.logger.named(opts.mountPoint.replace(/\/$/, ""));
  const brokerId = client.broker.nextId();
  await client.broker.acceptAndServe(brokerId, (server) => {
    server.addService(StorageService, storageServer(opts.storage, log));
    server.addService(
      SystemViewService,
      systemViewServer({
        vaultVersion: client.options.vaultVersion,
        localMount: opts.local ?? false,
        ...(client.options.clusterId === undefined ? {} : { clusterId: client.options.clusterId }),
      }),
    );
    server.addService(EventsService, eventsServer(log));
    server.addService(ObservationsService, observationsServer());
  });
  try {
    const setup = await unaryCall<{ err: string }>(
      (m, o, cb) =>
        client.backendClient.setup(
          { brokerId, Config: opts.config, backendUUID: opts.backendUUID },
          m,
          o,
          cb,
        ),
      md,
      SETUP_DEADLINE_MS,
    );
    if (setup.err !== "") throw new Error(`plugin setup failed: ${setup.err}`);
  } catch (e) {
    await client.broker.stop(brokerId);
    throw e instanceof Error && e.message.startsWith("plugin setup failed")
      ? e
      : new Error(`plugin setup failed: ${grpcErrorText(e)}`);
  }
  const mount = new PluginMount(client, opts, brokerId, md, log);
  client.mounts.add(mount);

  // Vault logs a failed Initialize and keeps the mount; a plugin without Initialize is fine.
  try {
    const init = await unaryCall<InitializeReply>(
      (m, o, cb) => client.backendClient.initialize({}, m, o, cb),
      md,
      SETUP_DEADLINE_MS,
    );
    const err = fromProtoError(init.err);
    if (err !== null) log.error("plugin initialize failed", { error: err.message });
  } catch (e) {
    if ((e as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) {
      log.error("plugin initialize failed", { error: grpcErrorText(e) });
    }
  }
  try {
    const t = await unaryCall<{ type: number }>(
      (m, o, cb) => client.backendClient.type({}, m, o, cb),
      md,
      HEALTH_DEADLINE_MS,
    );
    if (t.type !== BACKEND_TYPE_LOGICAL) {
      log.warn("the plugin is not a secrets engine", { backend_type: t.type });
    }
  } catch (e) {
    log.warn("plugin type query failed", { error: grpcErrorText(e) });
  }
  try {
    const v = await unaryCall<{ pluginVersion: string }>(
      (m, o, cb) => client.versionClient.version({}, m, o, cb),
      md,
      HEALTH_DEADLINE_MS,
    );
    mount.runningVersion = v.pluginVersion;
  } catch {
    // Plugins without the PluginVersion service run unversioned, as in Vault.
  }
  return mount;
}

/** One mount set up in a plugin process: Vault's backendGRPCPluginClient. */
export class PluginMount implements MountBackend {
  runningVersion = "";
  private cleaned: Promise<void> | null = null;

  constructor(
    private readonly client: PluginClient,
    readonly options: MountOptions,
    private readonly brokerId: number,
    private readonly md: grpc.Metadata,
    private readonly logger: Logger,
  ) {}

  get multiplexId(): string {
    return String(this.md.get(MULTIPLEX_ID_KEY)[0] ?? "");
  }

  async handleRequest(req: HostRequest): Promise<RequestResult> {
    const request = toProtoRequest(req, { tokenSalt: this.client.tokenSalt });
    const reply = await this.client.call<Parameters<typeof fromHandleRequestReply>[0]>(
      (md, o, cb) => this.client.backendClient.handleRequest({ storageId: 0, request }, md, o, cb),
      this.md,
    );
    return fromHandleRequestReply(reply);
  }

  async handleExistenceCheck(req: HostRequest): Promise<ExistenceResult> {
    const request = toProtoRequest(req, { tokenSalt: this.client.tokenSalt });
    const reply = await this.client.call<Parameters<typeof fromExistenceReply>[0]>(
      (md, o, cb) => this.client.backendClient.handleExistenceCheck({ storageId: 0, request }, md, o, cb),
      this.md,
    );
    return fromExistenceReply(reply);
  }

  async invalidateKey(key: string): Promise<void> {
    await this.client.call<unknown>(
      (md, o, cb) => this.client.backendClient.invalidateKey({ key }, md, o, cb),
      this.md,
    );
  }

  /** Cleanup in the plugin, then the brokered storage server stops (Vault's Cleanup order). */
  cleanup(): Promise<void> {
    if (this.cleaned !== null) return this.cleaned;
    this.cleaned = (async () => {
      try {
        if (!this.client.dead) {
          await this.client.call<unknown>(
            (md, o, cb) => this.client.backendClient.cleanup({}, md, o, cb),
            this.md,
            SETUP_DEADLINE_MS,
          );
        }
      } catch (e) {
        this.logger.debug("plugin cleanup failed", { error: grpcErrorText(e) });
      } finally {
        this.client.mounts.delete(this);
        await this.client.stopBroker(this.brokerId);
      }
    })();
    return this.cleaned;
  }
}
