/**
 * What the dev host needs from a mounted plugin backend: the calls Vault makes
 * on a logical.Backend through the plugin protocol. The go-plugin client in
 * src/pluginhost implements it (PluginHostInstance, PluginMount); the host
 * (src/host) consumes it; tests of the HTTP mapping use a stand-in. It lives
 * below both so that the host depends on the client and never the reverse.
 */
import type { Operation } from "../framework/request.ts";
import type { Storage } from "../framework/storage.ts";

/** A backend's error as it crosses the plugin protocol (pb.ProtoError). */
export interface BackendError {
  /** ErrorKind numbering (pb.ProtoError err_type). */
  kind: number;
  message: string;
  /** HTTP status for ErrorKind.Coded. */
  code?: number;
}

export interface BackendSecret {
  leaseId?: string;
  renewable?: boolean;
  /** Seconds. */
  ttl?: number;
}

/** logical.Response, as much of it as a secrets engine fills. */
export interface BackendResponse {
  data?: Record<string, unknown> | null;
  warnings?: string[] | null;
  /** Answer with this status and the usual envelope (the framework's LogicalResponse.statusCode). */
  statusCode?: number;
  redirect?: string;
  headers?: Record<string, string[]>;
  secret?: BackendSecret | null;
}

export interface HostRequest {
  id: string;
  operation: Operation;
  /** Relative to the mount, no leading slash. */
  path: string;
  data: Record<string, unknown> | undefined;
  mountPoint: string;
  mountType: string;
  /** The mount's accessor (Vault's Request.MountAccessor). */
  mountAccessor?: string;
  headers: Record<string, string[]>;
  /** The caller's token as the host received it; the plugin client passes on only a salted hash of it. */
  clientToken: string;
}

export interface RequestResult {
  response: BackendResponse | null;
  error: BackendError | null;
}

export interface ExistenceResult {
  checkFound: boolean;
  exists: boolean;
  error?: BackendError | null;
}

/** One mount of the plugin. */
export interface MountBackend {
  handleRequest(req: HostRequest): Promise<RequestResult>;
  handleExistenceCheck(req: HostRequest): Promise<ExistenceResult>;
  invalidateKey?(key: string): Promise<void>;
  cleanup(): Promise<void>;
  /** The version the plugin reports for itself (logical PluginVersion); "" when unversioned. */
  readonly runningVersion?: string;
}

export interface MountOptions {
  storage: Storage;
  backendUUID: string;
  mountPoint: string;
  config: Record<string, string>;
  /** SystemView.LocalMount for this mount. */
  local?: boolean;
}

/** A running plugin process: mounts are set up in it; it may die. */
export interface PluginInstance {
  mount(opts: MountOptions): Promise<MountBackend>;
  /** Resolves when the process has exited, with why. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** True once the process is gone. */
  readonly dead: boolean;
  /** Graceful stop: Cleanup, GRPCController.Shutdown, then a kill if it lingers. */
  shutdown(): Promise<void>;
  readonly pid: number | undefined;
}

export type PluginLauncher = () => Promise<PluginInstance>;
