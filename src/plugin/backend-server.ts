/**
 * Vault's pb.Backend service over the framework's Backend (Vault's
 * sdk/plugin/grpc_backend_server.go): Setup dials the broker id and builds the
 * instance's Storage and SystemView clients and its engine; every later call
 * goes to the instance named by the gRPC metadata key multiplex_id when the
 * plugin was started multiplexed (app protocol 5), else to the single
 * instance. Also pluginutil's PluginMultiplexing and logical's PluginVersion.
 */
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { Backend } from "../framework/backend.ts";
import { ErrorKind, type LogicalError, toLogicalError } from "../framework/errors.ts";
import type { LogicalRequest } from "../framework/request.ts";
import type { PluginMultiplexingServer } from "../gen/sdk/helper/pluginutil/multiplexing.ts";
import type { PluginVersionServer } from "../gen/sdk/logical/version.ts";
import type {
  BackendServer,
  Empty,
  HandleExistenceCheckArgs,
  HandleExistenceCheckReply,
  HandleRequestArgs,
  HandleRequestReply,
  InitializeArgs,
  InitializeReply,
  InvalidateKeyArgs,
  SetupArgs,
  SetupReply,
  SpecialPathsReply,
  TypeReply,
} from "../gen/sdk/plugin/pb/backend.ts";
import { MULTIPLEX_ID_KEY } from "../protocol/constants.ts";
import { LARGE_JSON } from "../util/json-slices.ts";
import type { Logger } from "../util/logger.ts";
import type { Broker } from "./broker.ts";
import { GrpcStorage, GrpcSystemView } from "./storage-client.ts";
import {
  decodeRequestDataInSlices,
  logicalErrorToProto,
  outcomeToProto,
  outcomeToProtoInSlices,
  protoRequestToLogical,
  RequestDecodeError,
} from "./translate.ts";

const SINGLE_ID = "single";

export interface BackendFactoryContext {
  config: Record<string, string>;
  backendUUID: string;
  system: GrpcSystemView;
  logger: Logger;
}

export type BackendFactory = (ctx: BackendFactoryContext) => Backend | Promise<Backend>;

interface Instance {
  backend: Backend;
  channel: grpc.Channel;
  storage: GrpcStorage;
  system: GrpcSystemView;
}

/** A gRPC error as grpc-go's status.Error(codes.Unknown, err.Error()) from a plain Go error. */
class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export interface BackendServiceOptions {
  broker: Broker;
  factory: BackendFactory;
  logger: Logger;
  multiplexed: boolean;
  /** VAULT_PLUGIN_METADATA_MODE: Vault only asks for metadata; requests are refused. */
  metadataMode: boolean;
  version: string;
}

