import type { Storage } from "../framework/storage.ts";
import type { Keyring } from "./keyring/keyring.ts";
import { POLICY_PREFIX } from "./keyring/manager.ts";
import { rotated } from "./keyring/operations.ts";
import type { TransitState } from "./state.ts";

/**
 * Automatic rotation (transit periodicFunc / autoRotateKeys): a key whose
 * latest version is older than its auto_rotate_period rotates at the next
 * rollback tick (Vault calls the periodic function once a minute).
 *
 * Vault rescans every key once an hour and keeps a heap of those due within
 * that hour. Here the heap holds every key with a period, built by one scan
 * on the first tick (and again after InvalidateKey of everything), then kept
 * current from the keyring manager's writes and invalidations: a write
 * carries its new keyring, an invalidation marks the name to be read again
 * at the next tick. So a tick costs O(log n) per key that is due or changed,
 * nothing for the keys that are not, and no storage listing.
 *
 * Cluster: as Vault's transit, nothing here runs on a DR secondary or a
 * performance standby, nor on a performance secondary unless the mount is
 * local (SystemView ReplicationState and LocalMount); those nodes receive
 * the primary's rotations through replication and InvalidateKey.
 */

/** consts.ReplicationState bits (Vault/OpenBao sdk/helper/consts/replication.go; iota is 5 at the first). */
export const REPLICATION_PERFORMANCE_PRIMARY = 1 << 5;
export const REPLICATION_PERFORMANCE_SECONDARY = 1 << 6;
export const REPLICATION_DR_PRIMARY = 1 << 8;
export const REPLICATION_DR_SECONDARY = 1 << 9;
export const REPLICATION_PERFORMANCE_STANDBY = 1 << 14;

/** The SystemView calls periodic work asks before it writes. */
export interface ClusterView {
  replicationState(): Promise<number>;
  localMount(): Promise<boolean>;
}

/** Whether this node may write in periodic work (Vault's autoRotateKeys guard). */
export async function periodicWritesAllowed(view: ClusterView | undefined): Promise<boolean> {
  if (view === undefined) return true;
  const state = await view.replicationState();
  if ((state & (REPLICATION_DR_SECONDARY | REPLICATION_PERFORMANCE_STANDBY)) !== 0) return false;
  if ((state & REPLICATION_PERFORMANCE_SECONDARY) !== 0 && !(await view.localMount())) return false;
  return true;
}

/** When a key falls due, by Vault's rule (after created + period), with the clock-skew rule below. */
export function dueAt(ring: Keyring, now: number): number | null {
  if (ring.autoRotatePeriod <= 0 || ring.softDeleted === true) return null;
  if (ring.imported && !ring.allowImportedKeyRotation) return null;
  const latest = ring.versions.get(ring.latestVersion);
  if (latest === undefined) return null;
  const created = Date.parse(latest.creationTime);
  const period = ring.autoRotatePeriod * 1000;
  if (Number.isNaN(created)) return null;
  // A latest version dated more than a whole period ahead of the clock was made while the
  // clock ran ahead and has since been corrected. Going by its date alone (as Vault does),
  // rotation would stall for as long as the clock had been wrong: rotate now instead, so the
  // schedule starts again from the corrected clock.
  if (created - now > period) return now;
  // Vault rotates when now is after created + period: due one millisecond later.
  return created + period + 1;
}

interface Entry {
  at: number;
  name: string;
}

/** A binary min-heap on `at`, with stale entries skipped on pop (the map holds each name's live time). */
class DueHeap {
  private readonly items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  clear(): void {
    this.items.length = 0;
  }

  peek(): Entry | undefined {
    return this.items[0];
  }

  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as Entry).at <= e.at) break;
      a[i] = a[p] as Entry;
      i = p;
    }
    a[i] = e;
  }

  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && (a[r] as Entry).at < (a[l] as Entry).at ? r : l;
      if ((a[c] as Entry).at >= last.at) break;
      a[i] = a[c] as Entry;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

