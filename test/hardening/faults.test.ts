/**
 * Faults: storage errors returned to the engine, clock jumps for
 * auto-rotation, and in the dev host a full disk, a read-only data directory,
 * a corrupted barrier ciphertext and corrupted database pages.
 *
 * Every fault must end in a clear error (500 with a fixed, non-secret text,
 * or a refusal to start), never in a changed keyring, a lost acknowledged
 * write, a crash of the host or a damaged value silently served.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { open as openLmdb } from "lmdb";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { StorageError } from "../../src/framework/errors.ts";
import type { Operation } from "../../src/framework/request.ts";
import { InMemoryStorage, type StorageEntry } from "../../src/framework/storage.ts";
import { type HostConfig, parseConfig } from "../../src/host/config.ts";
import { DevHost } from "../../src/host/host.ts";
import { DB_FILE, EncryptedStore } from "../../src/host/storage/store.ts";
import { buildTransitBackend } from "../../src/transit/backend.ts";
import { TransitState } from "../../src/transit/state.ts";
import { JsonLogger, nullLogger } from "../../src/util/logger.ts";
import { b64, TestEngine, unb64 } from "../helpers/engine.ts";
import { inProcessTransit } from "./helpers/inprocess-transit.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const figures: string[] = [];

afterAll(() => {
  for (const f of figures) console.log(`FAULTS-RESULT ${f}`);
});

// ---------------------------------------------------------------------------
// Storage errors returned to the engine (through the framework's Storage)
// ---------------------------------------------------------------------------

type Fault = "get" | "put" | "delete" | "list";

class FaultyStorage extends InMemoryStorage {
  readonly failing = new Set<Fault>();
  /** A StorageError (fixed text) or a plain Error (whose text must not reach the caller). */
  plain = false;

  private fail(op: Fault): void {
    if (!this.failing.has(op)) return;
    if (this.plain) throw new Error(`backend exploded with detail ${op} that must not leak`);
    throw new StorageError(`storage ${op} failed: no space left on device (ENOSPC)`, "ENOSPC");
  }
  override async get(key: string): Promise<StorageEntry | null> {
    this.fail("get");
    return super.get(key);
  }
  override async put(entry: StorageEntry): Promise<void> {
    this.fail("put");
    return super.put(entry);
  }
  override async delete(key: string): Promise<void> {
    this.fail("delete");
    return super.delete(key);
  }
  override async list(prefix: string): Promise<string[]> {
    this.fail("list");
    return super.list(prefix);
  }
}

class FaultyEngine extends TestEngine {
  override readonly storage = new FaultyStorage();
}

/** Every write the engine makes, with what it needs set up first. */
const WRITES: {
  name: string;
  setup?: (e: TestEngine) => Promise<unknown>;
  op: Operation;
  path: string;
  data?: Record<string, unknown>;
  fault?: Fault;
}[] = [
  { name: "create", op: "update", path: "keys/new" },
  {
    name: "create (upsert on encrypt)",
    op: "create",
    path: "encrypt/upserted",
    data: { plaintext: b64("x") },
  },
  { name: "rotate", op: "update", path: "keys/k/rotate" },
  {
    name: "config",
    op: "update",
    path: "keys/k/config",
    data: { deletion_allowed: true, auto_rotate_period: "2h" },
  },
  {
    name: "trim",
    setup: async (e) => {
      await e.write("keys/k/rotate");
      await e.write("keys/k/rotate");
      await e.write("keys/k/config", { min_decryption_version: 2, min_encryption_version: 2 });
    },
    op: "update",
    path: "keys/k/trim",
    data: { min_available_version: 2 },
  },
  {
    name: "delete",
    setup: (e) => e.write("keys/k/config", { deletion_allowed: true }),
    op: "delete",
    path: "keys/k",
    fault: "delete",
  },
  {
    name: "restore",
    setup: async (e) => {
      const backup = await e.read("backup/k");
      (e as { backupBlob?: unknown }).backupBlob = backup.data["backup"];
    },
    op: "update",
    path: "restore/restored",
  },
  { name: "cache-config", op: "update", path: "cache-config", data: { size: 20 } },
  { name: "config/keys", op: "update", path: "config/keys", data: { disable_upsert: true } },
  { name: "backup (records backup_info)", op: "read", path: "backup/k" },
];

