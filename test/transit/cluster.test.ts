/**
 * Periodic work and caches in a cluster, in process (the same through the
 * plugin process and a go-plugin host: test/gohost). As Vault's transit
 * (builtin/logical/transit/backend.go periodicFunc / autoRotateKeys, and
 * its invalidate): auto-rotation runs at the first rollback tick after a key
 * falls due, only where the node may write, and every cached value is
 * dropped with its storage entry on InvalidateKey.
 */
import { describe, expect, it } from "vitest";
import { InMemoryStorage, type Storage } from "../../src/framework/storage.ts";
import {
  type ClusterView,
  REPLICATION_DR_PRIMARY,
  REPLICATION_DR_SECONDARY,
  REPLICATION_PERFORMANCE_PRIMARY,
  REPLICATION_PERFORMANCE_SECONDARY,
  REPLICATION_PERFORMANCE_STANDBY,
} from "../../src/transit/auto-rotate.ts";
import { buildTransitBackend } from "../../src/transit/backend.ts";
import { TransitState } from "../../src/transit/state.ts";
import { nullLogger } from "../../src/util/logger.ts";
import { TestEngine } from "../helpers/engine.ts";

const HOUR = 3600_000;

/** Storage that counts the calls made through it. */
class CountingStorage implements Storage {
  calls = { get: 0, put: 0, list: 0, delete: 0 };
  constructor(readonly inner: InMemoryStorage) {}
  get(key: string) {
    this.calls.get++;
    return this.inner.get(key);
  }
  put(entry: { key: string; value: Uint8Array }) {
    this.calls.put++;
    return this.inner.put(entry);
  }
  list(prefix: string) {
    this.calls.list++;
    return this.inner.list(prefix);
  }
  delete(key: string) {
    this.calls.delete++;
    return this.inner.delete(key);
  }
}

function node(storage: InMemoryStorage, system?: ClusterView) {
  const t = new TransitState(nullLogger);
  const backend = buildTransitBackend(t, system === undefined ? {} : { system });
  const e = new TestEngine(backend);
  (e as { storage: InMemoryStorage }).storage = storage;
  let clock = Date.now();
  t.now = () => clock;
  const tick = async (s: Storage = storage) => {
    await backend.handleRequest({ operation: "rollback", path: "", storage: s });
  };
  return {
    t,
    e,
    backend,
    tick,
    advance(ms: number) {
      clock += ms;
    },
    async latest(name: string) {
      return Number((await e.read(`keys/${name}`)).data["latest_version"]);
    },
  };
}

describe("auto-rotation schedule", () => {
  it("rotates at the first tick after the period runs out, and a tick lists nothing once the index is built", async () => {
    const storage = new InMemoryStorage();
    const n = node(storage);
    for (let i = 0; i < 50; i++) await n.e.write(`keys/idle${i}`);
    await n.e.write("keys/r", { auto_rotate_period: "1h" });
    const counting = new CountingStorage(storage);
    await n.tick(counting); // builds the index: one listing
    expect(counting.calls.list).toBe(1);
    n.advance(0.5 * HOUR);
    await n.tick(counting);
    n.advance(0.5 * HOUR + 60_000); // due 1 ms after T0+1h; one minute later is the next tick
    await n.tick(counting);
    expect(await n.latest("r")).toBe(2);
    for (let h = 0; h < 3; h++) {
      n.advance(HOUR + 60_000);
      await n.tick(counting);
    }
    expect(await n.latest("r")).toBe(5);
    // Ticks read nothing for the 50 keys that are never due, and never list again.
    expect(counting.calls.list).toBe(1);
    expect(counting.calls.put).toBe(4);
    expect(counting.calls.get).toBe(0);
    for (let i = 0; i < 50; i++) expect(await n.latest(`idle${i}`)).toBe(1);
  });

  it("follows changes: a new period, a soft delete, an imported key, a deletion", async () => {
    const storage = new InMemoryStorage();
    const n = node(storage);
    await n.e.write("keys/a");
    await n.e.write("keys/b", { auto_rotate_period: "1h" });
    await n.tick();
    await n.e.write("keys/a/config", { auto_rotate_period: "1h" });
    await n.e.request("delete", "keys/b/soft-delete");
    n.advance(HOUR + 60_000);
    await n.tick();
    expect(await n.latest("a")).toBe(2);
    expect(await n.latest("b")).toBe(1); // soft-deleted keys do not rotate
    await n.e.write("keys/b/soft-delete-restore");
    await n.tick();
    expect(await n.latest("b")).toBe(2);
    await n.e.write("keys/a/config", { deletion_allowed: true });
    await n.e.request("delete", "keys/a");
    n.advance(HOUR + 60_000);
    await n.tick();
    expect((await n.e.read("keys/a")).status).toBe(404);
  });

  it("learns of another node's change through InvalidateKey", async () => {
    const storage = new InMemoryStorage();
    const active = node(storage);
    const other = node(storage);
    await active.e.write("keys/k");
    await other.tick(); // indexes k: no period
    await active.e.write("keys/k/config", { auto_rotate_period: "1h" });
    other.backend.invalidateKey("policy/k");
    other.advance(HOUR + 60_000);
    await other.tick();
    expect(await other.latest("k")).toBe(2);
  });
});