export class AutoRotator {
  /** Each indexed key's due time; the heap may hold older times for a name, skipped on pop. */
  private readonly due = new Map<string, number>();
  private readonly heap = new DueHeap();
  /** Names written or invalidated elsewhere: read again at the next tick. */
  private readonly stale = new Set<string>();
  private built = false;
  private lastNow = Number.NaN;
  private running: Promise<void> | null = null;

  constructor(
    private readonly t: TransitState,
    private readonly view?: ClusterView,
  ) {
    t.keyrings.watch({
      stored: (ring) => this.index(ring.name, ring),
      removed: (name) => this.index(name, null),
      invalidated: (name) => {
        this.stale.add(name);
      },
      invalidatedAll: () => this.reset(),
    });
  }

  /** Keys in the due-time index (for tests and metrics). */
  get indexedCount(): number {
    return this.due.size;
  }

  /** Forgets the index; the next tick rebuilds it from storage. */
  reset(): void {
    this.built = false;
    this.due.clear();
    this.heap.clear();
    this.stale.clear();
  }

  tick(storage: Storage): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.run(storage).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private index(name: string, ring: Keyring | null): void {
    this.stale.delete(name);
    const at = ring === null ? null : dueAt(ring, this.t.now());
    if (at === null) {
      this.due.delete(name);
      return;
    }
    if (this.due.get(name) === at) return;
    this.due.set(name, at);
    this.heap.push({ at, name });
  }

  private async load(storage: Storage, name: string): Promise<void> {
    this.index(name, await this.t.keyrings.get(storage, name));
  }

  private async run(storage: Storage): Promise<void> {
    if (!(await periodicWritesAllowed(this.view))) return;
    const now = this.t.now();
    // A clock that went backwards can make a due time computed earlier wrong in both
    // directions (see dueAt): recompute every key's.
    if (now < this.lastNow - 60_000) this.reset();
    if (!Number.isNaN(now)) this.lastNow = now;
    const errors: string[] = [];
    const attempt = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    };
    if (!this.built) {
      this.built = true;
      for (const name of await storage.list(POLICY_PREFIX)) {
        if (!name.endsWith("/")) await attempt(name, () => this.load(storage, name));
      }
    }
    for (const name of [...this.stale]) await attempt(name, () => this.load(storage, name));

    // Entries put back after the loop: a failed rotation stays due (the next tick tries again),
    // and a key rotates at most once a tick, whatever the clock says of its new version.
    const later: Entry[] = [];
    const done = new Set<string>();
    for (let top = this.heap.peek(); top !== undefined && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (this.due.get(top.name) !== top.at) continue;
      if (done.has(top.name)) {
        later.push(top);
        continue;
      }
      done.add(top.name);
      let ok = false;
      await attempt(top.name, async () => {
        await this.rotateIfDue(storage, top.name);
        ok = true;
      });
      if (!ok && this.due.get(top.name) === top.at) later.push(top);
    }
    for (const e of later) this.heap.push(e);
    if (errors.length > 0)
      throw new Error(`auto-rotation failed for ${errors.length} key(s): ${errors.join("; ")}`);
  }

  /** Rotates `name` if it is due now; re-reads it under the key's lock. */
  async rotateIfDue(storage: Storage, name: string): Promise<boolean> {
    return this.t.keyrings.exclusive(name, async () => {
      const ring = await this.t.keyrings.get(storage, name);
      const now = this.t.now();
      const at = ring === null ? null : dueAt(ring, now);
      if (ring === null || at === null || !(now >= at)) {
        this.index(name, ring);
        return false;
      }
      this.t.logger.debug("automatically rotating key", { key: name });
      // store() publishes the new keyring, which re-indexes the key with its next due time; the
      // entry just popped is gone, so make sure one is queued even when that time is unchanged
      // (versions made within the same millisecond).
      await this.t.keyrings.store(storage, await rotated(ring));
      const next = this.due.get(name);
      if (next !== undefined) this.heap.push({ at: next, name });
      return true;
    });
  }
}