describe("storage errors returned to the engine", () => {
  for (const w of WRITES) {
    for (const plain of [false, true]) {
      it(`${w.name}: a failing put answers 500 (${plain ? "generic text for an unknown error" : "the storage's text"}), storage and cached keyring unchanged`, async () => {
        const e = new FaultyEngine();
        await e.write("keys/k", { exportable: true, allow_plaintext_backup: true });
        await w.setup?.(e);
        const ct = String((await e.write("encrypt/k", { plaintext: b64("before") })).data["ciphertext"]);
        const keyBefore = (await e.read("keys/k")).data;
        const stored = e.snapshot();
        e.storage.plain = plain;
        const fault = w.fault ?? "put";
        e.storage.failing.add(fault);
        const data = { ...(w.data ?? {}) };
        if (w.name === "restore") data["backup"] = (e as { backupBlob?: unknown }).backupBlob;
        const out = await e.request(w.op, w.path, data);
        expect(out.status, `${w.name}: ${out.error}`).toBe(500);
        expect(out.error).toBe(
          plain ? "internal error" : `storage ${fault} failed: no space left on device (ENOSPC)`,
        );
        expect(e.snapshot()).toEqual(stored);
        // The cached keyring still serves, unchanged, while storage is down.
        const keyDuring = await e.read("keys/k");
        expect(keyDuring.status).toBe(200);
        expect(keyDuring.data).toEqual(keyBefore);
        const dec = await e.write("decrypt/k", { ciphertext: ct });
        expect(unb64(dec.data["plaintext"]).toString()).toBe("before");
        // And once storage is back, the stored truth is the same.
        e.storage.failing.clear();
        const fresh = new TestEngine();
        for (const [k, v] of e.storage.entries) fresh.storage.entries.set(k, v);
        expect((await fresh.read("keys/k")).data).toEqual(keyBefore);
        const retry = await e.request(w.op, w.path, data);
        expect(retry.status, `${w.name} after recovery: ${retry.error}`).toBeLessThan(300);
      });
    }
  }

  it("failing reads and lists answer 500 with the storage's text and change nothing", async () => {
    const e = new FaultyEngine();
    await e.write("keys/k");
    const stored = e.snapshot();
    const uncached = new TestEngine();
    // A second engine over the same failing storage has nothing cached: every key read hits storage.
    Object.defineProperty(uncached, "storage", { value: e.storage });
    e.storage.failing.add("get");
    for (const [op, path, data] of [
      ["read", "keys/k", {}],
      ["update", "encrypt/k", { plaintext: b64("x") }],
      ["update", "keys/k/rotate", {}],
      ["read", "cache-config", {}],
    ] as const) {
      const out = await uncached.request(op, path, data);
      expect(out.status, `${op} ${path}`).toBe(500);
      expect(out.error).toBe("storage get failed: no space left on device (ENOSPC)");
    }
    e.storage.failing.clear();
    e.storage.failing.add("list");
    const list = await uncached.request("list", "keys/");
    expect(list.status).toBe(500);
    expect(e.snapshot()).toEqual(stored);
    e.storage.failing.clear();
    expect((await uncached.read("keys/k")).status).toBe(200);
  });

  it("a failing delete keeps the key: it reads and works afterwards", async () => {
    const e = new FaultyEngine();
    await e.write("keys/k");
    await e.write("keys/k/config", { deletion_allowed: true });
    const ct = String((await e.write("encrypt/k", { plaintext: b64("kept") })).data["ciphertext"]);
    e.storage.failing.add("delete");
    const out = await e.request("delete", "keys/k");
    expect(out.status).toBe(500);
    e.storage.failing.clear();
    expect((await e.read("keys/k")).status).toBe(200);
    expect(unb64((await e.write("decrypt/k", { ciphertext: ct })).data["plaintext"]).toString()).toBe("kept");
  });

  it("auto-rotation with failing storage reports the failure and leaves the key as it was", async () => {
    const t = new TransitState(nullLogger);
    const backend = buildTransitBackend(t);
    const e = new FaultyEngine(backend);
    await e.write("keys/r", { auto_rotate_period: "1h" });
    const start = Date.now();
    t.now = () => start + 2 * 3600_000;
    e.storage.failing.add("put");
    await expect(
      backend.handleRequest({ operation: "rollback", path: "", storage: e.storage }),
    ).rejects.toMatchObject({
      httpStatus: 500,
    });
    expect((await e.read("keys/r")).data["latest_version"]).toBe(1);
    e.storage.failing.clear();
    t.now = () => start + 4 * 3600_000;
    await backend.handleRequest({ operation: "rollback", path: "", storage: e.storage });
    expect((await e.read("keys/r")).data["latest_version"]).toBe(2);
  });
});