export class BackendService {
  private readonly instances = new Map<string, Instance>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly opts: BackendServiceOptions) {}

  private instanceId(call: grpc.ServerUnaryCall<unknown, unknown>): string {
    if (!this.opts.multiplexed) return SINGLE_ID;
    const ids = call.metadata.get(MULTIPLEX_ID_KEY);
    if (ids.length === 0) throw new RpcError(status.UNKNOWN, "no multiplexing ID found");
    if (ids.length !== 1)
      throw new RpcError(status.UNKNOWN, `unexpected number of IDs in metadata: (${ids.length})`);
    const id = String(ids[0]);
    if (id === "") throw new RpcError(status.UNKNOWN, "empty multiplex ID in metadata");
    return id;
  }

  private instance(call: grpc.ServerUnaryCall<unknown, unknown>): Instance {
    const inst = this.instances.get(this.instanceId(call));
    if (inst === undefined) throw new RpcError(status.UNKNOWN, "no backend instance found");
    return inst;
  }

  private checkNotMetadataMode(): void {
    if (this.opts.metadataMode) {
      throw new RpcError(status.UNKNOWN, "plugin server can not perform action while in metadata mode");
    }
  }

  /** Wraps a handler: errors thrown as RpcError become gRPC statuses; others a generic internal status. */
  private unary<Req, Res>(
    name: string,
    fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const p = fn(call).then(
        (res) => callback(null, res),
        (e: unknown) => {
          if (e instanceof RpcError) {
            callback({ code: e.code, details: e.message });
            return;
          }
          this.opts.logger.error("plugin call failed", { method: name, error_class: errorClass(e) });
          callback({ code: status.INTERNAL, details: "internal error" });
        },
      );
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    };
  }

  service(): BackendServer {
    return {
      setup: this.unary("Setup", (call: grpc.ServerUnaryCall<SetupArgs, SetupReply>) => this.setup(call)),
      initialize: this.unary("Initialize", (call: grpc.ServerUnaryCall<InitializeArgs, InitializeReply>) =>
        this.initialize(call),
      ),
      handleRequest: this.unary(
        "HandleRequest",
        (call: grpc.ServerUnaryCall<HandleRequestArgs, HandleRequestReply>) => this.handleRequest(call),
      ),
      handleExistenceCheck: this.unary(
        "HandleExistenceCheck",
        (call: grpc.ServerUnaryCall<HandleExistenceCheckArgs, HandleExistenceCheckReply>) =>
          this.handleExistenceCheck(call),
      ),
      specialPaths: this.unary(
        "SpecialPaths",
        async (call: grpc.ServerUnaryCall<Empty, SpecialPathsReply>) => {
          const paths = this.instance(call).backend.specialPaths();
          return {
            paths: {
              root: paths.root ?? [],
              unauthenticated: paths.unauthenticated ?? [],
              localStorage: paths.localStorage ?? [],
              sealWrapStorage: paths.sealWrapStorage ?? [],
              writeForwardedStorage: [],
              binary: [],
              limited: [],
              allowSnapshotRead: [],
            },
          };
        },
      ),
      type: this.unary("Type", async (call: grpc.ServerUnaryCall<Empty, TypeReply>) => {
        // logical.BackendType: 1 logical (secrets engine), 2 credential.
        return { type: this.instance(call).backend.type === "credential" ? 2 : 1 };
      }),
      invalidateKey: this.unary(
        "InvalidateKey",
        async (call: grpc.ServerUnaryCall<InvalidateKeyArgs, Empty>) => {
          const inst = this.instance(call);
          this.checkNotMetadataMode();
          inst.backend.invalidateKey(call.request.key);
          this.opts.logger.debug("invalidated key", { key: call.request.key });
          return {};
        },
      ),
      cleanup: this.unary("Cleanup", async (call: grpc.ServerUnaryCall<Empty, Empty>) => {
        const id = this.instanceId(call);
        const inst = this.instances.get(id);
        if (inst === undefined) throw new RpcError(status.UNKNOWN, "no backend instance found");
        this.instances.delete(id);
        try {
          await inst.backend.cleanup();
        } finally {
          inst.channel.close();
        }
        this.opts.logger.debug("backend cleaned up", { instances: this.instances.size });
        return {};
      }),
    };
  }

  multiplexingService(): PluginMultiplexingServer {
    return {
      multiplexingSupport: (_call, callback) => callback(null, { supported: true }),
    };
  }

  versionService(): PluginVersionServer {
    return {
      version: (_call, callback) => callback(null, { pluginVersion: this.opts.version }),
    };
  }

  private async setup(call: grpc.ServerUnaryCall<SetupArgs, SetupReply>): Promise<SetupReply> {
    const id = this.instanceId(call);
    const args = call.request;
    let channel: grpc.Channel;
    try {
      channel = await this.opts.broker.dial(args.brokerId);
    } catch (e) {
      throw new RpcError(status.UNKNOWN, (e as Error).message);
    }
    const storage = new GrpcStorage(channel);
    const system = new GrpcSystemView(channel);
    let backend: Backend;
    try {
      backend = await this.opts.factory({
        config: { ...args.Config },
        backendUUID: args.backendUUID,
        system,
        logger: this.opts.logger,
      });
    } catch (e) {
      channel.close();
      return { err: toLogicalError(e).message };
    }
    const previous = this.instances.get(id);
    this.instances.set(id, { backend, channel, storage, system });
    previous?.channel.close();
    this.opts.logger.debug("backend set up", { instances: this.instances.size });
    return { err: "" };
  }

  private async initialize(
    call: grpc.ServerUnaryCall<InitializeArgs, InitializeReply>,
  ): Promise<InitializeReply> {
    const inst = this.instance(call);
    this.checkNotMetadataMode();
    try {
      await inst.backend.initialize(inst.storage);
      return {};
    } catch (e) {
      const err = toLogicalError(e);
      this.logRequestError("initialize", "", err);
      return { err: logicalErrorToProto(err) };
    }
  }

  private async translate(
    inst: Instance,
    args: HandleRequestArgs | HandleExistenceCheckArgs,
  ): Promise<LogicalRequest> {
    try {
      // A large body (a batch) is parsed in slices so that other calls are answered meanwhile.
      const text = args.request?.data ?? "";
      const decoded = text.length >= LARGE_JSON ? { data: await decodeRequestDataInSlices(text) } : undefined;
      return protoRequestToLogical(args.request, inst.storage, decoded);
    } catch (e) {
      if (e instanceof RequestDecodeError) throw new RpcError(status.UNKNOWN, e.message);
      throw e;
    }
  }

  /**
   * What HandleRequest and HandleExistenceCheck both do first: the instance,
   * the metadata-mode check, the request's translation. A translation error
   * that is not an RpcError is answered in the call's own reply.
   */
  private async begin<A extends HandleRequestArgs | HandleExistenceCheckArgs, R>(
    call: grpc.ServerUnaryCall<A, unknown>,
    replyOnError: (e: unknown) => R,
  ): Promise<{ inst: Instance; req: LogicalRequest } | { reply: R }> {
    const inst = this.instance(call);
    this.checkNotMetadataMode();
    try {
      return { inst, req: await this.translate(inst, call.request) };
    } catch (e) {
      if (e instanceof RpcError) throw e;
      return { reply: replyOnError(e) };
    }
  }

  private async handleRequest(
    call: grpc.ServerUnaryCall<HandleRequestArgs, HandleRequestReply>,
  ): Promise<HandleRequestReply> {
    const begun = await this.begin(call, (e) => outcomeToProto({ error: e }, call.request.request?.id ?? ""));
    if ("reply" in begun) return begun.reply;
    const { inst, req } = begun;
    let outcome: { response: Awaited<ReturnType<Backend["handleRequest"]>> } | { error: unknown };
    try {
      outcome = { response: await inst.backend.handleRequest(req) };
    } catch (e) {
      const err = toLogicalError(e);
      this.logRequestError(req.operation, req.path, err);
      outcome = { error: err };
    }
    return outcomeToProtoInSlices(outcome, req.id ?? "");
  }

  private async handleExistenceCheck(
    call: grpc.ServerUnaryCall<HandleExistenceCheckArgs, HandleExistenceCheckReply>,
  ): Promise<HandleExistenceCheckReply> {
    const begun = await this.begin(call, (e) => ({
      checkFound: false,
      exists: false,
      err: logicalErrorToProto(toLogicalError(e)),
    }));
    if ("reply" in begun) return begun.reply;
    const { inst, req } = begun;
    try {
      const r = await inst.backend.handleExistenceCheck(req);
      return { checkFound: r.checkFound, exists: r.exists };
    } catch (e) {
      const err = toLogicalError(e);
      this.logRequestError(`existence check (${req.operation})`, req.path, err);
      return { checkFound: false, exists: false, err: logicalErrorToProto(err) };
    }
  }

  /** Internal errors are logged with their safe message and the cause's class only (never its text). */
  private logRequestError(operation: string, path: string, err: LogicalError): void {
    if (
      err.kind !== ErrorKind.Internal &&
      err.kind !== ErrorKind.Unknown &&
      err.kind !== ErrorKind.Unrecoverable
    ) {
      return;
    }
    const cause = (err as { cause?: unknown }).cause;
    this.opts.logger.error("request failed", {
      operation,
      path,
      error: err.message,
      ...(cause === undefined ? {} : { cause_class: errorClass(cause) }),
    });
  }

  /** Resolves when every call in flight has answered. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Cleanup for every instance still set up (shutdown without Cleanup calls), then closes the channels. */
  async closeAll(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.allSettled(all.map((i) => i.backend.cleanup()));
    for (const i of all) i.channel.close();
  }

  get instanceCount(): number {
    return this.instances.size;
  }
}

function errorClass(e: unknown): string {
  return e instanceof Error ? e.constructor.name : typeof e;
}
