import { describe, expect, it } from "vitest";
import type { StorageEntry } from "../../src/framework/storage.ts";
import { InMemoryStorage } from "../../src/framework/storage.ts";
import { createTransitBackend } from "../../src/transit/backend.ts";
import { decodeKeyring, encodeKeyring } from "../../src/transit/keyring/codec.ts";
import { KeyringManager } from "../../src/transit/keyring/manager.ts";
import { b64, TestEngine } from "../helpers/engine.ts";

class FlakyStorage extends InMemoryStorage {
  failPuts = false;
  override async put(entry: StorageEntry): Promise<void> {
    if (this.failPuts) throw new Error("storage unavailable");
    return super.put(entry);
  }
}

describe("keyring cache and locks", () => {
  it("a failed storage write leaves the cached keyring as it was and answers 500", async () => {
    const backend = createTransitBackend();
    const storage = new FlakyStorage();
    const run = (path: string, data = {}) =>
      backend.handleRequest({ operation: "update", path, data, storage });
    await run("keys/k");
    storage.failPuts = true;
    await expect(run("keys/k/rotate")).rejects.toMatchObject({ httpStatus: 500 });
    storage.failPuts = false;
    const read = await backend.handleRequest({ operation: "read", path: "keys/k", storage });
    expect(read?.data?.["latest_version"]).toBe(1);
    const enc = await run("encrypt/k", { plaintext: b64("x") });
    expect(String(enc?.data?.["ciphertext"])).toMatch(/^vault:v1:/);
  });

  it("invalidation makes the next request read the stored truth", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const stored = decodeKeyring("k", e.storage.entries.get("policy/k") ?? new Uint8Array());
    stored.minEncryptionVersion = 1;
    stored.deletionAllowed = true;
    e.storage.entries.set("policy/k", encodeKeyring(stored));
    expect((await e.read("keys/k")).data["deletion_allowed"]).toBe(false);
    e.backend.invalidateKey("policy/k");
    expect((await e.read("keys/k")).data["deletion_allowed"]).toBe(true);
  });

  it("concurrent rotations serialise: n rotations give n new versions", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    await Promise.all(Array.from({ length: 20 }, () => e.write("keys/k/rotate")));
    expect((await e.read("keys/k")).data["latest_version"]).toBe(21);
  });

  it("encrypts racing rotations always return ciphertexts that decrypt", async () => {
    const e = new TestEngine();
    await e.write("keys/k");
    const work: Promise<unknown>[] = [];
    const cts: string[] = [];
    for (let i = 0; i < 50; i++) {
      work.push(
        e.write("encrypt/k", { plaintext: b64(`m${i}`) }).then((r) => cts.push(String(r.data["ciphertext"]))),
      );
      if (i % 10 === 0) work.push(e.write("keys/k/rotate"));
    }
    await Promise.all(work);
    for (const ct of cts) expect((await e.write("decrypt/k", { ciphertext: ct })).status).toBe(200);
  });

  it("a bounded cache evicts the least recently used and reloads on demand", async () => {
    const storage = new InMemoryStorage();
    const e = new TestEngine();
    await e.write("cache-config", { size: 10 });
    for (let i = 0; i < 15; i++) await e.write(`keys/k${i}`);
    const m = new KeyringManager(10);
    for (let i = 0; i < 15; i++) {
      const entry = e.storage.entries.get(`policy/k${i}`);
      if (entry) await storage.put({ key: `policy/k${i}`, value: entry });
    }
    for (let i = 0; i < 15; i++) expect((await m.get(storage, `k${i}`))?.name).toBe(`k${i}`);
    expect(m.cachedCount).toBe(10);
    expect((await m.get(storage, "k0"))?.name).toBe("k0");
  });

  it("a corrupted stored keyring is reported, not accepted", async () => {
    const e = new TestEngine();
    e.storage.entries.set("policy/bad", new Uint8Array([0xc1, 0x00, 0xff]));
    const out = await e.write("encrypt/bad", { plaintext: b64("x") });
    expect(out.status).toBe(500);
    expect(out.error).toBe('stored key "bad" could not be decoded: not a msgpack record');
  });
});
