/**
 * The part of Vault's system backend (and token store) that a transit user
 * meets: sys/health, sys/seal-status, sys/mounts (list, read, enable,
 * disable, tune), sys/plugins/reload/backend, the barrier's sys/rotate and
 * sys/key-status, and auth/token/lookup-self.
 */
import type { Operation } from "../framework/request.ts";
import { envelope, HttpError } from "./http/vault-http.ts";
import { type MountEntry, MountError, type MountTable, sanitizeMountPath } from "./mounts.ts";
import type { EncryptedStore } from "./storage/store.ts";
import type { RootToken } from "./token.ts";

export const HOST_VERSION = "1.15.0+transit-ts-dev";

export interface SysDeps {
  store: EncryptedStore;
  mounts: MountTable;
  token: RootToken;
  pluginName: string;
  /** Types that select our plugin: "transit" and the plugin's registered name. */
  pluginTypes: readonly string[];
  clusterId: string;
  startedAt: Date;
  /** Unmount: cleanup in the plugin, then the storage is cleared. */
  onUnmount(entry: MountEntry): Promise<void>;
  /** Reload the plugin (all mounts) or only some mounts. */
  reload(entries: MountEntry[] | "all"): Promise<void>;
  /** The version the mount's plugin reports (PluginVersion), "" if unversioned or not running. */
  runningVersion(entry: MountEntry): string;
}

/** What a sys handler answers: a status and a JSON body, or 204 without one. */
export interface HttpAnswer {
  status: number;
  body?: unknown;
}

export interface SysRequest {
  id: string;
  operation: Operation;
  method: string;
  /** The path under /v1/. */
  path: string;
  data: Record<string, unknown> | undefined;
  query: URLSearchParams;
  clientToken: string;
}

function ok(id: string, data: Record<string, unknown> | null, warnings?: string[]): HttpAnswer {
  return { status: 200, body: envelope(id, { data, warnings: warnings ?? null }, "system") };
}

const NO_CONTENT: HttpAnswer = { status: 204 };

export function healthBody(deps: Pick<SysDeps, "clusterId">): Record<string, unknown> {
  return {
    initialized: true,
    sealed: false,
    standby: false,
    performance_standby: false,
    replication_performance_mode: "disabled",
    replication_dr_mode: "disabled",
    server_time_utc: Math.floor(Date.now() / 1000),
    version: HOST_VERSION,
    cluster_name: "vault-cluster-transit-ts-dev",
    cluster_id: deps.clusterId,
  };
}

/** sys/health: unauthenticated; `activecode` may change the 200, as in Vault. */
export function sysHealth(query: URLSearchParams, deps: Pick<SysDeps, "clusterId">): HttpAnswer {
  let status = 200;
  const active = query.get("activecode");
  if (active !== null) {
    const n = Number(active);
    if (!Number.isInteger(n)) throw new HttpError(400, null);
    status = n;
  }
  return { status, body: healthBody(deps) };
}

export function mountInfo(entry: MountEntry, runningVersion: string): Record<string, unknown> {
  return {
    type: entry.type,
    description: entry.description,
    accessor: entry.accessor,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    options: entry.options,
    local: entry.local,
    seal_wrap: entry.sealWrap,
    external_entropy_access: false,
    uuid: entry.uuid,
    plugin_version: entry.pluginVersion,
    running_plugin_version: runningVersion,
    running_sha256: "",
    deprecation_status: "supported",
  };
}

function systemMountInfo(): Record<string, unknown> {
  return {
    type: "system",
    description: "system endpoints used for control, policy and debugging",
    accessor: "system_dev",
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    options: null,
    local: false,
    seal_wrap: true,
    external_entropy_access: false,
    uuid: "00000000-0000-0000-0000-000000000000",
    plugin_version: "",
    running_plugin_version: `v${HOST_VERSION}+builtin.vault`,
    running_sha256: "",
  };
}

function stringField(data: Record<string, unknown> | undefined, name: string): string {
  const v = data?.[name];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new HttpError(400, `${name}: expected a string`);
  return v;
}

function boolField(data: Record<string, unknown> | undefined, name: string): boolean {
  const v = data?.[name];
  if (v === undefined || v === null || v === "") return false;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new HttpError(400, `${name}: expected a boolean`);
}

function stringListField(data: Record<string, unknown> | undefined, name: string): string[] {
  const v = data?.[name];
  if (v === undefined || v === null || v === "") return [];
  if (typeof v === "string")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  throw new HttpError(400, `${name}: expected a list of strings`);
}

