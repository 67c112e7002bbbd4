/**
 * Vault's rollback manager: every interval, operation "rollback" on path ""
 * of every mount (transit's periodic function rotates keys whose
 * auto_rotate_period has passed). One pass at a time; a failure is logged
 * and the next mount still gets its turn.
 */
import type { Logger } from "../util/logger.ts";
import { mountRequest } from "./mount-request.ts";
import type { MountTable } from "./mounts.ts";
import { errorText, type PluginSupervisor } from "./supervisor.ts";

export class RollbackTicker {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;

  constructor(
    private readonly mounts: MountTable,
    private readonly supervisor: PluginSupervisor,
    private readonly logger: Logger,
  ) {}

  /** Ticks every `seconds` (0 or less: never). */
  start(seconds: number): void {
    if (seconds <= 0) return;
    this.timer = setInterval(() => void this.tick(), seconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (const entry of this.mounts.list()) {
        try {
          const backend = await this.supervisor.backend(entry);
          const result = await backend.handleRequest(mountRequest(entry, "rollback", "", undefined, {}, ""));
          if (result.error !== null) {
            this.logger.warn("rollback failed", { path: entry.path, error: result.error.message });
          }
        } catch (e) {
          this.logger.warn("rollback failed", { path: entry.path, error: errorText(e) });
        }
      }
    } finally {
      this.running = false;
    }
  }
}
