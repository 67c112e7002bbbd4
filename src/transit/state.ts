import type { Storage } from "../framework/storage.ts";
import type { Logger } from "../util/logger.ts";
import type { Engine } from "./keyring/backup-numbering.ts";
import { KeyringManager } from "./keyring/manager.ts";

export const CONFIG_KEYS_PATH = "config/keys";
export const CONFIG_CACHE_PATH = "config/cache";
export const MIN_CACHE_SIZE = 10;

export interface KeysConfig {
  disable_upsert: boolean;
}

/** What every transit path shares: the keyring manager and the mount's logger. */
export class TransitState {
  readonly keyrings: KeyringManager;
  readonly logger: Logger;
  /** The engine hosting the plugin, whose built-in transit our backups must restore into. */
  hostEngine: Engine = "vault";
  /** Wall clock for auto-rotation; tests move it. */
  now: () => number = Date.now;

  constructor(logger: Logger, cacheSize = 0) {
    this.logger = logger;
    this.keyrings = new KeyringManager(cacheSize);
  }

  async readKeysConfig(storage: Storage): Promise<KeysConfig> {
    const entry = await storage.get(CONFIG_KEYS_PATH);
    if (entry === null) return { disable_upsert: false };
    const parsed = JSON.parse(Buffer.from(entry.value).toString("utf8")) as Partial<KeysConfig>;
    return { disable_upsert: parsed.disable_upsert === true };
  }

  async readCacheSize(storage: Storage): Promise<number> {
    const entry = await storage.get(CONFIG_CACHE_PATH);
    if (entry === null) return 0;
    const parsed = JSON.parse(Buffer.from(entry.value).toString("utf8")) as { size?: unknown };
    return typeof parsed.size === "number" ? parsed.size : 0;
  }
}

export function jsonEntry(key: string, value: unknown): { key: string; value: Uint8Array } {
  return { key, value: Buffer.from(JSON.stringify(value), "utf8") };
}
