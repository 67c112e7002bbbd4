import { loadProjectModule } from "../lib/bundle.ts";
import { SkipLayer } from "../lib/context.ts";

/**
 * The transit engine as the engine engineers export it (src/transit/backend.ts
 * `createTransitBackend`) on in-memory storage, loaded lazily so a layer can
 * skip with a clear line while the engine is not there yet.
 */
export interface EngineResponse {
  data?: Record<string, unknown>;
  warnings?: string[];
  statusCode?: number;
}

export interface EngineBackend {
  handleRequest(req: {
    operation: string;
    path: string;
    data?: Record<string, unknown>;
    storage: unknown;
  }): Promise<EngineResponse | null>;
}

export interface Engine {
  backend: EngineBackend;
  storage: unknown;
  /** An update request; throws with the engine's message on an error response. */
  write(path: string, data: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Whether a path exists in this engine (sign/ and hmac/ land later than encrypt/). */
  hasPath(path: string, probe: Record<string, unknown>): Promise<boolean>;
  /** Another engine (a cold cache) on the same storage, as after a plugin restart. */
  fresh(): EngineBackend;
}

type BackendModule = {
  createTransitBackend?: (options?: Record<string, unknown>) => EngineBackend;
};
type StorageModule = { InMemoryStorage?: new () => unknown };

export async function loadEngine(root: string, tmp: string): Promise<Engine> {
  const mod = await loadProjectModule<BackendModule>(root, "src/transit/backend.ts", tmp);
  const storageMod = await loadProjectModule<StorageModule>(root, "src/framework/storage.ts", tmp);
  if (mod === null || storageMod === null) throw new SkipLayer("src/transit/backend.ts not available yet");
  if (typeof mod.createTransitBackend !== "function" || storageMod.InMemoryStorage === undefined) {
    throw new SkipLayer("createTransitBackend / InMemoryStorage not exported yet");
  }
  const backend = mod.createTransitBackend();
  const storage = new storageMod.InMemoryStorage();
  const write = async (path: string, data: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const resp = await backend.handleRequest({ operation: "update", path, data, storage });
    const out = resp?.data ?? {};
    if (typeof out["error"] === "string" && out["error"] !== "") throw new Error(`${path}: ${out["error"]}`);
    return out;
  };
  const hasPath = async (path: string, probe: Record<string, unknown>): Promise<boolean> => {
    try {
      await write(path, probe);
      return true;
    } catch (e) {
      const msg = (e as Error).message;
      // Vault's "unsupported path" (404) is how a missing route shows; anything else is a real error.
      if (/unsupported path|no handler|not found for path/i.test(msg)) return false;
      throw e;
    }
  };
  const create = mod.createTransitBackend;
  return { backend, storage, write, hasPath, fresh: () => create() };
}

export const b64 = (data: Uint8Array): string =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
