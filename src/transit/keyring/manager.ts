import { internalError } from "../../framework/errors.ts";
import type { Storage } from "../../framework/storage.ts";
import { CorruptKeyringError, decodeKeyring, encodeKeyring } from "./codec.ts";
import type { Keyring } from "./keyring.ts";

export const POLICY_PREFIX = "policy/";

/** Told of every change the manager makes or hears of, so that indexes built on keyrings stay current. */
export interface KeyringWatcher {
  /** A keyring was written (after the write succeeded). */
  stored(ring: Keyring): void;
  removed(name: string): void;
  /** The stored keyring changed elsewhere (InvalidateKey): read it again before trusting what you know. */
  invalidated(name: string): void;
  invalidatedAll(): void;
}

/**
 * The lock manager and cache of keyrings (keysutil.LockManager).
 *
 * Readers get an immutable snapshot: a keyring in the cache is never changed
 * in place, so an encrypt can never see a half-written keyring and never
 * waits behind a writer's storage I/O; that is what Go's shared read lock
 * buys, without blocking. Writers (create, rotate, config, trim, delete,
 * restore) take the key's exclusive lock, build a new keyring, write it to
 * storage and only then publish it: a failed write leaves the cache as it was.
 */
export class KeyringManager {
  private readonly cache = new Map<string, Keyring>();
  private readonly generations = new Map<string, number>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly watchers: KeyringWatcher[] = [];
  private size: number;

  /** `cacheSize` 0 means unlimited, as Vault's transit cache. */
  constructor(cacheSize = 0) {
    this.size = cacheSize;
  }

  watch(watcher: KeyringWatcher): void {
    this.watchers.push(watcher);
  }

  get cacheSize(): number {
    return this.size;
  }

  /** Resizes the cache (cache-config); a smaller size evicts the least recently used. */
  setCacheSize(size: number): void {
    this.size = size;
    this.evict();
  }

  /** The current keyring, from the cache or storage; null when the key does not exist. */
  async get(storage: Storage, name: string): Promise<Keyring | null> {
    const cached = this.cache.get(name);
    if (cached !== undefined) {
      if (this.size > 0) {
        this.cache.delete(name);
        this.cache.set(name, cached);
      }
      return cached;
    }
    const generation = this.generation(name);
    const entry = await storage.get(POLICY_PREFIX + name);
    if (entry === null) return null;
    let ring: Keyring;
    try {
      ring = decodeKeyring(name, entry.value);
    } catch (e) {
      // Reported, never served: a keyring that does not decode is not silently replaced either.
      if (e instanceof CorruptKeyringError) throw internalError(e.message);
      throw e;
    }
    if (this.generation(name) === generation) this.remember(name, ring);
    return ring;
  }

  /** Runs `fn` holding the key's exclusive lock; calls for the same name run one at a time. */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.locks.set(name, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(name) === tail) this.locks.delete(name);
    }
  }

  /** Writes a keyring, then publishes it. Call with the key's exclusive lock held. */
  async store(storage: Storage, ring: Keyring): Promise<void> {
    this.bump(ring.name);
    await storage.put({ key: POLICY_PREFIX + ring.name, value: encodeKeyring(ring) });
    this.remember(ring.name, ring);
    for (const w of this.watchers) w.stored(ring);
  }

  /** Deletes a keyring from storage and the cache. Call with the key's exclusive lock held. */
  async remove(storage: Storage, name: string): Promise<void> {
    this.bump(name);
    this.cache.delete(name);
    await storage.delete(POLICY_PREFIX + name);
    this.bump(name);
    for (const w of this.watchers) w.removed(name);
  }

  /** Forgets a cached keyring whose storage entry changed elsewhere (InvalidateKey). */
  invalidate(name: string): void {
    this.bump(name);
    this.cache.delete(name);
    for (const w of this.watchers) w.invalidated(name);
  }

  invalidateAll(): void {
    for (const name of this.cache.keys()) this.bump(name);
    this.cache.clear();
    for (const w of this.watchers) w.invalidatedAll();
  }

  get cachedCount(): number {
    return this.cache.size;
  }

  private remember(name: string, ring: Keyring): void {
    this.cache.delete(name);
    this.cache.set(name, ring);
    this.evict();
  }

  private evict(): void {
    if (this.size <= 0) return;
    while (this.cache.size > this.size) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  private generation(name: string): number {
    return this.generations.get(name) ?? 0;
  }

  private bump(name: string): void {
    this.generations.set(name, this.generation(name) + 1);
  }
}