// ---------------------------------------------------------------------------
// Clock jumps and auto-rotation
// ---------------------------------------------------------------------------

describe("clock jumps for auto-rotation", () => {
  const HOUR = 3600_000;
  const T0 = Date.parse("2026-01-01T00:00:00Z");

  afterEach(() => {
    vi.useRealTimers();
  });

  /** An engine whose whole clock (version creation times and the rotation check) is the fake Date. */
  async function engineAt(time: number) {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(time);
    const t = new TransitState(nullLogger);
    t.now = () => Date.now();
    const e = new TestEngine(buildTransitBackend(t));
    await e.write("keys/r", { auto_rotate_period: "1h" });
    await e.write("keys/never");
    const tick = async (at: number) => {
      vi.setSystemTime(at);
      await e.backend.handleRequest({ operation: "rollback", path: "", storage: e.storage });
      return Number((await e.read("keys/r")).data["latest_version"]);
    };
    return { e, tick };
  }

  it("rotates once when due, at the first tick after it (not on an hourly scan), not before", async () => {
    const { e, tick } = await engineAt(T0);
    expect(await tick(T0 + 0.5 * HOUR)).toBe(1);
    expect(await tick(T0 + 0.99 * HOUR)).toBe(1);
    expect(await tick(T0 + 1.01 * HOUR)).toBe(2); // due at T0+1h; the last tick was 1.2 minutes ago
    expect(await tick(T0 + 1.6 * HOUR)).toBe(2);
    expect(await tick(T0 + 1.7 * HOUR)).toBe(2);
    expect((await e.read("keys/never")).data["latest_version"]).toBe(1);
  });

  it("a jump forward by ten years rotates once, not once per missed period", async () => {
    const { e, tick } = await engineAt(T0);
    expect(await tick(T0 + 10 * 365 * 24 * HOUR)).toBe(2);
    expect(await tick(T0 + 10 * 365 * 24 * HOUR + 60_000)).toBe(2);
    expect((await e.read("keys/never")).data["latest_version"]).toBe(1);
  });

  it("a jump backwards by less than a period neither rotates nor postpones rotation", async () => {
    const { tick } = await engineAt(T0);
    expect(await tick(T0 + 0.5 * HOUR)).toBe(1);
    expect(await tick(T0 - 0.5 * HOUR)).toBe(1); // before the key's creation time, within a period
    // Back to normal: due at T0+1h and rotated at the first tick after it, though the
    // hourly scan last ran "in the future" of the clock it saw.
    expect(await tick(T0 + 1.2 * HOUR)).toBe(2);
  });

  it("a jump backwards by more than a period rotates once, then the schedule follows the clock", async () => {
    const { tick } = await engineAt(T0);
    expect(await tick(T0 - 24 * HOUR)).toBe(2);
    expect(await tick(T0 - 23.5 * HOUR)).toBe(2);
    expect(await tick(T0 - 22.9 * HOUR)).toBe(3); // v2, made at T0-24h, fell due at T0-23h
    expect(await tick(T0 - 22.5 * HOUR)).toBe(3);
  });

  it("a version made while the clock ran ahead does not stall rotation once the clock is corrected", async () => {
    const { tick } = await engineAt(T0);
    // The clock runs a year ahead for a while: the key rotates, its new version is dated a year ahead.
    expect(await tick(T0 + 365 * 24 * HOUR)).toBe(2);
    // Corrected. Going by that date alone, the next rotation would wait a year.
    expect(await tick(T0 + 2 * HOUR)).toBe(3);
    // Then the schedule continues from the corrected clock.
    expect(await tick(T0 + 2.5 * HOUR)).toBe(3);
    expect(await tick(T0 + 3.6 * HOUR)).toBe(4);
  });

  it("a clock that reads NaN neither throws nor rotates", async () => {
    const { e } = await engineAt(T0);
    const t = new TransitState(nullLogger);
    const backend = buildTransitBackend(t);
    t.now = () => Number.NaN;
    for (let i = 0; i < 3; i++) {
      await backend.handleRequest({ operation: "rollback", path: "", storage: e.storage });
    }
    expect((await e.read("keys/r")).data["latest_version"]).toBe(1);
  });
});

