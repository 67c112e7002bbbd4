/**
 * The dev host: Vault's part on one machine. It opens the encrypted store,
 * keeps the mount table, supervises the plugin process and serves Vault's
 * HTTP API, routing /v1/<mount>/<path> to the plugin as Vault's router does.
 * It links no engine code: every logical request crosses the plugin protocol.
 *
 * This file is the lifecycle (start: pid file, unseal key, store, mounts,
 * plugin, listener, rollback ticks; stop in the reverse order). Requests are
 * handled by router.ts, the listener is http/server.ts, the rollback ticks
 * rollback.ts, the pid file pidfile.ts.
 */
import { existsSync, mkdirSync } from "node:fs";
import { hash } from "../crypto/hash.ts";
import type { PluginLauncher } from "../protocol/mount-backend.ts";
import type { Logger } from "../util/logger.ts";
import type { HostConfig } from "./config.ts";
import { HttpListener } from "./http/server.ts";
import { MountTable, storagePrefix } from "./mounts.ts";
import { refuseIfInUse, removePidFile, writePidFile } from "./pidfile.ts";
import { RollbackTicker } from "./rollback.ts";
import { HostRouter } from "./router.ts";
import { StartupError } from "./startup-error.ts";
import { EncryptedStore, storeExists } from "./storage/store.ts";
import { loadUnsealKey } from "./storage/unseal-key.ts";
import { errorText, PluginSupervisor } from "./supervisor.ts";
import { HOST_VERSION, type SysDeps } from "./sys.ts";
import { generateRootToken, RootToken } from "./token.ts";

export { StartupError } from "./startup-error.ts";

export const UNSEAL_KEY_ENV = "TRANSIT_DEV_UNSEAL_KEY";
const SHUTDOWN_GRACE_MS = 10_000;

export interface DevHostOptions {
  config: HostConfig;
  launcher: PluginLauncher;
  logger: Logger;
}

export interface StartInfo {
  /** http(s)://host:port */
  address: string;
  /** The root token, only when the host made it (null when VAULT_DEV_ROOT_TOKEN_ID set it). */
  generatedRootToken: string | null;
  rootToken: string;
  unsealKeyOrigin: "environment" | "file" | "generated";
  mounts: string[];
}

/** Opens the store, refusing a wrong or missing unseal key before anything is written. */
async function openStore(
  config: HostConfig,
): Promise<{ store: EncryptedStore; origin: StartInfo["unsealKeyOrigin"] }> {
  const exists = storeExists(config.dataDir);
  let unseal: ReturnType<typeof loadUnsealKey>;
  try {
    if (!exists && !existsSync(config.dataDir)) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    unseal = loadUnsealKey({
      file: config.unsealKeyFile,
      fromEnv: config.unsealKey,
      storeExists: exists,
      envName: UNSEAL_KEY_ENV,
    });
  } catch (e) {
    throw new StartupError(errorText(e));
  }
  try {
    return { store: await EncryptedStore.open(config.dataDir, unseal.key), origin: unseal.origin };
  } catch (e) {
    throw new StartupError(errorText(e));
  } finally {
    unseal.key.fill(0);
  }
}

export class DevHost {
  private stopping: Promise<void> | null = null;
  private readonly listener: HttpListener;
  private readonly rollback: RollbackTicker;
  readonly startedAt = new Date();
  readonly pluginTypes: readonly string[];

  private constructor(
    readonly config: HostConfig,
    private readonly logger: Logger,
    readonly store: EncryptedStore,
    readonly mounts: MountTable,
    private readonly token: RootToken,
    readonly supervisor: PluginSupervisor,
    private readonly clusterId: string,
  ) {
    this.pluginTypes = [...new Set(["transit", config.pluginName])];
    const router = new HostRouter({
      maxRequestSize: config.maxRequestSize,
      token,
      clusterId,
      mounts,
      supervisor,
      logger,
      sysDeps: () => this.sysDeps(),
    });
    this.listener = new HttpListener(config, (req, res) => router.handle(req, res), logger);
    this.rollback = new RollbackTicker(mounts, supervisor, logger);
  }

