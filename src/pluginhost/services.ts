/**
 * What the host serves the plugin on a brokered connection (Vault's
 * sdk/plugin grpc_storage.go GRPCStorageServer and grpc_system.go
 * gRPCSystemViewServer): the mount's storage, with storage errors in the
 * reply's err string as Vault sends them, and the system view.
 */
import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { Storage } from "../framework/storage.ts";
import type {
  Empty,
  EventsServer,
  ObservationsServer,
  StorageServer,
  SystemViewServer,
} from "../gen/sdk/plugin/pb/backend.js";
import { NS_PER_SECOND } from "../protocol/constants.ts";
import type { Logger } from "../util/logger.ts";

/** Vault's logical.StorageView sanity check. */
function sanityCheck(key: string): string | null {
  return key.includes("..") ? "relative paths not supported" : null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A unary handler from an async function; a thrown error becomes a gRPC INTERNAL status. */
function unary<Req, Res>(fn: (req: Req) => Promise<Res> | Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (e: unknown) => {
          const code = (e as { code?: unknown }).code;
          callback({ code: typeof code === "number" ? code : status.INTERNAL, details: errorText(e) });
        },
      );
  };
}

export function storageServer(storage: Storage, logger: Logger): StorageServer {
  const fail = (op: string, e: unknown): string => {
    const msg = errorText(e);
    logger.warn("storage operation failed", { op, error: msg });
    return msg;
  };
  return {
    list: unary(async ({ prefix }) => {
      const bad = sanityCheck(prefix);
      if (bad !== null) return { keys: [], err: bad };
      try {
        return { keys: await storage.list(prefix), err: "" };
      } catch (e) {
        return { keys: [], err: fail("list", e) };
      }
    }),
    get: unary(async ({ key }) => {
      const bad = sanityCheck(key);
      if (bad !== null) return { entry: undefined, err: bad };
      try {
        const entry = await storage.get(key);
        if (entry === null) return { entry: undefined, err: "" };
        return {
          entry: { key: entry.key, value: Buffer.from(entry.value), sealWrap: entry.sealWrap ?? false },
          err: "",
        };
      } catch (e) {
        return { entry: undefined, err: fail("get", e) };
      }
    }),
    put: unary(async ({ entry }) => {
      if (entry === undefined) return { err: "missing storage entry" };
      const bad = sanityCheck(entry.key);
      if (bad !== null) return { err: bad };
      try {
        await storage.put({ key: entry.key, value: new Uint8Array(entry.value), sealWrap: entry.sealWrap });
        return { err: "" };
      } catch (e) {
        return { err: fail("put", e) };
      }
    }),
    delete: unary(async ({ key }) => {
      const bad = sanityCheck(key);
      if (bad !== null) return { err: bad };
      try {
        await storage.delete(key);
        return { err: "" };
      } catch (e) {
        return { err: fail("delete", e) };
      }
    }),
  };
}

export interface SystemViewOptions {
  /** Full version string, e.g. "1.15.0+transit-ts-dev". */
  vaultVersion: string;
  /** Seconds; Vault's defaults are 768h for both. */
  defaultLeaseTtlSeconds?: number;
  maxLeaseTtlSeconds?: number;
  localMount?: boolean;
  clusterName?: string;
  clusterId?: string;
}

const VAULT_DEFAULT_LEASE_TTL_SECONDS = 768 * 3600;

/** A Vault version split as PluginEnvironment carries it: "1.15.0-rc1+ent" → 1.15.0, rc1, ent. */
export function splitVersion(v: string): { version: string; prerelease: string; metadata: string } {
  const plus = v.indexOf("+");
  const core = plus === -1 ? v : v.slice(0, plus);
  const metadata = plus === -1 ? "" : v.slice(plus + 1);
  const dash = core.indexOf("-");
  return {
    version: dash === -1 ? core : core.slice(0, dash),
    prerelease: dash === -1 ? "" : core.slice(dash + 1),
    metadata,
  };
}

function unimplemented(what: string): Error & { code: number } {
  return Object.assign(new Error(`${what} is not supported by the dev host`), { code: status.UNIMPLEMENTED });
}

export function systemViewServer(opts: SystemViewOptions): SystemViewServer {
  const ttl = (s: number | undefined) => ({ TTL: (s ?? VAULT_DEFAULT_LEASE_TTL_SECONDS) * NS_PER_SECOND });
  const env = splitVersion(opts.vaultVersion);
  return {
    defaultLeaseTtl: unary(() => ttl(opts.defaultLeaseTtlSeconds)),
    maxLeaseTtl: unary(() => ttl(opts.maxLeaseTtlSeconds)),
    tainted: unary(() => ({ tainted: false })),
    cachingDisabled: unary(() => ({ disabled: false })),
    replicationState: unary(() => ({ state: 0 })),
    responseWrapData: unary(() => ({
      wrapInfo: undefined,
      err: "response wrapping is not supported by the dev host",
    })),
    mlockEnabled: unary(() => ({ enabled: false })),
    localMount: unary(() => ({ local: opts.localMount ?? false })),
    // The dev host has no identity store: no entity, no groups (what Vault answers for an unknown entity).
    entityInfo: unary(() => ({ entity: undefined, err: "" })),
    groupsForEntity: unary(() => ({ groups: [], err: "" })),
    pluginEnv: unary(() => ({
      pluginEnvironment: {
        vaultVersion: env.version,
        vaultVersionPrerelease: env.prerelease,
        vaultVersionMetadata: env.metadata,
      },
      err: "",
    })),
    generatePasswordFromPolicy: unary(() => {
      throw unimplemented("password policies");
    }),
    clusterInfo: unary(() => ({
      clusterName: opts.clusterName ?? "vault-cluster-dev",
      clusterId: opts.clusterId ?? "",
      err: "",
    })),
    generateIdentityToken: unary(() => {
      throw unimplemented("plugin identity tokens");
    }),
    registerRotationJob: unary(() => ({
      rotationId: "",
      err: "the rotation manager is not supported by the dev host",
    })),
    deregisterRotationJob: unary((): Empty => ({})),
  };
}

/** Events and observations are accepted and dropped: the dev host has no event bus. */
export function eventsServer(logger: Logger): EventsServer {
  return {
    sendEvent: unary(({ eventType }): Empty => {
      logger.trace("plugin event dropped", { event_type: eventType });
      return {};
    }),
  };
}

export function observationsServer(): ObservationsServer {
  return { recordObservation: unary((): Empty => ({})) };
}
