/**
 * Keeps the plugin process running as Vault does: one process serves every
 * mount (the multiplexed plugin model); each mount is set up in it on first
 * use. When the process dies, the host logs why, forgets its mounts and, on
 * the next request, starts a new process and sets the mounts up again.
 */
import type { Storage } from "../framework/storage.ts";
import type { MountBackend, PluginInstance, PluginLauncher } from "../protocol/mount-backend.ts";
import type { Logger } from "../util/logger.ts";
import type { MountEntry } from "./mounts.ts";

export class PluginUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PluginUnavailableError";
  }
}

export class PluginSupervisor {
  private instance: PluginInstance | null = null;
  private starting: Promise<PluginInstance> | null = null;
  /** Mounted backends of the current instance, by mount UUID. */
  private backends = new Map<string, Promise<MountBackend>>();
  /** The same, once set up. */
  private ready = new Map<string, MountBackend>();
  private stopped = false;
  /** Processes started so far (1 after the first start). */
  starts = 0;

  constructor(
    private readonly launch: PluginLauncher,
    private readonly storageFor: (entry: MountEntry) => Storage,
    private readonly pluginName: string,
    private readonly logger: Logger,
  ) {}

  get pid(): number | undefined {
    return this.instance?.pid;
  }

  /** The running process, started (or restarted) if there is none. */
  private ensureInstance(): Promise<PluginInstance> {
    if (this.stopped) return Promise.reject(new PluginUnavailableError("the host is shutting down"));
    if (this.instance !== null && !this.instance.dead) return Promise.resolve(this.instance);
    if (this.starting !== null) return this.starting;
    const restart = this.starts > 0;
    this.starting = (async () => {
      if (restart) this.logger.info("restarting plugin process", { plugin: this.pluginName });
      let inst: PluginInstance;
      try {
        inst = await this.launch();
      } catch (e) {
        this.logger.error("plugin process failed to start", { plugin: this.pluginName, error: errorText(e) });
        throw new PluginUnavailableError(`plugin ${this.pluginName} failed to start`);
      }
      this.starts++;
      this.instance = inst;
      this.backends = new Map();
      this.ready = new Map();
      this.logger.info("plugin process started", { plugin: this.pluginName, pid: inst.pid });
      void inst.exited.then(({ code, signal }) => {
        if (this.instance === inst) {
          this.backends = new Map();
          this.ready = new Map();
          if (!this.stopped) {
            this.logger.warn("plugin process exited; it will be restarted on the next request", {
              plugin: this.pluginName,
              pid: inst.pid,
              code,
              signal,
            });
          }
        }
      });
      return inst;
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** The mount's backend in the running process, setting it up (and the process) if needed. */
  async backend(entry: MountEntry): Promise<MountBackend> {
    const inst = await this.ensureInstance();
    let mounted = this.backends.get(entry.uuid);
    if (mounted === undefined) {
      mounted = inst.mount({
        storage: this.storageFor(entry),
        backendUUID: entry.uuid,
        mountPoint: entry.path,
        config: { plugin_name: this.pluginName, plugin_type: "secret", plugin_version: entry.pluginVersion },
        local: entry.local,
      });
      this.backends.set(entry.uuid, mounted);
      mounted.then(
        (b) => {
          if (this.backends.get(entry.uuid) === mounted) this.ready.set(entry.uuid, b);
          this.logger.debug("mount set up in plugin", { path: entry.path });
        },
        (e) => {
          if (this.backends.get(entry.uuid) === mounted) this.backends.delete(entry.uuid);
          this.logger.error("mount setup failed", { path: entry.path, error: errorText(e) });
        },
      );
    }
    try {
      return await mounted;
    } catch {
      throw new PluginUnavailableError(
        `mount ${entry.path} could not be set up in plugin ${this.pluginName}`,
      );
    }
  }

  /** The plugin's version as the mount's backend reported it; "" if none or not set up. */
  runningVersion(entry: MountEntry): string {
    const b = this.ready.get(entry.uuid);
    return b !== undefined && this.backends.has(entry.uuid) ? (b.runningVersion ?? "") : "";
  }

  /** Cleanup of one mount (unmount, reload); its next request sets it up again. */
  async release(entry: MountEntry): Promise<void> {
    const mounted = this.backends.get(entry.uuid);
    if (mounted === undefined) return;
    this.backends.delete(entry.uuid);
    this.ready.delete(entry.uuid);
    try {
      await (await mounted).cleanup();
    } catch (e) {
      this.logger.warn("mount cleanup failed", { path: entry.path, error: errorText(e) });
    }
  }

  /** Vault's plugin reload: Cleanup every mount, stop the process; the next request starts a new one. */
  async reloadAll(): Promise<void> {
    if (this.starting !== null) await this.starting.catch(() => undefined);
    const inst = this.instance;
    const backends = [...this.backends.values()];
    this.backends = new Map();
    this.ready = new Map();
    this.instance = null;
    if (inst === null) return;
    await shutdownInstance(inst, backends, this.logger);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.starting !== null) await this.starting.catch(() => undefined);
    const inst = this.instance;
    const backends = [...this.backends.values()];
    this.backends = new Map();
    this.ready = new Map();
    if (inst !== null) await shutdownInstance(inst, backends, this.logger);
  }
}

async function shutdownInstance(inst: PluginInstance, backends: Promise<MountBackend>[], logger: Logger) {
  if (!inst.dead) {
    for (const b of backends) {
      try {
        await (await b).cleanup();
      } catch (e) {
        logger.debug("cleanup before shutdown failed", { error: errorText(e) });
      }
    }
  }
  try {
    await inst.shutdown();
  } catch (e) {
    logger.warn("plugin shutdown failed", { error: errorText(e) });
  }
}

/** An error's message only: never an object dump that might carry data. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
