import type { Storage } from "../framework/storage.ts";
import { POLICY_PREFIX } from "./keyring/manager.ts";
import { rotated } from "./keyring/operations.ts";
import type { TransitState } from "./state.ts";

const CHECK_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Rotates keys whose latest version is older than their auto_rotate_period
 * (transit's periodicFunc / autoRotateKeys). Vault calls the periodic
 * function on every rollback tick; like Vault, the keys are scanned at most
 * once an hour, so a key rotates within an hour after it falls due.
 */
export class AutoRotator {
  private checkAfter = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly t: TransitState) {}

  tick(storage: Storage): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.scan(storage).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Forgets when the last scan ran, so the next tick scans (used after a clock jump backwards). */
  reset(): void {
    this.checkAfter = 0;
  }

  private async scan(storage: Storage): Promise<void> {
    const now = this.t.now();
    // A clock that jumped backwards must not postpone rotation by the size of the jump.
    if (now < this.checkAfter && this.checkAfter - now <= CHECK_INTERVAL_MS) return;
    this.checkAfter = now + CHECK_INTERVAL_MS;
    const errors: string[] = [];
    for (const name of await storage.list(POLICY_PREFIX)) {
      try {
        await this.rotateIfDue(storage, name);
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    }
    if (errors.length > 0)
      throw new Error(`auto-rotation failed for ${errors.length} key(s): ${errors.join("; ")}`);
  }

  async rotateIfDue(storage: Storage, name: string): Promise<boolean> {
    return this.t.keyrings.exclusive(name, async () => {
      const ring = await this.t.keyrings.get(storage, name);
      if (ring === null || ring.autoRotatePeriod === 0) return false;
      if (ring.imported && !ring.allowImportedKeyRotation) return false;
      const latest = ring.versions.get(ring.latestVersion);
      if (latest === undefined) return false;
      const created = Date.parse(latest.creationTime);
      const period = ring.autoRotatePeriod * 1000;
      const now = this.t.now();
      // A latest version dated more than a whole period ahead of the clock was made while the
      // clock ran ahead and has since been corrected. Going by its date alone (as Vault does),
      // rotation would stall for as long as the clock had been wrong: rotate now instead, so the
      // schedule starts again from the corrected clock.
      const madeAhead = created - now > period;
      if (!(now > created + period) && !madeAhead) return false;
      this.t.logger.debug("automatically rotating key", { key: name });
      await this.t.keyrings.store(storage, await rotated(ring));
      return true;
    });
  }
}