describe("periodic work by replication state (SystemView)", () => {
  const cases: [string, number, boolean, boolean][] = [
    ["no replication", 0, false, true],
    ["performance primary", REPLICATION_PERFORMANCE_PRIMARY, false, true],
    ["DR primary", REPLICATION_DR_PRIMARY, false, true],
    ["DR secondary", REPLICATION_DR_SECONDARY, false, false],
    ["DR secondary, local mount", REPLICATION_DR_SECONDARY, true, false],
    ["performance standby", REPLICATION_PERFORMANCE_STANDBY, false, false],
    ["performance standby, local mount", REPLICATION_PERFORMANCE_STANDBY, true, false],
    ["performance secondary", REPLICATION_PERFORMANCE_SECONDARY, false, false],
    ["performance secondary, local mount", REPLICATION_PERFORMANCE_SECONDARY, true, true],
    [
      "performance primary + DR secondary",
      REPLICATION_PERFORMANCE_PRIMARY | REPLICATION_DR_SECONDARY,
      true,
      false,
    ],
  ];
  for (const [label, state, local, rotates] of cases) {
    it(`${label}: a due key ${rotates ? "rotates" : "does not rotate"}`, async () => {
      const storage = new InMemoryStorage();
      let asked = 0;
      const view: ClusterView = {
        replicationState: async () => {
          asked++;
          return state;
        },
        localMount: async () => local,
      };
      const n = node(storage, view);
      await n.e.write("keys/r", { auto_rotate_period: "1h" });
      const counting = new CountingStorage(storage);
      n.advance(HOUR + 60_000);
      await n.tick(counting);
      expect(asked).toBe(1);
      expect(await n.latest("r")).toBe(rotates ? 2 : 1);
      if (!rotates) expect(counting.calls).toEqual({ get: 0, put: 0, list: 0, delete: 0 });
    });
  }
});

describe("InvalidateKey drops every cached value", () => {
  it("keyrings, the wrapping key and the cache size", async () => {
    const storage = new InMemoryStorage();
    const a = node(storage);
    const b = node(storage);
    await a.e.write("keys/k");
    expect(await b.latest("k")).toBe(1); // cached on b
    await a.e.write("keys/k/rotate");
    b.backend.invalidateKey("policy/k");
    expect(await b.latest("k")).toBe(2);

    const pemA = String((await a.e.read("wrapping_key")).data["public_key"]);
    expect(String((await b.e.read("wrapping_key")).data["public_key"])).toBe(pemA);
    // Another node's wrapping key replaces the entry (as a replicated write would).
    const c = node(new InMemoryStorage());
    const pemC = String((await c.e.read("wrapping_key")).data["public_key"]);
    const entry = await c.e.storage.get("policy/import/wrapping-key");
    if (entry === null) throw new Error("no wrapping key stored");
    await storage.put(entry);
    b.backend.invalidateKey("policy/import/wrapping-key");
    expect(String((await b.e.read("wrapping_key")).data["public_key"])).toBe(pemC);

    expect(b.t.keyrings.cacheSize).toBe(0);
    await a.e.write("cache-config", { size: 20 });
    b.backend.invalidateKey("config/cache");
    await b.tick();
    expect(b.t.keyrings.cacheSize).toBe(20);
  }, 120_000);
});