/** Handles a sys/ or auth/token/ request under /v1/ (already authenticated). */
export async function handleSys(req: SysRequest, deps: SysDeps): Promise<HttpAnswer> {
  const { path, operation: op, data } = req;

  if (path === "sys/seal-status" && op === "read") {
    return {
      status: 200,
      body: {
        type: "shamir",
        initialized: true,
        sealed: false,
        t: 1,
        n: 1,
        progress: 0,
        nonce: "",
        version: HOST_VERSION,
        build_date: deps.startedAt.toISOString(),
        migration: false,
        cluster_name: "vault-cluster-transit-ts-dev",
        cluster_id: deps.clusterId,
        recovery_seal: false,
        storage_type: "lmdb",
      },
    };
  }

  if (path === "sys/mounts" || path === "sys/mounts/") {
    if (op !== "read") throw new HttpError(405, "unsupported operation");
    const data: Record<string, unknown> = { "sys/": systemMountInfo() };
    for (const e of deps.mounts.list()) data[e.path] = mountInfo(e, deps.runningVersion(e));
    // Vault injects the table at the top level as well as under "data" (HTTPSysInjector).
    const body = envelope(req.id, { data }, "system");
    return { status: 200, body: { ...data, ...body } };
  }

  const tune = /^sys\/mounts\/(.+)\/tune\/?$/.exec(path);
  if (tune !== null) {
    const entry = deps.mounts.get(tune[1]!);
    if (entry === undefined)
      throw new HttpError(400, `cannot fetch sysview for path "${sanitizeMountPath(tune[1]!)}"`);
    if (op === "read") {
      return ok(req.id, {
        default_lease_ttl: 0,
        max_lease_ttl: 0,
        force_no_cache: false,
        description: entry.description,
        options: entry.options,
      });
    }
    if (op === "update") {
      const description = data?.["description"];
      if (typeof description === "string") await deps.mounts.update(entry.path, { description });
      return NO_CONTENT;
    }
    throw new HttpError(405, "unsupported operation");
  }

  const mount = /^sys\/mounts\/(.+)$/.exec(path);
  if (mount !== null) {
    const mountPath = sanitizeMountPath(mount[1]!);
    if (op === "read") {
      const entry = deps.mounts.get(mountPath);
      if (entry === undefined) throw new HttpError(400, `No secret engine mount at ${mountPath}`);
      return ok(req.id, mountInfo(entry, deps.runningVersion(entry)));
    }
    if (op === "update") return enableMount(mountPath, data, deps);
    if (op === "delete") {
      if (mountPath === "sys/") throw new HttpError(400, `cannot unmount "sys/"`);
      const entry = await deps.mounts.remove(mountPath);
      if (entry !== null) await deps.onUnmount(entry);
      return NO_CONTENT;
    }
    throw new HttpError(405, "unsupported operation");
  }

  if (path === "sys/plugins/reload/backend" && op === "update") {
    const plugin = stringField(data, "plugin");
    const mounts = stringListField(data, "mounts");
    if (plugin !== "" && mounts.length > 0)
      throw new HttpError(400, "plugin and mounts cannot be set at the same time");
    if (plugin === "" && mounts.length === 0) throw new HttpError(400, "plugin or mounts must be provided");
    if (plugin !== "") {
      if (plugin !== deps.pluginName && !deps.pluginTypes.includes(plugin)) {
        throw new HttpError(400, `plugin not found in the catalog: ${plugin}`);
      }
      await deps.reload("all");
    } else {
      const entries: MountEntry[] = [];
      for (const m of mounts) {
        const entry = deps.mounts.get(m);
        if (entry === undefined)
          throw new HttpError(400, `failed to reload mount "${sanitizeMountPath(m)}": no mount`);
        entries.push(entry);
      }
      await deps.reload(entries);
    }
    return ok(req.id, { reload_id: req.id });
  }

  if (path === "sys/rotate" && op === "update") {
    await deps.store.rotate();
    return NO_CONTENT;
  }

  if (path === "sys/key-status" && op === "read") {
    return ok(req.id, { ...deps.store.keyStatus() });
  }

  if (/^auth\/token\/lookup-self\/?$/.test(path) && (op === "read" || op === "update")) {
    return {
      status: 200,
      body: envelope(
        req.id,
        {
          data: {
            accessor: deps.token.accessor,
            creation_time: Math.floor(deps.startedAt.getTime() / 1000),
            creation_ttl: 0,
            display_name: "root",
            entity_id: "",
            expire_time: null,
            explicit_max_ttl: 0,
            id: req.clientToken,
            meta: null,
            num_uses: 0,
            orphan: true,
            path: "auth/token/root",
            policies: ["root"],
            renewable: false,
            ttl: 0,
            type: "service",
          },
        },
        "token",
      ),
    };
  }

  throw new HttpError(404, "unsupported path");
}

async function enableMount(
  mountPath: string,
  data: Record<string, unknown> | undefined,
  deps: SysDeps,
): Promise<HttpAnswer> {
  let type = stringField(data, "type");
  const description = stringField(data, "description");
  if (type === "") throw new HttpError(400, "backend type must be specified as a string");
  if (type === "plugin") {
    const config = data?.["config"];
    const fromConfig =
      config !== null && typeof config === "object"
        ? (config as Record<string, unknown>)["plugin_name"]
        : undefined;
    const name =
      typeof fromConfig === "string" && fromConfig !== "" ? fromConfig : stringField(data, "plugin_name");
    if (name === "") throw new HttpError(400, "plugin_name must be provided for plugin backend");
    type = name;
  }
  if (!deps.pluginTypes.includes(type)) throw new HttpError(400, `plugin not found in the catalog: ${type}`);
  const rawOptions = data?.["options"];
  let options: Record<string, string> | null = null;
  if (rawOptions !== undefined && rawOptions !== null) {
    if (typeof rawOptions !== "object" || Array.isArray(rawOptions))
      throw new HttpError(400, "options: expected a map");
    options = Object.fromEntries(Object.entries(rawOptions).map(([k, v]) => [k, String(v)]));
  }
  try {
    await deps.mounts.add({
      path: mountPath,
      type,
      description,
      options,
      local: boolField(data, "local"),
      sealWrap: boolField(data, "seal_wrap"),
      pluginVersion: stringField(data, "plugin_version"),
    });
  } catch (e) {
    if (e instanceof MountError) throw new HttpError(e.status, e.message);
    throw e;
  }
  return NO_CONTENT;
}
