/**
 * The dev host's PluginInstance over go-plugin clients. A plugin that
 * supports multiplexing (protocol 5) serves every mount from one process, as
 * in Vault. One that does not gets a process per mount, as Vault gives it;
 * the host's supervisor still sees one instance: the first process, whose
 * pid it reports, and any process dying ends the whole instance (the others
 * are stopped) so that the supervisor restarts everything on the next request.
 */
import type { MountBackend, MountOptions, PluginInstance } from "../protocol/mount-backend.ts";
import { PluginClient, type PluginClientOptions } from "./client.ts";
import type { PluginMount } from "./mount.ts";
import type { ExitStatus } from "./process.ts";

export class PluginHostInstance implements PluginInstance {
  private readonly extra = new Set<PluginClient>();
  private primaryUsed = false;
  private isDead = false;
  private stopping = false;
  private resolveExit!: (s: ExitStatus) => void;
  readonly exited: Promise<ExitStatus>;

  private constructor(
    private readonly primary: PluginClient,
    private readonly opts: PluginClientOptions,
  ) {
    this.exited = new Promise((r) => {
      this.resolveExit = r;
    });
    this.watch(primary);
  }

  static async start(opts: PluginClientOptions): Promise<PluginHostInstance> {
    return new PluginHostInstance(await PluginClient.start(opts), opts);
  }

  get pid(): number | undefined {
    return this.primary.pid;
  }

  get dead(): boolean {
    return this.isDead;
  }

  get multiplexed(): boolean {
    return this.primary.multiplexed;
  }

  /** Processes running for this instance (1 when multiplexed). */
  get processes(): number {
    return 1 + this.extra.size;
  }

  private watch(client: PluginClient): void {
    void client.exited.then((status) => {
      if (client !== this.primary && !this.extra.has(client)) return; // stopped on purpose
      this.extra.delete(client);
      if (this.isDead) return;
      this.isDead = true;
      this.resolveExit(status);
      if (!this.stopping) void this.stopAll();
    });
  }

  async mount(opts: MountOptions): Promise<MountBackend> {
    if (this.isDead) throw new Error("the plugin process is gone");
    if (this.primary.multiplexed || !this.primaryUsed) {
      this.primaryUsed = true;
      return this.primary.mount(opts);
    }
    // Not multiplexed: this mount gets its own process, stopped when the mount is cleaned up.
    const client = await PluginClient.start(this.opts);
    this.extra.add(client);
    this.watch(client);
    let mount: PluginMount;
    try {
      mount = await client.mount(opts);
    } catch (e) {
      this.extra.delete(client);
      await client.shutdown();
      throw e;
    }
    const cleanup = mount.cleanup.bind(mount);
    mount.cleanup = async () => {
      await cleanup();
      if (this.extra.delete(client)) await client.shutdown();
    };
    return mount;
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    await this.stopAll();
  }

  private async stopAll(): Promise<void> {
    const clients = [...this.extra, this.primary];
    this.extra.clear();
    await Promise.all(clients.map((c) => c.shutdown()));
  }
}
