/**
 * The engine's storage and system view in plugin mode: clients of the host's
 * pb.Storage and pb.SystemView on the brokered connection (Vault's
 * sdk/plugin/grpc_storage.go, grpc_system.go). An error string in a reply
 * (StoragePutReply.err and the like) or a failed call becomes an internal
 * error: the request answers 500 and nothing the engine cached changes.
 */
import * as grpc from "@grpc/grpc-js";
import { StorageError } from "../framework/errors.ts";
import type { Storage, StorageEntry } from "../framework/storage.ts";
import { type Empty, StorageClient, SystemViewClient } from "../gen/sdk/plugin/pb/backend.ts";

type Unary<Req, Res> = (
  req: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  cb: (err: grpc.ServiceError | null, res: Res) => void,
) => grpc.ClientUnaryCall;

function call<Req, Res>(fn: Unary<Req, Res>, self: grpc.Client, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn.call(self, req, new grpc.Metadata(), {}, (err, res) => {
      if (err !== null) reject(err);
      else resolve(res);
    });
  });
}

function failed(op: string, detail: string): Error {
  return new StorageError(`storage ${op} failed: ${detail}`);
}

function transportDetail(e: unknown): string {
  const err = e as Partial<grpc.ServiceError>;
  return typeof err.details === "string" && err.details !== "" ? err.details : "the host did not answer";
}

export class GrpcStorage implements Storage {
  private readonly client: StorageClient;

  constructor(channel: grpc.Channel) {
    this.client = new StorageClient("unused", grpc.credentials.createInsecure(), {
      channelOverride: channel,
    });
  }

  async list(prefix: string): Promise<string[]> {
    const reply = await call(this.client.list, this.client, { prefix }).catch((e: unknown) => {
      throw failed("list", transportDetail(e));
    });
    if (reply.err !== "") throw failed("list", reply.err);
    return reply.keys;
  }

  async get(key: string): Promise<StorageEntry | null> {
    const reply = await call(this.client.get, this.client, { key }).catch((e: unknown) => {
      throw failed("get", transportDetail(e));
    });
    if (reply.err !== "") throw failed("get", reply.err);
    if (reply.entry === undefined) return null;
    const entry: StorageEntry = { key: reply.entry.key, value: new Uint8Array(reply.entry.value) };
    if (reply.entry.sealWrap) entry.sealWrap = true;
    return entry;
  }

  async put(entry: StorageEntry): Promise<void> {
    const reply = await call(this.client.put, this.client, {
      entry: { key: entry.key, value: Buffer.from(entry.value), sealWrap: entry.sealWrap === true },
    }).catch((e: unknown) => {
      throw failed("put", transportDetail(e));
    });
    if (reply.err !== "") throw failed("put", reply.err);
  }

  async delete(key: string): Promise<void> {
    const reply = await call(this.client.delete, this.client, { key }).catch((e: unknown) => {
      throw failed("delete", transportDetail(e));
    });
    if (reply.err !== "") throw failed("delete", reply.err);
  }
}

/** The parts of Vault's logical.SystemView a secrets engine asks for. */
export class GrpcSystemView {
  private readonly client: SystemViewClient;

  constructor(channel: grpc.Channel) {
    this.client = new SystemViewClient("unused", grpc.credentials.createInsecure(), {
      channelOverride: channel,
    });
  }

  private empty(): Empty {
    return {};
  }

  /** Seconds. */
  async defaultLeaseTTL(): Promise<number> {
    return (await call(this.client.defaultLeaseTtl, this.client, this.empty())).TTL / 1e9;
  }

  /** Seconds. */
  async maxLeaseTTL(): Promise<number> {
    return (await call(this.client.maxLeaseTtl, this.client, this.empty())).TTL / 1e9;
  }

  async cachingDisabled(): Promise<boolean> {
    return (await call(this.client.cachingDisabled, this.client, this.empty())).disabled;
  }

  async replicationState(): Promise<number> {
    return (await call(this.client.replicationState, this.client, this.empty())).state;
  }

  async localMount(): Promise<boolean> {
    return (await call(this.client.localMount, this.client, this.empty())).local;
  }

  async tainted(): Promise<boolean> {
    return (await call(this.client.tainted, this.client, this.empty())).tainted;
  }

  async pluginEnv(): Promise<{ vaultVersion: string }> {
    const reply = await call(this.client.pluginEnv, this.client, this.empty());
    if (reply.err !== "") throw new Error(reply.err);
    return { vaultVersion: reply.pluginEnvironment?.vaultVersion ?? "" };
  }
}