// ---------------------------------------------------------------------------
// The dev host: full disk, read-only data directory, corrupted data
// ---------------------------------------------------------------------------

const TOKEN = "hvs.faults-root-token";
const STORAGE_WRITE_FAILED =
  /^storage write failed: (no space left on device \(ENOSPC\)|input\/output error \(EIO\)|disk quota exceeded \(EDQUOT\)|file too large \(EFBIG\)|read-only file system \(EROFS\)|permission denied \(EACCES\))$/;

interface Running {
  host: DevHost;
  base: string;
}

function hostConfig(dataDir: string): HostConfig {
  const parsed = parseConfig(["--listen-address", "127.0.0.1:0", "--data-dir", dataDir], {});
  if (parsed.help) throw new Error("unreachable");
  return { ...parsed.config, rootTokenId: TOKEN, rollbackIntervalSeconds: 0 };
}

async function startHost(dataDir: string, logs: string[] = []): Promise<Running> {
  const started = await DevHost.start({
    config: hostConfig(dataDir),
    launcher: inProcessTransit(),
    logger: new JsonLogger((line) => logs.push(line), "info"),
  });
  return { host: started.host, base: `${started.info.address}/v1` };
}

async function api(
  h: Running,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; data: Record<string, unknown>; errors: string[] }> {
  const res = await fetch(`${h.base}/${path}`, {
    method,
    headers: { "X-Vault-Token": TOKEN, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed =
    text === "" ? {} : (JSON.parse(text) as { data?: Record<string, unknown>; errors?: string[] });
  return { status: res.status, data: parsed.data ?? {}, errors: parsed.errors ?? [] };
}

/** A small filesystem of its own: a tmpfs when this process may mount one (root), else null. */
function tinyFilesystem(
  sizeKiB: number,
): { dir: string; remount(mode: "ro" | "rw"): void; cleanup(): void } | null {
  // FAULTS_SIMULATE=1 takes the path of a machine where mounting is not allowed.
  if (process.env["FAULTS_SIMULATE"] === "1") return null;
  const dir = mkdtempSync(join(tmpdir(), "faults-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k,mode=0700`, "tmpfs", dir], {
      stdio: "ignore",
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return {
    dir,
    remount: (mode) => execFileSync("mount", ["-o", `remount,${mode}`, dir], { stdio: "ignore" }),
    cleanup: () => {
      try {
        execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Without a tmpfs (not root), the disk-full fault is injected into the host's
 * lmdb handle: its writes reject exactly as lmdb-js rejects a failed commit
 * (an Error whose commitError promise holds the OS error, errno 28).
 */
function injectLmdbFailure(host: DevHost, errno: number): () => void {
  const db = (host.store as unknown as { db: Record<string, unknown> }).db;
  const saved = { put: db["put"], remove: db["remove"] };
  const fail = () => {
    const commitError = Promise.reject(Object.assign(new Error("No space left on device"), { code: errno }));
    return Promise.reject(
      Object.assign(new Error("Commit failed (see commitError for details)"), { commitError }),
    );
  };
  db["put"] = fail;
  db["remove"] = fail;
  return () => Object.assign(db, saved);
}

describe("the dev host on a full disk", () => {
  it("answers writes with a clear 500, keeps serving reads, loses nothing acknowledged and recovers", async () => {
    const fs = tinyFilesystem(2048);
    const mode = fs === null ? "simulated (lmdb commit failure injected, errno ENOSPC)" : "tmpfs of 2 MiB";
    const dataDir = fs === null ? mkdtempSync(join(tmpdir(), "faults-full-")) : join(fs.dir, "data");
    let h: Running | null = null;
    try {
      h = await startHost(dataDir);
      expect((await api(h, "POST", "transit/keys/k")).status).toBeLessThan(300);
      const cts: [string, string][] = [];
      for (let i = 0; i < 5; i++) {
        const pt = `acknowledged-${i}`;
        const r = await api(h, "POST", "transit/encrypt/k", { plaintext: b64(pt) });
        cts.push([String(r.data["ciphertext"]), pt]);
      }
      const acknowledged: string[] = [];
      const refused: string[] = [];
      const messages = new Set<string>();
      let restore = () => {};
      const filler = fs === null ? "" : join(fs.dir, "filler");
      if (fs === null) {
        restore = injectLmdbFailure(h.host, 28);
      } else {
        // Fill the filesystem to the last byte.
        const fd = openSync(filler, "w");
        const chunk = Buffer.alloc(64 * 1024, 0x5a);
        try {
          for (;;) writeSync(fd, chunk);
        } catch {
          try {
            for (;;) writeSync(fd, chunk.subarray(0, 512));
          } catch {
            // full
          }
        }
        closeSync(fd);
        // Leave room for a few writes, so that some are acknowledged right up to the edge.
        truncateSync(filler, Math.max(0, statSync(filler).size - 40 * 1024));
      }
      // Create keys (each with a few versions) until the disk refuses, then a few more.
      for (let i = 0; i < 400 && refused.length < 8; i++) {
        const name = `fill-${i}`;
        const r = await api(h, "POST", `transit/keys/${name}`, {
          type: "rsa-2048" === name ? name : "ecdsa-p384",
        });
        if (r.status < 300) acknowledged.push(name);
        else {
          expect(r.status, JSON.stringify(r.errors)).toBe(500);
          expect(r.errors[0]).toMatch(STORAGE_WRITE_FAILED);
          messages.add(r.errors[0] ?? "");
          refused.push(name);
        }
      }
      expect(refused.length).toBeGreaterThan(0);
      // Still serving: reads, decrypts, health; a failed rotation changes nothing.
      expect((await api(h, "GET", "sys/health")).status).toBe(200);
      for (const [ct, pt] of cts) {
        const r = await api(h, "POST", "transit/decrypt/k", { ciphertext: ct });
        expect(r.status).toBe(200);
        expect(unb64(r.data["plaintext"]).toString()).toBe(pt);
      }
      const rot = await api(h, "POST", "transit/keys/k/rotate");
      if (rot.status >= 300) {
        expect(rot.status).toBe(500);
        expect((await api(h, "GET", "transit/keys/k")).data["latest_version"]).toBe(1);
      }
      // Space again: writes work.
      if (fs === null) restore();
      else rmSync(filler);
      expect((await api(h, "POST", "transit/keys/after-full")).status).toBeLessThan(300);
      expect((await api(h, "POST", "transit/keys/k/rotate")).status).toBeLessThan(300);
      await h.host.stop();
      h = null;

      // After a restart everything acknowledged is there, nothing refused is, and every value authenticates.
      h = await startHost(dataDir);
      for (const name of [...acknowledged, "after-full", "k"]) {
        expect((await api(h, "GET", `transit/keys/${name}`)).status, name).toBe(200);
      }
      for (const name of refused)
        expect((await api(h, "GET", `transit/keys/${name}`)).status, name).toBe(404);
      for (const [ct, pt] of cts) {
        const r = await api(h, "POST", "transit/decrypt/k", { ciphertext: ct });
        expect(unb64(r.data["plaintext"]).toString()).toBe(pt);
      }
      const scan = await h.host.store.verify();
      expect(scan.damaged).toEqual([]);
      figures.push(
        `full_disk mode="${mode}" acknowledged=${acknowledged.length} refused=${refused.length} messages="${[...messages].join("|")}" verified_values=${scan.checked} damaged=0`,
      );
    } finally {
      await h?.host.stop();
      if (fs !== null) fs.cleanup();
      else rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the dev host started on a full disk", () => {
  it("refuses to start with a clear error, for a new and for an existing store (lmdb would die of SIGBUS)", async () => {
    const fs = tinyFilesystem(2048);
    if (fs === null) {
      figures.push("full_disk_start skipped=no-mount");
      return;
    }
    try {
      const existing = join(fs.dir, "existing");
      const h = await startHost(existing);
      await api(h, "POST", "transit/keys/k");
      await h.host.stop();
      const fd = openSync(join(fs.dir, "filler"), "w");
      try {
        for (;;) writeSync(fd, Buffer.alloc(64 * 1024));
      } catch {
        try {
          for (;;) writeSync(fd, Buffer.alloc(512));
        } catch {
          // full
        }
      }
      closeSync(fd);
      const messages: string[] = [];
      for (const dataDir of [join(fs.dir, "new"), existing]) {
        const err = await startHost(dataDir).then(
          async (h2) => {
            await h2.host.stop();
            return null;
          },
          (e: Error) => e,
        );
        expect(err, dataDir).not.toBeNull();
        expect(err?.message).toMatch(/no space left on device/);
        messages.push(err?.message ?? "");
      }
      rmSync(join(fs.dir, "filler"));
      const again = await startHost(existing);
      expect((await api(again, "GET", "transit/keys/k")).status).toBe(200);
      await again.host.stop();
      figures.push(`full_disk_start refused="${messages[0]?.slice(0, 100)}"`);
    } finally {
      fs.cleanup();
    }
  }, 60_000);
});

describe("the dev host on a read-only data directory", () => {
  it("a data directory made read-only under a running host: writes 500 with the reason, reads served, intact after", async () => {
    const fs = tinyFilesystem(4096) ?? {
      dir: mkdtempSync(join(tmpdir(), "faults-ro-run-")),
      remount: () => {
        throw new Error("not root: no remount");
      },
      cleanup() {
        rmSync(this.dir, { recursive: true, force: true });
      },
    };
    const dataDir = join(fs.dir, "data");
    let mode = "simulated (lmdb commit failure injected, errno EROFS)";
    let h: Running | null = null;
    try {
      h = await startHost(dataDir);
      await api(h, "POST", "transit/keys/k");
      const ct = String(
        (await api(h, "POST", "transit/encrypt/k", { plaintext: b64("ro") })).data["ciphertext"],
      );
      // Linux refuses to remount read-only a filesystem with files open for writing (lmdb's),
      // so then the fault is injected as lmdb reports it: a failed commit with errno EROFS.
      let restore = () => {};
      try {
        fs.remount("ro");
        mode = "tmpfs remounted read-only";
        restore = () => fs.remount("rw");
      } catch {
        restore = injectLmdbFailure(h.host, 30);
      }
      const w = await api(h, "POST", "transit/keys/k/rotate");
      expect(w.status).toBe(500);
      expect(w.errors[0]).toMatch(STORAGE_WRITE_FAILED);
      const created = await api(h, "POST", "transit/keys/never");
      expect(created.status).toBe(500);
      const dec = await api(h, "POST", "transit/decrypt/k", { ciphertext: ct });
      expect(unb64(dec.data["plaintext"]).toString()).toBe("ro");
      expect((await api(h, "GET", "transit/keys/k")).data["latest_version"]).toBe(1);
      restore();
      expect((await api(h, "POST", "transit/keys/k/rotate")).status).toBeLessThan(300);
      await h.host.stop();
      h = await startHost(dataDir);
      expect((await api(h, "GET", "transit/keys/k")).data["latest_version"]).toBe(2);
      expect((await api(h, "GET", "transit/keys/never")).status).toBe(404);
      expect((await h.host.store.verify()).damaged).toEqual([]);
      figures.push(`read_only_running mode="${mode}" write_error="${w.errors[0]}"`);
    } finally {
      try {
        fs.remount("rw");
      } catch {
        // not mounted any more
      }
      await h?.host.stop();
      fs.cleanup();
    }
  }, 60_000);

  it("a host started on a read-only data directory refuses to start with a clear error", async () => {
    const fs = tinyFilesystem(4096);
    if (fs === null && process.getuid?.() === 0) {
      // Root ignores file modes and may not mount here: nothing can make the directory read-only.
      figures.push("read_only_start skipped=root-without-mount");
      return;
    }
    const dataDir = fs === null ? mkdtempSync(join(tmpdir(), "faults-ro-")) : join(fs.dir, "data");
    try {
      const h = await startHost(dataDir);
      await api(h, "POST", "transit/keys/k");
      await h.host.stop();
      if (fs !== null) fs.remount("ro");
      else {
        execFileSync("chmod", ["-R", "a-w", dataDir]);
      }
      const err = await startHost(dataDir).then(
        async (h2) => {
          await h2.host.stop();
          return null;
        },
        (e: Error) => e,
      );
      expect(err, "started on a read-only data directory").not.toBeNull();
      expect(err?.message).toMatch(/read-only|permission denied|EROFS|EACCES/i);
      figures.push(`read_only_start refused="${err?.message.slice(0, 120)}"`);
      if (fs !== null) fs.remount("rw");
      else execFileSync("chmod", ["-R", "u+w", dataDir]);
      const again = await startHost(dataDir);
      expect((await api(again, "GET", "transit/keys/k")).status).toBe(200);
      await again.host.stop();
    } finally {
      if (fs !== null) {
        try {
          fs.remount("rw");
        } catch {
          // gone
        }
        fs.cleanup();
      } else rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Flips one byte inside the stored (sealed) value of `path`, in the closed database. */
async function corruptValue(dataDir: string, match: (path: string) => boolean, at: (len: number) => number) {
  const raw = openLmdb<Buffer, string>({ path: join(dataDir, DB_FILE), encoding: "binary" });
  const paths: string[] = [];
  for (const key of raw.getKeys()) if (typeof key === "string" && match(key)) paths.push(key);
  for (const path of paths) {
    const value = Buffer.from(raw.get(path)!);
    const i = at(value.length);
    value[i] = (value[i] ?? 0) ^ 0x01;
    await raw.put(path, value);
  }
  await raw.close();
  return paths;
}

describe("corrupted data in the dev host", () => {
  it("a damaged barrier ciphertext is reported with a clear 500, never served or replaced; other keys work", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "faults-corrupt-"));
    let h: Running | null = null;
    try {
      h = await startHost(dataDir);
      await api(h, "POST", "transit/keys/a");
      await api(h, "POST", "transit/keys/b");
      const ctB = String(
        (await api(h, "POST", "transit/encrypt/b", { plaintext: b64("b") })).data["ciphertext"],
      );
      await h.host.stop();
      h = null;
      const hit = await corruptValue(
        dataDir,
        (p) => p.endsWith("/policy/a"),
        (n) => n - 20,
      );
      expect(hit).toHaveLength(1);

      h = await startHost(dataDir);
      const expected =
        "storage read failed: a stored value failed authentication (the data directory is damaged or was altered)";
      for (const [method, path, body] of [
        ["GET", "transit/keys/a", undefined],
        ["POST", "transit/encrypt/a", { plaintext: b64("x") }],
        ["POST", "transit/keys/a/rotate", {}],
        ["POST", "transit/keys/a", {}],
      ] as const) {
        const r = await api(h, method, path, body);
        expect(r.status, `${method} ${path}`).toBe(500);
        // The host answers a failed existence check (POST) with "internal error" (src/host/host.ts);
        // reads carry the storage's text.
        if (method === "GET") expect(r.errors).toEqual([expected]);
        else expect([[expected], ["internal error"]]).toContainEqual(r.errors);
      }
      // Not replaced by the attempts: still the same damaged record.
      expect((await h.host.store.verify()).damaged).toEqual(hit);
      const dec = await api(h, "POST", "transit/decrypt/b", { ciphertext: ctB });
      expect(unb64(dec.data["plaintext"]).toString()).toBe("b");
      expect((await api(h, "GET", "transit/keys?list=true")).data["keys"]).toEqual(["a", "b"]);
      await h.host.stop();
      h = null;

      // Damage to the barrier keyring or the mount table: the host refuses to start.
      await corruptValue(
        dataDir,
        (p) => p === "core/mounts",
        (n) => n - 1,
      );
      await expect(startHost(dataDir)).rejects.toThrow(/failed authentication/);
      await corruptValue(
        dataDir,
        (p) => p === "core/keyring",
        (n) => Math.floor(n / 2),
      );
      await expect(startHost(dataDir)).rejects.toThrow(/barrier keyring does not open/);
      figures.push(`barrier_ciphertext detected=yes message="${expected}"`);
    } finally {
      await h?.host.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("flipped bytes in the lmdb file are refused, detected or harmless, never served as other data or lost silently", async () => {
    const TRIALS = Number(process.env["FAULTS_PAGE_TRIALS"] ?? 240);
    const work = mkdtempSync(join(tmpdir(), "faults-pages-"));
    try {
      const pristine = join(work, "pristine");
      const key = Buffer.alloc(32, 7);
      const store = await EncryptedStore.open(pristine, key);
      const expected: Record<string, string> = {};
      for (let i = 0; i < 60; i++) {
        const value = Buffer.alloc(100 + ((i * 397) % 6000), i + 1);
        const path = `logical/0f8c2a51-aaaa-bbbb-cccc-${String(i).padStart(12, "0")}/policy/key-${i}`;
        await store.put(path, value);
        expected[path] = value.toString("hex");
      }
      await store.close();
      const file = readFileBuffer(join(pristine, DB_FILE));
      // Where the sealed values sit in the file, to aim a third of the flips at them.
      const raw = openLmdb<Buffer, string>({
        path: join(pristine, DB_FILE),
        encoding: "binary",
        readOnly: true,
      });
      const valueRanges: [number, number][] = [];
      for (const path of Object.keys(expected)) {
        const v = raw.get(path)!;
        const at = file.indexOf(v.subarray(0, 64));
        if (at >= 0) valueRanges.push([at, v.length]);
      }
      await raw.close();
      const expectedFile = join(work, "expected.json");
      writeFileSync(expectedFile, JSON.stringify(expected));
      let seed = 20261126;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const used = usedLength(file);
      const trials: string[] = [];
      for (let i = 0; i < TRIALS; i++) {
        const xor = 1 + rand(255);
        let offset: number;
        if (i % 3 === 0)
          offset = rand(8192); // the two meta pages
        else if (i % 3 === 1 && valueRanges.length > 0) {
          const [start, len] = valueRanges[rand(valueRanges.length)]!;
          offset = start + rand(len);
        } else offset = rand(used);
        trials.push(`${offset}:${xor}`);
      }
      const started = performance.now();
      const results = await runTrials(pristine, key, expectedFile, trials);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const counts: Record<string, number> = {};
      for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
      const wrong = results.filter((r) => r.outcome === "wrong");
      expect(wrong, JSON.stringify(wrong)).toEqual([]);
      // An entry that lookups no longer find (a damaged branch page) makes the store refuse to open.
      expect(results.filter((r) => r.outcome === "missing")).toEqual([]);
      expect(results).toHaveLength(TRIALS);
      figures.push(
        `db_pages trials=${TRIALS} seconds=${seconds} ${Object.entries(counts)
          .sort()
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});

function readFileBuffer(file: string): Buffer {
  return readFileSync(file);
}

/** Bytes of the file up to the last non-zero page (lmdb files are preallocated). */
function usedLength(file: Buffer): number {
  let end = file.length;
  while (end > 8192 && file.subarray(end - 4096, end).every((b) => b === 0)) end -= 4096;
  return end;
}

/** Runs the trials in child processes; a child that crashes is recorded as "crash" and the rest go on. */
async function runTrials(
  pristine: string,
  key: Buffer,
  expectedFile: string,
  trials: string[],
): Promise<{ trial: string; outcome: string; detail: string }[]> {
  const results: { trial: string; outcome: string; detail: string }[] = [];
  let next = 0;
  while (next < trials.length) {
    const batch = trials.slice(next);
    const { lines, signal, code } = await new Promise<{
      lines: string[];
      signal: string | null;
      code: number | null;
    }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          join(HERE, "helpers/open-corrupted.ts"),
          pristine,
          key.toString("hex"),
          expectedFile,
          ...batch,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on("data", () => {});
      child.on("close", (code, signal) =>
        resolve({ lines: out.split("\n").filter((l) => l !== ""), signal, code }),
      );
    });
    for (const line of lines)
      results.push(JSON.parse(line) as { trial: string; outcome: string; detail: string });
    next += lines.length;
    if (next < trials.length) {
      // The child died on trials[next]: a crash is not silent acceptance, but it is counted.
      results.push({ trial: trials[next]!, outcome: "crash", detail: `signal ${signal} code ${code}` });
      next++;
    }
  }
  return results;
}