  /** Opens the store (refusing a wrong or missing unseal key before anything is written), mounts, listens. */
  static async start(opts: DevHostOptions): Promise<{ host: DevHost; info: StartInfo }> {
    const { config, logger } = opts;
    refuseIfInUse(config.dataDir);
    const { store, origin } = await openStore(config);
    writePidFile(config.dataDir);
    try {
      const mounts = await MountTable.load(store);
      const rootToken = config.rootTokenId ?? generateRootToken();
      const clusterId = hash("sha2-256", Buffer.from(config.dataDir, "utf8")).toString("hex").slice(0, 32);
      const supervisor = new PluginSupervisor(
        opts.launcher,
        (entry) => store.view(storagePrefix(entry)),
        config.pluginName,
        logger.named("plugin"),
      );
      const host = new DevHost(
        config,
        logger,
        store,
        mounts,
        new RootToken(rootToken),
        supervisor,
        clusterId,
      );
      await host.mountConfigured();
      await host.warmUp();
      await host.listener.listen();
      host.rollback.start(config.rollbackIntervalSeconds);
      return {
        host,
        info: {
          address: host.address,
          generatedRootToken: config.rootTokenId === undefined ? rootToken : null,
          rootToken,
          unsealKeyOrigin: origin,
          mounts: mounts.list().map((e) => e.path),
        },
      };
    } catch (e) {
      await store.close().catch(() => undefined);
      removePidFile(config.dataDir);
      throw e;
    }
  }

  /** The mounts the configuration asks for (transit/ by default) that the table lacks. */
  private async mountConfigured(): Promise<void> {
    for (const m of this.config.mounts) {
      if (this.mounts.get(m) === undefined) {
        const entry = await this.mounts.add({ path: m, type: "transit", description: "transit (dev host)" });
        this.logger.info("mounted", { path: entry.path, type: entry.type });
      }
    }
  }

  /** Starts the plugin now so that a broken plugin shows at start, not at the first request. */
  private async warmUp(): Promise<void> {
    for (const entry of this.mounts.list()) {
      try {
        await this.supervisor.backend(entry);
      } catch (e) {
        this.logger.error("plugin not ready; requests will retry", { path: entry.path, error: errorText(e) });
        break;
      }
    }
  }

  get address(): string {
    return this.listener.address;
  }

  /** Vault's rollback manager: operation "rollback" on path "" of every mount. */
  rollbackTick(): Promise<void> {
    return this.rollback.tick();
  }

  private sysDeps(): SysDeps {
    return {
      store: this.store,
      mounts: this.mounts,
      token: this.token,
      pluginName: this.config.pluginName,
      pluginTypes: this.pluginTypes,
      clusterId: this.clusterId,
      startedAt: this.startedAt,
      runningVersion: (entry) => this.supervisor.runningVersion(entry),
      onUnmount: async (entry) => {
        await this.supervisor.release(entry);
        const removed = await this.store.deletePrefix(storagePrefix(entry));
        this.logger.info("unmounted", { path: entry.path, entries_removed: removed });
      },
      reload: async (entries) => {
        if (entries === "all") {
          this.logger.info("reloading plugin", { plugin: this.config.pluginName });
          await this.supervisor.reloadAll();
          for (const entry of this.mounts.list()) await this.supervisor.backend(entry);
        } else {
          for (const entry of entries) {
            this.logger.info("reloading mount", { path: entry.path });
            await this.supervisor.release(entry);
            await this.supervisor.backend(entry);
          }
        }
      },
    };
  }

  /** Graceful stop: no new requests, in-flight ones finish, mounts cleaned up, plugin shut down, store closed. */
  stop(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = (async () => {
      this.rollback.stop();
      await this.listener.close(SHUTDOWN_GRACE_MS);
      await this.supervisor.stop();
      await this.store.close();
      removePidFile(this.config.dataDir);
    })();
    return this.stopping;
  }

  static get version(): string {
    return HOST_VERSION;
  }
}
