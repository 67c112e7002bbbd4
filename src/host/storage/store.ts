/**
 * The dev host's embedded store: one LMDB file (lmdb-js) whose values are all
 * sealed by the barrier (./barrier.ts). Layout of the key space:
 *
 *   core/seal            the root key, sealed by the unseal key (AES-256-GCM, AAD "core/seal")
 *   core/keyring         the barrier keyring, sealed by the root key (AAD "core/keyring")
 *   core/<anything else> host records (mount table...), barrier-sealed
 *   logical/<uuid>/...   one mount's storage, barrier-sealed, AAD = the full path
 *
 * A path longer than LMDB's key limit is stored under a bounded key that
 * keeps its prefix, with the full path beside the value (./long-paths.ts).
 *
 * Durability: the database is opened with lmdb-js's `overlappingSync` off and
 * `noSync` off, so every write transaction is committed with LMDB's own
 * fsync/fdatasync before its promise resolves; each put or delete here awaits
 * that promise (and the `flushed` promise) before returning. An acknowledged
 * write therefore survives a kill -9 of the host and, as far as the OS and disk
 * honour fsync, a power loss. LMDB is copy-on-write with two meta pages, so a
 * crash at any point leaves the last committed transaction intact.
 *
 * About 400 lines on purpose: opening (unseal, keyring, full-disk refusal),
 * the Storage operations and verify() share the one sealed-record format and
 * its AAD rule; LMDB's error mapping and long-path keys are already apart.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";
import { pack, unpack } from "msgpackr";
import { randomBytes } from "../../crypto/hash.ts";
import { StorageError } from "../../framework/errors.ts";
import { listSegments, type Storage, type StorageEntry } from "../../framework/storage.ts";
import { aeadOpen, aeadSeal, Barrier, BarrierError, KEY_SIZE, Keyring } from "./barrier.ts";
import { damaged, lookupMismatches, refuseFullDisk, writeFailure } from "./lmdb-errors.ts";
import { decodeLongRecord, encodeLongRecord, LongPaths } from "./long-paths.ts";

export const DB_FILE = "vault.mdb";
const SEAL_PATH = "core/seal";
const KEYRING_PATH = "core/keyring";

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealError";
  }
}

export interface KeyStatus {
  term: number;
  install_time: string;
  encryptions: number;
}

export function storeExists(dataDir: string): boolean {
  const file = join(dataDir, DB_FILE);
  return existsSync(file) && statSync(file).size > 0;
}

export class EncryptedStore {
  private barrier: Barrier;
  private closed = false;
  /** Rotations are serialised: each builds on the keyring the previous one wrote. */
  private rotation: Promise<unknown> = Promise.resolve();
  /** How paths longer than the database's key limit are stored (./long-paths.ts). */
  private readonly paths: LongPaths;

  private constructor(
    private readonly db: RootDatabase<Buffer, string>,
    private readonly rootKey: Buffer,
    keyring: Keyring,
  ) {
    this.barrier = new Barrier(keyring);
    // lmdb's key size limit in bytes (1978 in lmdb-js builds; not in its typings).
    this.paths = new LongPaths((db as unknown as { maxKeySize?: number }).maxKeySize ?? 1978);
  }

  /**
   * Opens the store in `dataDir`, initializing it on first use. With an
   * existing store, a key that does not open the seal throws SealError and
   * nothing is written.
   */
  static async open(dataDir: string, unsealKey: Buffer): Promise<EncryptedStore> {
    if (unsealKey.length !== KEY_SIZE) throw new SealError(`the unseal key must be ${KEY_SIZE} bytes`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    refuseFullDisk(dataDir);
    const db = open<Buffer, string>({
      path: join(dataDir, DB_FILE),
      encoding: "binary",
      compression: false,
      cache: false,
      noSync: false,
      overlappingSync: false,
      // Each write is its own transaction. With lmdb-js's default event-turn
      // batching, a failed commit (disk full, I/O error) also rejects an
      // internal batch promise nobody holds: an unhandled rejection that ends
      // the host. Writes here are sequential and synced anyway.
      eventTurnBatching: false,
    });
    try {
      const sealRecord = db.get(SEAL_PATH);
      if (sealRecord === undefined) {
        for (const _ of db.getKeys({ limit: 1 })) {
          throw new SealError(
            "the data directory's store has data but no seal record: refusing to initialize over it",
          );
        }
        return await EncryptedStore.initialize(db, unsealKey);
      }
      const rootKey = unsealRoot(sealRecord, unsealKey);
      const sealedKeyring = db.get(KEYRING_PATH);
      if (sealedKeyring === undefined) throw new SealError("the store has a seal but no barrier keyring");
      let keyring: Keyring;
      try {
        keyring = Keyring.decode(aeadOpen(rootKey, sealedKeyring, Buffer.from(KEYRING_PATH)));
      } catch {
        throw new SealError("the barrier keyring does not open with the root key: the store is damaged");
      }
      // LMDB keeps no page checksums. A damaged branch page can misdirect lookups, so that an entry
      // still in the tree reads as absent (and an upsert would replace it): refuse to serve then.
      let lost: string[];
      try {
        lost = lookupMismatches(db);
      } catch (e) {
        throw new SealError(
          `the database is damaged: ${damaged(e).message.replace(/^storage read failed: /, "")}`,
        );
      }
      if (lost.length > 0) {
        throw new SealError(
          `the database is damaged: ${lost.length} stored entr${lost.length === 1 ? "y is" : "ies are"} not found by lookup (first: ${JSON.stringify(lost[0])}); restore the data directory from a backup`,
        );
      }
      return new EncryptedStore(db, rootKey, keyring);
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  private static async initialize(
    db: RootDatabase<Buffer, string>,
    unsealKey: Buffer,
  ): Promise<EncryptedStore> {
    const rootKey = randomBytes(KEY_SIZE);
    const keyring = Keyring.generate();
    const sealRecord = pack({
      v: 1,
      alg: "aes-256-gcm",
      created: new Date().toISOString(),
      sealed: aeadSeal(unsealKey, rootKey, Buffer.from(SEAL_PATH)),
    });
    const sealedKeyring = aeadSeal(rootKey, keyring.encode(), Buffer.from(KEYRING_PATH));
    try {
      await db.transaction(() => {
        db.put(SEAL_PATH, sealRecord);
        db.put(KEYRING_PATH, sealedKeyring);
      });
      await db.flushed;
    } catch (e) {
      throw await writeFailure(e);
    }
    return new EncryptedStore(db, rootKey, keyring);
  }

  private check(): void {
    if (this.closed) throw new Error("store is closed");
  }

  /** Runs one write and waits until it is on disk; a failure becomes a StorageError with the OS reason. */
  private async write(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
      await this.db.flushed;
    } catch (e) {
      throw await writeFailure(e);
    }
  }

  /** The sealed value stored for path, or undefined; a long key holding another path is not this one. */
  private sealedAt(path: string): Buffer | undefined {
    const key = this.paths.keyOf(path);
    let raw: Buffer | undefined;
    try {
      raw = this.db.get(key);
    } catch (e) {
      throw damaged(e);
    }
    if (raw === undefined || key === path) return raw;
    const record = decodeLongRecord(raw);
    if (record === null) throw authFailure();
    return record.path === path ? record.sealed : undefined;
  }

  async get(path: string): Promise<Buffer | null> {
    this.check();
    const raw = this.sealedAt(path);
    if (raw === undefined) return null;
    try {
      return this.barrier.decrypt(path, raw);
    } catch (e) {
      if (e instanceof BarrierError) throw authFailure();
      throw e;
    }
  }

  async put(path: string, value: Uint8Array): Promise<void> {
    this.check();
    if (path === SEAL_PATH || path === KEYRING_PATH) throw new Error(`reserved storage path ${path}`);
    const key = this.paths.keyOf(path);
    const sealed = this.barrier.encrypt(path, value);
    if (key === path) {
      await this.write(() => this.db.put(key, sealed));
      return;
    }
    const held = this.db.get(key);
    const heldPath = held === undefined ? null : decodeLongRecord(held)?.path;
    if (heldPath !== null && heldPath !== path) {
      // Two paths with one SHA-256 (or a damaged record): never let one overwrite the other.
      throw new StorageError("storage write failed: the storage path collides with another stored path");
    }
    await this.write(() => this.db.put(key, encodeLongRecord(path, sealed)));
  }

  async delete(path: string): Promise<void> {
    this.check();
    if (path === SEAL_PATH || path === KEYRING_PATH) throw new Error(`reserved storage path ${path}`);
    if (this.sealedAt(path) === undefined) return;
    await this.write(() => this.db.remove(this.paths.keyOf(path)));
  }

  /** Vault's list: the next segment below prefix, folders once with a trailing "/". */
  async list(prefix: string): Promise<string[]> {
    this.check();
    try {
      return listSegments(this.keysUnder(prefix), prefix);
    } catch (e) {
      throw damaged(e);
    }
  }

  /** Every stored path under prefix (long paths in full), in database order. */
  *keysUnder(prefix: string): Generator<string> {
    for (const [path] of this.entriesUnder(prefix)) yield path;
  }

  /** [path, database key] of every stored path under prefix. */
  private *entriesUnder(prefix: string): Generator<[string, string]> {
    const start = this.paths.scanStart(prefix);
    for (const key of this.db.getKeys({ start })) {
      if (typeof key !== "string" || !key.startsWith(start)) return;
      const path = this.pathOfKey(key);
      if (path?.startsWith(prefix)) yield [path, key];
    }
  }

  /** The full path behind a database key; null for a long key whose record is damaged. */
  private pathOfKey(key: string): string | null {
    if (!this.paths.isLongKey(key)) return key;
    const raw = this.db.get(key);
    return raw === undefined ? null : (decodeLongRecord(raw)?.path ?? null);
  }

  /**
   * Integrity scan: opens every barrier-sealed value under its own path.
   * LMDB keeps no page checksums, so damage is found when a value is read;
   * this reads them all. A damaged value, or a key whose bytes changed (a
   * value under a path it was not sealed for), is listed in `damaged`.
   */
  async verify(): Promise<{ checked: number; damaged: string[] }> {
    this.check();
    let checked = 0;
    const damaged: string[] = lookupMismatches(this.db);
    for (const { key, value } of this.db.getRange()) {
      if (key === SEAL_PATH || key === KEYRING_PATH) continue;
      checked++;
      if (typeof key !== "string" || !(value instanceof Uint8Array)) {
        damaged.push(String(key));
        continue;
      }
      let path = key;
      let sealed: Uint8Array = value;
      if (this.paths.isLongKey(key)) {
        const record = decodeLongRecord(value);
        // A long record must sit under its own path's key: a moved or altered one is damage.
        if (record === null || this.paths.keyOf(record.path) !== key) {
          damaged.push(key);
          continue;
        }
        ({ path, sealed } = record);
      }
      try {
        this.barrier.decrypt(path, sealed);
      } catch {
        damaged.push(path);
      }
    }
    return { checked, damaged };
  }

  /** Removes every path under prefix in one transaction (a mount's storage on unmount). */
  async deletePrefix(prefix: string): Promise<number> {
    this.check();
    if (prefix === "" || prefix.startsWith("core/"))
      throw new Error(`refusing to clear ${prefix || "everything"}`);
    const keys = [...this.entriesUnder(prefix)].map(([, key]) => key);
    if (keys.length === 0) return 0;
    await this.write(() =>
      this.db.transaction(() => {
        for (const key of keys) this.db.remove(key);
      }),
    );
    return keys.length;
  }

  /** A `Storage` for one mount: its own prefix, Vault's semantics. */
  view(prefix: string): Storage {
    return new BarrierStorage(this, prefix);
  }

  /** Adds a keyring term and makes it the one new writes use; old terms stay readable. */
  rotate(): Promise<KeyStatus> {
    const next = this.rotation.then(async () => {
      this.check();
      const keyring = this.barrier.keyring.rotate();
      const sealed = aeadSeal(this.rootKey, keyring.encode(), Buffer.from(KEYRING_PATH));
      await this.write(() => this.db.put(KEYRING_PATH, sealed));
      this.barrier = this.barrier.withKeyring(keyring);
      return this.keyStatus();
    });
    this.rotation = next.catch(() => undefined);
    return next;
  }

  keyStatus(): KeyStatus {
    const active = this.barrier.keyring.active;
    return {
      term: active.term,
      install_time: active.installTime,
      encryptions: this.barrier.encryptionsFor(active.term),
    };
  }

  /** Terms of the keyring, oldest first. */
  get terms(): number[] {
    return this.barrier.keyring.terms;
  }

  /** Term that sealed the value at path (for tests and diagnostics), or null. */
  termOf(path: string): number | null {
    const raw = this.sealedAt(path);
    return raw === undefined ? null : Barrier.termOf(raw);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.rotation;
    await this.db.flushed;
    await this.db.close();
  }
}

/** Reported, never served: a value that does not authenticate is damage or tampering. */
function authFailure(): BarrierError {
  return new BarrierError(
    "storage read failed: a stored value failed authentication (the data directory is damaged or was altered)",
  );
}

function unsealRoot(sealRecord: Buffer, unsealKey: Buffer): Buffer {
  let record: { v?: unknown; sealed?: unknown };
  try {
    record = unpack(sealRecord) as typeof record;
  } catch {
    throw new SealError("the seal record is damaged");
  }
  if (record.v !== 1 || !(record.sealed instanceof Uint8Array))
    throw new SealError("unrecognised seal record");
  try {
    const root = aeadOpen(unsealKey, record.sealed, Buffer.from(SEAL_PATH));
    if (root.length !== KEY_SIZE) throw new SealError("the seal record holds a root key of the wrong size");
    return root;
  } catch (e) {
    if (e instanceof BarrierError) {
      throw new SealError("the unseal key does not open this data directory's store (wrong key)");
    }
    throw e;
  }
}

/** One mount's view of the store, as Vault's barrier view: every path is prefixed. */
class BarrierStorage implements Storage {
  constructor(
    private readonly store: EncryptedStore,
    private readonly prefix: string,
  ) {}

  list(prefix: string): Promise<string[]> {
    return this.store.list(this.prefix + prefix);
  }

  async get(key: string): Promise<StorageEntry | null> {
    const value = await this.store.get(this.prefix + key);
    return value === null ? null : { key, value };
  }

  put(entry: StorageEntry): Promise<void> {
    return this.store.put(this.prefix + entry.key, entry.value);
  }

  delete(key: string): Promise<void> {
    return this.store.delete(this.prefix + key);
  }
}
